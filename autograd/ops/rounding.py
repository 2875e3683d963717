"""Rounding and the other piecewise-constant parts of a number (floor, ceil, trunc, rint, fix,
round, modf, frexp), and nan_to_num, each with NumPy's routing declared beside it.

A piecewise-constant function has derivative 0, also at its jumps (PyTorch's convention); the
parts that keep the value's variation (modf's fractional part, frexp's mantissa) get it.
"""

from __future__ import annotations

import numpy as np

from ..engine import Op, apply, apply1
from .routing import implements, inspected, no_out

__all__ = ["floor", "ceil", "trunc", "rint", "fix", "round", "modf", "frexp", "nan_to_num"]


# ---- rounding: piecewise constant ---------------------------------------------------------------

class _Step(Op):
    """A piecewise-constant function: the derivative is 0 (also at the jumps, as PyTorch's)."""
    def backward(self, g): return np.zeros_like(g)


class Floor(_Step):
    """d/dx floor(x) = 0"""
    def forward(self, x): return np.floor(x)


class Ceil(_Step):
    """d/dx ceil(x) = 0"""
    def forward(self, x): return np.ceil(x)


class Trunc(_Step):
    """d/dx trunc(x) = 0"""
    def forward(self, x): return np.trunc(x)


class Rint(_Step):
    """d/dx rint(x) = 0"""
    def forward(self, x): return np.rint(x)


class Fix(_Step):
    """d/dx fix(x) = 0"""
    def forward(self, x): return np.fix(x)


class Round(_Step):
    """d/dx round(x, decimals) = 0"""
    def forward(self, x, decimals): return np.round(x, decimals)


class ModfFraction(Op):
    """d/dx (x - trunc(x)) = 1 (np.modf's fractional part)"""
    name = "modf"
    def forward(self, x): return np.modf(x)[0]
    def backward(self, g): return g


# ---- nan_to_num ---------------------------------------------------------------------------------

class NanToNum(Op):
    """d nan_to_num(x) = dx where x is finite, 0 where it is replaced; a replacement value that is
    a Tensor gets the gradient of the entries it replaced"""
    name = "nan_to_num"

    def forward(self, x, nan, posinf, neginf):
        x = np.asarray(x)
        self.finite = np.isfinite(x)
        self.masks = (np.isnan(x), np.isposinf(x), np.isneginf(x))
        return np.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        return (g * self.finite,) + tuple(
            g * mask if self.needs_grad(i + 1) else None for i, mask in enumerate(self.masks))


# ---- public functions ---------------------------------------------------------------------------

@implements(np.floor)
def floor(x): return apply1(Floor, x)


@implements(np.ceil)
def ceil(x): return apply1(Ceil, x)


@implements(np.trunc)
def trunc(x): return apply1(Trunc, x)


@implements(np.rint)
def rint(x): return apply1(Rint, x)


def fix(x):
    """Round toward zero, as np.fix (gradient 0)."""
    return apply1(Fix, x)


@implements(np.fix)
def _np_fix(x, out=None):
    no_out("fix", out)
    return fix(x)


def round(x, decimals=0):  # noqa: A001 - NumPy's name
    """Round to ``decimals`` decimals (negative: to tens, hundreds, ...), as np.round: halves to
    even.  The gradient is 0."""
    return apply(Round, x, decimals=decimals)


@implements(np.round, np.around)
def _np_round(a, decimals=0, out=None):
    no_out("round", out)
    return round(a, decimals)


@implements(np.modf)
def modf(x):
    """(fractional part, integral part) of x, both with x's sign, as np.modf: the fractional part
    has gradient 1, the integral part (trunc) 0."""
    return apply1(ModfFraction, x), trunc(x)


@implements(np.frexp)
def frexp(x):
    """(mantissa, exponent) with x = mantissa * 2**exponent, as np.frexp: the mantissa is
    ldexp(x, -exponent), whose gradient is 2**-exponent; the exponent is an integer Tensor."""
    from ..tensor import Tensor
    from .binary import ldexp
    exponent = inspected(_exponent, x if isinstance(x, Tensor) else np.asarray(x))
    return ldexp(x, inspected(np.negative, exponent)), Tensor._make(exponent, None)


def _exponent(a):
    return np.frexp(a)[1]


@implements(np.nan_to_num)
def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """np.nan_to_num: NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (defaults: 0 and the
    dtype's largest/smallest finite value).  The gradient is 1 at finite entries, 0 at replaced
    ones; Tensor replacement values get the gradient of the entries they replace."""
    if not copy:
        raise TypeError("np.nan_to_num: copy=False (replacing in place) is not supported on "
                        "Tensors; use the returned Tensor")
    return apply(NanToNum, x, nan, posinf, neginf)
