"""PyTorch's spellings, and their meaning, for the Tensor methods (methods.py) and ag.* functions.

The spelling picks the meaning: ``axis=``/``keepdims=`` (or positional) is NumPy's, ``dim=``/
``keepdim=`` is PyTorch's -- max/min/sort/median then return ``(values, indices)``, var/std are
unbiased unless ``correction=``/``unbiased=`` says otherwise, ``squeeze(dim=)`` of an axis whose
size is not 1 does nothing.  Passing both spellings of one argument is an error.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

__all__ = ["values_indices", "axes"]

values_indices = namedtuple("values_indices", ["values", "indices"])
values_indices.__doc__ = "PyTorch's (values, indices) result of max/min/sort/median with dim=."


class Size(int):
    """x.size: NumPy's element count, an int.  Calling it, as PyTorch's x.size(0), says so."""
    __slots__ = ()

    def __call__(self, dim=None):
        spelled = "x.shape" if dim is None else f"x.shape[{dim}]"
        raise TypeError(f"x.size is NumPy's element count ({int(self)}), not a method; for "
                        f"PyTorch's x.size({'' if dim is None else dim}) use {spelled}")


# PyTorch names that graphgrad spells differently: the AttributeError says how.
HINTS = {
    "t": "x.T (all axes reversed) or x.mT (the last two swapped)",
    "cuda": "nothing: graphgrad computes on the CPU with NumPy (x.cpu() and x.to('cpu') work)",
    "nelement": "x.size or x.numel()",
    "type": "x.astype(dtype) (or x.float(), x.double(), x.long())",
    "new_zeros": "ag.zeros_like(x) or ag.zeros(shape, dtype=x.dtype)",
    "new_ones": "ag.ones_like(x) or ag.ones(shape, dtype=x.dtype)",
    "new_full": "ag.full_like(x, value)",
    "new_tensor": "ag.tensor(data, dtype=x.dtype)",
    "repeat_interleave": "x.repeat(n, axis) (NumPy's repeat)",
    "masked_select": "x[mask]",
    "detach_": "x = x.detach()",
    "element_size": "x.dtype.itemsize",
    "get_device": "nothing: graphgrad tensors live on the CPU",
    "norm": "ag.norm(x, ord, axis) (np.linalg.norm's meaning)",
    "unsqueeze_": "x = x.unsqueeze(dim)",
    "squeeze_": "x = x.squeeze(dim=...)",
    "transpose_": "x = x.swapaxes(a, b)",
    "exp_": "x = x.exp()",
    "relu_": "x = x.relu()",
    "sigmoid_": "x = x.sigmoid()",
    "tanh_": "x = x.tanh()",
    "pow_": "x = x ** p",
    "neg_": "x = -x",
}


def _axis(axis, ndim: int, name: str) -> int:
    """One axis, checked and made non-negative (the reductions' rule: out of range raises)."""
    from .ops.reduce import normalize_axes
    return normalize_axes(axis, max(ndim, 1), name)[0]


def _ops():
    from . import ops
    return ops


def _tensor():
    from .tensor import Tensor
    return Tensor


def axes(name: str, axis, keepdims, dim, keepdim):
    """(axis, keepdims, spelled_with_dim) from either spelling."""
    if dim is not None and axis is not None:
        raise TypeError(f"{name}: pass axis= (NumPy) or dim= (PyTorch), not both")
    if keepdim is not None and keepdims is not None:
        raise TypeError(f"{name}: pass keepdims= (NumPy) or keepdim= (PyTorch), not both")
    torch = dim is not None
    axis = dim if torch else axis
    keep = keepdim if keepdim is not None else keepdims
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis, bool(keep) if keep is not None else False, torch


UNSET = object()   # a default that tells "not given" from an explicit None


def one_axis(name: str, axis, dim, default=None):
    if dim is not None and axis is not None:
        raise TypeError(f"{name}: pass axis= (NumPy) or dim= (PyTorch), not both")
    if dim is not None:
        return dim
    return default if axis is None else axis


def _inspected(fn, *args, **kwargs):
    from .ops.routing import inspected      # recorded under ag.compile: replays compute it anew
    return inspected(fn, *args, **kwargs)


def _descending_order(a, axis):
    return np.argsort(-a, axis=axis, kind="stable")


def _index_tensor(data):
    return _tensor()._make(np.asarray(data), None)


def _along(x, index, axis: int):
    """x's entries at ``index`` along ``axis`` (take_along_axis), differentiable through getitem."""
    grids = list(np.indices(index.shape, sparse=True))
    grids[axis] = index
    return x[tuple(grids)]


def extreme(x, name, axis, keepdims, dim, keepdim):
    axis, keep, torch = axes(name, axis, keepdims, dim, keepdim)
    ops = _ops()
    if not torch:
        return (ops.max if name == "max" else ops.min)(x, axis, keep)
    if isinstance(axis, tuple):
        raise TypeError(f"{name}: dim= takes one axis (PyTorch's {name} returns values and indices "
                        f"along one dimension); use axis= for several")
    axis = _axis(axis, x.ndim, name)
    index = _inspected(np.argmax if name == "max" else np.argmin, x, axis=axis, keepdims=True)
    values = _along(x, index, axis)   # the gradient goes to the returned index, as in PyTorch
    if not keep:
        values, index = ops.squeeze(values, axis), _inspected(np.squeeze, index, axis)
    return values_indices(values, _index_tensor(index))


def spread(x, name, axis, keepdims, ddof, dim, keepdim, correction, unbiased):
    """var/std: ddof 0 with NumPy's spelling; unbiased (1) with dim= (None too) or keepdim=,
    unless correction=/unbiased= says otherwise."""
    spelled_torch = dim is not UNSET or keepdim is not None
    dim = None if dim is UNSET else dim
    axis, keep, torch = axes(name, axis, keepdims, dim, keepdim)
    torch = torch or spelled_torch
    given = [v for v in (ddof, correction, unbiased) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{name}: pass one of ddof=, correction= and unbiased=")
    if unbiased is not None:
        ddof = 1 if unbiased else 0
    elif correction is not None:
        ddof = correction
    elif ddof is None:
        ddof = 1 if torch else 0
    ops = _ops()
    return (ops.var if name == "var" else ops.std)(x, axis, keep, ddof)


def arg_extreme(x, fn, name, axis, keepdims, dim, keepdim):
    axis, keep, _ = axes(name, axis, keepdims, dim, keepdim)
    try:
        return _index_tensor(_inspected(fn, x, axis=axis, keepdims=keep))
    except (ValueError, TypeError) as err:
        raise type(err)(f"{name}: {err} (input shape {x.shape})") from None


def sort(x, axis, kind, dim, descending):
    """NumPy's spelling is ndarray.sort: in place, returning None (np.sort(x) / ag.sort(x) make a
    sorted, differentiable copy); with dim= or descending= PyTorch's (values, indices)."""
    if dim is None and not descending:
        if x.requires_grad:
            from .tensor import GraphMutationError
            raise GraphMutationError(
                "sort: x.sort() sorts in place, as ndarray.sort, which would corrupt the graph of "
                "a Tensor that requires grad; use np.sort(x) (or ag.sort(x)) for a sorted copy "
                "that keeps the gradient, or x.sort(dim=...) for PyTorch's (values, indices)")
        ax = -1 if axis is None else axis
        x._inplace(lambda data, _, out: out.sort(axis=ax, kind=kind), None, "sort")
        return None
    ax = _axis(one_axis("sort", axis, dim, -1), x.ndim, "sort")
    order = (_inspected(_descending_order, x, ax) if descending else
             _inspected(np.argsort, x, axis=ax, kind="stable"))
    values = _along(x, order, ax)
    return values_indices(values, _index_tensor(order)) if dim is not None else values


def median(x, axis, keepdims, dim, keepdim):
    """NumPy's median (the mean of the two middle values of an even count) with axis=; PyTorch's
    (values, indices) with dim=, whose value is the lower of the two middle values."""
    axis, keep, torch = axes("median", axis, keepdims, dim, keepdim)
    if not torch:
        return _ops().median(x, axis=axis, keepdims=keep)
    ax = _axis(axis, x.ndim, "median")
    order = _inspected(np.argsort, x, axis=ax, kind="stable")
    middle = _inspected(np.take, order, [(x.shape[ax] - 1) // 2], axis=ax)
    values = _along(x, middle, ax)
    if not keep:
        values, middle = _ops().squeeze(values, ax), _inspected(np.squeeze, middle, ax)
    return values_indices(values, _index_tensor(middle))


def squeeze(x, axis, dim):
    if dim is None:
        return _ops().squeeze(x, axis)
    if axis is not None:
        raise TypeError("squeeze: pass axis= (NumPy) or dim= (PyTorch), not both")
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    ones = tuple(d for d in dims if x.shape[d] == 1)   # PyTorch: other sizes are left alone
    return _ops().squeeze(x, ones) if ones else x


def flatten(x, start_dim, end_dim):
    if isinstance(start_dim, str):     # ndarray.flatten(order)
        return _ops().reshape(x, -1, order=start_dim)
    if x.ndim == 0:
        return _ops().reshape(x, 1)
    s, e = _axis(start_dim, x.ndim, "flatten"), _axis(end_dim, x.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"(shape {x.shape})")
    return _ops().reshape(x, x.shape[:s] + (-1,) + x.shape[e + 1:])


def expand(x, sizes):
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes for a tensor of shape {x.shape}")
    shape = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    return _ops().broadcast_to(x, shape)


def chunk(x, chunks: int, dim: int):
    """PyTorch's chunk: pieces of ceil(n / chunks) along dim, the last one smaller."""
    if not isinstance(chunks, (int, np.integer)) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = x.shape[dim]
    step = -(-n // chunks)
    bounds = list(range(step, n, step))
    return tuple(_ops().split(x, bounds, axis=dim))


def _int_index(index, name):
    data = index.data if isinstance(index, _tensor()) else np.asarray(index)
    if data.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must be integer, got {data.dtype}")
    return data


def gather(x, dim, index):
    """out[..., i, ...] = x[..., index[..., i, ...], ...] along dim (PyTorch's gather)."""
    index = _int_index(index, "gather")
    if index.ndim != x.ndim:
        raise ValueError(f"gather: index has {index.ndim} dimensions, the input {x.ndim} "
                         f"(shapes {index.shape} and {x.shape})")
    return _along(x, index, _axis(dim, x.ndim, "gather"))


def scatter_add(x, dim, index, src):
    """x with src added at index along dim; differentiable in x and src (repeats accumulate)."""
    index = _int_index(index, "scatter_add")
    grids = list(np.indices(index.shape, sparse=True))
    grids[_axis(dim, x.ndim, "scatter_add")] = index
    src = src if isinstance(src, _tensor()) else _tensor()(np.asarray(src, dtype=x.dtype))
    piece = src[tuple(slice(0, n) for n in index.shape)]
    from .engine import apply
    from .ops.index import ScatterAdd
    return x + apply(ScatterAdd, piece, index=tuple(grids), shape=x.shape)


def index_select(x, dim, index):
    index = _int_index(index, "index_select")
    if index.ndim != 1:
        raise ValueError(f"index_select: index must be 1-D, got shape {index.shape}")
    return x[(slice(None),) * _axis(dim, x.ndim, "index_select") + (index,)]


def to(x, args, dtype, device, copy):
    """x.to(dtype), x.to("cpu"), x.to(device=..., dtype=...), x.to(other_tensor)."""
    for a in args:
        if isinstance(a, str):
            device = a if device is None else device
        elif isinstance(a, _tensor()):
            dtype = a.dtype
        else:
            dtype = a
    check_device(device, "to")
    out = x if dtype is None else _ops().astype(x, dtype)
    return _ops().copy(out) if copy and out is x else out


def check_device(device, name: str) -> None:
    if device is not None and str(device) not in ("cpu", "cpu:0"):
        raise ValueError(f"{name}: graphgrad computes on the CPU with NumPy; device={device!r} "
                         "is not available (use 'cpu')")


def mm(a, b):
    if a.ndim != 2 or np.ndim(b) != 2:
        raise ValueError(f"mm: both operands must be 2-D, got shapes {a.shape} and {np.shape(b)}")
    return _ops().matmul(a, b)


def bmm(a, b):
    if a.ndim != 3 or np.ndim(b) != 3:
        raise ValueError(f"bmm: both operands must be 3-D, got shapes {a.shape} and {np.shape(b)}")
    return _ops().matmul(a, b)


def clamp(x, lo, hi, min_, max_):
    if (lo is not None and min_ is not None) or (hi is not None and max_ is not None):
        raise TypeError("clip: pass each bound once (lo or min, hi or max)")
    return _ops().clip(x, lo if lo is not None else min_, hi if hi is not None else max_)


def fill_with(data, value, out):
    """In-place filler for zero_/fill_/copy_: NumPy's broadcasting and same-kind casting."""
    np.copyto(out, value, casting="same_kind")


class clip_into:
    """In-place clipper for clamp_.  Two are equal when their bounds are the same numbers, so a
    compiled step's capture of ``t.clamp_(0, 1)`` matches the next call's."""

    def __init__(self, lo, hi) -> None:
        self.lo, self.hi = lo, hi

    def __call__(self, data, _, out) -> None:
        np.clip(data, self.lo, self.hi, out=out)

    def _bounds(self):
        numbers = (type(None), bool, int, float, np.generic)
        if isinstance(self.lo, numbers) and isinstance(self.hi, numbers):
            return repr(self.lo), repr(self.hi)
        return id(self)

    def __eq__(self, other) -> bool:
        return type(other) is clip_into and self._bounds() == other._bounds()

    def __hash__(self) -> int:
        return hash(self._bounds())


_AXIS_ONLY = ("concatenate", "stack")


def accepts_dim(fn):
    """``ag.NAME`` that also takes PyTorch's ``dim=``/``keepdim=``, with PyTorch's meaning (the
    Tensor method's, see methods.py); without them it is ``fn`` itself, NumPy's meaning."""
    import functools
    name = fn.__name__

    @functools.wraps(fn)
    def spelled(x, *args, dim=None, keepdim=None, **kwargs):
        if dim is None and keepdim is None:
            return fn(x, *args, **kwargs)
        if name in _AXIS_ONLY:
            if args or "axis" in kwargs:
                raise TypeError(f"{name}: pass axis= (NumPy) or dim= (PyTorch), not both")
            return fn(x, axis=dim, **kwargs)
        from .methods import TensorMethods
        t = x if isinstance(x, _tensor()) else _tensor()(x)
        extra = {} if keepdim is None else {"keepdim": keepdim}
        return getattr(TensorMethods, name)(t, *args, dim=dim, **extra, **kwargs)
    return spelled


def accepts_diagonal(fn):
    """tril/triu taking PyTorch's ``diagonal=`` as well as NumPy's ``k=``."""
    import functools

    @functools.wraps(fn)
    def spelled(m, k=None, *, diagonal=None):
        if k is not None and diagonal is not None:
            raise TypeError(f"{fn.__name__}: pass k= (NumPy) or diagonal= (PyTorch), not both")
        return fn(m, k if k is not None else (diagonal or 0))
    return spelled


def linspace_names(fn):
    """linspace taking PyTorch's ``end=``/``steps=`` (and requires_grad=) as well as NumPy's."""
    import functools

    @functools.wraps(fn)
    def spelled(start, stop=None, num=None, *args, end=None, steps=None, requires_grad=False,
                **kwargs):
        if (stop is None) == (end is None):
            raise TypeError("linspace: give the end point once (stop, or PyTorch's end=)")
        if num is not None and steps is not None:
            raise TypeError("linspace: give the count once (num, or PyTorch's steps=)")
        count = num if num is not None else (steps if steps is not None else 50)
        out = fn(start, stop if stop is not None else end, count, *args, **kwargs)
        return out.requires_grad_(True) if requires_grad else out
    return spelled
