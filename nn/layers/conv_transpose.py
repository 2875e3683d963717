"""Transposed 2-D convolution (PyTorch's ConvTranspose2d): the adjoint of conv2d.

Each input pixel scatters ``x[n, c, h, w] * W[c, o]`` (a kh x kw patch) into the output at
``(h * stride, w * stride)``: the patches are one einsum, and ``fold`` (conv2d's adjoint) adds
them into place; then ``padding`` is cropped from each border and ``output_padding`` extends the
bottom/right.  A dilated kernel is the kernel with zeros between its taps (a selection einsum).
"""

from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd import Tensor

from .. import init
from ..module import Module, Parameter, as_input
from .conv import fold, pair

__all__ = ["conv_transpose2d", "ConvTranspose2d"]


def _spread(weight: Tensor, dilation: tuple[int, int]) -> Tensor:
    """(C, O, kh, kw) -> (C, O, d(kh-1)+1, d(kw-1)+1) with zeros between the taps."""
    kh, kw = weight.shape[2:]
    rows = np.zeros((dilation[0] * (kh - 1) + 1, kh), weight.dtype)
    rows[np.arange(kh) * dilation[0], np.arange(kh)] = 1
    cols = np.zeros((dilation[1] * (kw - 1) + 1, kw), weight.dtype)
    cols[np.arange(kw) * dilation[1], np.arange(kw)] = 1
    return ag.einsum("coij,ai,bj->coab", weight, rows, cols)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups: int = 1, dilation=1) -> Tensor:
    """Transposed convolution of x (N, C, H, W) with weight (C, O / groups, kh, kw): output
    (N, O, (H-1) s - 2 p + d (k-1) + output_padding + 1, ...), PyTorch's F.conv_transpose2d."""
    x = input if isinstance(input, Tensor) else Tensor(np.asarray(input))
    w = weight if isinstance(weight, Tensor) else Tensor(np.asarray(weight))
    groups = int(groups)
    if x.ndim != 4 or w.ndim != 4 or x.shape[1] != w.shape[0] or groups < 1 \
            or w.shape[0] % groups:
        raise ValueError(f"conv_transpose2d: input of shape {x.shape} does not fit weight of "
                         f"shape {w.shape} (expected input (N, C, H, W) and weight "
                         f"(C, O / groups, kh, kw), groups={groups})")
    stride, padding = pair(stride, "conv_transpose2d: stride"), pair(padding, "padding")
    extra, dilation = pair(output_padding, "output_padding"), pair(dilation, "dilation")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv_transpose2d: stride and dilation must be >= 1, got {stride}, "
                         f"{dilation}")
    if extra[0] >= max(stride[0], dilation[0]) or extra[1] >= max(stride[1], dilation[1]):
        raise ValueError(f"conv_transpose2d: output_padding {extra} must be smaller than stride "
                         f"{stride} or dilation {dilation}")
    if dilation != (1, 1):
        w = _spread(w, dilation)
    n, c, h, wd = x.shape
    kh, kw = w.shape[2:]
    out_per = w.shape[1]
    # patches (N, O, H, W, kh, kw): for each input pixel, its contribution to the output
    grouped = x.reshape(n, groups, c // groups, h, wd)
    wg = w.reshape(groups, c // groups, out_per, kh, kw)
    patches = ag.einsum("ngchw,gcoij->ngohwij", grouped, wg).reshape(
        n, groups * out_per, h, wd, kh, kw)
    full = ((h - 1) * stride[0] + kh, (wd - 1) * stride[1] + kw)
    out = fold(patches, (n, groups * out_per) + full, stride)
    height = full[0] - 2 * padding[0] + extra[0]
    width = full[1] - 2 * padding[1] + extra[1]
    if height < 1 or width < 1:
        raise ValueError(f"conv_transpose2d: padding {padding} leaves no output for input "
                         f"{x.shape} and kernel {(kh, kw)}")
    grow = (max(0, padding[0] + height - full[0]), max(0, padding[1] + width - full[1]))
    if any(grow):
        out = ag.pad(out, ((0, 0), (0, 0), (0, grow[0]), (0, grow[1])))
    out = out[:, :, padding[0]:padding[0] + height, padding[1]:padding[1] + width]
    if bias is not None:
        out = out + ag.reshape(bias, (1, -1, 1, 1))
    return out


class ConvTranspose2d(Module):
    """PyTorch's ConvTranspose2d: weight (in, out / groups, kh, kw), bias (out,), both
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with PyTorch's fan_in (out / groups * kh * kw)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 output_padding=0, groups: int = 1, bias: bool = True, dilation=1,
                 padding_mode: str = "zeros", dtype=np.float32) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d: only padding_mode='zeros' is supported (as in "
                             f"PyTorch), got {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = (int(in_channels), int(out_channels),
                                                            int(groups))
        if self.groups < 1 or self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"ConvTranspose2d: in_channels {in_channels} and out_channels "
                             f"{out_channels} must both be divisible by groups {groups}")
        self.kernel_size = pair(kernel_size, "ConvTranspose2d: kernel_size")
        self.stride, self.padding = pair(stride, "stride"), pair(padding, "padding")
        self.output_padding, self.dilation = pair(output_padding, "output_padding"), \
            pair(dilation, "dilation")
        self.dtype = np.dtype(dtype)
        shape = (self.in_channels, self.out_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.bias = Parameter(np.empty(self.out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.out_channels // self.groups * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x) -> Tensor:
        x = as_input(x, self.dtype)
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ConvTranspose2d({self.in_channels}, {self.out_channels}): "
                             f"expected an input (N, {self.in_channels}, H, W), got {x.shape}")
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.groups, self.dilation)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if any(self.padding):
            text += f", padding={self.padding}"
        if any(self.output_padding):
            text += f", output_padding={self.output_padding}"
        return text + ("" if self.bias is not None else ", bias=False")
