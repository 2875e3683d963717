"""Running reductions and differences: cumprod, cumulative_sum/cumulative_prod, diff, gradient,
trace.  Part of the statistics family (stats.py re-exports these names)."""

from __future__ import annotations

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..engine import Op, apply, dispatch
from .elementwise import astype as _astype
from .reduce import cumsum
from .routing import constant_argument, implements, no_out

__all__ = ["cumprod", "cumulative_sum", "cumulative_prod", "diff", "gradient", "trace"]

_NoValue = np._NoValue


def _tensor(x):
    from ..tensor import Tensor
    return x if isinstance(x, Tensor) else Tensor._make(np.asarray(x), None)


def _flip(x, axis):
    return x[(slice(None),) * axis + (slice(None, None, -1),)]


class CumProd(Op):
    """d/dx_j prod_{i<=k} x_i = prod_{i<=k, i!=j} x_i.  Before a slice's first zero that is
    out_k / x_j (a reversed cumulative sum of g * out, divided by x); at the first zero it is the
    cumulative product with that zero set to 1; after it, 0.  Exact with zeros, to every order."""
    save_inputs = True
    save_output = True

    def forward(self, x, axis=None):
        self.in_shape = x.shape
        if axis is None:
            self.axis = 0
            return np.cumprod(x.reshape(-1))
        self.axis = normalize_axis_index(axis, x.ndim)
        return np.cumprod(x, axis=self.axis)

    def backward(self, g):
        x, out, ax = self.inputs[0].reshape(self.output.shape), self.output, self.axis
        zero = np.asarray(x == 0)
        if type(x) is not np.ndarray and zero.any():
            return _cumprod_grad_by_slices(x, g, ax).reshape(self.in_shape)
        seen = np.cumsum(zero, axis=ax)            # zeros up to and including each entry
        before = seen == 0
        upstream = _flip(np.cumsum(_flip(g * out, ax), axis=ax), ax)
        grad = np.where(before, upstream / np.where(before, x, 1), 0)
        first = zero & (seen == 1)
        if first.any():
            rest = dispatch(CumProd, np.where(first, 1, x), axis=ax)
            tail = np.sum(np.where(seen >= 1, g * rest, 0), axis=ax, keepdims=True)
            grad = grad + np.where(first, tail, 0)
        return grad.reshape(self.in_shape)


def _cumprod_grad_by_slices(x, g, ax):
    """The same gradient, one position k at a time (PyTorch's double-backward form): entry i of
    the products omitting x_k is prod(x[:k]) * prod(x[k+1:k+i+1]).  Every zero enters as x, so
    the result's own derivative is exact too; O(n^2), used under create_graph with zeros."""
    from .reduce import prod
    from .shape import concatenate
    n = x.shape[ax]
    if n == 1:
        return g
    pieces = []
    for k in range(n):
        after = dispatch(CumProd, _take(x, ax, slice(k + 1, None)), axis=ax) if k < n - 1 else None
        if k == 0:
            omitted = concatenate([np.ones_like(_take(x.data, ax, slice(0, 1))), after], axis=ax)
        else:
            before = prod(_take(x, ax, slice(0, k)), ax, True)
            omitted = before if after is None else concatenate([before, before * after], axis=ax)
        pieces.append(np.sum(_take(g, ax, slice(k, None)) * omitted, axis=ax, keepdims=True))
    return concatenate(pieces, axis=ax)


def cumprod(x, axis=None, *, dtype=None):
    if dtype is not None:
        x = _astype(x, dtype)
    return apply(CumProd, x, axis=axis)


@implements(np.cumprod)
def _np_cumprod(a, axis=None, dtype=None, out=None):
    no_out("cumprod", out)
    return cumprod(a, axis, dtype=dtype)


def _cumulative(fn, x, axis, dtype, include_initial, identity, name):
    from .shape import concatenate
    x = _tensor(x)
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{name}: for arrays which have more than one dimension ``axis`` "
                             f"argument is required (input shape {x.shape})")
        axis = 0
        x = x.reshape(-1)
    axis = normalize_axis_index(axis, x.ndim)
    out = fn(x, axis, dtype=dtype)
    if not include_initial:
        return out
    shape = tuple(1 if i == axis else n for i, n in enumerate(out.shape))
    return concatenate([np.full(shape, identity, dtype=out.dtype), out], axis=axis)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """np.cumulative_sum: cumsum, with a leading 0 when include_initial"""
    return _cumulative(cumsum, x, axis, dtype, include_initial, 0, "cumulative_sum")


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """np.cumulative_prod: cumprod, with a leading 1 when include_initial"""
    return _cumulative(cumprod, x, axis, dtype, include_initial, 1, "cumulative_prod")


@implements(np.cumulative_sum)
def _np_cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    no_out("cumulative_sum", out)
    return cumulative_sum(x, axis=axis, dtype=dtype, include_initial=include_initial)


@implements(np.cumulative_prod)
def _np_cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    no_out("cumulative_prod", out)
    return cumulative_prod(x, axis=axis, dtype=dtype, include_initial=include_initial)


# ---- differences --------------------------------------------------------------------------------

def _take(x, axis, index):
    return x[(slice(None),) * axis + (index,)]


@implements(np.diff)
def diff(a, n=1, axis=-1, prepend=_NoValue, append=_NoValue):
    """np.diff: the n-th forward difference along axis (out[i] = a[i+1] - a[i], n times), with
    NumPy's prepend/append (which get their gradients too when they are Tensors)"""
    from .shape import broadcast_to, concatenate
    if n == 0:
        return a
    if n < 0:
        raise ValueError("diff: order must be non-negative but got " + repr(n))
    a = _tensor(a)
    if a.ndim == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis_index(axis, a.ndim)
    parts = []
    for extra in (prepend, append):
        if extra is _NoValue:
            parts.append(None)
            continue
        extra = extra if hasattr(extra, "ndim") else np.asanyarray(extra)
        if extra.ndim == 0:
            extra = broadcast_to(extra, tuple(1 if i == axis else s
                                              for i, s in enumerate(a.shape)))
        parts.append(extra)
    if parts[0] is not None or parts[1] is not None:
        a = concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis=axis)
    for _ in range(n):
        later, earlier = _take(a, axis, slice(1, None)), _take(a, axis, slice(None, -1))
        a = (later != earlier) if a.dtype == np.bool_ else later - earlier
    return a


def _spacing(value, name):
    return np.asanyarray(constant_argument(value, f"np.gradient: the spacing {name}"))


@implements(np.gradient)
def gradient(f, *varargs, axis=None, edge_order=1):
    """np.gradient: central differences inside, one-sided (edge_order 1 or 2) at the ends, with
    scalar or coordinate-array spacing; linear in f, so its gradient is the transposed stencil"""
    from .shape import concatenate
    f = _tensor(f)
    if f.dtype.kind in "biu":
        f = _astype(f, np.float64)
    nd = f.ndim
    axes = tuple(range(nd)) if axis is None else normalize_axis_tuple(axis, nd)
    n = len(varargs)
    if n == 0:
        dx = [1.0] * len(axes)
    elif n == 1 and np.ndim(_spacing(varargs[0], "h")) == 0:
        dx = [_spacing(varargs[0], "h")] * len(axes)
    elif n == len(axes):
        dx = []
        for i, d in enumerate(varargs):
            d = _spacing(d, f"for axis {axes[i]}")
            if d.ndim == 0:
                dx.append(d)
                continue
            if d.ndim != 1:
                raise ValueError("distances must be either scalars or 1d")
            if len(d) != f.shape[axes[i]]:
                raise ValueError("when 1d, distances must match the length of the corresponding "
                                 "dimension")
            d = np.diff(d.astype(np.float64) if d.dtype.kind in "biu" else d)
            dx.append(d[0] if (d == d[0]).all() else d)
    else:
        raise TypeError("invalid number of arguments")
    if edge_order > 2:
        raise ValueError("'edge_order' greater than 2 not supported")
    results = []
    for ax, h in zip(axes, dx):
        if f.shape[ax] < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, at "
                             "least (edge_order + 1) elements are required.")
        results.append(concatenate(_stencil(f, ax, h, edge_order), axis=ax))
    return results[0] if len(axes) == 1 else tuple(results)


def _stencil(f, ax, h, edge_order):
    """The three pieces (first entry, interior, last entry) of np.gradient along ax."""
    def at(index):
        return _take(f, ax, index)

    def coeff(value):   # spacing-derived coefficients, shaped along ax and in f's dtype
        if np.ndim(value) == 0:
            return float(value)
        shape = [1] * f.ndim
        shape[ax] = -1
        return np.asarray(value).astype(f.dtype).reshape(shape)

    uniform = np.ndim(h) == 0
    if uniform:
        interior = (at(slice(2, None)) - at(slice(None, -2))) * coeff(1 / (2.0 * h))
    else:
        d1, d2 = h[:-1], h[1:]
        interior = (at(slice(None, -2)) * coeff(-d2 / (d1 * (d1 + d2)))
                    + at(slice(1, -1)) * coeff((d2 - d1) / (d1 * d2))
                    + at(slice(2, None)) * coeff(d1 / (d2 * (d1 + d2))))
    if edge_order == 1:
        first = (at(slice(1, 2)) - at(slice(0, 1))) * coeff(1 / (h if uniform else h[0]))
        last = (at(slice(-1, None)) - at(slice(-2, -1))) * coeff(1 / (h if uniform else h[-1]))
        return [first, interior, last]
    if uniform:
        a, b, c = -1.5 / h, 2.0 / h, -0.5 / h
    else:
        d1, d2 = h[0], h[1]
        a, b, c = (-(2.0 * d1 + d2) / (d1 * (d1 + d2)), (d1 + d2) / (d1 * d2),
                   -d1 / (d2 * (d1 + d2)))
    first = (at(slice(0, 1)) * coeff(a) + at(slice(1, 2)) * coeff(b)
             + at(slice(2, 3)) * coeff(c))
    if uniform:
        a, b, c = 0.5 / h, -2.0 / h, 1.5 / h
    else:
        d1, d2 = h[-2], h[-1]
        a, b, c = (d2 / (d1 * (d1 + d2)), -(d2 + d1) / (d1 * d2),
                   (2.0 * d2 + d1) / (d2 * (d1 + d2)))
    last = (at(slice(-3, -2)) * coeff(a) + at(slice(-2, -1)) * coeff(b)
            + at(slice(-1, None)) * coeff(c))
    return [first, interior, last]


# ---- trace --------------------------------------------------------------------------------------

class Trace(Op):
    """d/dX trace(X) = the identity (on the offset diagonal of the axis1/axis2 planes)"""
    def forward(self, x, offset=0, axis1=0, axis2=1):
        self.in_shape = x.shape
        a1, a2 = normalize_axis_index(axis1, x.ndim), normalize_axis_index(axis2, x.ndim)
        if a1 == a2:
            raise ValueError("trace: axis1 and axis2 cannot be the same")
        out = np.trace(x, offset, a1, a2)
        # The gradient of the trace of every (a1, a2) plane: g placed on its diagonal.
        rows, cols = x.shape[a1], x.shape[a2]
        diagonal = np.eye(rows, cols, k=offset, dtype=x.dtype if x.dtype.kind == "f" else None)
        shape = [1] * x.ndim
        shape[a1], shape[a2] = rows, cols
        self.diagonal = (diagonal if a1 < a2 else diagonal.T).reshape(shape)
        self.kept = tuple(1 if i in (a1, a2) else n for i, n in enumerate(x.shape))
        return out

    def backward(self, g):
        return g.reshape(self.kept) * self.diagonal


def trace(x, offset=0, axis1=0, axis2=1, *, dtype=None):
    if dtype is not None:
        x = _astype(x, dtype)
    return apply(Trace, x, offset=offset, axis1=axis1, axis2=axis2)


@implements(np.trace)
def _np_trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    no_out("trace", out)
    return trace(a, offset, axis1, axis2, dtype=dtype)

