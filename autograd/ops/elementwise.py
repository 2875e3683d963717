"""Elementwise ops: arithmetic, unary math, activations, selection.

Each backward returns gradients shaped like the output; the engine sums them back to each input's
broadcast shape and casts them to its dtype.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import Op, apply, apply1, apply2
from .routing import implements

__all__ = ["add", "subtract", "multiply", "divide", "power", "negative", "exp", "log", "log1p",
           "expm1", "sqrt", "abs", "positive", "copy", "sin", "cos", "tanh", "sigmoid", "relu", "arctan", "sign",
           "astype"]


# ---- arithmetic ---------------------------------------------------------------------------------

class Add(Op):
    """d(a+b) = da + db"""
    def forward(self, a, b): return a + b
    def backward(self, g): return g, g


class Sub(Op):
    """d(a-b) = da - db"""
    name = "subtract"
    def forward(self, a, b): return a - b
    def backward(self, g): return g, (-g if self.parents[1] is not None else None)


class Mul(Op):
    """d(ab) = b da + a db"""
    name = "multiply"
    save_inputs = True
    def forward(self, a, b): return a * b

    def backward(self, g):
        a, b = self.inputs
        pa, pb = self.parents     # needs_grad(i), inlined: a constant factor gets no product
        return (g * b if pa is not None else None), (g * a if pb is not None else None)


class Div(Op):
    """d(a/b) = da / b - a db / b^2"""
    name = "divide"
    save_inputs = True
    def forward(self, a, b): return a / b

    def backward(self, g):
        a, b = self.inputs
        ga = g / b
        return ga, (-ga * a / b if self.parents[1] is not None else None)


class Pow(Op):
    """d(a^b) = b a^(b-1) da + a^b log(a) db"""
    name = "power"
    save_inputs = True
    def forward(self, a, b): return a ** b

    def backward(self, g):
        a, b = self.inputs
        ga = g * _power_slope(a, b) if self.needs_grad(0) else None
        gb = g * a ** b * _log_base(a) if self.needs_grad(1) else None
        return ga, gb


def _power_slope(a, b):
    """d(a^b)/da = b a^(b-1), taken as 0 where b == 0: a^0 is constant, and a^(-1) at a = 0 would
    turn the 0 into 0 * inf = NaN (PyTorch's values, at every order)."""
    if isinstance(b, (int, float)) and not isinstance(b, np.generic):
        return b * a ** (b - 1) if b != 0 else a * 0.0
    # Only 0^(-1) needs the guard; elsewhere b a^(b-1) is 0 at b = 0 and keeps its b-derivative.
    return b * a ** np.where(np.logical_and(b == 0, a == 0), 1, b - 1)


def _log_base(a):
    """log a for d(a^b)/db, taken as 0 where a == 0 (the limit of a^b log a for b > 0).  A Python
    scalar base stays a Python scalar, so a float32 exponent keeps a float32 gradient."""
    if isinstance(a, (int, float)) and not isinstance(a, np.generic):
        return 0.0 if a == 0 else math.log(a) if a > 0 else math.nan
    return np.where(a == 0, 0.0, np.log(np.where(a == 0, 1.0, a)))


class Pos(Op):
    """d(+x) = dx"""
    name = "positive"
    def forward(self, x): return np.positive(x)
    def backward(self, g): return g


class Copy(Op):
    """A copy in the requested memory layout; the gradient passes through"""
    def forward(self, x, order="K"): return np.array(x, order=order, copy=True)
    def backward(self, g): return g


class Neg(Op):
    """d(-x) = -dx"""
    name = "negative"
    def forward(self, x): return -x
    def backward(self, g): return -g


class AsType(Op):
    """A cast; the gradient is cast back to the input's dtype by the engine."""
    name = "astype"
    def forward(self, x, dtype): return x.astype(dtype)
    def backward(self, g): return g


# ---- unary math ---------------------------------------------------------------------------------

def quiet_exp(x):
    """exp(x) where underflow to 0 is the intended result (e.g. exp(-1e4) in a softmax), so that
    NumPy's underflow flag is not raised even under np.errstate(all="raise").  On a Tensor it is
    the recorded ``exp`` op."""
    with np.errstate(under="ignore"):
        return np.exp(x)


class Exp(Op):
    """d/dx exp(x) = exp(x)"""
    save_output = True
    def forward(self, x): return np.exp(x)
    def backward(self, g): return g * self.output


class Log(Op):
    """d/dx log(x) = 1/x"""
    save_inputs = True
    def forward(self, x): return np.log(x)
    def backward(self, g): return g / self.inputs[0]


class Log1p(Op):
    """d/dx log(1+x) = 1/(1+x)"""
    save_inputs = True
    def forward(self, x): return np.log1p(x)
    def backward(self, g): return g / (1 + self.inputs[0])


class Expm1(Op):
    """d/dx (exp(x)-1) = exp(x)"""
    save_output = True
    def forward(self, x): return np.expm1(x)
    def backward(self, g): return g * (self.output + 1)


class Sqrt(Op):
    """d/dx sqrt(x) = 1/(2 sqrt(x)); inf at 0, as in NumPy and PyTorch"""
    save_output = True
    def forward(self, x): return np.sqrt(x)
    def backward(self, g): return g / (2 * self.output)


class Abs(Op):
    """d/dx |x| = sign(x), 0 at 0"""
    save_inputs = True
    def forward(self, x): return np.abs(x)
    def backward(self, g): return g * np.sign(self.inputs[0])


class Sin(Op):
    """d/dx sin(x) = cos(x)"""
    save_inputs = True
    def forward(self, x): return np.sin(x)
    def backward(self, g): return g * np.cos(self.inputs[0])


class Cos(Op):
    """d/dx cos(x) = -sin(x)"""
    save_inputs = True
    def forward(self, x): return np.cos(x)
    def backward(self, g): return -g * np.sin(self.inputs[0])


class Tanh(Op):
    """d/dx tanh(x) = 1 - tanh(x)^2"""
    save_output = True
    def forward(self, x): return np.tanh(x)

    def backward(self, g):
        y = self.output
        return g * (1 - y * y)


class Sigmoid(Op):
    """d/dx s(x) = s(x) (1 - s(x))"""
    save_output = True

    def forward(self, x):
        # exp(-|x|) never overflows: s(x) = 1/(1+e) for x >= 0, e/(1+e) otherwise.
        e = quiet_exp(-np.abs(x))
        return np.where(x >= 0, 1, e) / (1 + e)

    def backward(self, g):
        y = self.output
        return g * y * (1 - y)


_ZEROS: dict = {}
ZEROS_BLOCK = 256          # elements: the zeros' trailing block reaches at least this many
ZEROS_MAX = 1 << 16        # larger trailing blocks compare with the scalar 0


def relu_zero(x):
    """The 0 that relu compares a float array with, as zeros of its trailing dimensions (at least
    ZEROS_BLOCK elements, or all of it): NumPy's maximum takes its vector loop only where both
    operands are contiguous, so against the scalar 0 it took 28 us on 128 x 256 float32 here,
    against a row of zeros 12.7 and a block of them 7.9.  The values are the same, bitwise
    (-0.0 and NaN included).  Zeros are kept per (trailing shape, dtype), at most 64."""
    if type(x) is not np.ndarray or x.dtype.kind != "f" or x.ndim == 0:
        return 0
    shape = x.shape
    n, k = 1, len(shape)
    while k > 0 and n < ZEROS_BLOCK:
        k -= 1
        n *= shape[k]
    if n > ZEROS_MAX:
        return 0
    key = (shape[k:], x.dtype)
    zeros = _ZEROS.get(key)
    if zeros is None:
        if len(_ZEROS) >= 64:
            _ZEROS.clear()
        zeros = _ZEROS[key] = np.zeros(shape[k:], x.dtype)
        zeros.flags.writeable = False
    return zeros


class ReLU(Op):
    """d/dx max(x, 0) = 1 for x > 0, else 0 (relu'(0) = 0)"""
    save_inputs = True
    def forward(self, x): return np.maximum(x, relu_zero(x))
    def backward(self, g): return g * (self.inputs[0] > 0)


class ArcTan(Op):
    """d/dx arctan(x) = 1/(1+x^2)"""
    save_inputs = True
    def forward(self, x): return np.arctan(x)

    def backward(self, g):
        x = self.inputs[0]
        return g / (1 + x * x)


class Sign(Op):
    """sign' = 0"""
    def forward(self, x): return np.sign(x)
    def backward(self, g): return np.zeros_like(g)


# ---- public functions ---------------------------------------------------------------------------

def _plain(value):
    """Comparison results and masks: an ndarray, whatever was passed."""
    from ..tensor import Tensor
    return value.data if isinstance(value, Tensor) else np.asarray(value)


@implements(np.add)
def add(a, b): return apply2(Add, a, b)


@implements(np.subtract)
def subtract(a, b): return apply2(Sub, a, b)


@implements(np.multiply)
def multiply(a, b): return apply2(Mul, a, b)


@implements(np.divide)
def divide(a, b): return apply2(Div, a, b)


@implements(np.power)
def power(a, b): return apply2(Pow, a, b)


@implements(np.negative)
def negative(x): return apply1(Neg, x)


def copy(x, order="K"):
    """A new Tensor with x's values in its own memory (np.copy; PyTorch's clone)"""
    return apply(Copy, x, order=order)


@implements(np.copy)
def _np_copy(a, order="K", subok=False):
    return copy(a, order)


@implements(np.positive)
def positive(x):
    """+x: the same values (a copy, as NumPy's ufunc makes), the gradient passes through"""
    return apply1(Pos, x)


@implements(np.exp)
def exp(x): return apply1(Exp, x)


@implements(np.log)
def log(x): return apply1(Log, x)


@implements(np.log1p)
def log1p(x): return apply1(Log1p, x)


@implements(np.expm1)
def expm1(x): return apply1(Expm1, x)


@implements(np.sqrt)
def sqrt(x): return apply1(Sqrt, x)


@implements(np.absolute)
def abs(x): return apply1(Abs, x)  # noqa: A001 - NumPy's name


@implements(np.sin)
def sin(x): return apply1(Sin, x)


@implements(np.cos)
def cos(x): return apply1(Cos, x)


@implements(np.tanh)
def tanh(x): return apply1(Tanh, x)


def sigmoid(x): return apply1(Sigmoid, x)
def relu(x): return apply1(ReLU, x)


@implements(np.arctan)
def arctan(x): return apply1(ArcTan, x)


@implements(np.sign)
def sign(x): return apply1(Sign, x)


def astype(x, dtype):
    from ..tensor import Tensor
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise TypeError(f"astype: complex dtypes are not supported (got {dtype}); graphgrad "
                        "tensors hold bool, integer or floating-point data")
    if isinstance(x, Tensor) and x.requires_grad and dtype.kind != "f":
        from .routing import inspected  # integer/bool casts end the graph: an inspection
        return Tensor._make(inspected(np.asarray, x, dtype), None)
    return apply(AsType, x, dtype=dtype)
