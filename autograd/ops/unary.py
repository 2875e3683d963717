"""More elementwise functions of one input (trigonometric, hyperbolic, logarithms in other bases,
sinc, the parts of a real number), each with NumPy's routing declared beside it; rounding is in
rounding.py.

Backward rules use only operators and routed NumPy functions, so ``create_graph=True``
differentiates them again; constants are Python floats, so float32 stays float32.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import Op, apply, apply1, dispatch
from .routing import implements

__all__ = ["square", "cbrt", "tan", "arcsin", "arccos", "arcsinh", "arccosh", "arctanh", "sinh",
           "cosh", "log2", "log10", "exp2", "reciprocal", "fabs", "deg2rad", "rad2deg", "sinc",
           "conjugate", "real", "imag", "angle", "real_if_close"]

LN2 = math.log(2.0)
LN10 = math.log(10.0)


# ---- powers and roots ---------------------------------------------------------------------------

class Square(Op):
    """d/dx x^2 = 2x"""
    save_inputs = True
    def forward(self, x): return np.square(x)
    def backward(self, g): return g * (2 * self.inputs[0])


class Cbrt(Op):
    """d/dx x^(1/3) = 1/(3 cbrt(x)^2); inf at 0 (with NumPy's divide warning)"""
    save_output = True
    def forward(self, x): return np.cbrt(x)

    def backward(self, g): return g / (3 * (self.output * self.output))


class Reciprocal(Op):
    """d/dx 1/x = -1/x^2"""
    save_output = True
    def forward(self, x): return np.reciprocal(x)

    def backward(self, g): return -g * (self.output * self.output)


class Fabs(Op):
    """d/dx |x| = sign(x), 0 at 0 (as abs)"""
    save_inputs = True
    def forward(self, x): return np.fabs(x)
    def backward(self, g): return g * np.sign(self.inputs[0])


# ---- trigonometric and hyperbolic ---------------------------------------------------------------

class Tan(Op):
    """d/dx tan(x) = 1 + tan(x)^2"""
    save_output = True
    def forward(self, x): return np.tan(x)

    def backward(self, g): return g * (1 + self.output * self.output)


class ArcSin(Op):
    """d/dx arcsin(x) = 1/sqrt(1 - x^2); inf at +-1 (with NumPy's divide warning)"""
    save_inputs = True
    def forward(self, x): return np.arcsin(x)

    def backward(self, g):
        x = self.inputs[0]
        return g / np.sqrt((1 - x) * (1 + x))


class ArcCos(Op):
    """d/dx arccos(x) = -1/sqrt(1 - x^2); -inf at +-1 (with NumPy's divide warning)"""
    save_inputs = True
    def forward(self, x): return np.arccos(x)

    def backward(self, g):
        x = self.inputs[0]
        return -g / np.sqrt((1 - x) * (1 + x))


class ArcSinh(Op):
    """d/dx arcsinh(x) = 1/sqrt(x^2 + 1)"""
    save_inputs = True
    def forward(self, x): return np.arcsinh(x)

    def backward(self, g):
        x = self.inputs[0]
        return g / np.sqrt(x * x + 1)


class ArcCosh(Op):
    """d/dx arccosh(x) = 1/sqrt(x^2 - 1); inf at 1 (with NumPy's divide warning)"""
    save_inputs = True
    def forward(self, x): return np.arccosh(x)

    def backward(self, g):
        x = self.inputs[0]
        return g / np.sqrt((x - 1) * (x + 1))


class ArcTanh(Op):
    """d/dx arctanh(x) = 1/(1 - x^2)"""
    save_inputs = True
    def forward(self, x): return np.arctanh(x)

    def backward(self, g):
        x = self.inputs[0]
        return g / ((1 - x) * (1 + x))


class Sinh(Op):
    """d/dx sinh(x) = cosh(x)"""
    save_inputs = True
    def forward(self, x): return np.sinh(x)
    def backward(self, g): return g * np.cosh(self.inputs[0])


class Cosh(Op):
    """d/dx cosh(x) = sinh(x)"""
    save_inputs = True
    def forward(self, x): return np.cosh(x)
    def backward(self, g): return g * np.sinh(self.inputs[0])


class Deg2Rad(Op):
    """d/dx (pi/180) x = pi/180"""
    def forward(self, x): return np.deg2rad(x)
    def backward(self, g): return g * (math.pi / 180.0)


class Rad2Deg(Op):
    """d/dx (180/pi) x = 180/pi"""
    def forward(self, x): return np.rad2deg(x)
    def backward(self, g): return g * (180.0 / math.pi)


# ---- logarithms and exponentials in other bases -------------------------------------------------

class Log2(Op):
    """d/dx log2(x) = 1/(x ln 2)"""
    save_inputs = True
    def forward(self, x): return np.log2(x)
    def backward(self, g): return g / (self.inputs[0] * LN2)


class Log10(Op):
    """d/dx log10(x) = 1/(x ln 10)"""
    save_inputs = True
    def forward(self, x): return np.log10(x)
    def backward(self, g): return g / (self.inputs[0] * LN10)


class Exp2(Op):
    """d/dx 2^x = 2^x ln 2"""
    save_output = True
    def forward(self, x): return np.exp2(x)
    def backward(self, g): return g * (self.output * LN2)


# ---- sinc ---------------------------------------------------------------------------------------

_SINC_SMALL = 0.5     # below this |x|, derivatives come from the Taylor series around 0
_SINC_TERMS = 16      # (pi/2)^32 / 33! ~ 1e-31: the series is exact to rounding for |x| < 1/2


def _sinc_derivative(x: np.ndarray, order: int) -> np.ndarray:
    """The ``order``-th derivative of sinc(x) = sin(pi x)/(pi x), in x's floating dtype.

    Away from 0 it follows from differentiating x sinc(x) = sin(pi x)/pi ``order`` times:
    x f^(n) + n f^(n-1) = pi^(n-1) sin(pi x + n pi/2).  Near 0 (where that recursion cancels)
    it is the term-by-term derivative of sinc(x) = sum_k (-1)^k (pi x)^(2k) / (2k+1)!."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    out = np.empty_like(x)
    small = np.abs(x) < _SINC_SMALL
    xs, xl = x[small], x[~small]
    total = np.zeros_like(xs)
    for k in range((order + 1) // 2, _SINC_TERMS):
        power = 2 * k - order
        coef = (-1) ** k * math.pi ** (2 * k) / math.factorial(2 * k + 1) \
            * math.factorial(2 * k) / math.factorial(power)
        total = total + coef * xs ** power
    out[small] = total
    f = np.sinc(xl)
    for n in range(1, order + 1):
        f = (math.pi ** (n - 1) * np.sin(math.pi * xl + n * math.pi / 2) - n * f) / xl
    out[~small] = f
    return out


class SincDerivative(Op):
    """The n-th derivative of sinc; d/dx of it is the (n+1)-th (so every order is exact, 0 too)"""
    name = "sinc_derivative"
    save_inputs = True

    def forward(self, x, order):
        self.order = order
        return _sinc_derivative(x, order)

    def backward(self, g):
        return g * dispatch(SincDerivative, self.inputs[0], order=self.order + 1)


class Sinc(Op):
    """d/dx sinc(x) = (cos(pi x) - sinc(x))/x, 0 at x = 0"""
    save_inputs = True
    def forward(self, x): return np.sinc(x)
    def backward(self, g): return g * dispatch(SincDerivative, self.inputs[0], order=1)


# ---- parts of a real number (Tensors hold real data: complex values are refused) ----------------

class Conjugate(Op):
    """d conj(x) = dx for real x"""
    def forward(self, x): return np.conjugate(x)
    def backward(self, g): return g


class Real(Op):
    """d real(x) = dx for real x"""
    def forward(self, x): return np.real(x)
    def backward(self, g): return g


class Imag(Op):
    """imag(x) = 0 for real x: d imag(x) = 0"""
    def forward(self, x): return np.array(np.imag(x))      # NumPy's zeros are read-only
    def backward(self, g): return np.zeros_like(g)


class Angle(Op):
    """angle(x) = 0 for x >= 0, pi (180 with deg) for x < 0: d angle(x) = 0 for real x"""
    def forward(self, x, deg): return np.angle(x, deg)
    def backward(self, g): return np.zeros_like(g)


# ---- public functions ---------------------------------------------------------------------------

@implements(np.square)
def square(x): return apply1(Square, x)


@implements(np.cbrt)
def cbrt(x): return apply1(Cbrt, x)


@implements(np.reciprocal)
def reciprocal(x): return apply1(Reciprocal, x)


@implements(np.fabs)
def fabs(x): return apply1(Fabs, x)


@implements(np.tan)
def tan(x): return apply1(Tan, x)


@implements(np.arcsin)
def arcsin(x): return apply1(ArcSin, x)


@implements(np.arccos)
def arccos(x): return apply1(ArcCos, x)


@implements(np.arcsinh)
def arcsinh(x): return apply1(ArcSinh, x)


@implements(np.arccosh)
def arccosh(x): return apply1(ArcCosh, x)


@implements(np.arctanh)
def arctanh(x): return apply1(ArcTanh, x)


@implements(np.sinh)
def sinh(x): return apply1(Sinh, x)


@implements(np.cosh)
def cosh(x): return apply1(Cosh, x)


@implements(np.deg2rad, np.radians)
def deg2rad(x): return apply1(Deg2Rad, x)


@implements(np.rad2deg, np.degrees)
def rad2deg(x): return apply1(Rad2Deg, x)


@implements(np.log2)
def log2(x): return apply1(Log2, x)


@implements(np.log10)
def log10(x): return apply1(Log10, x)


@implements(np.exp2)
def exp2(x): return apply1(Exp2, x)


@implements(np.sinc)
def sinc(x):
    """sin(pi x)/(pi x), 1 at 0, as np.sinc"""
    return apply1(Sinc, x)


@implements(np.conjugate)         # np.conj is the same ufunc
def conjugate(x): return apply1(Conjugate, x)


@implements(np.real)
def real(val):
    """The real part: x itself for real x (the values, as NumPy's view of them)"""
    return apply1(Real, val)


@implements(np.imag)
def imag(val):
    """The imaginary part: zeros for real x"""
    return apply1(Imag, val)


@implements(np.angle)
def angle(z, deg=False):
    """The argument of z: 0 for z >= 0, pi (or 180 with ``deg``) for z < 0"""
    return apply(Angle, z, deg=bool(deg))


@implements(np.real_if_close)
def real_if_close(a, tol=100):
    """a itself for real a, as np.real_if_close (whose tol only matters for complex input)"""
    return apply1(Real, a)
