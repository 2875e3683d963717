"""Shape and movement ops: reshape, transpose, squeeze, expand_dims, broadcast_to, flatten, pad,
and joining: concatenate, stack, split.  Their gradients only move numbers back where they came from.
"""

from __future__ import annotations

import numpy as np

from ..engine import Op, apply
from .reduce import normalize_axes

__all__ = ["reshape", "transpose", "squeeze", "expand_dims", "broadcast_to", "flatten", "pad",
           "concatenate", "stack", "split"]


class Reshape(Op):
    """The gradient is reshaped back: reshaping moves no number"""
    def forward(self, x, shape):
        self.in_shape = x.shape
        return x.reshape(shape)

    def backward(self, g): return g.reshape(self.in_shape)


class Transpose(Op):
    """The adjoint of a permutation is its inverse permutation"""
    def forward(self, x, axes):
        out = np.transpose(x, axes)
        # Negative axes (valid in NumPy) would invert to a wrong permutation: normalise them.
        self.axes = None if axes is None else tuple(int(a) % x.ndim for a in axes)
        return out

    def backward(self, g):
        if self.axes is None:
            return g.transpose()
        return g.transpose(tuple(np.argsort(self.axes)))


class BroadcastTo(Op):
    """The engine sums the gradient back to the input's shape (adjoint of broadcasting)."""
    name = "broadcast_to"
    def forward(self, x, shape): return np.broadcast_to(x, shape)
    def backward(self, g): return g


class Pad(Op):
    """d pad(x) / dx: the gradient of the padded region is dropped"""
    def forward(self, x, pad_width, constant_values=0):
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (x.ndim, 2))
        self.inner = tuple(slice(int(lo), int(lo) + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, pad_width, mode="constant", constant_values=constant_values)

    def backward(self, g): return g[self.inner]


class Concatenate(Op):
    """Each input gets its own slice of the gradient"""
    def forward(self, *arrays, axis=0):
        out = np.concatenate(arrays, axis=axis)
        # axis=None joins the flattened inputs, as in NumPy; the slices are reshaped back.
        self.in_shapes = None if axis is not None else [np.shape(a) for a in arrays]
        self.axis = 0 if axis is None else axis % out.ndim
        self.bounds = np.cumsum([np.shape(a)[self.axis] if axis is not None else np.size(a)
                                 for a in arrays])[:-1].tolist()
        return out

    def backward(self, g):
        pieces = split_array(g, self.bounds, self.axis)
        if self.in_shapes is not None:
            pieces = [p.reshape(s) for p, s in zip(pieces, self.in_shapes)]
        return tuple(pieces)


class Stack(Op):
    """Input i gets the gradient's slice i along the new axis"""
    def forward(self, *arrays, axis=0):
        out = np.stack(arrays, axis=axis)
        self.axis = axis % out.ndim
        return out

    def backward(self, g):
        lead = (slice(None),) * self.axis
        return tuple(g[lead + (i,)] for i in range(g.shape[self.axis]))


def split_array(x, bounds, axis):
    """Slices of x at the given boundaries along axis (works on ndarrays and Tensors)."""
    lead = (slice(None),) * axis
    starts = [0] + list(bounds)
    ends = list(bounds) + [x.shape[axis]]
    return [x[lead + (slice(s, e),)] for s, e in zip(starts, ends)]


# ---- public functions ---------------------------------------------------------------------------

def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"reshape: the shape must be ints or one tuple of ints, got {shape!r}")
    return tuple(int(n) for n in shape)


def reshape(x, *shape): return apply(Reshape, x, shape=_shape_arg(shape))


def transpose(x, *axes):
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        axes = axes[0]
    return apply(Transpose, x, axes=tuple(axes) if axes else None)


def squeeze(x, axis=None):
    shape = np.shape(x)
    if axis is None:
        axes = tuple(i for i, n in enumerate(shape) if n == 1)
    else:
        axes = normalize_axes(axis, len(shape), "squeeze")
        for a in axes:
            if shape[a] != 1:
                raise ValueError(f"squeeze: cannot squeeze axis {a} of size {shape[a]} "
                                 f"(shape {shape})")
    return reshape(x, tuple(n for i, n in enumerate(shape) if i not in axes))


def expand_dims(x, axis):
    shape = np.shape(x)
    return reshape(x, np.expand_dims(np.empty(shape, dtype=bool), axis).shape)


def broadcast_to(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return apply(BroadcastTo, x, shape=shape)


def flatten(x): return reshape(x, -1)


def pad(x, pad_width, constant_values=0):
    return apply(Pad, x, pad_width=pad_width, constant_values=constant_values)


def concatenate(seq, axis=0): return apply(Concatenate, *seq, axis=axis)


def stack(seq, axis=0): return apply(Stack, *seq, axis=axis)


def split(x, indices_or_sections, axis=0):
    """Like np.split: a list of Tensors, each a differentiable slice of x."""
    from ..tensor import Tensor
    x = x if isinstance(x, Tensor) else Tensor(x)
    shape = np.shape(x)
    axis = normalize_axes(axis, len(shape), "split")[0]
    n = shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ValueError(f"split: an axis of size {n} does not split into "
                             f"{indices_or_sections} equal sections")
        step = n // indices_or_sections
        bounds = list(range(step, n, step))[: indices_or_sections - 1]
    else:
        bounds = [int(b) for b in indices_or_sections]
    return split_array(x, bounds, axis)
