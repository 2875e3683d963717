"""Linear algebra, one module per concern: products (matmul, dot, tensordot, ...), einsum,
solving (inv, solve, det, ...), decompositions (cholesky, qr, eigh, svd) and np.linalg's array-API
aliases.  Importing the modules registers their NumPy routing."""

from __future__ import annotations

from . import aliases as _aliases, decompositions as _decompositions, einsum as _einsum_module
from . import products as _products, solve as _solve
from .einsum import *  # noqa: F401,F403
from .einsum import _np_einsum  # noqa: F401  (np.einsum's adapter: the sublist form goes there)
from .products import *  # noqa: F401,F403
from .products import MatMul, _mT  # noqa: F401  (tensor.py's ``@``; nn and benchmarks)
from .solve import *  # noqa: F401,F403
from .decompositions import *  # noqa: F401,F403
from .aliases import *  # noqa: F401,F403

__all__ = (_products.__all__ + _einsum_module.__all__ + _solve.__all__ + _decompositions.__all__
           + _aliases.__all__)
