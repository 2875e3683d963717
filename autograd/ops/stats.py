"""Statistics and running reductions beyond reduce.py: median and quantiles, average, ptp, cov here;
nan-aware reductions in stats_nan.py; cumprod, cumulative_*, diff, gradient, trace in
cumulative.py.  Each op declares its NumPy routing beside it; this module exports the family."""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from ..engine import apply
from . import cumulative, stats_nan
from .cumulative import *  # noqa: F401,F403
from .elementwise import astype as _astype
from .reduce import _Reduction, _unsupported, max as _max, mean as _mean, min as _min
from .reduce import sum as _sum
from .routing import constant_argument, implements, inspected, no_out
from .stats_nan import *  # noqa: F401,F403

__all__ = (["median", "nanmedian", "quantile", "nanquantile", "percentile", "nanpercentile",
            "average", "ptp", "cov"] + cumulative.__all__ + stats_nan.__all__)

_NoValue = np._NoValue

# ---- order statistics ---------------------------------------------------------------------------
#
# A quantile picks the sorted entries at positions lo and hi = lo + 1 of its slice and returns
# (1 - f) * sorted[lo] + f * sorted[hi] (the median: the middle entry, or the mean of the two middle
# ones).  Its gradient is (1 - f) for sorted[lo] and f for sorted[hi], each split evenly among the
# entries equal to that value (ties, as max does).  A slice holding NaN has the result NaN, and its
# gradient goes to the NaN entries (as max's); the nan* forms leave NaN out (gradient 0 there).

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")
_FUNCTIONS = {"median": np.median, "nanmedian": np.nanmedian, "quantile": np.quantile,
              "nanquantile": np.nanquantile, "percentile": np.percentile,
              "nanpercentile": np.nanpercentile}


def _positions(n, q, method):
    """(lo, f) for quantile q of slices of n entries (n an int array), by NumPy's methods."""
    h = (n - 1) * q
    if method == "linear":
        lo = np.floor(h)
        f = h - lo
    elif method == "lower":
        lo, f = np.floor(h), np.zeros_like(h)
    elif method == "higher":
        lo, f = np.ceil(h), np.zeros_like(h)
    elif method == "nearest":
        lo, f = np.around(h), np.zeros_like(h)
    else:   # midpoint
        lo = np.floor(h)
        f = np.where(np.ceil(h) != lo, 0.5, 0.0)
    return lo, f


def _order_weights(x, axes, qs, nan_aware, method):
    """d result / d x for each quantile in qs: an array (len(qs), *x.shape)."""
    nd, k = x.ndim, len(axes)
    moved = np.moveaxis(x, axes, tuple(range(nd - k, nd)))
    batch = moved.shape[:nd - k]
    flat = moved.reshape(batch + (math.prod(moved.shape[nd - k:]),))
    nan = np.isnan(flat) if flat.dtype.kind == "f" else np.zeros(flat.shape, bool)
    ordered = np.sort(flat, axis=-1)                       # NaN last
    n = (~nan).sum(axis=-1) if nan_aware else np.full(batch, flat.shape[-1])
    top = np.maximum(n - 1, 0)

    def share(position):
        value = np.take_along_axis(ordered, position[..., None].astype(np.intp), axis=-1)
        hit = flat == value
        return hit / np.maximum(hit.sum(axis=-1, keepdims=True), 1)

    weights = []
    for q in qs:
        lo, f = _positions(n, q, method)
        lo = np.clip(lo, 0, top)
        w = (1 - f)[..., None] * share(lo) + f[..., None] * share(np.clip(lo + 1, 0, top))
        if not nan_aware:
            has_nan = nan.any(axis=-1, keepdims=True)
            w = np.where(has_nan, nan / np.maximum(nan.sum(axis=-1, keepdims=True), 1), w)
        weights.append(w.reshape(moved.shape))
    stacked = np.stack(weights) if weights else np.zeros((0,) + moved.shape)
    back = np.moveaxis(stacked, tuple(range(1 + nd - k, 1 + nd)), tuple(1 + a for a in axes))
    return back.astype(x.dtype if x.dtype.kind == "f" else np.float64)


class OrderStatistic(_Reduction):
    """d/dx quantile: (1 - f) to the entries equal to sorted[lo], f to those equal to sorted[hi]
    (ties split evenly); the median's f is 0 (odd count) or 1/2 (even count)"""
    name = "quantile"
    save_inputs = True

    def forward(self, x, q=0.5, axis=None, keepdims=False, kind="median", method="linear"):
        axes = self.setup(x, axis, keepdims)
        fn = _FUNCTIONS[kind]
        np_axis = None if len(axes) == x.ndim else axes
        if kind in ("median", "nanmedian"):
            out = fn(x, axis=np_axis, keepdims=keepdims)
        else:
            out = fn(x, q, axis=np_axis, method=method, keepdims=keepdims)
        qs = np.asarray(q, dtype=np.float64)
        if kind.endswith("percentile"):
            qs = qs / 100
        self.kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        self.qs, self.nan_aware, self.method = qs.reshape(-1), kind.startswith("nan"), method
        return out

    def backward(self, g):
        from ..tensor import Tensor
        x = self.inputs[0]
        data = x.data if isinstance(x, Tensor) else x   # the weights are constants
        weights = _order_weights(data, self.axes, self.qs, self.nan_aware, self.method)
        return (g.reshape((len(weights),) + self.kept) * weights).sum(axis=0)


def _order(kind, x, q, axis, keepdims, method):
    if method not in _METHODS:
        raise TypeError(f"np.{kind}: method={method!r} is not supported on Tensors (supported: "
                        f"{', '.join(_METHODS)})")
    return apply(OrderStatistic, x, q=constant_argument(q, f"np.{kind}: q"), axis=axis, keepdims=keepdims, kind=kind,
                 method=method)


def median(x, axis=None, keepdims=False):
    """d/dx_i median(x) = 1/k for the k entries equal to the middle one; an even count averages
    the two middle values (1/2 each, split among their ties)"""
    return _order("median", x, 0.5, axis, keepdims, "linear")


def nanmedian(x, axis=None, keepdims=False):
    """median of the non-NaN entries (NaN entries get gradient 0)"""
    return _order("nanmedian", x, 0.5, axis, keepdims, "linear")


def quantile(x, q, axis=None, keepdims=False, *, method="linear"):
    """np.quantile (methods linear, lower, higher, midpoint, nearest); q is a constant"""
    return _order("quantile", x, q, axis, keepdims, method)


def nanquantile(x, q, axis=None, keepdims=False, *, method="linear"):
    return _order("nanquantile", x, q, axis, keepdims, method)


def percentile(x, q, axis=None, keepdims=False, *, method="linear"):
    """np.percentile: quantile of q / 100"""
    return _order("percentile", x, q, axis, keepdims, method)


def nanpercentile(x, q, axis=None, keepdims=False, *, method="linear"):
    return _order("nanpercentile", x, q, axis, keepdims, method)


@implements(np.median)
def _np_median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    no_out("median", out)   # overwrite_input only allows NumPy to reuse a; nothing is overwritten
    return median(a, axis, keepdims)


@implements(np.nanmedian)
def _np_nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=_NoValue):
    no_out("nanmedian", out)
    return nanmedian(a, axis, False if keepdims is _NoValue else keepdims)


def _quantile_adapter(kind, public):
    def adapter(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None):
        no_out(kind, out)
        _unsupported(kind, "weights", weights, None)
        return public(a, q, axis, keepdims, method=method)
    adapter.__name__ = adapter.__qualname__ = f"_np_{kind}"
    return implements(getattr(np, kind))(adapter)


_np_quantile = _quantile_adapter("quantile", quantile)
_np_nanquantile = _quantile_adapter("nanquantile", nanquantile)
_np_percentile = _quantile_adapter("percentile", percentile)
_np_nanpercentile = _quantile_adapter("nanpercentile", nanpercentile)


# ---- ptp, average, cov --------------------------------------------------------------------------

def ptp(x, axis=None, keepdims=False):
    """max - min; ties split their share evenly (as max and min)"""
    return _max(x, axis, keepdims) - _min(x, axis, keepdims)


@implements(np.ptp)
def _np_ptp(a, axis=None, out=None, keepdims=_NoValue):
    no_out("ptp", out)
    return ptp(a, axis, False if keepdims is _NoValue else keepdims)


def _tensor(x):
    from ..tensor import Tensor
    return x if isinstance(x, Tensor) else Tensor._make(np.asarray(x), None)


@implements(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=_NoValue):
    """np.average: sum(w a) / sum(w), differentiable in a and in Tensor weights"""
    from .shape import reshape, transpose
    a = _tensor(a)
    if axis is not None:
        axis = normalize_axis_tuple(axis, a.ndim, argname="axis")
    keep = False if keepdims is _NoValue else keepdims
    if weights is None:
        avg = _mean(a, axis, keep)
        scl = np.asarray(a.size / max(avg.size, 1), dtype=avg.dtype)
    else:
        w = weights if hasattr(weights, "ndim") else np.asanyarray(weights)
        wdtype = w.dtype
        if a.dtype.kind in "biu":
            dtype = np.result_type(a.dtype, wdtype, "f8")
        else:
            dtype = np.result_type(a.dtype, wdtype)
        if a.shape != w.shape:
            if axis is None:
                raise TypeError("Axis must be specified when shapes of a and weights differ.")
            if w.shape != tuple(a.shape[ax] for ax in axis):
                raise ValueError("Shape of weights must be consistent with shape of a along "
                                 "specified axis.")
            w = transpose(w, tuple(np.argsort(axis)))
            w = reshape(w, tuple(s if ax in axis else 1 for ax, s in enumerate(a.shape)))
        a, w = _astype(a, dtype), _astype(w, dtype)
        scl = _sum(w, axis, keep)
        inspected(_nonzero_sum, scl)    # an inspection: checked at a compiled replay too
        avg = _sum(a * w, axis, keep) / scl
    if not returned:
        return avg
    from .shape import broadcast_to
    if np.shape(scl) != avg.shape:
        scl = broadcast_to(scl, avg.shape)
    return avg, _tensor(scl) if not hasattr(scl, "requires_grad") else scl


@implements(np.cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """np.cov: (X - mean)(X - mean)^T / (N - ddof), weighted as NumPy; differentiable in m and
    y (the weights are constants)"""
    import warnings
    from .shape import concatenate, squeeze
    if ddof is not None and ddof != int(ddof):
        raise ValueError("ddof must be integer")
    m = _tensor(m)
    if m.ndim > 2:
        raise ValueError("m has more than 2 dimensions")
    if y is not None:
        y = _tensor(y)
        if y.ndim > 2:
            raise ValueError("y has more than 2 dimensions")
    if dtype is None:
        dtype = np.result_type(m.dtype, np.float64) if y is None else \
            np.result_type(m.dtype, y.dtype, np.float64)
    x = _astype(m, dtype).reshape((1, -1) if m.ndim < 2 else m.shape)
    if not rowvar and m.ndim != 1:
        x = x.T
    if x.shape[0] == 0:
        return _tensor(np.array([]).reshape(0, 0))
    if y is not None:
        yy = _astype(y, dtype).reshape((1, -1) if y.ndim < 2 else y.shape)
        if not rowvar and yy.shape[0] != 1:
            yy = yy.T
        x = concatenate([x, yy], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    if fweights is not None or aweights is not None:
        from ..compiler.protocol import recording
        rec = recording()       # the weights are NumPy work below: constants only, under compile
        if rec is not None:
            rec.value_read("np.cov's fweights/aweights", [fweights, aweights])
    w = None
    for name, given in (("fweights", fweights), ("aweights", aweights)):
        if given is None:
            continue
        given = np.asarray(given, dtype=float)
        if name == "fweights" and not np.all(given == np.around(given)):
            raise TypeError("fweights must be integer")
        if given.ndim > 1:
            raise RuntimeError(f"cannot handle multidimensional {name}")
        if given.shape[0] != x.shape[1]:
            raise RuntimeError(f"incompatible numbers of samples and {name}")
        if np.any(given < 0):
            raise ValueError(f"{name} cannot be negative")
        w = given if w is None else w * given
        if name == "aweights":
            aweights = given
    avg, w_sum = average(x, axis=1, weights=w, returned=True)
    w_sum = float(w_sum.data[0])
    if w is None:
        fact = x.shape[1] - ddof
    elif ddof == 0:
        fact = w_sum
    elif aweights is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * np.sum(w * aweights) / w_sum
    if fact <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=2)
        fact = 0.0
    centred = x - avg.reshape((-1, 1))
    other = centred.T if w is None else (centred * w.astype(centred.dtype)).T
    c = (centred @ other) * float(np.true_divide(1, fact))   # a Python float: float32 stays
    return squeeze(c)


def _nonzero_sum(scl: np.ndarray) -> np.ndarray:
    if np.any(scl == 0.0):
        raise ZeroDivisionError("Weights sum to zero, can't be normalized")
    return scl
