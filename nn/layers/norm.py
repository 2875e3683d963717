"""Normalisation layers: BatchNorm1d/2d (batch statistics in training, running ones in eval) and
LayerNorm.  Both are written with differentiable ops, so every order of derivative is exact:
y = (x - mean) / sqrt(var + eps) * weight + bias.
"""

from __future__ import annotations

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.compiler.protocol import lowered
from autograd.grad_mode import no_grad

from .. import init
from ..module import Module, Parameter, as_input

__all__ = ["batch_norm", "layer_norm", "BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def _channel_shape(x: Tensor) -> tuple:
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
               training: bool = False, momentum: float | None = 0.1, eps: float = 1e-5,
               num_batches_tracked=None) -> Tensor:
    """Normalise each channel (axis 1) over the batch and spatial axes.  In training the batch's
    biased variance normalises and the running statistics (if given) move towards the batch's
    mean and unbiased variance by ``momentum`` (a cumulative average when momentum is None)."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected an input (N, C, ...), got shape {x.shape}")
    axes = (0,) + tuple(range(2, x.ndim))
    shape = _channel_shape(x)
    if training or running_mean is None:
        count = x.size // x.shape[1] if x.shape[1] else 0
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel in training, "
                             f"got input shape {x.shape}")
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if training and running_mean is not None:
            # lowered: under ag.compile every replay updates the running statistics
            lowered(_update_from_batch, running_mean, running_var, num_batches_tracked, momentum,
                    mean.data, var.data, count, name="batch_norm running statistics")
    else:
        # Tensor ops on the statistics (no gradient): a compiled step's replay reads their
        # current values, not the capture's (NumPy arithmetic here would be a constant).
        mean = ag.reshape(_constant(running_mean), shape)
        var = ag.reshape(_constant(running_var), shape)
    y = (x - mean) / ag.sqrt(var + eps)
    if weight is not None:
        y = y * ag.reshape(weight, shape)
    if bias is not None:
        y = y + ag.reshape(bias, shape)
    return y


def _data(t) -> np.ndarray:
    return t.data if isinstance(t, Tensor) else np.asarray(t)


def _constant(t) -> Tensor:
    return t.detach() if isinstance(t, Tensor) else Tensor(np.asarray(t))


def _update_from_batch(running_mean, running_var, tracked, momentum, mean, var, count) -> None:
    with no_grad():
        _update_running(running_mean, running_var, tracked, momentum, mean.reshape(-1),
                        var.reshape(-1) * (count / (count - 1)))


def _update_running(running_mean, running_var, tracked, momentum, mean, var) -> None:
    if tracked is not None:
        tracked.data[...] += 1
    factor = momentum
    if factor is None:      # cumulative moving average over the batches seen so far
        factor = 1.0 / float(tracked.data) if tracked is not None else 0.0
    for buf, value in ((running_mean, mean), (running_var, var)):
        target = _data(buf)
        target *= 1 - factor
        target += factor * value


def layer_norm(x, normalized_shape, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last len(normalized_shape) axes of each sample, then scale and shift."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    normalized_shape = tuple(normalized_shape) if not isinstance(normalized_shape, int) \
        else (normalized_shape,)
    k = len(normalized_shape)
    if x.shape[x.ndim - k:] != normalized_shape or x.ndim < k:
        raise ValueError(f"layer_norm: input of shape {x.shape} must end with the normalized "
                         f"shape {normalized_shape}")
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mean) / ag.sqrt(var + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


class _BatchNorm(Module):
    """Shared by BatchNorm1d/2d: weight 1, bias 0, running mean 0 and variance 1 (PyTorch)."""

    dims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 dtype=np.float32) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.dtype = np.dtype(dtype)
        self.weight = Parameter(np.ones(self.num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(self.num_features, dtype=dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_parameters(self) -> None:
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, x) -> Tensor:
        x = as_input(x, self.dtype)
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            wanted = " or ".join(f"{d}-D" for d in self.dims)
            raise ValueError(f"{type(self).__name__}({self.num_features}): expected a {wanted} "
                             f"input with {self.num_features} channels on axis 1, got shape "
                             f"{x.shape}")
        use_batch = self.training or not self.track_running_stats
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=use_batch, momentum=self.momentum, eps=self.eps,
                          num_batches_tracked=self.num_batches_tracked)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs."""
    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of NCHW images, per channel."""
    dims = (4,)


class LayerNorm(Module):
    """Per-sample normalisation over the trailing ``normalized_shape`` axes."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=np.float32) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps = float(eps)
        self.dtype = np.dtype(dtype)
        self.weight = (Parameter(np.ones(self.normalized_shape, dtype=dtype))
                       if elementwise_affine else None)
        self.bias = (Parameter(np.zeros(self.normalized_shape, dtype=dtype))
                     if elementwise_affine and bias else None)

    def forward(self, x) -> Tensor:
        return layer_norm(as_input(x, self.dtype), self.normalized_shape, self.weight, self.bias,
                          self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}"
