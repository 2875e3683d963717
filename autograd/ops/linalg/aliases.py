"""np.linalg's array-API spellings of NumPy functions, routed to the same ops.  They differ from
their np.* namesakes only in their signatures (positional-only operands, keyword-only options) and
in what they accept: np.linalg.outer takes 1-d vectors only, np.linalg.cross 3-vectors only, and
np.linalg.vecdot's ``axis`` names the summed axis of each operand."""

from __future__ import annotations

import numpy as np

from ..routing import implements
from ..shape import moveaxis
from .products import _operand, cross, matmul, outer, tensordot, vecdot

__all__: list[str] = []


@implements(np.linalg.matmul)
def _np_matmul(x1, x2, /):
    return matmul(x1, x2)


@implements(np.linalg.outer)
def _np_outer(x1, x2, /):
    x1, x2 = _operand(x1), _operand(x2)
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"np.linalg.outer: input arrays must be one-dimensional, but they are "
                         f"x1.ndim={x1.ndim} and x2.ndim={x2.ndim}")
    return outer(x1, x2)


@implements(np.linalg.tensordot)
def _np_tensordot(x1, x2, /, *, axes=2):
    return tensordot(x1, x2, axes)


@implements(np.linalg.cross)
def _np_cross(x1, x2, /, *, axis=-1):
    x1, x2 = _operand(x1), _operand(x2)
    n1, n2 = x1.shape[axis], x2.shape[axis]
    if n1 != 3 or n2 != 3:
        raise ValueError(f"np.linalg.cross: both input arrays must be (arrays of) 3-dimensional "
                         f"vectors, but they are {n1} and {n2} dimensional instead")
    return cross(x1, x2, axis=axis)


@implements(np.linalg.vecdot)
def _np_vecdot(x1, x2, /, *, axis=-1):
    x1, x2 = _operand(x1), _operand(x2)
    return vecdot(moveaxis(x1, axis, -1), moveaxis(x2, axis, -1))
