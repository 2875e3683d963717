"""Pooling over NCHW images: the windows of ``unfold`` reduced by max or mean.

Max pooling splits the gradient evenly among tied maxima (API.md's convention), which the max
reduction already does; windows that overlap (stride < kernel) accumulate in ``fold``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import autograd as ag
from autograd.engine import Op, apply
from autograd import Tensor

from ..module import Module
from .conv import pair, unfold

__all__ = ["max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "MaxPool2d",
           "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]


def _geometry(name: str, x, kernel_size, stride, padding, ceil_mode: bool):
    """Checked kernel, stride, padding, and the extra bottom/right padding ``ceil_mode`` needs
    for its last, partial window (which must start inside the input or the left padding, as in
    PyTorch)."""
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
    extra = []
    for size, k, s, p in zip(x.shape[2:], kernel, stride, padding):
        if size + 2 * p < k:
            raise ValueError(f"{name}: kernel {kernel} is larger than the padded input "
                             f"(input shape {x.shape}, padding {padding})")
        span = size + 2 * p - k
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + p:
            out -= 1
        extra.append((out - 1) * s + k - (size + 2 * p))
    return x, kernel, stride, padding, (max(0, extra[0]), max(0, extra[1]))


def _windows(name: str, x, kernel_size, stride, padding, pad_value, ceil_mode=False) -> Tensor:
    x, kernel, stride, padding, extra = _geometry(name, x, kernel_size, stride, padding,
                                                  ceil_mode)
    if any(extra):
        x = ag.pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])), constant_values=pad_value)
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
        count = masks[0][2].astype(g.dtype)
        for _, _, m in masks[1:]:
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


    # ag.compile's numba backend calls these in place of forward and backward: 2 x 2 blocks take
    # pool_kernels.py's one-pass loops (the same values), other sizes the rules above.
    def numba_forward(self, x, kernel):
        if kernel != (2, 2) or x.dtype.kind != "f":
            return self.forward(x, kernel)
        from .pool_kernels import pool2x2_forward
        n, c, h, w = x.shape
        self.kernel, self.image = kernel, x
        out = np.empty((n, c, h // 2, w // 2), x.dtype)
        pool2x2_forward(x, out)
        return out

    def numba_backward(self, g):
        image = self.__dict__.get("image")
        if image is None or g.dtype != image.dtype:
            if image is not None:
                n, c, h, w = image.shape
                self.blocks = image.reshape(n, c, h // 2, 2, w // 2, 2)
            return self.backward(g)
        from .pool_kernels import pool2x2_backward
        gx = np.empty(self.image.shape, g.dtype)
        pool2x2_backward(self.image, self.output, g, gx)
        return gx


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False) -> Tensor:
    """Largest entry of each window (padding with -inf);  the gradient goes to the maximum,
    split evenly among ties.  ``ceil_mode`` keeps a last partial window."""
    if dilation not in (1, (1, 1)) or return_indices:
        raise ValueError("max_pool2d: dilation other than 1 and return_indices are not "
                         "supported")
    x = input
    kernel = pair(kernel_size, "max_pool2d: kernel_size")
    if (stride is None or pair(stride, "max_pool2d: stride") == kernel) \
            and not any(pair(padding, "max_pool2d: padding")) and np.ndim(x) == 4 \
            and np.shape(x)[2] % kernel[0] == 0 and np.shape(x)[3] % kernel[1] == 0:
        return apply(BlockMaxPoolOp, x, kernel=kernel)
    windows = _windows("max_pool2d", x, kernel_size, stride, padding, -np.inf, ceil_mode)
    return ag.max(windows, axis=(4, 5))


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """Mean of each window;  d/dx = 1 / divisor.  The divisor counts the window's entries inside
    the zero-padded input (``count_include_pad``, PyTorch's default) or inside the input only;
    the part of a ``ceil_mode`` window past the padded input never counts."""
    x, kernel, stride, padding, extra = _geometry("avg_pool2d", input, kernel_size, stride,
                                                  padding, ceil_mode)
    windows = _windows("avg_pool2d", x, kernel_size, stride, padding, 0.0, ceil_mode)
    total = ag.sum(windows, axis=(4, 5))
    if divisor_override:
        return total / divisor_override
    h, w = x.shape[2:]
    if count_include_pad:
        counted = np.ones((1, 1, h + 2 * padding[0], w + 2 * padding[1]))
        counted = np.pad(counted, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    else:
        counted = np.pad(np.ones((1, 1, h, w)), ((0, 0), (0, 0), (padding[0],
                         padding[0] + extra[0]), (padding[1], padding[1] + extra[1])))
    divisor = sliding_window_view(counted, kernel, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]
    return total / divisor.sum(axis=(4, 5)).astype(x.dtype)


def _bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive bins: [floor(i size / out), ceil((i + 1) size / out))."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _adaptive(name: str, x, output_size, reduce) -> Tensor:
    """Rectangular bins are separable: reduce each row bin, then each column bin (out_h + out_w
    ops, not out_h * out_w).  Sizes that divide evenly are one reshape-and-reduce."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    if x.ndim not in (3, 4):
        raise ValueError(f"{name}: expected (N, C, H, W) or (C, H, W), got shape {x.shape}")
    sizes = (output_size, output_size) if isinstance(output_size, (int, np.integer)) \
        else tuple(output_size)
    h, w = x.shape[-2:]
    out_h, out_w = (h if sizes[0] is None else int(sizes[0]), w if sizes[1] is None
                    else int(sizes[1]))
    if out_h < 1 or out_w < 1:
        raise ValueError(f"{name}: output_size must be positive, got {output_size}")
    for axis, size, out in ((-2, h, out_h), (-1, w, out_w)):
        if size % out == 0:
            shape = x.shape[:axis % x.ndim] + (out, size // out) + x.shape[axis % x.ndim + 1:]
            x = reduce(x.reshape(shape), (axis % x.ndim) + 1)
        else:
            index = (slice(None),) * (axis % x.ndim)
            parts = [reduce(x[index + (slice(a, b),)], axis % x.ndim, keepdims=True)
                     for a, b in _bins(size, out)]
            x = ag.concatenate(parts, axis=axis % x.ndim)
    return x


def adaptive_avg_pool2d(input, output_size) -> Tensor:
    """Mean over PyTorch's adaptive bins, for an output of ``output_size`` (int, pair, None
    keeps that size)"""
    return _adaptive("adaptive_avg_pool2d", input, output_size,
                     lambda t, axis, keepdims=False: ag.mean(t, axis=axis, keepdims=keepdims))


def adaptive_max_pool2d(input, output_size, return_indices: bool = False) -> Tensor:
    """Maximum over PyTorch's adaptive bins (ties split the gradient evenly)"""
    if return_indices:
        raise ValueError("adaptive_max_pool2d: return_indices is not supported")
    return _adaptive("adaptive_max_pool2d", input, output_size,
                     lambda t, axis, keepdims=False: ag.max(t, axis=axis, keepdims=keepdims))


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1,
                 return_indices: bool = False, ceil_mode: bool = False, dtype=np.float32) -> None:
        super().__init__()
        if dilation not in (1, (1, 1)) or return_indices:
            raise ValueError("MaxPool2d: dilation other than 1 and return_indices are not "
                             "supported")
        self.kernel_size = pair(kernel_size, "MaxPool2d: kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride")
        self.padding = pair(padding, "MaxPool2d: padding")
        self.ceil_mode = bool(ceil_mode)

    def forward(self, x) -> Tensor:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding,
                          ceil_mode=self.ceil_mode)

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        return text + (", ceil_mode=True" if self.ceil_mode else "")


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None,
                 dtype=np.float32) -> None:
        super().__init__()
        self.kernel_size = pair(kernel_size, "AvgPool2d: kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride")
        self.padding = pair(padding, "AvgPool2d: padding")
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override

    def forward(self, x) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        text += ", ceil_mode=True" if self.ceil_mode else ""
        return text + ("" if self.count_include_pad else ", count_include_pad=False")


class AdaptiveAvgPool2d(Module):
    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        if return_indices:
            raise ValueError("AdaptiveMaxPool2d: return_indices is not supported")

    def forward(self, x) -> Tensor:
        return adaptive_max_pool2d(x, self.output_size)
