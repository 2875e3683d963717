"""Pooling over NCHW images: the windows of ``unfold`` reduced by max or mean.

Max pooling splits the gradient evenly among tied maxima (API.md's convention), which the max
reduction already does; windows that overlap (stride < kernel) accumulate in ``fold``.
"""

from __future__ import annotations

import numpy as np

import autograd as ag
from autograd.engine import Op, apply
from autograd import Tensor

from ..module import Module
from .conv import pair, unfold

__all__ = ["max_pool2d", "avg_pool2d", "MaxPool2d", "AvgPool2d"]


def _windows(name: str, x, kernel_size, stride, padding, pad_value) -> Tensor:
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    kernel = pair(kernel_size, f"{name}: kernel_size")
    stride = kernel if stride is None else pair(stride, f"{name}: stride")
    padding = pair(padding, f"{name}: padding")
    if x.ndim != 4:
        raise ValueError(f"{name}: expected an NCHW input of 4 dimensions, got shape {x.shape}")
    if min(kernel) < 1 or min(stride) < 1:
        raise ValueError(f"{name}: kernel_size and stride must be >= 1, got {kernel}, {stride}")
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{name}: padding {padding} must be at most half the kernel {kernel}")
    if x.shape[2] + 2 * padding[0] < kernel[0] or x.shape[3] + 2 * padding[1] < kernel[1]:
        raise ValueError(f"{name}: kernel {kernel} is larger than the padded input "
                         f"(input shape {x.shape}, padding {padding})")
    return unfold(x, kernel, stride, padding, pad_value)


class BlockMaxPoolOp(Op):
    """Non-overlapping kh x kw max pooling as elementwise maxima of the kh*kw strided slices of a
    block view (a reduction over small strided axes is ~8x slower); the gradient goes to each
    block's maximum, split evenly among ties"""
    name = "max_pool2d"
    save_output = True

    def forward(self, x, kernel):
        n, c, h, w = x.shape
        kh, kw = self.kernel = kernel
        self.blocks = x.reshape(n, c, h // kh, kh, w // kw, kw)
        out = self.blocks[:, :, :, 0, :, 0].copy()
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    np.maximum(out, self.blocks[:, :, :, i, :, j], out=out)
        return out

    def backward(self, g):
        kh, kw = self.kernel
        out = self.output.data if isinstance(self.output, Tensor) else self.output
        masks = [(i, j, self.blocks[:, :, :, i, :, j] == out) for i in range(kh) for j in range(kw)]
        count = np.zeros(out.shape, g.dtype)
        for _, _, m in masks:
            count += m
        n, c, hh, _, ww, _ = self.blocks.shape
        if isinstance(g, Tensor):               # create_graph: the same rule with Tensor ops
            weights = np.zeros(self.blocks.shape, g.dtype)
            for i, j, m in masks:
                weights[:, :, :, i, :, j] = m / count
            return (g.reshape(n, c, hh, 1, ww, 1) * weights).reshape(n, c, hh * kh, ww * kw)
        share = g / count
        gx = np.empty(self.blocks.shape, g.dtype)
        for i, j, m in masks:
            np.multiply(m, share, out=gx[:, :, :, i, :, j])
        return gx.reshape(n, c, hh * kh, ww * kw)


def max_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """Largest entry of each window (padding with -inf);  the gradient goes to the maximum,
    split evenly among ties"""
    kernel = pair(kernel_size, "max_pool2d: kernel_size")
    if (stride is None or pair(stride, "max_pool2d: stride") == kernel) \
            and not any(pair(padding, "max_pool2d: padding")) and np.ndim(x) == 4 \
            and np.shape(x)[2] % kernel[0] == 0 and np.shape(x)[3] % kernel[1] == 0:
        return apply(BlockMaxPoolOp, x, kernel=kernel)
    windows = _windows("max_pool2d", x, kernel_size, stride, padding, -np.inf)
    return ag.max(windows, axis=(4, 5))


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """Mean of each window (zero padding counted, as PyTorch's default);  d/dx = 1 / (kh kw)"""
    windows = _windows("avg_pool2d", x, kernel_size, stride, padding, 0.0)
    return ag.mean(windows, axis=(4, 5))


class _Pool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dtype=np.float32) -> None:
        super().__init__()
        self.kernel_size = pair(kernel_size, f"{type(self).__name__}: kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride")
        self.padding = pair(padding, f"{type(self).__name__}: padding")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    def forward(self, x) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    def forward(self, x) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)
