"""More elementwise functions of two inputs (hypot, arctan2, logaddexp, fmax/fmin, remainders,
...), each with NumPy's ufunc routing declared beside it.

Each backward returns gradients shaped like the output; the engine sums them back to each input's
broadcast shape and casts them to its dtype.  Masks and integer quotients (piecewise constant, so
their derivative is 0) are computed in forward and kept on the node as plain arrays.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import Op, apply2, dispatch
from .elementwise import AsType, Sigmoid, _log_base, _power_slope
from .routing import implements

__all__ = ["hypot", "arctan2", "logaddexp", "logaddexp2", "fmax", "fmin", "copysign",
           "remainder", "fmod", "floor_divide", "divmod", "float_power", "heaviside", "ldexp"]

LN2 = math.log(2.0)


def _safe(d):
    """``d`` with its zeros replaced by 1 (a denominator whose numerator is 0 there too)."""
    return np.where(d == 0, 1, d)


class Hypot(Op):
    """d hypot(a, b) = (a da + b db) / hypot(a, b); the subgradient 0 at (0, 0)"""
    save_inputs = True
    save_output = True
    def forward(self, a, b): return np.hypot(a, b)

    def backward(self, g):
        a, b = self.inputs
        r = _safe(self.output)
        return (g * a / r if self.needs_grad(0) else None,
                g * b / r if self.needs_grad(1) else None)


class ArcTan2(Op):
    """d arctan2(y, x) = (x dy - y dx) / (x^2 + y^2); 0 at (0, 0)"""
    save_inputs = True
    def forward(self, y, x): return np.arctan2(y, x)

    def backward(self, g):
        y, x = self.inputs
        r = _safe(np.hypot(y, x))     # hypot^2, not x^2 + y^2: no overflow for large inputs
        gr = g / r / r
        return (gr * x if self.needs_grad(0) else None,
                -gr * y if self.needs_grad(1) else None)


class _LogAddExpBase(Op):
    """log_k(k^a + k^b): d/da = k^a / (k^a + k^b) = sigmoid((a - b) ln k), stable for every a, b
    (an infinite input gets 1 or 0; equal infinities share it, 1/2 each, as finite ties do)."""
    save_inputs = True
    scale = 1.0

    def forward(self, a, b):
        self.infinite_tie = np.asarray(np.logical_and(a == b, np.isinf(a)))
        return self.ufunc(a, b)

    def backward(self, g):
        a, b = self.inputs
        with np.errstate(invalid="ignore"):     # inf - inf at an infinite tie, replaced below
            d = (a - b) * self.scale
        tie = self.infinite_tie
        return (g * np.where(tie, 0.5, dispatch(Sigmoid, d)) if self.needs_grad(0) else None,
                g * np.where(tie, 0.5, dispatch(Sigmoid, -d)) if self.needs_grad(1) else None)


class LogAddExp(_LogAddExpBase):
    """d log(e^a + e^b) = sigmoid(a - b) da + sigmoid(b - a) db"""
    ufunc = staticmethod(np.logaddexp)


class LogAddExp2(_LogAddExpBase):
    """d log2(2^a + 2^b) = sigmoid((a - b) ln 2) da + sigmoid((b - a) ln 2) db"""
    ufunc = staticmethod(np.logaddexp2)
    scale = LN2


class _NanSelect(Op):
    """fmax/fmin: the gradient goes to the selected input, split evenly where a == b; where one
    input is NaN to the other, where both are NaN to a (NumPy returns a's NaN)."""
    def _masks(self, a, b, a_wins):
        b_nan = np.isnan(b)
        self.wins = (a_wins | b_nan, ~a_wins & ~(a == b) & ~b_nan)
        self.tie = np.asarray(a == b)

    def backward(self, g):
        tie = g * self.tie * 0.5
        return tuple(g * w + tie if self.needs_grad(i) else None for i, w in enumerate(self.wins))


class FMax(_NanSelect):
    """d fmax(a, b) = da where a > b or b is NaN, db where b > a or a alone is NaN, (da + db)/2
    where tied"""

    def forward(self, a, b):
        self._masks(a, b, np.asarray(a > b))
        return np.fmax(a, b)


class FMin(_NanSelect):
    """d fmin(a, b) = da where a < b or b is NaN, db where b < a or a alone is NaN, (da + db)/2
    where tied"""

    def forward(self, a, b):
        self._masks(a, b, np.asarray(a < b))
        return np.fmin(a, b)


class CopySign(Op):
    """d copysign(a, b) = sign(a) s(b) da, s(b) = -1 where b's sign bit is set, else 1 (0 at
    a = 0, as abs); 0 for b"""

    def forward(self, a, b):
        out = np.copysign(a, b)
        self.slope = np.asarray(np.sign(a) * np.copysign(1, b), dtype=np.asarray(out).dtype)
        return out

    def backward(self, g):
        return g * self.slope, (np.zeros_like(g) if self.needs_grad(1) else None)


class Remainder(Op):
    """d (a mod b) = da - floor(a/b) db (a - floor(a/b) b, the sign of b, as Python's %)"""

    def forward(self, a, b):
        out = np.remainder(a, b)
        with np.errstate(all="ignore"):     # NumPy's own warnings came from remainder above
            self.quotient = np.floor_divide(a, b)
        return out

    def backward(self, g):
        return g, (-g * self.quotient if self.needs_grad(1) else None)


class FMod(Op):
    """d fmod(a, b) = da - trunc(a/b) db (a - trunc(a/b) b, the sign of a, as C's fmod)"""

    def forward(self, a, b):
        out = np.fmod(a, b)
        with np.errstate(all="ignore"):     # the integer quotient that fmod's result implies
            self.quotient = np.round((a - out) / b)
        return out

    def backward(self, g):
        return g, (-g * self.quotient if self.needs_grad(1) else None)


class FloorDivide(Op):
    """d floor(a/b) = 0"""
    name = "floor_divide"
    def forward(self, a, b): return np.floor_divide(a, b)

    def backward(self, g):
        zero = np.zeros_like(g)
        return zero, (np.zeros_like(g) if self.needs_grad(1) else None)


class FloatPower(Op):
    """d a^b = b a^(b-1) da + a^b log(a) db, computed in float64 at least (as np.float_power);
    the same conventions as power at a = 0"""
    name = "float_power"
    save_inputs = True
    save_output = True
    def forward(self, a, b): return np.float_power(a, b)

    def backward(self, g):
        dtype = self.dtype
        a, b = (x if isinstance(x, (int, float)) else dispatch(AsType, x, dtype=dtype)
                for x in self.inputs)
        ga = g * _power_slope(a, b) if self.needs_grad(0) else None
        gb = g * self.output * _log_base(a) if self.needs_grad(1) else None
        return ga, gb


class Ldexp(Op):
    """d (x 2^n) = 2^n dx; n is an integer array (no gradient)"""

    def forward(self, x, n):
        self.n = n
        return np.ldexp(x, n)

    def backward(self, g): return np.ldexp(g, self.n), None


class Heaviside(Op):
    """d heaviside(x, h) = h' where x == 0 (the value there), 0 for x"""

    def forward(self, x, h):
        self.at_zero = np.asarray(x == 0)
        return np.heaviside(x, h)

    def backward(self, g):
        return (np.zeros_like(g) if self.needs_grad(0) else None), g * self.at_zero


# ---- public functions ---------------------------------------------------------------------------

@implements(np.hypot)
def hypot(a, b): return apply2(Hypot, a, b)


@implements(np.arctan2)
def arctan2(y, x): return apply2(ArcTan2, y, x)


@implements(np.logaddexp)
def logaddexp(a, b): return apply2(LogAddExp, a, b)


@implements(np.logaddexp2)
def logaddexp2(a, b): return apply2(LogAddExp2, a, b)


@implements(np.fmax)
def fmax(a, b): return apply2(FMax, a, b)


@implements(np.fmin)
def fmin(a, b): return apply2(FMin, a, b)


@implements(np.copysign)
def copysign(a, b): return apply2(CopySign, a, b)


@implements(np.remainder)        # np.mod is the same ufunc
def remainder(a, b): return apply2(Remainder, a, b)


@implements(np.fmod)
def fmod(a, b): return apply2(FMod, a, b)


@implements(np.floor_divide)
def floor_divide(a, b): return apply2(FloorDivide, a, b)


@implements(np.divmod)
def divmod(a, b):  # noqa: A001 - NumPy's name
    """(floor_divide(a, b), remainder(a, b)), as np.divmod (with its warnings, once)"""
    from .routing import strip_tensors
    np.divmod(strip_tensors(a), strip_tensors(b))       # NumPy's own warnings and errstate
    with np.errstate(all="ignore"):
        return floor_divide(a, b), remainder(a, b)


@implements(np.float_power)
def float_power(a, b): return apply2(FloatPower, a, b)


@implements(np.heaviside)
def heaviside(x, h): return apply2(Heaviside, x, h)


@implements(np.ldexp)
def ldexp(x, n):
    """x * 2**n for an integer exponent n, as np.ldexp (exact: a power of 2 scales exactly)"""
    return apply2(Ldexp, x, n)
