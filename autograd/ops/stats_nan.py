"""NaN-aware reductions (np.nansum ... np.nancumprod): NaN entries are left out of the result and
get gradient 0.  Part of the statistics family (stats.py re-exports these names)."""

from __future__ import annotations

import numpy as np

from ..engine import apply
from .cumulative import cumprod
from .elementwise import _plain
from .selection import where as _where
from .reduce import _Reduction, _ddof, _unsupported, cumsum, prod, sum as _sum
from .routing import implements, inspected, no_out

__all__ = ["nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "nancumsum",
           "nancumprod"]

_NoValue = np._NoValue


def _nan_mask(x):
    """True at the NaN entries of x (an ndarray, whatever x is)."""
    data = _plain(x)
    return np.isnan(data) if data.dtype.kind == "f" else np.zeros(data.shape, bool)


def _replaced(x, value):
    """x with its NaN entries replaced by ``value`` (their gradient is 0); the mask is an
    inspection and the where unconditional, so a compiled replay finds each call's NaNs."""
    if _plain(x).dtype.kind != "f":
        return x
    return _where(inspected(np.isnan, x), value, x)


def _valid(x, where):
    """The entries a nan-reduction counts: not NaN and inside where=."""
    valid = ~_nan_mask(x)
    if where is not True:
        valid = valid & np.broadcast_to(_plain(where), valid.shape)
    return valid


class NanMean(_Reduction):
    """d/dx_i nanmean(x) = 1/n for the n entries that are not NaN (and inside where=), else 0"""
    def forward(self, x, axis=None, keepdims=False, dtype=None, where=True):
        axes = self.setup(x, axis, keepdims)
        self.valid = _valid(x, where)
        self.n = self.valid.sum(axis=axes, keepdims=True)
        return np.nanmean(x, axis=axes, dtype=dtype, keepdims=keepdims, where=where)

    def backward(self, g):
        return self.valid * (self.keep(g) / np.maximum(self.n, 1).astype(g.dtype))


class NanExtreme(_Reduction):
    """nanmax/nanmin: the gradient split evenly among the non-NaN entries equal to the result (an
    ``initial`` equal to it counts as one of them); NaN entries and all-NaN slices get 0"""
    save_inputs = True
    save_output = True

    def forward(self, x, axis=None, keepdims=False, kind="max", initial=None, where=True):
        axes = self.setup(x, axis, keepdims)
        self.valid, self.initial = _valid(x, where), initial
        extra = {} if initial is None else {"initial": initial}
        if where is not True:
            extra["where"] = where
        reducer = np.nanmax if kind == "max" else np.nanmin
        return reducer(x, axis=axes, keepdims=keepdims, **extra)

    def backward(self, g):
        x = self.inputs[0]
        out = self.keep(self.output)
        winners = self.valid & np.asarray(x == out)
        count = winners.sum(axis=self.axes, keepdims=True)
        if self.initial is not None:
            count = count + np.asarray(out == self.initial)
        return winners * (self.keep(g) / np.maximum(count, 1).astype(x.dtype))


class NanVar(_Reduction):
    """d/dx_i nanvar(x) = 2 (x_i - nanmean) / (n - ddof) over the n non-NaN entries (0 at NaN);
    nanstd: that divided by 2 nanstd (0 where nanstd is 0)"""
    save_inputs = True
    save_output = True

    def forward(self, x, axis=None, keepdims=False, ddof=0, dtype=None, where=True, std=False):
        axes = self.setup(x, axis, keepdims)
        self.valid, self.ddof, self.std = _valid(x, where), ddof, std
        self.n = self.valid.sum(axis=axes, keepdims=True)
        reducer = np.nanstd if std else np.nanvar
        return reducer(x, axis=axes, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where)

    def backward(self, g):
        x = self.inputs[0]
        dof = self.n - self.ddof
        xs = np.where(self.valid, x, 0)
        mean = xs.sum(axis=self.axes, keepdims=True) / np.maximum(self.n, 1).astype(g.dtype)
        centred = np.where(self.valid, xs - mean, 0)
        scale = np.where(dof > 0, 1 / np.maximum(dof, 1), 0).astype(g.dtype)
        if not self.std:
            return self.keep(g) * centred * (2 * scale)
        out = self.keep(self.output)
        safe = np.where(np.asarray(out == 0), 1, out)
        return np.where(np.asarray(out == 0), 0, self.keep(g) * centred * scale / safe)


def nansum(x, axis=None, keepdims=False, *, dtype=None, initial=None, where=True):
    """d/dx_i nansum(x) = 1, 0 at NaN entries (and outside where=)"""
    return _sum(_replaced(x, 0), axis, keepdims, dtype=dtype, initial=initial, where=where)


def nanprod(x, axis=None, keepdims=False, *, dtype=None, initial=None, where=True):
    """d/dx_i nanprod(x) = product of the other non-NaN entries, 0 at NaN entries"""
    return prod(_replaced(x, 1), axis, keepdims, dtype=dtype, initial=initial, where=where)


def nanmean(x, axis=None, keepdims=False, *, dtype=None, where=True):
    return apply(NanMean, x, axis=axis, keepdims=keepdims, dtype=dtype, where=where)


def nanmax(x, axis=None, keepdims=False, *, initial=None, where=True):
    return apply(NanExtreme, x, axis=axis, keepdims=keepdims, kind="max", initial=initial,
                 where=where)


def nanmin(x, axis=None, keepdims=False, *, initial=None, where=True):
    return apply(NanExtreme, x, axis=axis, keepdims=keepdims, kind="min", initial=initial,
                 where=where)


def nanvar(x, axis=None, keepdims=False, ddof=0, *, dtype=None, where=True, correction=None):
    return apply(NanVar, x, axis=axis, keepdims=keepdims, ddof=_ddof(ddof, correction, "nanvar"),
                 dtype=dtype, where=where)


def nanstd(x, axis=None, keepdims=False, ddof=0, *, dtype=None, where=True, correction=None):
    return apply(NanVar, x, axis=axis, keepdims=keepdims, ddof=_ddof(ddof, correction, "nanstd"),
                 dtype=dtype, where=where, std=True)


def nancumsum(x, axis=None, *, dtype=None):
    """cumsum with NaN entries counted as 0 (their gradient is 0)"""
    return cumsum(_replaced(x, 0), axis, dtype=dtype)


def nancumprod(x, axis=None, *, dtype=None):
    """cumprod with NaN entries counted as 1 (their gradient is 0)"""
    return cumprod(_replaced(x, 1), axis, dtype=dtype)


# ---- NumPy's signatures (np._NoValue is "not given") --------------------------------------------

def _given(value, default):
    return default if value is _NoValue else value


@implements(np.nansum)
def _np_nansum(a, axis=None, dtype=None, out=None, keepdims=_NoValue, initial=_NoValue,
               where=_NoValue):
    no_out("nansum", out)
    return nansum(a, axis, _given(keepdims, False), dtype=dtype, initial=_given(initial, None),
                  where=_given(where, True))


@implements(np.nanprod)
def _np_nanprod(a, axis=None, dtype=None, out=None, keepdims=_NoValue, initial=_NoValue,
                where=_NoValue):
    no_out("nanprod", out)
    return nanprod(a, axis, _given(keepdims, False), dtype=dtype, initial=_given(initial, None),
                   where=_given(where, True))


@implements(np.nanmean)
def _np_nanmean(a, axis=None, dtype=None, out=None, keepdims=_NoValue, *, where=_NoValue):
    no_out("nanmean", out)
    return nanmean(a, axis, _given(keepdims, False), dtype=dtype, where=_given(where, True))


@implements(np.nanmax)
def _np_nanmax(a, axis=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
    no_out("nanmax", out)
    return nanmax(a, axis, _given(keepdims, False), initial=_given(initial, None),
                  where=_given(where, True))


@implements(np.nanmin)
def _np_nanmin(a, axis=None, out=None, keepdims=_NoValue, initial=_NoValue, where=_NoValue):
    no_out("nanmin", out)
    return nanmin(a, axis, _given(keepdims, False), initial=_given(initial, None),
                  where=_given(where, True))


@implements(np.nanvar)
def _np_nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *, where=_NoValue,
               mean=_NoValue, correction=_NoValue):
    no_out("nanvar", out)
    _unsupported("nanvar", "mean", mean, _NoValue)
    return nanvar(a, axis, _given(keepdims, False), ddof, dtype=dtype, where=_given(where, True),
                  correction=_given(correction, None))


@implements(np.nanstd)
def _np_nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NoValue, *, where=_NoValue,
               mean=_NoValue, correction=_NoValue):
    no_out("nanstd", out)
    _unsupported("nanstd", "mean", mean, _NoValue)
    return nanstd(a, axis, _given(keepdims, False), ddof, dtype=dtype, where=_given(where, True),
                  correction=_given(correction, None))


@implements(np.nancumsum)
def _np_nancumsum(a, axis=None, dtype=None, out=None):
    no_out("nancumsum", out)
    return nancumsum(a, axis, dtype=dtype)


@implements(np.nancumprod)
def _np_nancumprod(a, axis=None, dtype=None, out=None):
    no_out("nancumprod", out)
    return nancumprod(a, axis, dtype=dtype)
