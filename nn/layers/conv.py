"""2-D convolution (NCHW), vectorised: sliding windows of the padded input, then one matmul.

``unfold`` views every kernel-sized window of an image without copying (N, C, OH, OW, kh, kw);
its adjoint ``fold`` adds window gradients back into an image with one vectorised add per kernel
offset (kh * kw adds, never a loop over pixels).  Each is the other's backward, so convolution has
derivatives of every order.  Pooling layers reuse ``unfold``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd import Tensor
from autograd.engine import Op, apply, dispatch
import autograd as ag

from .. import init
from ..module import Module, Parameter, as_input

__all__ = ["unfold", "fold", "conv2d", "Conv2d", "pair", "output_size"]


def pair(value, what: str) -> tuple[int, int]:
    """An int or a pair of ints as a pair of non-negative ints."""
    items = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(items) != 2 or not all(isinstance(v, (int, np.integer)) and v >= 0 for v in items):
        raise ValueError(f"{what} must be a non-negative int or a pair of them, got {value!r}")
    return int(items[0]), int(items[1])


def output_size(size: int, kernel: int, stride: int) -> int:
    return (size - kernel) // stride + 1


class Unfold(Op):
    """Windows (N, C, OH, OW, kh, kw) of x (N, C, H, W): a strided view; the adjoint is fold"""

    def forward(self, x, kernel, stride):
        self.in_shape, self.kernel, self.stride = x.shape, kernel, stride
        windows = sliding_window_view(x, kernel, axis=(2, 3))
        return windows[:, :, ::stride[0], ::stride[1]]

    def backward(self, g):
        return dispatch(Fold, g, shape=self.in_shape, stride=self.stride)


class Fold(Op):
    """Sum of windows (N, C, OH, OW, kh, kw) back into an image of ``shape``; adjoint of unfold"""

    def forward(self, windows, shape, stride):
        self.stride = stride
        self.kernel = tuple(windows.shape[4:])
        kh, kw = self.kernel
        oh, ow = windows.shape[2:4]
        sh, sw = stride
        out = np.zeros(shape, dtype=windows.dtype)
        for i in range(kh):            # one vectorised add per kernel offset, not per pixel
            for j in range(kw):
                out[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] += \
                    windows[:, :, :, :, i, j]
        return out

    def backward(self, g):
        return dispatch(Unfold, g, kernel=self.kernel, stride=self.stride)


def unfold(x, kernel_size, stride=1, padding=0, pad_value=0.0) -> Tensor:
    """Every kernel-sized window of an NCHW image: shape (N, C, OH, OW, kh, kw)."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    kernel = pair(kernel_size, "kernel_size")
    stride = pair(stride, "stride")
    padding = pair(padding, "padding")
    if x.ndim != 4:
        raise ValueError(f"unfold: expected an NCHW input of 4 dimensions, got shape {x.shape}")
    if min(stride) < 1 or min(kernel) < 1:
        raise ValueError(f"unfold: kernel_size and stride must be >= 1, got {kernel} and {stride}")
    if any(padding):
        x = ag.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2),
                   constant_values=pad_value)
    h, w = x.shape[2:]
    if h < kernel[0] or w < kernel[1]:
        raise ValueError(f"unfold: kernel {kernel} is larger than the (padded) input's spatial "
                         f"size {(h, w)}")
    return apply(Unfold, x, kernel=kernel, stride=stride)


def fold(windows, shape, stride=1) -> Tensor:
    """Adjoint of unfold (no padding): window values summed back into an image of ``shape``."""
    return apply(Fold, windows, shape=tuple(shape), stride=pair(stride, "stride"))


def conv2d(x, weight, bias=None, stride=1, padding=0) -> Tensor:
    """Cross-correlation of x (N, C, H, W) with weight (O, C, kh, kw), plus bias (O,):
    out = cols @ W^T with cols the unfolded windows, so dW = g^T cols and dx = fold(g W)."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    wshape = np.shape(weight)
    if x.ndim != 4 or len(wshape) != 4 or x.shape[1] != wshape[1]:
        raise ValueError(f"conv2d: input of shape {x.shape} does not fit weight of shape "
                         f"{wshape}: expected an input (N, {wshape[1] if len(wshape) == 4 else 'C'}"
                         f", H, W)")
    out_channels, _, kh, kw = wshape
    windows = unfold(x, (kh, kw), stride, padding)                 # (N, C, OH, OW, kh, kw)
    n, c, oh, ow = windows.shape[:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    out = cols @ ag.reshape(weight, (out_channels, c * kh * kw)).T
    if bias is not None:
        out = out + bias
    return apply(Contiguous, out.reshape(n, oh, ow, out_channels).transpose(0, 3, 1, 2))


class Contiguous(Op):
    """A C-contiguous copy (identity in value, so the gradient passes through): conv2d's result
    is an NCHW view of NHWC memory, and the ReLU and pooling after it run faster on NCHW memory"""

    def forward(self, x):
        return np.ascontiguousarray(x)

    def backward(self, g):
        return g


class Conv2d(Module):
    """2-D convolution over NCHW images; weight (out, in, kh, kw) and bias initialised as in
    PyTorch, U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, dtype=np.float32) -> None:
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = pair(kernel_size, "Conv2d: kernel_size")
        self.stride = pair(stride, "Conv2d: stride")
        self.padding = pair(padding, "Conv2d: padding")
        if min(self.kernel_size) < 1 or min(self.stride) < 1:
            raise ValueError(f"Conv2d: kernel_size and stride must be >= 1, got "
                             f"{self.kernel_size} and {self.stride}")
        self.dtype = np.dtype(dtype)
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.bias = Parameter(np.empty(self.out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x) -> Tensor:
        x = as_input(x, self.dtype)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d({self.in_channels}, {self.out_channels}): expected an input "
                             f"of shape (N, {self.in_channels}, H, W), got {x.shape}")
        h, w = (x.shape[2] + 2 * self.padding[0], x.shape[3] + 2 * self.padding[1])
        if h < self.kernel_size[0] or w < self.kernel_size[1]:
            raise ValueError(f"Conv2d: kernel {self.kernel_size} is larger than the padded input "
                             f"size {(h, w)} (input shape {x.shape})")
        return conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if any(self.padding):
            text += f", padding={self.padding}"
        return text + ("" if self.bias is not None else ", bias=False")
