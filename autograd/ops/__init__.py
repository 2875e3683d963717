"""The op library, grouped by family.  Each op declares the NumPy functions it answers to where it
is defined (``routing.implements``); importing the families fills the routing tables."""

from __future__ import annotations

from . import routing
from . import pad  # np.pad's modes and np.linspace
from . import (binary, elementwise, fft, index, join, linalg, normalize, norms, reduce, rounding,
               select, selection, shape, stats, unary)
# The family modules, taken before the star imports: a family may export a function named like a
# module (select.select is np.select's op).
_FAMILIES = (elementwise, selection, unary, rounding, binary, reduce, stats, norms, normalize, shape,
             join, index, select, pad, linalg, fft)
from .binary import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .fft import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .join import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .normalize import *  # noqa: F401,F403
from .pad import *  # noqa: F401,F403
from .norms import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .rounding import *  # noqa: F401,F403
from .select import *  # noqa: F401,F403
from .selection import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .stats import *  # noqa: F401,F403
from .unary import *  # noqa: F401,F403
from .routing import strip_tensors  # noqa: F401

__all__ = [name for family in _FAMILIES for name in family.__all__]
