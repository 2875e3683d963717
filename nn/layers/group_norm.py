"""GroupNorm and Dropout2d: layers that act on whole channels of (N, C, ...) inputs.

GroupNorm normalises each sample over groups of channels (and all spatial positions), so it does
not depend on the batch; Dropout2d zeroes whole channels (feature maps), which keeps neighbouring
pixels, strongly correlated in a convolution's output, from carrying each other's information.
"""

from __future__ import annotations

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.compiler.protocol import lowered

from ..module import Module, Parameter, as_input
from .dropout import _scaled_mask

__all__ = ["group_norm", "dropout2d", "GroupNorm", "Dropout2d"]


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5) -> Tensor:
    """y = (x - mean_g) / sqrt(var_g + eps) * weight[c] + bias[c], the statistics taken per
    sample over each group of C / num_groups channels and every position (biased variance)."""
    x = input if isinstance(input, Tensor) else Tensor(np.asarray(input))
    if x.ndim < 2 or x.shape[1] % num_groups:
        raise ValueError(f"group_norm: input of shape {x.shape} needs a channel axis 1 divisible "
                         f"by num_groups {num_groups}")
    n, c = x.shape[:2]
    grouped = x.reshape(n, num_groups, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    var = grouped.var(axis=2, keepdims=True)
    y = ((grouped - mean) / ag.sqrt(var + eps)).reshape(x.shape)
    channel = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * ag.reshape(weight, channel)
    if bias is not None:
        y = y + ag.reshape(bias, channel)
    return y


class GroupNorm(Module):
    """PyTorch's GroupNorm(num_groups, num_channels, eps, affine): weight 1, bias 0."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, dtype=np.float32) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels {num_channels} must be divisible by "
                             f"num_groups {num_groups}")
        self.num_groups, self.num_channels, self.eps = int(num_groups), int(num_channels), eps
        self.affine = bool(affine)
        self.dtype = np.dtype(dtype)
        self.weight = Parameter(np.ones(num_channels, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_channels, dtype=dtype)) if affine else None

    def forward(self, x) -> Tensor:
        x = as_input(x, self.dtype)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}): expected an "
                             f"input (N, {self.num_channels}, ...), got {x.shape}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each channel of (N, C, H, W) (or (C, H, W)) with probability p, scale the rest by
    1 / (1 - p); the identity in eval.  ``inplace`` is accepted and ignored (never in place)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout2d: probability p must be in [0, 1], got {p}")
    x = input if isinstance(input, Tensor) else Tensor(np.asarray(input))
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected (N, C, H, W) or (C, H, W), got shape {x.shape}")
    if not training or p == 0:
        return x
    shape = x.shape[:-2] + (1, 1)
    if p == 1:
        return x * np.zeros(shape, dtype=x.dtype)
    # lowered, as dropout's: under ag.compile every replay draws fresh channels
    return x * lowered(_scaled_mask, shape, p, x.dtype, name="dropout2d mask")


class Dropout2d(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout2d: probability p must be in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x) -> Tensor:
        return dropout2d(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
