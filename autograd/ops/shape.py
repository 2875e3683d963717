"""Shape and movement ops: reshape, transpose, squeeze, expand_dims, broadcast_to, flatten, pad,
and joining: concatenate, stack, split.  Their gradients only move numbers back where they came from.
"""

from __future__ import annotations

import numpy as np

from ..engine import Op, apply
from .reduce import normalize_axes
from .routing import implements, no_out

__all__ = ["reshape", "transpose", "squeeze", "expand_dims", "broadcast_to", "flatten", "pad",
           "concatenate", "stack", "split", "ravel", "swapaxes", "moveaxis", "rollaxis",
           "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_arrays"]


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


def reshape(x, *shape, order="C"):
    """x's entries in a new shape, read and written in C (row-major) or Fortran order"""
    shape = _shape_arg(shape)
    if order == "A":
        data = getattr(x, "data", x)
        order = "F" if np.isfortran(np.asarray(data)) else "C"
    if order == "C":
        return apply(Reshape, x, shape=shape)
    if order != "F":
        raise ValueError(f"reshape: order must be 'C', 'F' or 'A', got {order!r}")
    # Fortran order is C order on the reversed axes.
    return transpose(apply(Reshape, transpose(x), shape=shape[::-1]))


@implements(np.reshape)
def _np_reshape(a, /, shape=None, order="C", *, newshape=None, copy=None):
    if (shape is None) == (newshape is None):
        raise TypeError("np.reshape: give the new shape once (shape=, or the deprecated newshape=)")
    if copy is False:
        raise ValueError("np.reshape: copy=False is not supported on Tensors (a result is a "
                         "new Tensor)")
    return reshape(a, shape if shape is not None else newshape, order=order)


@implements(np.transpose)
def _np_transpose(a, axes=None): return transpose(a, axes)


def transpose(x, *axes):
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        axes = axes[0]
    return apply(Transpose, x, axes=tuple(axes) if axes else None)


@implements(np.squeeze)
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


@implements(np.expand_dims)
def expand_dims(x, axis):
    shape = np.shape(x)
    return reshape(x, np.expand_dims(np.empty(shape, dtype=bool), axis).shape)


@implements(np.broadcast_to)
def _np_broadcast_to(array, shape, subok=False): return broadcast_to(array, shape)


def broadcast_to(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return apply(BroadcastTo, x, shape=shape)


def flatten(x): return reshape(x, -1)


def pad(x, pad_width, constant_values=0):
    """x padded with constants (np.pad's 'constant' mode; every mode is np.pad, in pad.py)"""
    return apply(Pad, x, pad_width=pad_width, constant_values=constant_values)


def _join_dtype(seq, dtype, casting, name):
    """The inputs cast to dtype= (NumPy casts every input, under casting=, before joining)."""
    if dtype is None:
        return seq
    from .elementwise import astype
    for x in seq:
        source = np.result_type(getattr(x, "data", x))
        if not np.can_cast(source, dtype, casting=casting):
            raise TypeError(f"{name}: cannot cast {source} to {np.dtype(dtype)} under "
                            f"casting={casting!r}")
    return [astype(x, dtype) for x in seq]


def concatenate(seq, axis=0, *, dtype=None, casting="same_kind"):
    return apply(Concatenate, *_join_dtype(list(seq), dtype, casting, "concatenate"), axis=axis)


def stack(seq, axis=0, *, dtype=None, casting="same_kind"):
    return apply(Stack, *_join_dtype(list(seq), dtype, casting, "stack"), axis=axis)


@implements(np.concatenate)
def _np_concatenate(arrays, /, axis=0, out=None, *, dtype=None, casting="same_kind"):
    no_out("concatenate", out)
    return concatenate(arrays, axis, dtype=dtype, casting=casting)


@implements(np.stack)
def _np_stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    no_out("stack", out)
    return stack(arrays, axis, dtype=dtype, casting=casting)


@implements(np.split)
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


# ---- axes moved, arrays raised to n-d, broadcast together ---------------------------------------

def as_tensor(x):
    """x as a Tensor (ndarrays and lists become Tensors without grad), for ops built of others."""
    from ..tensor import Tensor
    return x if isinstance(x, Tensor) else Tensor._make(np.asarray(x), None)


@implements(np.ravel)
def ravel(a, order="C"):
    """x's entries as a 1-d Tensor, read in C, Fortran, 'A' or memory ('K') order"""
    x = as_tensor(a)
    if order == "K":
        data = x.data
        if data.flags.c_contiguous or data.ndim < 2:
            order = "C"
        elif data.flags.f_contiguous:
            order = "F"
        else:   # memory order of a strided view: the C-order positions, raveled as NumPy would
            pos = np.empty_like(data, dtype=np.intp)
            pos[...] = np.arange(data.size).reshape(data.shape)
            return reshape(x, -1)[np.ravel(pos, order="K")]
    if order not in ("C", "F", "A"):
        raise ValueError(f"ravel: order must be one of 'C', 'F', 'A' or 'K', got {order!r}")
    return reshape(x, -1, order=order)


@implements(np.swapaxes)
def swapaxes(a, axis1, axis2):
    """The gradient is swapped back (a permutation of axes)"""
    x = as_tensor(a)
    i, j = (normalize_axes(ax, x.ndim, "swapaxes")[0] for ax in (axis1, axis2))
    perm = list(range(x.ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(x, perm)


def _axis_list(axis, ndim, name, what):
    axes = list(axis) if isinstance(axis, (tuple, list)) else [axis]
    out = [normalize_axes(a, ndim, name)[0] for a in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in `{what}` argument {axis!r}")
    return out


@implements(np.moveaxis)
def moveaxis(a, source, destination):
    """Axes moved to new positions (a permutation; the gradient is moved back)"""
    x = as_tensor(a)
    src = _axis_list(source, x.ndim, "moveaxis", "source")
    dst = _axis_list(destination, x.ndim, "moveaxis", "destination")
    if len(src) != len(dst):
        raise ValueError("moveaxis: `source` and `destination` arguments must have the same "
                         f"number of elements (got {source!r} and {destination!r})")
    order = [n for n in range(x.ndim) if n not in src]
    for d, s_ in sorted(zip(dst, src)):
        order.insert(d, s_)
    return transpose(x, order)


@implements(np.rollaxis)
def rollaxis(a, axis, start=0):
    """np.rollaxis: axis moved to lie before position start (a permutation)"""
    x = as_tensor(a)
    n = x.ndim
    axis = normalize_axes(axis, n, "rollaxis")[0]
    if isinstance(start, (bool, np.bool_)) or not isinstance(start, (int, np.integer)):
        raise TypeError(f"rollaxis: start must be an int, got {start!r}")
    if not -n <= start <= n:
        raise ValueError(f"rollaxis: 'start' arg requires {-n} <= start < {n + 1}, but {start} "
                         "was passed in")
    start = int(start) + n if start < 0 else int(start)
    if axis < start:
        start -= 1
    if axis == start:
        return transpose(x, list(range(n)))
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return transpose(x, axes)


def _atleast(arys, ndim, name):
    if not arys:
        raise TypeError(f"{name}: expected at least one array")
    out = []
    for a in arys:
        x = as_tensor(a)
        shape = x.shape
        if x.ndim < ndim:
            if ndim == 3 and x.ndim == 2:
                shape = shape + (1,)
            elif ndim == 3 and x.ndim == 1:
                shape = (1,) + shape + (1,)
            else:
                shape = (1,) * (ndim - x.ndim) + shape
            x = reshape(x, shape)
        out.append(x)
    return out[0] if len(out) == 1 else tuple(out)


@implements(np.atleast_1d)
def atleast_1d(*arys):
    """Each input with at least 1 axis (a reshape); one Tensor, or a tuple for several inputs"""
    return _atleast(arys, 1, "atleast_1d")


@implements(np.atleast_2d)
def atleast_2d(*arys):
    """Each input with at least 2 axes: (N,) becomes (1, N)"""
    return _atleast(arys, 2, "atleast_2d")


@implements(np.atleast_3d)
def atleast_3d(*arys):
    """Each input with at least 3 axes: (N,) becomes (1, N, 1), (M, N) becomes (M, N, 1)"""
    return _atleast(arys, 3, "atleast_3d")


@implements(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    """The inputs broadcast to their common shape (a tuple); each gradient is summed back"""
    xs = [as_tensor(a) for a in args]
    try:
        shape = np.broadcast_shapes(*[x.shape for x in xs])
    except ValueError as err:
        raise ValueError(f"broadcast_arrays: {err}") from None
    return tuple(x if x.shape == shape else broadcast_to(x, shape) for x in xs)
