"""Sorting and selection: sort, partition, take, take_along_axis, select, tril/triu, diag, diagonal;
and np.einsum's sublist form spelled as a subscripts string.

Each is an index array applied with getitem (whose adjoint scatters the gradient back, and whose
scatter's adjoint is getitem again, so every order is differentiable) or a ``where``.  Sorting and
partitioning follow one convention for ties (API.md): equal entries are interchangeable, so the
gradient reaching a group of equal values is split evenly among them -- each tied input gets the
mean of the upstream gradient over the group's output positions -- whatever order NumPy's
algorithm happened to put them in.
"""

from __future__ import annotations

import numpy as np

from ..engine import Op, apply, dispatch
from .elementwise import astype
from .selection import where
from .index import ScatterAdd
from .reduce import normalize_axes
from .routing import implements, inspected, no_out
from .shape import as_tensor, broadcast_to, reshape, transpose

__all__ = ["sort", "partition", "take", "take_along_axis", "select", "tril", "triu", "diag",
           "diagonal"]


def _plain(value):
    """A Tensor's array (indices, masks and conditions never carry gradients), else as given."""
    from ..tensor import Tensor
    return value.data if isinstance(value, Tensor) else value


def _along_axis_index(indices, axis, shape):
    """The fancy index that picks ``indices`` along ``axis`` of an array of ``shape``
    (np.take_along_axis's)."""
    index = []
    for dim, n in enumerate(shape):
        if dim == axis:
            index.append(indices)
        else:
            shape = [1] * indices.ndim
            shape[dim] = n
            index.append(np.arange(n).reshape(shape))
    return tuple(index)


# ---- ties: equal values share their gradient -----------------------------------------------------

def _tie_groups(values, axis):
    """(group id per entry, size per group) for runs of equal entries within each lane along
    ``axis``, or None when no two entries of a lane are equal (NaN equals nothing)."""
    if values.size == 0 or values.shape[axis] < 2:
        return None
    lanes = np.moveaxis(values, axis, -1)
    flat = lanes.reshape(-1, lanes.shape[-1])
    order = np.argsort(flat, axis=1, kind="stable")
    ordered = np.take_along_axis(flat, order, 1)
    starts = np.ones(ordered.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    if starts.all():
        return None
    ids = np.empty(flat.shape, dtype=np.intp)
    np.put_along_axis(ids, order, np.cumsum(starts.ravel()).reshape(flat.shape) - 1, 1)
    ids = np.moveaxis(ids.reshape(lanes.shape), -1, axis)
    return ids, np.bincount(ids.ravel())


class GroupMean(Op):
    """Each entry replaced by its group's mean: a symmetric projection, so its own adjoint"""
    name = "group_mean"

    def forward(self, g, groups, counts):
        self.groups, self.counts = groups, counts
        sums = np.bincount(groups.ravel(), weights=g.ravel(), minlength=counts.size)
        return (sums / counts)[groups].astype(g.dtype, copy=False)

    def backward(self, g): return dispatch(GroupMean, g, groups=self.groups, counts=self.counts)


class Permute(Op):
    """np.sort / np.partition along an axis: output entry j is input entry perm[j], so the
    gradient is scattered back through the permutation, tied entries first sharing theirs"""

    def forward(self, x, axis, kth, kind, stable):
        # The permutation is found here, from the values: a replay (ag.compile) finds it again.
        if kth is None:
            perm = np.argsort(x, axis=axis, kind=kind, stable=stable)
        else:
            perm = np.argpartition(x, kth, axis=axis, kind=kind)
        self.index = _along_axis_index(perm, axis, x.shape)
        self.in_shape = x.shape
        out = x[self.index]
        self.ties = _tie_groups(out, axis)
        return out

    def backward(self, g):
        if self.ties is not None:
            g = dispatch(GroupMean, g, groups=self.ties[0], counts=self.ties[1])
        return dispatch(ScatterAdd, g, index=self.index, shape=self.in_shape)


class Sort(Permute):
    """np.sort: the gradient goes back through the sorting permutation (ties share it)"""


class Partition(Permute):
    """np.partition: the gradient goes back through the permutation (ties share it)"""


def _order_arg(name, order):
    if order is not None:
        raise TypeError(f"np.{name}: order= (fields of structured arrays) is not supported on "
                        "Tensors")


@implements(np.sort)
def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """np.sort: each output entry is an input entry, whose gradient it carries back (tied entries
    get the mean gradient of their group)"""
    _order_arg("sort", order)
    x = as_tensor(a)
    if axis is None:
        x, axis = reshape(x, -1), 0
    axis = normalize_axes(axis, x.ndim, "sort")[0]
    return apply(Sort, x, axis=axis, kth=None, kind=kind, stable=stable)


@implements(np.partition)
def partition(a, kth, axis=-1, kind="introselect", order=None):
    """np.partition: a permutation of the entries along axis (ties share their gradient)"""
    _order_arg("partition", order)
    x = as_tensor(a)
    if axis is None:
        x, axis = reshape(x, -1), 0
    axis = normalize_axes(axis, x.ndim, "partition")[0]
    return apply(Partition, x, axis=axis, kth=_plain(kth), kind=kind, stable=None)


# ---- picking entries by index or condition -------------------------------------------------------

@implements(np.take)
def take(a, indices, axis=None, out=None, mode="raise"):
    """Entries at indices along axis (of the flattened input when None); repeated indices add up
    their gradients"""
    no_out("take", out)
    x = as_tensor(a)
    if axis is None:
        x, axis = reshape(x, -1), 0
    axis = normalize_axes(axis, x.ndim, "take")[0]
    # NumPy resolves the indices (negative ones, mode='wrap'/'clip', bounds) on the positions.
    try:
        positions = inspected(np.take, np.arange(x.shape[axis]), indices, mode=mode)
    except (IndexError, ValueError, TypeError) as err:
        raise type(err)(f"take: {err} (axis {axis} of shape {x.shape})") from None
    return x[(slice(None),) * axis + (positions,)]


@implements(np.take_along_axis)
def take_along_axis(arr, indices, axis=-1):
    """Entries picked by an index array along axis; repeated indices add up their gradients"""
    x = as_tensor(arr)
    idx = np.asarray(_plain(indices))
    if not np.issubdtype(idx.dtype, np.integer):
        raise IndexError(f"take_along_axis: `indices` must be an integer array, got {idx.dtype}")
    if axis is None:
        if idx.ndim != 1:
            raise ValueError("take_along_axis: when axis=None, `indices` must have a single "
                             "dimension.")
        x, axis = reshape(x, -1), 0
    if x.ndim != idx.ndim:
        raise ValueError("take_along_axis: `indices` and `arr` must have the same number of "
                         f"dimensions (shapes {x.shape} and {idx.shape})")
    axis = normalize_axes(axis, x.ndim, "take_along_axis")[0]
    return x[_along_axis_index(idx, axis, x.shape)]


@implements(np.select)
def select(condlist, choicelist, default=0):
    """From choicelist, the first entry whose condition holds (else default); each choice gets
    the gradient where it was picked"""
    if len(condlist) != len(choicelist):
        raise ValueError("select: list of cases must be same length as list of conditions")
    if len(condlist) == 0:
        raise ValueError("select: select with an empty condition list is not possible")
    from ..tensor import Tensor
    # Python numbers stay Python numbers (NEP 50 weak promotion), as np.select keeps them.
    choices = [c if type(c) in (int, float) or isinstance(c, Tensor) else np.asarray(c)
               for c in list(choicelist) + [default]]
    try:
        dtype = np.result_type(*[_plain(c) for c in choices])
    except TypeError as err:
        raise TypeError(f"select: Choicelist and default value do not have a common dtype: "
                        f"{err}") from None
    conds = np.broadcast_arrays(*[np.asarray(_plain(c)) for c in condlist])
    for i, cond in enumerate(conds):
        if cond.dtype.type is not np.bool_:
            raise TypeError(f"select: invalid entry {i} in condlist: should be boolean ndarray")
    shape = np.broadcast_shapes(*[np.shape(_plain(c)) for c in choices], conds[0].shape)
    result = broadcast_to(astype(as_tensor(choices[-1]), dtype), shape)
    for choice, cond in zip(choices[-2::-1], conds[::-1]):
        result = where(cond, astype(as_tensor(choice), dtype), result)
    return result


def _triangle(m, k, name, lower):
    x = as_tensor(m)
    if x.ndim < 1:
        raise ValueError(f"{name}: the input must have at least 1 axis (got a 0-d array)")
    k = int(k)
    mask = np.tri(*x.shape[-2:], k=k if lower else k - 1, dtype=bool)
    zero = np.zeros((), x.dtype)
    return where(mask, x, zero) if lower else where(mask, zero, x)


@implements(np.tril)
def tril(m, k=0):
    """Entries on and below the k-th diagonal (others 0); the gradient is masked the same way"""
    return _triangle(m, k, "tril", True)


@implements(np.triu)
def triu(m, k=0):
    """Entries on and above the k-th diagonal (others 0); the gradient is masked the same way"""
    return _triangle(m, k, "triu", False)


def _diagonal_positions(n1, n2, offset):
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
        return np.arange(length), np.arange(length) + offset
    length = max(0, min(n1 + offset, n2))
    return np.arange(length) - offset, np.arange(length)


@implements(np.diagonal)
def diagonal(a, offset=0, axis1=0, axis2=1):
    """np.diagonal: the entries (i, i + offset) of the (axis1, axis2) planes, as a last axis"""
    x = as_tensor(a)
    if x.ndim < 2:
        raise ValueError(f"diagonal: diag requires an array of at least two dimensions "
                         f"(got shape {x.shape})")
    i, j = (normalize_axes(ax, x.ndim, "diagonal")[0] for ax in (axis1, axis2))
    if i == j:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    rest = [d for d in range(x.ndim) if d not in (i, j)]
    y = transpose(x, rest + [i, j])
    rows, cols = _diagonal_positions(x.shape[i], x.shape[j], int(offset))
    return y[(Ellipsis, rows, cols)]


@implements(np.diag)
def diag(v, k=0):
    """np.diag: the k-th diagonal of a matrix, or a matrix with a vector on its k-th diagonal"""
    x = as_tensor(v)
    k = int(k)
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag: Input must be 1- or 2-d (got shape {x.shape}).")
    n = x.shape[0] + abs(k)
    rows, cols = _diagonal_positions(n, n, k)
    return apply(ScatterAdd, x, index=(rows, cols), shape=(n, n))


# ---- np.einsum's sublist form --------------------------------------------------------------------

def _subscript(label) -> str:
    if label is Ellipsis:
        return "..."
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise TypeError(f"einsum: each subscript in a sublist must be an int or Ellipsis, "
                        f"got {label!r}")
    if 0 <= label < 26:
        return chr(ord("A") + int(label))
    if 26 <= label < 52:
        return chr(ord("a") + int(label) - 26)
    raise ValueError(f"einsum: subscript {label} is not within the valid range [0, 52)")


def einsum_sublists(operands):
    """np.einsum(op0, sublist0, op1, sublist1, ..., [sublistout]) as the arguments of its
    subscripts-string form, (subscripts, op0, op1, ...): the ints 0-25 are spelled 'A'-'Z' and
    26-51 'a'-'z' (NumPy's own labels, so the implicit output order is NumPy's), Ellipsis is
    '...'.  np.einsum's adapter (ops/linalg/einsum.py) calls it for the sublist form."""
    operands = list(operands)
    count = len(operands) // 2
    if count == 0:
        raise ValueError("einsum: the sublist form needs at least one operand and its sublist")
    arrays = operands[0:2 * count:2]
    terms = ["".join(_subscript(s) for s in sub) for sub in operands[1:2 * count:2]]
    subscripts = ",".join(terms)
    if len(operands) % 2:
        subscripts += "->" + "".join(_subscript(s) for s in operands[-1])
    return (subscripts, *arrays)
