"""Activations, as functions (re-exported by nn.functional) and as modules.

Conventions at kinks: relu'(0) = 0 and binary_step' = 0 (API.md); leaky_relu, prelu and elu use
their negative-side slope at exactly 0 (PyTorch's choice: the branch x > 0 is the strict one).

NumPy has no erf, so the exact GELU uses ``math.erf`` (the C library's erf, accurate to about
one ulp in float64) applied elementwise through ``np.frompyfunc``: exact, but one Python call per
element (measured 0.1-0.3 us each); ``gelu(x, approximate="tanh")`` is fully vectorised.
"""

from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.engine import Op, apply, dispatch
from autograd.ops.elementwise import Sigmoid as _SigmoidOp

from ..module import Module, Parameter

__all__ = ["erf", "exp_or_zero", "stable_sigmoid", "identity", "binary_step", "sigmoid", "tanh",
           "arctan", "relu", "prelu", "elu", "softplus", "leaky_relu", "gelu", "silu", "softmax",
           "log_softmax",
           "Identity", "BinaryStep", "Sigmoid", "Tanh", "ArcTan", "ReLU", "PReLU", "ELU",
           "Softplus", "LeakyReLU", "GELU", "SiLU", "Softmax", "LogSoftmax"]

_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def exp_or_zero(z) -> np.ndarray:
    """exp(z), with arguments too negative for a normal result mapped straight to 0, so that
    stable formulas stay silent under np.errstate(all="raise") (no underflow is signalled)."""
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(np.float64)
    lowest = math.log(np.finfo(z.dtype).tiny) + 1
    small = z < lowest
    if not small.any():
        return np.exp(z)
    return np.where(small, 0, np.exp(np.where(small, 0, z)))


def stable_sigmoid(x) -> np.ndarray:
    """1 / (1 + exp(-x)) from exp(-|x|), which never overflows (ndarrays only)."""
    e = exp_or_zero(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def _erf_array(x: np.ndarray) -> np.ndarray:
    """erf elementwise, computed in float64 and returned in x's float dtype."""
    x = np.asarray(x)
    out = np.asarray(_erf_scalar(x.astype(np.float64, copy=False)), dtype=np.float64)
    return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


class Erf(Op):
    """d/dx erf(x) = 2/sqrt(pi) exp(-x^2)"""
    save_inputs = True

    def forward(self, x):
        return _erf_array(x)

    def backward(self, g):
        x = self.inputs[0]
        return g * (2 / math.sqrt(math.pi)) * np.exp(-(x * x))


def erf(x) -> Tensor:
    """The error function, differentiable (see the module docstring for how it is computed)."""
    return apply(Erf, x)


class BinaryStepOp(Op):
    """f(x) = 1 for x >= 0, else 0;  f'(x) = 0 (also at 0, API.md's convention)"""
    name = "binary_step"

    def forward(self, x):
        return (x >= 0).astype(x.dtype if x.dtype.kind == "f" else np.float64)

    def backward(self, g):
        return np.zeros_like(g)


class SoftplusOp(Op):
    """f(x) = log(1 + exp(b x)) / b, computed as max(x, 0) + log1p(exp(-b|x|)) / b;
    f'(x) = sigmoid(b x)"""
    name = "softplus"
    save_inputs = True

    def forward(self, x, beta=1.0):
        self.beta = beta
        bx = beta * x
        return (np.maximum(bx, 0) + np.log1p(exp_or_zero(-np.abs(bx)))) / beta

    def backward(self, g):
        bx = self.inputs[0] * self.beta
        if isinstance(bx, Tensor):              # create_graph: a recorded sigmoid
            return g * dispatch(_SigmoidOp, bx)
        return g * stable_sigmoid(bx)


class GeluOp(Op):
    """f(x) = x Phi(x) with Phi(x) = (1 + erf(x / sqrt 2)) / 2;  f'(x) = Phi(x) + x phi(x)"""
    name = "gelu"
    save_inputs = True

    def forward(self, x):
        return x * (0.5 * (1 + _erf_array(x / math.sqrt(2))))

    def backward(self, g):
        x = self.inputs[0]
        cdf = 0.5 * (1 + dispatch(Erf, x / math.sqrt(2)))
        pdf = np.exp(-0.5 * (x * x)) / math.sqrt(2 * math.pi)
        return g * (cdf + x * pdf)


# ---- functions ----------------------------------------------------------------------------------

def identity(x):
    """f(x) = x;  f'(x) = 1"""
    return x


def binary_step(x) -> Tensor:
    """f(x) = 1 for x >= 0 else 0;  f'(x) = 0"""
    return apply(BinaryStepOp, x)


def sigmoid(x) -> Tensor:
    """f(x) = 1 / (1 + exp(-x));  f'(x) = f(x)(1 - f(x))"""
    return ag.sigmoid(x)


def tanh(x) -> Tensor:
    """f'(x) = 1 - tanh(x)^2"""
    return ag.tanh(x)


def arctan(x) -> Tensor:
    """f'(x) = 1 / (1 + x^2)"""
    return ag.arctan(x)


def relu(x) -> Tensor:
    """f(x) = max(x, 0);  f'(x) = 1 for x > 0, else 0"""
    return ag.relu(x)


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """f(x) = x for x > 0, else slope x;  f'(x) = 1 or slope"""
    return ag.where(_positive(x), x, x * negative_slope)


def prelu(x, weight) -> Tensor:
    """leaky_relu with a learnable slope per channel (axis 1); d/dslope = x where x <= 0"""
    w = weight
    if np.ndim(x) >= 2 and np.size(weight) > 1:
        w = ag.reshape(weight, (-1,) + (1,) * (np.ndim(x) - 2))
    return ag.where(_positive(x), x, w * x)


def elu(x, alpha: float = 1.0) -> Tensor:
    """f(x) = x for x > 0, else alpha (exp(x) - 1);  f'(x) = 1 or f(x) + alpha"""
    # exp of the clipped value: the unused branch never overflows for large positive x.
    negative = ag.expm1(ag.clip(x, None, 0)) * alpha
    return ag.where(_positive(x), x, negative)


def softplus(x, beta: float = 1.0) -> Tensor:
    """f(x) = log(1 + exp(beta x)) / beta, finite at +-1e4;  f'(x) = sigmoid(beta x)"""
    return apply(SoftplusOp, x, beta=beta)


def gelu(x, approximate: str = "none") -> Tensor:
    """f(x) = x Phi(x) (exact, via erf) or its tanh approximation;  f'(x) = Phi(x) + x phi(x)"""
    if approximate == "none":
        return apply(GeluOp, x)
    if approximate == "tanh":
        inner = (x + 0.044715 * x * x * x) * math.sqrt(2 / math.pi)
        return 0.5 * x * (1 + ag.tanh(inner))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(x) -> Tensor:
    """f(x) = x sigmoid(x);  f'(x) = s(x) (1 + x (1 - s(x)))"""
    return x * ag.sigmoid(x)


def softmax(x, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along axis, stable at +-1e4"""
    return ag.softmax(x, axis)


def log_softmax(x, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along axis, stable at +-1e4"""
    return ag.log_softmax(x, axis)


def _positive(x):
    """x > 0 as a mask; on a Tensor the comparison is recorded, so ag.compile replays it."""
    return x > 0 if isinstance(x, Tensor) else np.asarray(x) > 0


# ---- modules ------------------------------------------------------------------------------------

class _Activation(Module):
    """A parameter-free activation module wrapping one function."""

    fn = staticmethod(identity)

    def __init__(self, dtype=np.float32) -> None:
        super().__init__()

    def forward(self, x):
        return type(self).fn(x)


class Identity(_Activation):
    fn = staticmethod(identity)

    def __init__(self, *args, dtype=np.float32, **kwargs) -> None:
        super().__init__()


class BinaryStep(_Activation):
    fn = staticmethod(binary_step)


class Sigmoid(_Activation):
    fn = staticmethod(sigmoid)


class Tanh(_Activation):
    fn = staticmethod(tanh)


class ArcTan(_Activation):
    fn = staticmethod(arctan)


class ReLU(_Activation):
    fn = staticmethod(relu)


class SiLU(_Activation):
    fn = staticmethod(silu)


class LeakyReLU(Module):
    def __init__(self, negative_slope: float = 0.01, dtype=np.float32) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """leaky_relu with learnable slope(s): one shared, or one per channel (num_parameters=C)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=np.float32) -> None:
        super().__init__()
        self.num_parameters = int(num_parameters)
        self.weight = Parameter(np.full(self.num_parameters, init, dtype=dtype))

    def forward(self, x):
        if self.num_parameters > 1 and (np.ndim(x) < 2 or np.shape(x)[1] != self.num_parameters):
            raise ValueError(f"PReLU({self.num_parameters}): input of shape {np.shape(x)} must "
                             f"have {self.num_parameters} channels on axis 1")
        return prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    def __init__(self, alpha: float = 1.0, dtype=np.float32) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        return elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    def __init__(self, beta: float = 1.0, dtype=np.float32) -> None:
        super().__init__()
        self.beta = float(beta)

    def forward(self, x):
        return softplus(x, self.beta)

    def extra_repr(self) -> str:
        return f"beta={self.beta}"


class GELU(Module):
    def __init__(self, approximate: str = "none", dtype=np.float32) -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    def __init__(self, axis: int = -1, dtype=np.float32) -> None:
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return log_softmax(x, self.axis)
