"""Losses, as functions (re-exported by nn.functional) and as modules.

Every loss takes ``reduction="mean" | "sum" | "none"``.  Inputs are validated before anything is
computed: a shape mismatch or an out-of-range class target raises ValueError naming the loss and
the shapes, and records nothing.  The cross-entropy family is fused (log-softmax and the pick of
the target class in one op) and stays finite at logits of +-1e4.
"""

from __future__ import annotations

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.engine import Op, apply, dispatch
from autograd.ops.elementwise import Sigmoid as _SigmoidOp

from .layers.activation import exp_or_zero, softplus, stable_sigmoid
from .cross_entropy import (CrossEntropyOp, NllOp, _reduce, check_common, cross_entropy,
                            nll_loss)
from .module import Module
from .tensor_functions import as_dtype

__all__ = ["mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "smooth_l1_loss",
           "kl_div", "l2_penalty", "MSELoss", "L1Loss", "HuberLoss", "BCELoss",
           "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "SmoothL1Loss", "KLDivLoss",
           "CrossEntropyOp", "NllOp"]

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


# ---- fused ops ----------------------------------------------------------------------------------

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
        # Checked here, not before the op: a compiled step's replay runs the op on new inputs.
        if p.size and not np.all((p >= 0) & (p <= 1) | np.isnan(p)):
            raise ValueError(f"binary_cross_entropy: input (shape {p.shape}) must hold "
                             f"probabilities in [0, 1]; use binary_cross_entropy_with_logits for "
                             f"logits")
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
    inside = size < delta   # a Tensor comparison: ag.compile replays it on new values
    loss = np.where(inside, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    return _reduce(loss, reduction)


def _constant_weight(name: str, label: str, weight, like: Tensor) -> np.ndarray:
    """A weight as a constant array of ``like``'s dtype (no gradient, as in PyTorch's use), which
    must broadcast to ``like``'s shape."""
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    try:
        np.broadcast_shapes(w.shape, like.shape)
    except ValueError:
        raise ValueError(f"{name}: {label} of shape {w.shape} does not broadcast to the input's "
                         f"shape {like.shape}") from None
    return as_dtype(w, like.dtype)


def _weighted(name: str, loss: Tensor, weight) -> Tensor:
    """loss * weight, the weight a constant broadcast to the loss's shape."""
    return loss if weight is None else loss * _constant_weight(name, "weight", weight, loss)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction: str = "mean") -> Tensor:
    """-w (t log p + (1-t) log(1-p)) for probabilities p, finite at p = 0 and 1 (logs >= -100)"""
    check_common("binary_cross_entropy", weight, size_average, reduce, reduction)
    input, target = _pair("binary_cross_entropy", input, target, reduction)
    loss = apply(BinaryCrossEntropyOp, input, target)
    return _reduce(_weighted("binary_cross_entropy", loss, weight), reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction: str = "mean", pos_weight=None) -> Tensor:
    """-w (pw t log sigmoid(x) + (1-t) log(1 - sigmoid(x))), fused and stable at x = +-1e4;
    d/dx = sigmoid(x) - t without pos_weight.  ``pos_weight`` weighs the positive term and
    broadcasts along the last (class) axis, as in PyTorch."""
    name = "binary_cross_entropy_with_logits"
    check_common(name, weight, size_average, reduce, reduction)
    input, target = _pair(name, input, target, reduction)
    if pos_weight is None:
        loss = apply(BceWithLogitsOp, input, target)
    else:
        # a Tensor (no gradient): the arithmetic on it is ops, which replays recompute
        pw = Tensor(_constant_weight(name, "pos_weight", pos_weight, input))
        # (1-t) x + (1 + (pw-1) t) log(1 + exp(-x)): PyTorch's stable form
        scale = 1 + (pw - 1) * target
        loss = (1 - target) * input + scale * softplus(-input)   # finite at +-1e4
    return _reduce(_weighted(name, loss, weight), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """d^2 / (2 beta) for |d| < beta, else |d| - beta/2 (d = x - t); beta = 0 is l1_loss;
    d/dx = d / beta inside, sign(d) outside"""
    check_common("smooth_l1_loss", None, size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    input, target = _pair("smooth_l1_loss", input, target, reduction)
    diff = input - target
    size = abs(diff)
    if beta == 0:
        return _reduce(size, reduction)
    inside = size < beta   # a Tensor comparison: ag.compile replays it on new values
    return _reduce(ag.where(inside, (0.5 / beta) * diff * diff, size - 0.5 * beta), reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Pointwise KL divergence with ``input`` the log-probabilities: t (log t - x), 0 where t = 0
    (or exp(t) (t - x) with ``log_target``).  reduction "batchmean" divides the sum by the batch
    size (the true KL divergence), "mean" by the number of elements (PyTorch's default)."""
    if reduction == "batchmean":
        check_common("kl_div", None, size_average, reduce, "sum")
    else:
        check_common("kl_div", None, size_average, reduce, reduction)
    input, target = _pair("kl_div", input, target, "sum")
    if log_target:
        loss = ag.exp(target) * (target - input)
    else:
        positive = target > 0
        safe = ag.where(positive, target, 1)          # log only where t > 0: xlogy(t, t)
        loss = ag.where(positive, target * ag.log(safe), 0) - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


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
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"
                 ) -> None:
        check_common("BCELoss", weight, size_average, reduce, reduction)
        super().__init__(reduction)
        self.weight = weight

    def forward(self, input, target) -> Tensor:
        return binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None) -> None:
        check_common("BCEWithLogitsLoss", weight, size_average, reduce, reduction)
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, input, target) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight,
                                                reduction=self.reduction,
                                                pos_weight=self.pos_weight)


class CrossEntropyLoss(_Loss):
    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        check_common("CrossEntropyLoss", weight, size_average, reduce, reduction)
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index
        self.label_smoothing = float(label_smoothing)

    def forward(self, input, target) -> Tensor:
        return cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean") -> None:
        check_common("NLLLoss", weight, size_average, reduce, reduction)
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, input, target) -> Tensor:
        return nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                        reduction=self.reduction)


class SmoothL1Loss(_Loss):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        check_common("SmoothL1Loss", None, size_average, reduce, reduction)
        super().__init__(reduction)
        self.beta = float(beta)

    def forward(self, input, target) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class KLDivLoss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__()
        check_common("KLDivLoss", None, size_average, reduce,
                     "sum" if reduction == "batchmean" else reduction)
        self.reduction, self.log_target = reduction, bool(log_target)

    def forward(self, input, target) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"
