"""np.linalg's array-API spellings of NumPy functions, routed to the same ops.  They differ from
their np.* namesakes only in their signatures (positional-only operands, keyword-only options) and
in what they accept: np.linalg.outer takes 1-d vectors only, np.linalg.cross 3-vectors only,
np.linalg.vecdot's ``axis`` names the summed axis of each operand, and np.linalg.trace and
np.linalg.diagonal work on the last two axes (np.trace and np.diagonal on the first two).
matrix_transpose (np.matrix_transpose and np.linalg.matrix_transpose) swaps the last two axes."""

from __future__ import annotations

import numpy as np

from ..cumulative import trace
from ..routing import implements
from ..select import diagonal
from ..shape import moveaxis, swapaxes
from .products import _operand, cross, matmul, outer, tensordot, vecdot

__all__ = ["matrix_transpose"]


@implements(np.matrix_transpose, np.linalg.matrix_transpose)
def matrix_transpose(x, /):
    """Swap the last two axes (the gradient is swapped back)."""
    x = _operand(x)
    if x.ndim < 2:
        raise ValueError(f"matrix_transpose: input array must be at least 2-dimensional, but it "
                         f"is {x.ndim}")
    return swapaxes(x, -1, -2)


@implements(np.linalg.trace)
def _np_trace(x, /, *, offset=0, dtype=None):
    return trace(x, offset, -2, -1, dtype=dtype)


@implements(np.linalg.diagonal)
def _np_diagonal(x, /, *, offset=0):
    return diagonal(x, offset, -2, -1)


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
