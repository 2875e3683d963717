"""Reductions: sum, mean, max/min, prod, var/std, logsumexp, cumsum, argmax/argmin (norms: norms.py)

A reduction's gradient is the upstream gradient re-expanded over the reduced axes (the adjoint of
summing is broadcasting), times the reduction's local derivative.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import Op, apply
from .elementwise import astype as _astype, quiet_exp
from .selection import maximum as _maximum, minimum as _minimum, where as _where
from .routing import implements, inspected, no_out

__all__ = ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "cumsum", "argmax",
           "argmin"]


def normalize_axes(axis, ndim: int, op: str = "reduce") -> tuple:
    """``axis`` (None, an int or a tuple of ints) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    result = set()
    for a in axes:
        if isinstance(a, (bool, np.bool_)) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op}: axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of bounds for a tensor of {ndim} dimensions")
        result.add(int(a) % ndim)
    return tuple(sorted(result))


_SMALL = 1 << 16   # elements: below this a materialised gradient is cheaper than a broadcast view


class _Reduction(Op):
    """Keeps what every reduction's backward needs to re-expand the gradient."""

    def setup(self, x, axis, keepdims):
        self.in_shape = x.shape
        self.axes = normalize_axes(axis, x.ndim, self.name)
        self.keepdims = keepdims
        return self.axes

    @property
    def count(self) -> int:
        return math.prod(self.in_shape[a] for a in self.axes)

    def keep(self, g):
        """``g`` with the reduced axes back as size-1 axes, so it broadcasts against the input."""
        if self.keepdims:
            return g
        return g.reshape(tuple(1 if i in self.axes else n for i, n in enumerate(self.in_shape)))

    def expand(self, g):
        if type(g) is np.ndarray and math.prod(self.in_shape) <= _SMALL:
            out = np.empty(self.in_shape, g.dtype)   # np.broadcast_to costs ~1.8 us in Python
            out[...] = self.keep(g)
            return out
        return np.broadcast_to(self.keep(g), self.in_shape)


class Sum(_Reduction):
    """d/dx_i sum(x) = 1"""
    def forward(self, x, axis=None, keepdims=False):
        axes = self.setup(x, axis, keepdims)
        if type(x) is np.ndarray:
            return x.sum(axis=axes, keepdims=keepdims)   # np.sum's Python wrapper: ~0.7 us more
        return np.sum(x, axis=axes, keepdims=keepdims)

    def backward(self, g): return self.expand(g)


class Mean(_Reduction):
    """d/dx_i mean(x) = 1/n"""
    def forward(self, x, axis=None, keepdims=False):
        axes = self.setup(x, axis, keepdims)
        if type(x) is np.ndarray and x.dtype.kind == "f" and x.dtype.itemsize >= 4 and x.size:
            return x.sum(axis=axes, keepdims=keepdims) / self.count   # np.mean: ~2.5 us more
        return np.mean(x, axis=axes, keepdims=keepdims)

    def backward(self, g): return self.expand(g / self.count)


class _Extreme(_Reduction):
    """max/min: the gradient is split evenly among the entries equal to the result (ties)."""
    save_inputs = True
    save_output = True
    reducer = None

    def forward(self, x, axis=None, keepdims=False):
        return type(self).reducer(x, axis=self.setup(x, axis, keepdims), keepdims=keepdims)

    def backward(self, g):
        x = self.inputs[0]
        out = self.keep(self.output)
        # A NaN result came from the NaN entries (NaN != NaN, so they need their own test).
        winners = np.asarray(x == out) | (np.asarray(x != x) & np.asarray(out != out))
        # In x's dtype: an int64 count would turn a float32 gradient into float64.
        count = np.maximum(winners.sum(axis=self.axes, keepdims=True), 1).astype(x.dtype)
        return winners * (self.keep(g) / count)


class Max(_Extreme):
    """d/dx_i max(x) = 1/k for the k entries equal to the maximum, else 0"""
    reducer = staticmethod(np.max)


class Min(_Extreme):
    """d/dx_i min(x) = 1/k for the k entries equal to the minimum, else 0"""
    reducer = staticmethod(np.min)


class Prod(_Reduction):
    """d/dx_i prod(x) = product of the other entries, exact when some entries are zero"""
    save_inputs = True

    def forward(self, x, axis=None, keepdims=False):
        return np.prod(x, axis=self.setup(x, axis, keepdims), keepdims=keepdims)

    def backward(self, g):
        x = self.inputs[0]
        is_zero = np.asarray(x == 0)
        zeros = is_zero.sum(axis=self.axes, keepdims=True)
        nonzero = np.where(is_zero, 1, x)
        # The product of the other non-zero entries (no division by zero).
        others = np.prod(nonzero, axis=self.axes, keepdims=True) / nonzero
        # Times the product of the other zero entries: with no zero it is 1, with one zero the
        # zero entry gets 1 and the others get x_zero, with two zeros each zero entry gets the
        # other one, with more everything is 0.  Zeros enter as x (value 0) rather than as the
        # constant 0, so that this gradient's own derivative (second order) is exact too.
        zero_sum = np.sum(np.where(is_zero, x, 0), axis=self.axes, keepdims=True)
        rest = np.where(zeros == 0, 1,
                        np.where(zeros == 1, np.where(is_zero, 1, zero_sum),
                                 np.where((zeros == 2) & is_zero, zero_sum - x, 0)))
        return self.keep(g) * others * rest


class Var(_Reduction):
    """d/dx_i var(x) = 2 (x_i - mean) / (n - ddof)"""
    save_inputs = True

    def forward(self, x, axis=None, keepdims=False, ddof=0):
        self.ddof = ddof
        return np.var(x, axis=self.setup(x, axis, keepdims), keepdims=keepdims, ddof=ddof)

    def backward(self, g):
        x = self.inputs[0]
        centred = x - x.mean(axis=self.axes, keepdims=True)
        return self.keep(g) * centred * (2 / (self.count - self.ddof))


class Std(_Reduction):
    """d/dx_i std(x) = (x_i - mean) / ((n - ddof) std); taken as 0 where std is 0"""
    save_inputs = True
    save_output = True

    def forward(self, x, axis=None, keepdims=False, ddof=0):
        self.ddof = ddof
        return np.std(x, axis=self.setup(x, axis, keepdims), keepdims=keepdims, ddof=ddof)

    def backward(self, g):
        x = self.inputs[0]
        out = self.keep(self.output)
        safe = np.where(np.asarray(out == 0), 1, out)
        centred = x - x.mean(axis=self.axes, keepdims=True)
        return self.keep(g) * centred / (safe * (self.count - self.ddof))


class LogSumExp(_Reduction):
    """d/dx_i log sum exp(x) = softmax(x)_i"""
    save_inputs = True
    save_output = True

    def forward(self, x, axis=None, keepdims=False):
        axes = self.setup(x, axis, keepdims)
        shift = np.max(x, axis=axes, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0)   # all -inf (or inf) slices: no shift
        out = np.log(np.sum(quiet_exp(x - shift), axis=axes, keepdims=True)) + shift
        return out if keepdims else out.reshape(self.keep_shape_removed(out.shape))

    def keep_shape_removed(self, shape):
        return tuple(n for i, n in enumerate(shape) if i not in self.axes)

    def backward(self, g):
        x = self.inputs[0]
        return self.keep(g) * quiet_exp(x - self.keep(self.output))


class CumSum(Op):
    """d/dx_j sum_{i<=k} x_i = 1 for j <= k: the adjoint is a reversed cumulative sum"""
    def forward(self, x, axis=None):
        self.in_shape = x.shape
        if axis is None:
            self.axis = 0
            return np.cumsum(x.reshape(-1))
        self.axis = normalize_axes(axis, x.ndim, "cumsum")[0]
        return np.cumsum(x, axis=self.axis)

    def backward(self, g):
        flip = (slice(None),) * self.axis + (slice(None, None, -1),)
        return np.cumsum(g[flip], axis=self.axis)[flip].reshape(self.in_shape)


# ---- public functions ---------------------------------------------------------------------------
#
# ag.sum(x, axis, keepdims) keeps its short positional form; NumPy's keywords (dtype=, initial=,
# where=) are keyword-only here, and the np.* adapters below take NumPy's positional order.

def _prepare(x, dtype, where, fill):
    """x cast to dtype (NumPy casts before reducing), with entries outside where= set to fill."""
    if dtype is not None:
        x = _astype(x, dtype)
    if where is not True and where is not None:
        from .elementwise import _plain
        x = _where(_plain(where), x, fill)
    return x


def sum(x, axis=None, keepdims=False, *, dtype=None, initial=None, where=True):  # noqa: A001
    """d/dx_i sum(x) = 1 (0 outside where=)"""
    out = apply(Sum, _prepare(x, dtype, where, 0), axis=axis, keepdims=keepdims)
    return out if initial is None else out + initial


def mean(x, axis=None, keepdims=False, *, dtype=None, where=True):
    """d/dx_i mean(x) = 1/n, n counting the entries inside where="""
    if where is True or where is None:
        return apply(Mean, _prepare(x, dtype, True, 0), axis=axis, keepdims=keepdims)
    from .elementwise import _plain
    mask = np.broadcast_to(_plain(where), np.shape(x))
    count = mask.sum(axis=axis, keepdims=keepdims)
    total = sum(x, axis, keepdims, dtype=dtype, where=mask)
    # A 0-d count divides as a Python int, so NumPy's weak promotion keeps float32 float32.
    return total / (count.astype(total.dtype) if np.ndim(count) else int(count))


def _extreme(cls, pick, x, axis, keepdims, initial, where, name):
    if where is not True and where is not None and initial is None:
        raise ValueError(f"{name}: a where= mask needs initial= (the reduction has no identity)")
    # Entries outside where= become the reduction's identity in x's dtype (integers stay integers).
    kind = np.dtype(getattr(x, "dtype", np.result_type(x))).kind
    if kind in "iu":
        info = np.iinfo(x.dtype)
        fill = int(info.min if cls is Max else info.max)
    elif kind == "b":
        fill = cls is not Max
    else:
        fill = -np.inf if cls is Max else np.inf
    shape = np.shape(getattr(x, "data", x))
    if initial is not None and 0 in [shape[a] for a in normalize_axes(axis, len(shape), name)]:
        # Nothing to reduce (NumPy gives initial): an empty sum keeps the graph, plus initial.
        return sum(x, axis, keepdims) + initial
    out = apply(cls, _prepare(x, None, where, fill), axis=axis, keepdims=keepdims)
    return out if initial is None else pick(out, initial)


def max(x, axis=None, keepdims=False, *, initial=None, where=True):  # noqa: A001
    """d/dx_i max(x) = 1/k for the k entries equal to the maximum (ties with initial split too)"""
    return _extreme(Max, _maximum, x, axis, keepdims, initial, where, "max")


def min(x, axis=None, keepdims=False, *, initial=None, where=True):  # noqa: A001
    """d/dx_i min(x) = 1/k for the k entries equal to the minimum (ties with initial split too)"""
    return _extreme(Min, _minimum, x, axis, keepdims, initial, where, "min")


def prod(x, axis=None, keepdims=False, *, dtype=None, initial=None, where=True):
    out = apply(Prod, _prepare(x, dtype, where, 1), axis=axis, keepdims=keepdims)
    return out if initial is None else out * initial


def _ddof(ddof, correction, name):
    if correction is not None:
        if ddof != 0:
            raise TypeError(f"{name}: pass ddof or correction, not both")
        return correction
    return ddof


def var(x, axis=None, keepdims=False, ddof=0, *, dtype=None, correction=None):
    return apply(Var, _prepare(x, dtype, True, 0), axis=axis, keepdims=keepdims,
                 ddof=_ddof(ddof, correction, "var"))


def std(x, axis=None, keepdims=False, ddof=0, *, dtype=None, correction=None):
    return apply(Std, _prepare(x, dtype, True, 0), axis=axis, keepdims=keepdims,
                 ddof=_ddof(ddof, correction, "std"))


def _unsupported(name, key, value, default):
    if value is not default:
        raise TypeError(f"np.{name}: the keyword {key}= is not supported on Tensors")


@implements(np.sum)
def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    no_out("sum", out)
    return sum(a, axis, keepdims, dtype=dtype, initial=initial, where=where)


@implements(np.mean)
def _np_mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    no_out("mean", out)
    return mean(a, axis, keepdims, dtype=dtype, where=where)


@implements(np.max, np.amax)
def _np_max(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    no_out("max", out)
    return max(a, axis, keepdims, initial=initial, where=where)


@implements(np.min, np.amin)
def _np_min(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    no_out("min", out)
    return min(a, axis, keepdims, initial=initial, where=where)


@implements(np.prod)
def _np_prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    no_out("prod", out)
    return prod(a, axis, keepdims, dtype=dtype, initial=initial, where=where)


@implements(np.var)
def _np_var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
            mean=None, correction=None):
    no_out("var", out)
    _unsupported("var", "where", where, True)
    _unsupported("var", "mean", mean, None)
    return var(a, axis, keepdims, ddof, dtype=dtype, correction=correction)


@implements(np.std)
def _np_std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
            mean=None, correction=None):
    no_out("std", out)
    _unsupported("std", "where", where, True)
    _unsupported("std", "mean", mean, None)
    return std(a, axis, keepdims, ddof, dtype=dtype, correction=correction)


def logsumexp(x, axis=None, keepdims=False):
    return apply(LogSumExp, x, axis=axis, keepdims=keepdims)


def cumsum(x, axis=None, *, dtype=None):
    return apply(CumSum, _prepare(x, dtype, True, 0), axis=axis)


@implements(np.cumsum)
def _np_cumsum(a, axis=None, dtype=None, out=None):
    no_out("cumsum", out)
    return cumsum(a, axis, dtype=dtype)


def _index_result(fn, x, axis, name):
    from ..tensor import Tensor
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    try:
        return Tensor._make(inspected(fn, x if isinstance(x, Tensor) else data, axis=axis), None)
    except (ValueError, TypeError) as err:
        raise type(err)(f"{name}: {err} (input shape {data.shape})") from None


def argmax(x, axis=None):
    """Index of the largest entry (flattened when axis is None); integer, no gradient."""
    return _index_result(np.argmax, x, axis, "argmax")


def argmin(x, axis=None):
    """Index of the smallest entry (flattened when axis is None); integer, no gradient."""
    return _index_result(np.argmin, x, axis, "argmin")
