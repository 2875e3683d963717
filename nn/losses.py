"""Losses, as functions (re-exported by nn.functional) and as modules.

Every loss takes ``reduction="mean" | "sum" | "none"``.  Inputs are validated before anything is
computed: a shape mismatch or an out-of-range class target raises ValueError naming the loss and
the shapes, and records nothing.  The cross-entropy family is fused (log-softmax and the pick of
the target class in one op) and stays finite at logits of +-1e4.
"""

from __future__ import annotations

import numpy as np

from autograd import Tensor
from autograd.engine import Op, apply, dispatch
from autograd.ops.elementwise import Sigmoid as _SigmoidOp
from autograd.ops.normalize import Softmax as _SoftmaxOp

from .layers.activation import exp_or_zero, stable_sigmoid
from .module import Module

__all__ = ["mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "l2_penalty",
           "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
           "NLLLoss"]

_REDUCTIONS = ("mean", "sum", "none")


# ---- validation ---------------------------------------------------------------------------------

def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _pair(name: str, input, target, reduction: str) -> tuple[Tensor, Tensor]:
    """input and target as Tensors of the same shape, target in input's float dtype."""
    _check_reduction(name, reduction)
    input, target = _tensor(input), _tensor(target)
    if input.shape != target.shape:
        raise ValueError(f"{name}: input of shape {input.shape} and target of shape "
                         f"{target.shape} must have the same shape")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: input must be floating point, got dtype {input.dtype}")
    if target.dtype.kind != "f":
        target = Tensor(target.data.astype(input.dtype))
    return input, target


def _class_targets(name: str, input: Tensor, target) -> tuple[np.ndarray, int]:
    """Integer class targets checked against input (N, C, ...) or (C,); returns (target, axis)."""
    target = target.data if isinstance(target, Tensor) else np.asarray(target)
    axis = 1 if input.ndim >= 2 else 0
    if input.ndim == 0:
        raise ValueError(f"{name}: input must have a class axis, got shape {input.shape}")
    expected = input.shape[:axis] + input.shape[axis + 1:]
    if target.dtype.kind not in "iu":
        raise ValueError(f"{name}: class targets must be integers, got dtype {target.dtype} "
                         f"(input shape {input.shape}, target shape {target.shape})")
    if target.shape != expected:
        raise ValueError(f"{name}: input of shape {input.shape} needs class targets of shape "
                         f"{expected}, got {target.shape}")
    classes = input.shape[axis]
    if target.size and (target.min() < 0 or target.max() >= classes):
        bad = target[(target < 0) | (target >= classes)].reshape(-1)[0]
        raise ValueError(f"{name}: class target {int(bad)} is out of range for {classes} classes "
                         f"(input shape {input.shape}, target shape {target.shape})")
    return target.astype(np.intp, copy=False), axis


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _one_hot(target: np.ndarray, axis: int, classes: int, dtype) -> np.ndarray:
    shape = [1] * (target.ndim + 1)
    shape[axis] = classes
    return (np.arange(classes).reshape(shape) == np.expand_dims(target, axis)).astype(dtype)


# ---- fused ops ----------------------------------------------------------------------------------

class CrossEntropyOp(Op):
    """loss_i = logsumexp(x_i) - x_i[t_i];  d loss_i / d x_i = softmax(x_i) - onehot(t_i)"""
    name = "cross_entropy"
    save_inputs = True

    def forward(self, x, target, axis):
        self.target, self.axis = target, axis
        z = x - x.max(axis=axis, keepdims=True)
        log_probs = z - np.log(exp_or_zero(z).sum(axis=axis, keepdims=True))
        self.probs = exp_or_zero(log_probs)     # reused by a first-order backward
        if x.ndim == 2 and axis == 1:           # (N, C): plain fancy indexing
            return -log_probs[np.arange(len(target)), target]
        picked = np.take_along_axis(log_probs, np.expand_dims(target, axis), axis)
        return -np.squeeze(picked, axis)

    def backward(self, g):
        x = self.inputs[0]
        if not isinstance(x, Tensor) and x.ndim == 2 and self.axis == 1:
            grad = self.probs.copy()            # softmax - onehot, without building the onehot
            grad[np.arange(len(self.target)), self.target] -= 1
            grad *= g[:, None]
            return grad
        probs = dispatch(_SoftmaxOp, x, axis=self.axis) if isinstance(x, Tensor) else self.probs
        onehot = _one_hot(self.target, self.axis, x.shape[self.axis], x.dtype)
        return (probs - onehot) * np.expand_dims(g, self.axis)


class _CrossEntropy2dOp(CrossEntropyOp):
    """cross_entropy of (N, C) logits with the mean or sum over the batch folded in (one node, not
    two): loss = scale * sum_i loss_i;  d loss / d x_i = scale * (softmax(x_i) - onehot(t_i))"""
    name = "cross_entropy"

    def forward(self, x, target, axis, scale):
        self.target, self.axis, self.scale = target, axis, scale
        z = x - x.max(axis=1, keepdims=True)
        with np.errstate(under="ignore"):   # exp(-1e4) -> 0 is intended, as in exp_or_zero
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            e /= s
        self.probs = e
        rows = np.arange(len(target))
        loss = np.log(s[:, 0]).sum() - z[rows, target].sum()
        return np.asarray(loss * scale, dtype=x.dtype)

    def backward(self, g):
        x = self.inputs[0]
        scale = g * self.scale
        if not isinstance(x, Tensor):
            grad = self.probs * scale           # softmax - onehot, without building the onehot
            grad[np.arange(len(self.target)), self.target] -= scale
            return grad
        probs = dispatch(_SoftmaxOp, x, axis=1)
        onehot = _one_hot(self.target, 1, x.shape[1], x.dtype)
        return (probs - onehot) * scale


class NllOp(Op):
    """loss_i = -x_i[t_i];  d loss_i / d x_i = -onehot(t_i)"""
    name = "nll_loss"

    def forward(self, x, target, axis):
        self.target, self.axis, self.classes = target, axis, x.shape[axis]
        return -np.squeeze(np.take_along_axis(x, np.expand_dims(target, axis), axis), axis)

    def backward(self, g):
        onehot = _one_hot(self.target, self.axis, self.classes, g.dtype)
        return -onehot * np.expand_dims(g, self.axis)


def _clamped_log(p):
    """log(p) clamped below at -100 as PyTorch does, so p = 0 gives a finite loss (no log(0))."""
    positive = p > 0
    return np.maximum(np.where(positive, np.log(np.where(positive, p, 1)), -100), -100)


class BinaryCrossEntropyOp(Op):
    """loss = -(t log p + (1-t) log(1-p));  dp = (p - t) / max(p (1-p), 1e-12),
    dt = log(1-p) - log(p)  (logs clamped at -100)"""
    name = "binary_cross_entropy"
    save_inputs = True

    def forward(self, p, t):
        return -(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))

    def backward(self, g):
        p, t = self.inputs
        gp = g * (p - t) / np.maximum(p * (1 - p), 1e-12) if self.needs_grad(0) else None
        gt = g * (_clamped_log(1 - p) - _clamped_log(p)) if self.needs_grad(1) else None
        return gp, gt


class BceWithLogitsOp(Op):
    """loss = max(x, 0) - x t + log(1 + exp(-|x|));  dx = sigmoid(x) - t,  dt = -x"""
    name = "binary_cross_entropy_with_logits"
    save_inputs = True

    def forward(self, x, t):
        return np.maximum(x, 0) - x * t + np.log1p(exp_or_zero(-np.abs(x)))

    def backward(self, g):
        x, t = self.inputs
        gx = None
        if self.needs_grad(0):
            sig = dispatch(_SigmoidOp, x) if isinstance(x, Tensor) else stable_sigmoid(x)
            gx = g * (sig - t)
        return gx, (-g * x if self.needs_grad(1) else None)


# ---- functions ----------------------------------------------------------------------------------

class MseOp(Op):
    """mean or sum of (x - t)^2 in one op;  d/dx = 2 (x - t) g (/ n for the mean)"""
    name = "mse_loss"
    save_inputs = True

    def forward(self, x, t, mean):
        diff = x - t
        self.scale = 2.0 / diff.size if mean else 2.0
        total = np.vdot(diff, diff)
        return np.asarray(total / diff.size if mean else total, dtype=diff.dtype)

    def backward(self, g):
        x, t = self.inputs
        d = (x - t) * (self.scale * g)
        return d, (-d if self.needs_grad(1) else None)


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """(x - t)^2, reduced;  d/dx = 2 (x - t) (over n for the mean)"""
    input, target = _pair("mse_loss", input, target, reduction)
    if reduction != "none" and input.size:
        return apply(MseOp, input, target, mean=reduction == "mean")
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """|x - t|, reduced;  d/dx = sign(x - t), 0 where x == t"""
    input, target = _pair("l1_loss", input, target, reduction)
    return _reduce(abs(input - target), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """d^2/2 for |d| < delta, else delta (|d| - delta/2), with d = x - t;
    d/dx = d inside, delta sign(d) outside"""
    input, target = _pair("huber_loss", input, target, reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    diff = input - target
    size = abs(diff)
    inside = size.data < delta
    loss = np.where(inside, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    return _reduce(loss, reduction)


def binary_cross_entropy(input, target, reduction: str = "mean") -> Tensor:
    """-(t log p + (1-t) log(1-p)) for probabilities p, finite at p = 0 and 1 (logs >= -100)"""
    input, target = _pair("binary_cross_entropy", input, target, reduction)
    p = input.data
    if p.size and not np.all((p >= 0) & (p <= 1) | np.isnan(p)):
        raise ValueError(f"binary_cross_entropy: input (shape {input.shape}) must hold "
                         f"probabilities in [0, 1]; use binary_cross_entropy_with_logits for "
                         f"logits")
    return _reduce(apply(BinaryCrossEntropyOp, input, target), reduction)


def binary_cross_entropy_with_logits(input, target, reduction: str = "mean") -> Tensor:
    """binary_cross_entropy(sigmoid(x), t), fused and stable at x = +-1e4;  d/dx = sigmoid(x) - t"""
    input, target = _pair("binary_cross_entropy_with_logits", input, target, reduction)
    return _reduce(apply(BceWithLogitsOp, input, target), reduction)


def cross_entropy(input, target, reduction: str = "mean") -> Tensor:
    """-log softmax(x)[t] for logits x of shape (N, C, ...) or (C,) and integer targets t, fused
    and stable at +-1e4;  d/dx = softmax(x) - onehot(t).  A float target of the input's shape is
    taken as class probabilities: -sum(t * log_softmax(x)) over the class axis."""
    _check_reduction("cross_entropy", reduction)
    input = _tensor(input)
    if input.dtype.kind != "f":
        raise TypeError(f"cross_entropy: logits must be floating point, got dtype {input.dtype}")
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    if raw.dtype.kind == "f" and raw.shape == input.shape and input.ndim >= 1:
        from autograd import log_softmax
        axis = 1 if input.ndim >= 2 else 0
        return _reduce(-(_tensor(target) * log_softmax(input, axis)).sum(axis=axis), reduction)
    target, axis = _class_targets("cross_entropy", input, target)
    if input.ndim == 2 and reduction != "none" and len(target):
        scale = 1.0 / len(target) if reduction == "mean" else 1.0
        return apply(_CrossEntropy2dOp, input, target=target, axis=axis, scale=scale)
    return _reduce(apply(CrossEntropyOp, input, target=target, axis=axis), reduction)


def nll_loss(input, target, reduction: str = "mean") -> Tensor:
    """-x[t] for log-probabilities x of shape (N, C, ...) or (C,);  d/dx = -onehot(t)"""
    _check_reduction("nll_loss", reduction)
    input = _tensor(input)
    target, axis = _class_targets("nll_loss", input, target)
    return _reduce(apply(NllOp, input, target=target, axis=axis), reduction)


def l2_penalty(params) -> Tensor:
    """1/2 sum of w^2 over the given parameters (or a Module's);  d/dw = w"""
    if isinstance(params, Module):
        params = params.parameters()
    total = None
    for p in params:
        term = (p * p).sum()
        total = term if total is None else total + term
    if total is None:
        return Tensor(np.float32(0.0))
    return 0.5 * total


# ---- modules ------------------------------------------------------------------------------------

class _Loss(Module):
    fn = staticmethod(mse_loss)

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def forward(self, input, target) -> Tensor:
        return type(self).fn(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    fn = staticmethod(mse_loss)


class L1Loss(_Loss):
    fn = staticmethod(l1_loss)


class HuberLoss(_Loss):
    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = float(delta)

    def forward(self, input, target) -> Tensor:
        return huber_loss(input, target, self.reduction, self.delta)


class BCELoss(_Loss):
    fn = staticmethod(binary_cross_entropy)


class BCEWithLogitsLoss(_Loss):
    fn = staticmethod(binary_cross_entropy_with_logits)


class CrossEntropyLoss(_Loss):
    fn = staticmethod(cross_entropy)


class NLLLoss(_Loss):
    fn = staticmethod(nll_loss)

