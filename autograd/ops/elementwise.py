"""Elementwise ops: arithmetic, unary math, activations, selection.

Each backward returns gradients shaped like the output; the engine sums them back to each input's
broadcast shape and casts them to its dtype.
"""

from __future__ import annotations

import math

import numpy as np

from ..engine import Op, apply, apply1, apply2

__all__ = ["add", "subtract", "multiply", "divide", "power", "negative", "exp", "log", "log1p",
           "expm1", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "arctan", "sign",
           "maximum", "minimum", "where", "clip", "astype"]


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
        ga = g * b * a ** (b - 1) if self.needs_grad(0) else None
        gb = g * a ** b * _log_base(a) if self.needs_grad(1) else None
        return ga, gb


def _log_base(a):
    """log a for d(a^b)/db, taken as 0 where a == 0 (the limit of a^b log a for b > 0).  A Python
    scalar base stays a Python scalar, so a float32 exponent keeps a float32 gradient."""
    if isinstance(a, (int, float)) and not isinstance(a, np.generic):
        return 0.0 if a == 0 else math.log(a) if a > 0 else math.nan
    return np.where(a == 0, 0.0, np.log(np.where(a == 0, 1.0, a)))


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


class ReLU(Op):
    """d/dx max(x, 0) = 1 for x > 0, else 0 (relu'(0) = 0)"""
    save_inputs = True
    def forward(self, x): return np.maximum(x, 0)
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


# ---- binary selection ---------------------------------------------------------------------------

def _split_ties(g, a, b):
    """Gradient of max(a, b) w.r.t. a: 1 where a wins, 1/2 where tied, 0 elsewhere."""
    # Masks multiply g directly (bool * float keeps g's dtype; a float64 0.5-mask would not).
    return g * (a > b) + g * (a == b) * 0.5


class Maximum(Op):
    """d max(a, b) = da where a > b, db where b > a, (da + db)/2 where tied"""
    save_inputs = True
    def forward(self, a, b): return np.maximum(a, b)

    def backward(self, g):
        a, b = self.inputs
        return _split_ties(g, a, b), _split_ties(g, b, a)


class Minimum(Op):
    """d min(a, b) = da where a < b, db where b < a, (da + db)/2 where tied"""
    save_inputs = True
    def forward(self, a, b): return np.minimum(a, b)

    def backward(self, g):
        a, b = self.inputs
        return _split_ties(g, b, a), _split_ties(g, a, b)


class Where(Op):
    """where(c, a, b): the gradient goes to a where c holds, to b elsewhere"""
    def forward(self, a, b, cond):
        self.cond = cond
        return np.where(cond, a, b)

    def backward(self, g):
        return np.where(self.cond, g, 0), np.where(self.cond, 0, g)


class Clip(Op):
    """d/dx clip(x, lo, hi) = 1 where lo <= x <= hi (boundaries included), else 0"""
    save_inputs = True

    def forward(self, x, lo, hi):
        self.lo, self.hi = lo, hi
        return np.clip(x, lo, hi)

    def backward(self, g):
        x = self.inputs[0]
        inside = np.ones(x.shape, dtype=bool)
        if self.lo is not None:
            inside = inside & np.asarray(x >= self.lo)
        if self.hi is not None:
            inside = inside & np.asarray(x <= self.hi)
        return g * inside, None, None


# ---- public functions ---------------------------------------------------------------------------

def _plain(value):
    """Comparison results and masks: an ndarray, whatever was passed."""
    from ..tensor import Tensor
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def add(a, b): return apply2(Add, a, b)
def subtract(a, b): return apply2(Sub, a, b)
def multiply(a, b): return apply2(Mul, a, b)
def divide(a, b): return apply2(Div, a, b)
def power(a, b): return apply2(Pow, a, b)
def negative(x): return apply1(Neg, x)
def exp(x): return apply1(Exp, x)
def log(x): return apply1(Log, x)
def log1p(x): return apply1(Log1p, x)
def expm1(x): return apply1(Expm1, x)
def sqrt(x): return apply1(Sqrt, x)
def abs(x): return apply1(Abs, x)  # noqa: A001 - NumPy's name
def sin(x): return apply1(Sin, x)
def cos(x): return apply1(Cos, x)
def tanh(x): return apply1(Tanh, x)
def sigmoid(x): return apply1(Sigmoid, x)
def relu(x): return apply1(ReLU, x)
def arctan(x): return apply1(ArcTan, x)
def sign(x): return apply1(Sign, x)
def maximum(a, b): return apply2(Maximum, a, b)
def minimum(a, b): return apply2(Minimum, a, b)
def where(cond, a, b): return apply(Where, a, b, cond=_plain(cond).astype(bool, copy=False))


def _bound(value):
    """A clip bound as NumPy takes it; Python scalars stay Python scalars (weak promotion keeps
    float32 float32), Tensors become arrays (bounds get no gradient)."""
    if value is None or isinstance(value, (int, float)):
        return value
    return _plain(value)


def clip(x, lo=None, hi=None):
    return apply(Clip, x, _bound(lo), _bound(hi))


def astype(x, dtype):
    from ..tensor import Tensor
    dtype = np.dtype(dtype)
    if isinstance(x, Tensor) and x.requires_grad and dtype.kind != "f":
        return Tensor._make(x.data.astype(dtype), None)   # integer/bool casts end the graph
    return apply(AsType, x, dtype=dtype)
