"""Joining, splitting and rearranging beyond shape.py: vstack/hstack/column_stack/dstack, unstack,
append, array_split and vsplit/hsplit/dsplit, tile, repeat, roll, flip/flipud/fliplr, rot90.

Every one is built from differentiable pieces (slices and index arrays, reshape, transpose,
broadcast_to, concatenate), so each gradient only moves numbers back where they came from, and
second (and higher) derivatives come from those pieces' own adjoints.
"""

from __future__ import annotations

import numpy as np

from .elementwise import copy as _copy
from .reduce import normalize_axes
from .routing import implements, inspected
from .shape import (as_tensor, atleast_1d, atleast_2d, atleast_3d, broadcast_to, concatenate,
                    reshape, split, split_array, transpose)

__all__ = ["vstack", "hstack", "column_stack", "dstack", "unstack", "append", "array_split",
           "vsplit", "hsplit", "dsplit", "tile", "repeat", "roll", "flip", "flipud", "fliplr",
           "rot90"]


def _seq(tup, name):
    from ..tensor import Tensor
    if isinstance(tup, Tensor):      # NumPy takes any sequence: a Tensor is one of its rows
        tup = list(tup)
    if not isinstance(tup, (list, tuple)):
        raise TypeError(f"{name}: arrays to stack must be passed as a sequence (list or tuple), "
                        f"got {type(tup).__name__}")
    if not tup:
        raise ValueError(f"{name}: need at least one array to concatenate")
    return [as_tensor(a) for a in tup]


def _listed(value):
    return list(value) if isinstance(value, tuple) else [value]


# ---- stacking ------------------------------------------------------------------------------------

@implements(np.vstack)
def vstack(tup, *, dtype=None, casting="same_kind"):
    """The inputs, at least 2-d, joined along axis 0; each gets its slice of the gradient"""
    xs = _listed(atleast_2d(*_seq(tup, "vstack")))
    return concatenate(xs, 0, dtype=dtype, casting=casting)


@implements(np.hstack)
def hstack(tup, *, dtype=None, casting="same_kind"):
    """The inputs, at least 1-d, joined along axis 1 (axis 0 for 1-d inputs)"""
    xs = _listed(atleast_1d(*_seq(tup, "hstack")))
    return concatenate(xs, 0 if xs[0].ndim == 1 else 1, dtype=dtype, casting=casting)


@implements(np.column_stack)
def column_stack(tup):
    """1-d (and 0-d) inputs as columns, 2-d ones as they are, joined along axis 1"""
    xs = []
    for x in _seq(tup, "column_stack"):
        if x.ndim < 2:
            x = reshape(x, (-1, 1))
        xs.append(x)
    return concatenate(xs, 1)


@implements(np.dstack)
def dstack(tup):
    """The inputs, at least 3-d, joined along axis 2 (the depth)"""
    return concatenate(_listed(atleast_3d(*_seq(tup, "dstack"))), 2)


@implements(*[f for f in [getattr(np, "unstack", None)] if f is not None])   # NumPy >= 2.1
def unstack(x, /, *, axis=0):
    """The slices of x along axis, as a tuple; slice i gets the gradient's slice i"""
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("unstack: input array must be at least 1-d")
    axis = normalize_axes(axis, x.ndim, "unstack")[0]
    lead = (slice(None),) * axis
    return tuple(x[lead + (i,)] for i in range(x.shape[axis]))


@implements(np.append)
def append(arr, values, axis=None):
    """arr with values joined at the end (both flattened when axis is None)"""
    arr, values = as_tensor(arr), as_tensor(values)
    if axis is None:
        if arr.ndim != 1:
            arr = reshape(arr, -1)
        return concatenate([arr, reshape(values, -1)], arr.ndim - 1)
    return concatenate([arr, values], axis)


# ---- splitting -----------------------------------------------------------------------------------

@implements(np.array_split)
def array_split(ary, indices_or_sections, axis=0):
    """Like np.array_split: sections may differ in size by one; each piece is a slice of x"""
    x = as_tensor(ary)
    axis = normalize_axes(axis, x.ndim, "array_split")[0]
    n = x.shape[axis]
    try:
        bounds = [int(b) for b in indices_or_sections]
    except TypeError:   # not a sequence: a number of sections (NumPy takes int() of it)
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("array_split: number sections must be larger than 0.")
        each, extras = divmod(n, sections)
        sizes = [each + 1] * extras + [each] * (sections - extras)
        bounds = np.cumsum(sizes)[:-1].tolist()
    return split_array(x, bounds, axis)


def _split_checked(ary, indices_or_sections, axis, name, min_ndim):
    x = as_tensor(ary)
    if x.ndim < min_ndim:
        raise ValueError(f"{name} only works on arrays of {min_ndim} or more dimensions "
                         f"(got shape {x.shape})")
    return split(x, indices_or_sections, axis)


@implements(np.vsplit)
def vsplit(ary, indices_or_sections):
    """np.split along axis 0 (of an array of 2 or more axes)"""
    return _split_checked(ary, indices_or_sections, 0, "vsplit", 2)


@implements(np.hsplit)
def hsplit(ary, indices_or_sections):
    """np.split along axis 1 (axis 0 for a 1-d array)"""
    x = as_tensor(ary)
    return _split_checked(x, indices_or_sections, 1 if x.ndim > 1 else 0, "hsplit", 1)


@implements(np.dsplit)
def dsplit(ary, indices_or_sections):
    """np.split along axis 2 (of an array of 3 or more axes)"""
    return _split_checked(ary, indices_or_sections, 2, "dsplit", 3)


# ---- repeating -----------------------------------------------------------------------------------

@implements(np.tile)
def tile(A, reps):  # noqa: N803 - NumPy's name
    """A repeated reps times along each axis: a broadcast, whose adjoint sums the copies"""
    x = as_tensor(A)
    try:
        reps = tuple(reps)
    except TypeError:
        reps = (reps,)
    for r in reps:
        if isinstance(r, (bool, np.bool_)) or not isinstance(r, (int, np.integer)) or r < 0:
            raise ValueError(f"tile: reps must be non-negative ints, got {reps!r}")
    d = max(len(reps), x.ndim)
    reps = (1,) * (d - len(reps)) + tuple(int(r) for r in reps)
    shape = (1,) * (d - x.ndim) + x.shape
    # (n0, n1, ...) -> (1, n0, 1, n1, ...) -> (r0, n0, r1, n1, ...) -> (r0 n0, r1 n1, ...)
    interleaved = sum(((1, n) for n in shape), ())
    spread = sum(((r, n) for r, n in zip(reps, shape)), ())
    out = broadcast_to(reshape(x, interleaved), spread)
    return reshape(out, tuple(r * n for r, n in zip(reps, shape)))


@implements(np.repeat)
def repeat(a, repeats, axis=None):
    """Each entry repeated; the gradient of an entry sums its copies' gradients"""
    x = as_tensor(a)
    if axis is None:
        x, axis = reshape(x, -1), 0
    axis = normalize_axes(axis, x.ndim, "repeat")[0]
    try:   # NumPy's own checks and casts of the counts, on the positions (an inspection:
        # a compiled replay repeats by each call's counts)
        index = inspected(np.repeat, np.arange(x.shape[axis]), repeats)
    except (ValueError, TypeError) as err:
        raise type(err)(f"repeat: {err} (axis {axis} of shape {x.shape})") from None
    return x[(slice(None),) * axis + (index,)]


# ---- moving entries ------------------------------------------------------------------------------

@implements(np.roll)
def roll(a, shift, axis=None):
    """Entries shifted cyclically along axes; the gradient is rolled back"""
    x = as_tensor(a)
    if axis is None:
        return reshape(roll(reshape(x, -1), shift, 0), x.shape)
    from ..tensor import Tensor
    shifts = np.asarray(shift.data if isinstance(shift, Tensor) else shift)
    axes = np.asarray(axis)
    if axes.size and axes.dtype.kind not in "iu":
        raise TypeError(f"roll: axis must be an int or a tuple of ints, got {axis!r}")
    try:
        pairs = np.broadcast(shifts, axes)
    except ValueError:
        raise ValueError("roll: 'shift' and 'axis' should be scalars or 1D sequences") from None
    if pairs.ndim > 1:
        raise ValueError("roll: 'shift' and 'axis' should be scalars or 1D sequences")
    total = {}
    for s, ax in pairs:
        ax = normalize_axes(int(ax), x.ndim, "roll")[0]
        total[ax] = total.get(ax, 0) + int(s)
    rolled = x
    for ax, s in total.items():
        n = x.shape[ax]
        s = s % n if n else 0
        if s:
            lead = (slice(None),) * ax
            rolled = concatenate([rolled[lead + (slice(n - s, None),)],
                                  rolled[lead + (slice(0, n - s),)]], ax)
    return rolled if rolled is not x else _copy(x)    # NumPy returns a new array, rolled or not


@implements(np.flip)
def flip(m, axis=None):
    """Entries reversed along axes (all when None); the gradient is reversed back"""
    x = as_tensor(m)
    axes = normalize_axes(axis, x.ndim, "flip")
    if isinstance(axis, (tuple, list)) and len(set(int(a) % max(x.ndim, 1) for a in axis)) \
            != len(axis):
        raise ValueError(f"flip: repeated axis in {axis!r}")
    return x[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim))]


@implements(np.flipud)
def flipud(m):
    """Rows reversed (axis 0)"""
    x = as_tensor(m)
    if x.ndim < 1:
        raise ValueError("flipud: Input must be >= 1-d.")
    return flip(x, 0)


@implements(np.fliplr)
def fliplr(m):
    """Columns reversed (axis 1)"""
    x = as_tensor(m)
    if x.ndim < 2:
        raise ValueError(f"fliplr: Input must be >= 2-d (got shape {x.shape}).")
    return flip(x, 1)


@implements(np.rot90)
def rot90(m, k=1, axes=(0, 1)):
    """m rotated by 90 degrees k times in the plane of axes (flips and a transpose)"""
    x = as_tensor(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("rot90: len(axes) must be 2.")
    if axes[0] == axes[1] or np.abs(axes[0] - axes[1]) == x.ndim:
        raise ValueError(f"rot90: Axes must be different (got {axes} for {x.ndim} axes).")
    if not (-x.ndim <= axes[0] < x.ndim and -x.ndim <= axes[1] < x.ndim):
        raise ValueError(f"rot90: Axes={axes} out of range for array of ndim={x.ndim}.")
    k = int(k) % 4
    if k == 0:
        return x[(slice(None),) * x.ndim]
    if k == 2:
        return flip(flip(x, axes[0]), axes[1])
    perm = list(range(x.ndim))
    perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
    if k == 1:
        return transpose(flip(x, axes[1]), perm)
    return flip(transpose(x, perm), axes[1])
