"""Cross-entropy and negative log-likelihood, with PyTorch's signatures and defaults.

``cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
reduction="mean", label_smoothing=0.0)`` and ``nll_loss(input, target, weight=None,
size_average=None, ignore_index=-100, reduce=None, reduction="mean")``.  Inputs are (N, C),
(N, C, d1, ...) or (C,); targets are integer classes (or, for cross_entropy, class probabilities of
the input's shape).  The plain case (no weight, nothing ignored, no smoothing) is one fused op,
stable at logits of +-1e4; the general case is log_softmax (also stable) followed by a pick.

PyTorch's conventions, which the tests pin: with class weights the mean divides by the sum of the
weights of the targets that are not ignored; with probability targets it divides by the number of
samples; label smoothing mixes in ``eps / C`` of the uniform distribution.
"""

from __future__ import annotations

import numpy as np

from autograd import CompileError, Tensor
from autograd.engine import Op, apply, dispatch
from autograd.ops.routing import inspected
from autograd.ops.normalize import Softmax as _SoftmaxOp, log_softmax

from .layers.activation import exp_or_zero
from .tensor_functions import as_dtype, as_indices

__all__ = ["cross_entropy", "nll_loss", "CrossEntropyOp", "NllOp", "class_targets",
           "check_class_range", "one_hot_array"]

_REDUCTIONS = ("mean", "sum", "none")


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def check_common(name: str, weight, size_average, reduce, reduction) -> None:
    """PyTorch's deprecated size_average/reduce are refused with the replacement; a string where
    the weight goes is the old positional ``reduction``."""
    if size_average is not None or reduce is not None:
        raise TypeError(f"{name}: size_average= and reduce= are deprecated (also in PyTorch); "
                        f"use reduction='mean' | 'sum' | 'none'")
    if isinstance(weight, str):
        raise TypeError(f"{name}: weight must be a Tensor or array of class weights, got "
                        f"{weight!r} (in PyTorch's argument order weight comes before "
                        f"reduction); pass reduction={weight!r} by keyword")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def one_hot_array(target: np.ndarray, axis: int, classes: int, dtype) -> np.ndarray:
    shape = [1] * (target.ndim + 1)
    shape[axis] = classes
    return (np.arange(classes).reshape(shape) == np.expand_dims(target, axis)).astype(dtype)


def class_targets(name: str, input: Tensor, target, ignore_index: int | None = None
                  ) -> tuple[np.ndarray, int, np.ndarray | None]:
    """Integer class targets checked against input (N, C, ...) or (C,).  Returns (target, axis,
    ignored): ``ignored`` is the boolean mask of targets equal to ignore_index (None when there
    are none), and those entries of ``target`` are replaced by class 0 so a pick stays in range."""
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
    ignored = None
    if ignore_index is not None and target.size:
        # The branch is taken at capture (a replay meeting ignored targets when the capture met
        # none is refused by the ops, check_class_range); the ignored path's arrays are
        # inspections, which a compiled step's replay computes again from its targets.
        if (target == ignore_index).any():
            ignored = inspected(np.equal, target, ignore_index)
            target = inspected(np.where, ignored, 0, target)
    check_class_range(name, target, input.shape[axis], input.shape)
    return as_indices(target), axis, ignored


def check_class_range(name: str, target: np.ndarray, classes: int, input_shape,
                      ignore_index: int | None = None) -> None:
    """Raise naming the first class target outside [0, classes).  The ops that pick by target
    check too, since a compiled step's replay runs them on new targets without class_targets:
    an index out of range would pick from a neighbouring row, a negative one wrap around."""
    if not target.size:
        return
    if ignore_index is not None and 0 <= ignore_index < classes and (target == ignore_index).any():
        raise CompileError(f"{name}: class target {ignore_index} is the ignore_index, and this "
                           f"compiled step was captured with no ignored targets: capture it "
                           f"with one, or call the plain function")
    if target.dtype == np.intp:         # negatives as unsigned are huge: one reduction, not two
        if target.view(np.uintp).max() < classes:
            return
    elif target.min() >= 0 and target.max() < classes:
        return
    bad = int(target[(target < 0) | (target >= classes)].reshape(-1)[0])
    if ignore_index is not None and bad == ignore_index:
        raise CompileError(f"{name}: class target {bad} is the ignore_index, and this compiled "
                           f"step was captured with no ignored targets: capture it with one, or "
                           f"call the plain function")
    raise ValueError(f"{name}: class target {bad} is out of range for {classes} classes "
                     f"(input shape {tuple(input_shape)}, target shape {target.shape})")


def _class_weight(name: str, weight, classes: int, dtype) -> np.ndarray | None:
    if weight is None:
        return None
    w = weight.data if isinstance(weight, Tensor) else np.asarray(weight)
    if w.shape != (classes,):
        raise ValueError(f"{name}: weight must have one entry per class, shape ({classes},), "
                         f"got {w.shape}")
    return as_dtype(w, dtype)


def _zero_where(mask: np.ndarray, values: np.ndarray, dtype) -> np.ndarray:
    """``values`` (broadcast to the mask) with 0 where ``mask`` holds, in ``dtype``."""
    return np.where(mask, 0, values).astype(dtype)


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _along(values: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """A per-class vector shaped to broadcast along ``axis`` of an ndim-dimensional input."""
    shape = [1] * ndim
    shape[axis] = len(values)
    return values.reshape(shape)


# ---- fused ops ----------------------------------------------------------------------------------

class CrossEntropyOp(Op):
    """loss_i = logsumexp(x_i) - x_i[t_i];  d loss_i / d x_i = softmax(x_i) - onehot(t_i)"""
    name = "cross_entropy"
    save_inputs = True

    def forward(self, x, target, axis, ignore_index=None):
        check_class_range(self.name, target, x.shape[axis], x.shape, ignore_index)
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
        onehot = one_hot_array(self.target, self.axis, x.shape[self.axis], x.dtype)
        return (probs - onehot) * np.expand_dims(g, self.axis)


class CrossEntropy2dOp(CrossEntropyOp):
    """cross_entropy of (N, C) logits with the mean or sum over the batch folded in (one node, not
    two): loss = scale * sum_i loss_i;  d loss / d x_i = scale * (softmax(x_i) - onehot(t_i))"""
    name = "cross_entropy"

    def forward(self, x, target, axis, scale, ignore_index=None):
        check_class_range(self.name, target, x.shape[1], x.shape, ignore_index)
        self.target, self.axis, self.scale = target, axis, scale
        n, classes = x.shape
        # Row maxima and sums of short rows are slow NumPy reductions (7 and 5 us at 128 x 10
        # here): the maxima are taken down the columns of a transposed copy (3.2 us, the same
        # values), the sums by one matrix-vector product (1.6 us).
        top = x.T.copy().max(axis=0) if classes < 32 else x.max(axis=1)
        z = x - top[:, None]
        with np.errstate(under="ignore"):   # exp(-1e4) -> 0 is intended, as in exp_or_zero
            e = np.exp(z)
            s = e @ np.ones(classes, e.dtype)
            e /= s[:, None]
        self.probs = e
        self.picks = picks = _row_starts(n, classes) + target   # each row's target, flat
        loss = np.log(s).sum() - z.reshape(-1)[picks].sum()
        return np.asarray(loss * scale, dtype=x.dtype)

    def backward(self, g):
        x = self.inputs[0]
        scale = g * self.scale
        if not isinstance(x, Tensor):
            grad = self.probs * scale           # softmax - onehot, without building the onehot
            grad.reshape(-1)[self.picks] -= scale
            return grad
        probs = dispatch(_SoftmaxOp, x, axis=1)
        onehot = one_hot_array(self.target, 1, x.shape[1], x.dtype)
        return (probs - onehot) * scale

    # ag.compile's numba backend: one kernel each way (cross_entropy_kernels.py).
    def numba_forward(self, x, target, axis, scale, ignore_index=None):
        if x.dtype not in (np.float32, np.float64) or target.dtype != np.intp:
            return self.forward(x, target, axis, scale, ignore_index)
        from .cross_entropy_kernels import forward
        check_class_range(self.name, target, x.shape[1], x.shape, ignore_index)
        self.target, self.axis, self.scale = target, axis, scale
        self.probs = np.empty_like(x, order="C")
        return np.asarray(forward(x, target, self.probs) * scale, dtype=x.dtype)

    def numba_backward(self, g):
        if "picks" in self.__dict__ or isinstance(self.inputs[0], Tensor):
            return self.backward(g)         # made by the rules' forward, or a second order
        from .cross_entropy_kernels import backward
        grad = np.empty_like(self.probs)
        backward(self.probs, self.target, self.probs.dtype.type(g * self.scale), grad)
        return grad


_ROW_STARTS: dict = {}


def _row_starts(n: int, classes: int) -> np.ndarray:
    """The flat index of each row's first entry in an (n, classes) array, made once per shape."""
    starts = _ROW_STARTS.get((n, classes))
    if starts is None:
        if len(_ROW_STARTS) >= 16:
            _ROW_STARTS.clear()
        starts = _ROW_STARTS[(n, classes)] = np.arange(n) * classes
        starts.flags.writeable = False
    return starts


class NllOp(Op):
    """loss_i = -x_i[t_i];  d loss_i / d x_i = -onehot(t_i)"""
    name = "nll_loss"

    def forward(self, x, target, axis, ignore_index=None):
        check_class_range(self.name, target, x.shape[axis], x.shape, ignore_index)
        self.target, self.axis, self.classes = target, axis, x.shape[axis]
        return -np.squeeze(np.take_along_axis(x, np.expand_dims(target, axis), axis), axis)

    def backward(self, g):
        onehot = one_hot_array(self.target, self.axis, self.classes, g.dtype)
        return -onehot * np.expand_dims(g, self.axis)


# ---- the general case ---------------------------------------------------------------------------

def _weighted_nll(name, log_probs: Tensor, target, weight, ignore_index, reduction,
                  label_smoothing: float = 0.0) -> Tensor:
    """-w[t] logp[t] per sample (0 where ignored), mixed with the smoothed term, reduced as PyTorch
    does: the mean divides by the total weight of the samples that count."""
    target, axis, ignored = class_targets(name, log_probs, target, ignore_index)
    classes = log_probs.shape[axis]
    w = _class_weight(name, weight, classes, log_probs.dtype)
    # The per-sample weights are inspections of the targets: replays compute them anew.
    per_sample = (np.ones(target.shape, log_probs.dtype) if w is None else
                  inspected(np.take, w, target))
    if ignored is not None:
        per_sample = inspected(_zero_where, ignored, per_sample, log_probs.dtype)
    plain = w is None and ignored is None
    loss = apply(NllOp, log_probs, target=target, axis=axis,
                 ignore_index=None if ignored is not None else ignore_index)
    if not plain:
        loss = loss * per_sample
    if label_smoothing:
        wc = np.ones(classes, log_probs.dtype) if w is None else w
        smooth = -(log_probs * _along(wc, axis, log_probs.ndim)).sum(axis=axis)
        if ignored is not None:
            smooth = smooth * inspected(_zero_where, ignored, np.ones((), log_probs.dtype),
                                        log_probs.dtype)
        loss = (1 - label_smoothing) * loss + (label_smoothing / classes) * smooth
    if reduction == "mean" and not plain:
        return loss.sum() / inspected(np.sum, per_sample)
    return _reduce(loss, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index: int = -100,
                  reduce=None, reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """-log softmax(x)[t] for logits x of shape (N, C, ...) or (C,) and integer targets t, fused
    and stable at +-1e4;  d/dx = softmax(x) - onehot(t).  A float target of the input's shape is
    taken as class probabilities: -sum(w * t * log_softmax(x)) over the class axis."""
    check_common("cross_entropy", weight, size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    input = _tensor(input)
    if input.dtype.kind != "f":
        raise TypeError(f"cross_entropy: logits must be floating point, got dtype {input.dtype}")
    raw = target.data if isinstance(target, Tensor) else np.asarray(target)
    if raw.dtype.kind == "f" and raw.shape == input.shape and input.ndim >= 1:
        axis = 1 if input.ndim >= 2 else 0
        classes = input.shape[axis]
        probs = _tensor(target)
        if label_smoothing:
            probs = probs * (1 - label_smoothing) + label_smoothing / classes
        w = _class_weight("cross_entropy", weight, classes, input.dtype)
        terms = probs * log_softmax(input, axis)
        if w is not None:
            terms = terms * _along(w, axis, input.ndim)
        return _reduce(-terms.sum(axis=axis), reduction)
    if weight is not None or label_smoothing:
        return _weighted_nll("cross_entropy", log_softmax(input, 1 if input.ndim >= 2 else 0),
                             target, weight, ignore_index, reduction, label_smoothing)
    target, axis, ignored = class_targets("cross_entropy", input, target, ignore_index)
    if ignored is not None:
        return _weighted_nll("cross_entropy", log_softmax(input, axis), inspected(
            np.where, ignored, ignore_index, target), None, ignore_index, reduction)
    if input.ndim == 2 and reduction != "none" and len(target):
        scale = 1.0 / len(target) if reduction == "mean" else 1.0
        return apply(CrossEntropy2dOp, input, target=target, axis=axis, scale=scale,
                     ignore_index=ignore_index)
    return _reduce(apply(CrossEntropyOp, input, target=target, axis=axis,
                         ignore_index=ignore_index), reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index: int = -100,
             reduce=None, reduction: str = "mean") -> Tensor:
    """-w[t] x[t] for log-probabilities x of shape (N, C, ...) or (C,);  d/dx = -w[t] onehot(t);
    the mean divides by the summed weights of the targets not equal to ignore_index"""
    check_common("nll_loss", weight, size_average, reduce, reduction)
    return _weighted_nll("nll_loss", _tensor(input), target, weight, ignore_index, reduction)
