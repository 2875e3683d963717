"""Indexing: x[index] for basic, advanced and boolean NumPy indices.

Its adjoint scatters the gradient back into a zero array; repeated indices accumulate (np.add.at).
The scatter is itself an op whose adjoint is indexing, so indexing has derivatives of every order.
"""

from __future__ import annotations

import numpy as np

from ..engine import Op, apply, dispatch

__all__ = ["getitem"]


def index_arrays(index):
    """The index with Tensors replaced by their arrays (Tensors may index like ndarrays)."""
    from ..tensor import Tensor
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_basic(index) -> bool:
    """Only ints, slices, None and Ellipsis: every output element comes from a distinct input one."""
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer))
               and not isinstance(i, (bool, np.bool_)) for i in items)


class GetItem(Op):
    """d x[index] / dx: the gradient scattered (added) back at index"""
    name = "getitem"

    def forward(self, x, index):
        self.in_shape = x.shape
        self.index = index
        return x[index]

    def backward(self, g):
        return dispatch(ScatterAdd, g, index=self.index, shape=self.in_shape)


class ScatterAdd(Op):
    """zeros(shape) with g added at index; the adjoint of getitem (and getitem is its adjoint)"""
    name = "scatter_add"

    def forward(self, g, index, shape):
        self.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g
        else:
            np.add.at(out, index, g)
        return out

    def backward(self, g): return g[self.index]


def getitem(x, index):
    return apply(GetItem, x, index=index_arrays(index))
