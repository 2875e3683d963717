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

__all__ = ["unfold", "fold", "conv2d", "conv1d", "Conv2d", "Conv1d", "pair", "output_size",
           "conv_padding"]


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


def conv_padding(name: str, padding, kernel: tuple, dilation: tuple, stride: tuple
                 ) -> tuple[tuple[int, int], ...]:
    """Per spatial axis (before, after) zero padding for ``padding`` = int, tuple, "valid" or
    "same" (PyTorch: stride 1 only; the odd extra goes after)."""
    if isinstance(padding, str):
        if padding == "valid":
            return tuple((0, 0) for _ in kernel)
        if padding != "same":
            raise ValueError(f"{name}: padding must be an int, a tuple, 'valid' or 'same', got "
                             f"{padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{name}: padding='same' needs stride 1 (as in PyTorch), got "
                             f"stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    items = (padding,) * len(kernel) if isinstance(padding, (int, np.integer)) else tuple(padding)
    if len(items) != len(kernel) or not all(isinstance(p, (int, np.integer)) and p >= 0
                                            for p in items):
        raise ValueError(f"{name}: padding must be a non-negative int or {len(kernel)} of them, "
                         f"got {padding!r}")
    return tuple((int(p), int(p)) for p in items)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1
           ) -> Tensor:
    """Cross-correlation of x (N, C, H, W) with weight (O, C / groups, kh, kw), plus bias (O,),
    PyTorch's F.conv2d: out = cols @ W^T with cols the unfolded windows, so dW = g^T cols and
    dx = fold(g W).  ``padding``: int, pair, "valid" or "same"; ``dilation`` spreads the kernel;
    ``groups`` splits the channels into independent convolutions."""
    x = input if isinstance(input, Tensor) else Tensor(np.asarray(input))
    wshape = np.shape(weight)
    groups = int(groups)
    if groups < 1 or x.ndim != 4 or len(wshape) != 4 or x.shape[1] != wshape[1] * groups \
            or wshape[0] % groups:
        raise ValueError(f"conv2d: input of shape {x.shape} does not fit weight of shape "
                         f"{wshape} with groups={groups}: expected an input (N, "
                         f"{wshape[1] * groups if len(wshape) == 4 else 'C'}, H, W) and "
                         f"out_channels divisible by groups")
    out_channels, _, kh, kw = wshape
    stride = pair(stride, "conv2d: stride")
    dilation = pair(dilation, "conv2d: dilation")
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"conv2d: stride and dilation must be >= 1, got {stride}, {dilation}")
    pads = conv_padding("conv2d", padding, (kh, kw), dilation, stride)
    if any(p for side in pads for p in side):
        x = ag.pad(x, ((0, 0), (0, 0)) + pads)
    if groups == 1:
        return apply(Conv2dOp, x, weight, bias, stride=stride, dilation=dilation)
    windows = _windows(x, (kh, kw), stride, dilation)               # (N, C, OH, OW, kh, kw)
    n, c, oh, ow = windows.shape[:4]
    per = c // groups
    grouped = windows.reshape(n, groups, per, oh, ow, kh, kw)
    w = ag.reshape(weight, (groups, out_channels // groups, per, kh, kw))
    out = ag.einsum("ngcyxij,gocij->ngoyx", grouped, w).reshape(n, out_channels, oh, ow)
    if bias is not None:
        out = out + ag.reshape(bias, (1, out_channels, 1, 1))
    return out


def _windows(x, kernel: tuple, stride: tuple, dilation: tuple):
    """unfold with dilation: the (N, C, OH, OW, kh, kw) windows of x as a recorded view."""
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    windows = unfold(x, span, stride)
    if dilation != (1, 1):
        windows = windows[:, :, :, :, ::dilation[0], ::dilation[1]]
    return windows


def _composed_conv2d(x, weight, bias, stride: tuple, dilation: tuple) -> Tensor:
    """Conv2dOp's definition in recorded ops (windows, one matmul, bias): its create_graph
    backward differentiates this, so second derivatives follow from the ops' own rules."""
    o, c, kh, kw = weight.shape
    windows = _windows(x, (kh, kw), stride, dilation)
    n, _, oh, ow = windows.shape[:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    out = cols @ ag.reshape(weight, (o, c * kh * kw)).T
    if bias is not None:
        out = out + bias
    return out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)


class Conv2dOp(Op):
    """out[n] = W (O, C kh kw) @ cols[n] (C kh kw, OH OW) + b, one batched GEMM written straight
    into NCHW memory (no transpose after it);  dW = sum_n g[n] cols[n]^T,  db = sum of g over
    N, OH, OW,  dx = fold(W^T g[n]).  ``cols`` is im2col built with one slice copy per kernel
    offset, in the order the GEMM reads."""
    name = "conv2d"
    save_inputs = True

    def forward(self, x, weight, bias, stride, dilation):
        self.stride, self.dilation = stride, dilation
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        (sh, sw), (dh, dw) = stride, dilation
        oh = (h - dh * (kh - 1) - 1) // sh + 1
        ow = (w - dw * (kw - 1) - 1) // sw + 1
        cols = np.empty((n, c, kh, kw, oh, ow), x.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[:, :, i, j] = x[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                     j * dw:j * dw + sw * (ow - 1) + 1:sw]
        self.cols = cols = cols.reshape(n, c * kh * kw, oh * ow)
        out = np.matmul(weight.reshape(o, c * kh * kw), cols)
        if bias is not None:
            if out.dtype == bias.dtype:
                out += bias[:, None]
            else:
                out = out + bias[:, None]
        return out.reshape(n, o, oh, ow)

    def backward(self, g):
        x, w, b = self.inputs
        if isinstance(g, Tensor) or isinstance(x, Tensor) or isinstance(w, Tensor):
            return self._backward_tensors(g)
        n, o, oh, ow = g.shape
        g3 = g.reshape(n, o, oh * ow)
        gx = gw = gb = None
        if self.needs_grad(1):
            gw = np.matmul(g3, self.cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
        if b is not None and self.needs_grad(2):
            gb = g3.sum(axis=(0, 2))
        if self.needs_grad(0):
            _, c, kh, kw = w.shape
            (sh, sw), (dh, dw) = self.stride, self.dilation
            gcols = np.matmul(w.reshape(o, c * kh * kw).T, g3).reshape(n, c, kh, kw, oh, ow)
            gx = np.zeros(x.shape, gcols.dtype)
            for i in range(kh):
                for j in range(kw):
                    gx[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                       j * dw:j * dw + sw * (ow - 1) + 1:sw] += gcols[:, :, i, j]
        return gx, gw, gb

    def _backward_tensors(self, g):
        inputs = self.inputs
        wanted = [i for i in range(3) if inputs[i] is not None and self.needs_grad(i)]
        with ag.enable_grad():
            out = _composed_conv2d(*inputs, self.stride, self.dilation)
            grads = ag.grad(out, [inputs[i] for i in wanted], grad_outputs=g, create_graph=True,
                            allow_unused=True)
        result = [None, None, None]
        for i, gi in zip(wanted, grads):
            result[i] = gi
        return tuple(result)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1
           ) -> Tensor:
    """conv2d over (N, C, L) with weight (O, C / groups, k): the same windows on a height-1
    image, so the same gradients."""
    x = input if isinstance(input, Tensor) else Tensor(np.asarray(input))
    wshape = np.shape(weight)
    if x.ndim != 3 or len(wshape) != 3:
        raise ValueError(f"conv1d: expected an input (N, C, L) and a weight (O, C / groups, k), "
                         f"got {x.shape} and {wshape}")
    if not isinstance(padding, str):
        items = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,)
        padding = (0,) + items
    out = conv2d(ag.expand_dims(x, 2), ag.expand_dims(weight, 2), bias, (1, _one(stride)),
                 padding, (1, _one(dilation)), groups)
    return out.reshape(out.shape[0], out.shape[1], out.shape[3])


def _one(value) -> int:
    return int(value[0]) if isinstance(value, (tuple, list)) else int(value)


_PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
                  "circular": "circular"}


class _ConvNd(Module):
    """Shared by Conv1d and Conv2d: PyTorch's arguments, weight (out, in / groups, *kernel) and
    bias initialised U(-1/sqrt(fan_in), 1/sqrt(fan_in)); ``padding_mode`` other than "zeros"
    pads with F.pad first."""

    dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 dtype=np.float32) -> None:
        super().__init__()
        name = type(self).__name__
        self.in_channels, self.out_channels, self.groups = (int(in_channels), int(out_channels),
                                                            int(groups))
        if self.groups < 1 or self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{name}: in_channels {in_channels} and out_channels {out_channels} "
                             f"must both be divisible by groups {groups}")
        self.kernel_size = self._tuple(kernel_size, "kernel_size")
        self.stride = self._tuple(stride, "stride")
        self.dilation = self._tuple(dilation, "dilation")
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(f"{name}: kernel_size, stride and dilation must be >= 1, got "
                             f"{self.kernel_size}, {self.stride} and {self.dilation}")
        self.padding = padding if isinstance(padding, str) else self._tuple(padding, "padding")
        self._pads = conv_padding(name, padding, self.kernel_size, self.dilation, self.stride)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {sorted(_PADDING_MODES)}, got "
                             f"{padding_mode!r}")
        self.padding_mode = padding_mode
        self.dtype = np.dtype(dtype)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(np.empty(shape, dtype=dtype))
        self.bias = Parameter(np.empty(self.out_channels, dtype=dtype)) if bias else None
        self.reset_parameters()

    def _tuple(self, value, what: str) -> tuple[int, ...]:
        items = (value,) * self.dims if isinstance(value, (int, np.integer)) else tuple(value)
        if len(items) != self.dims or not all(isinstance(v, (int, np.integer)) and v >= 0
                                              for v in items):
            raise ValueError(f"{type(self).__name__}: {what} must be a non-negative int or "
                             f"{self.dims} of them, got {value!r}")
        return tuple(int(v) for v in items)

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0.0
            init.uniform_(self.bias, -bound, bound)

    def _prepare(self, x) -> tuple[Tensor, object]:
        """The input checked, padded by padding_mode when that is not zeros; and the padding
        left for the convolution itself."""
        x = as_input(x, self.dtype)
        layout = "(N, C, L)" if self.dims == 1 else "(N, C, H, W)"
        if x.ndim != self.dims + 2 or x.shape[1] != self.in_channels:
            raise ValueError(f"{type(self).__name__}({self.in_channels}, {self.out_channels}): "
                             f"expected an input {layout} with C = {self.in_channels}, got "
                             f"{x.shape}")
        if self.padding_mode == "zeros":
            return x, self._pads if not isinstance(self.padding, str) else self.padding
        from ..tensor_functions import pad
        flat = tuple(p for side in reversed(self._pads) for p in side)
        return pad(x, flat, mode=_PADDING_MODES[self.padding_mode]), 0

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != "valid" and (isinstance(self.padding, str) or any(self.padding)):
            text += f", padding={self.padding}"
        if any(d != 1 for d in self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode!r}"
        return text + ("" if self.bias is not None else ", bias=False")


class Conv2d(_ConvNd):
    """2-D convolution over NCHW images (PyTorch's Conv2d arguments)."""

    dims = 2

    def forward(self, x) -> Tensor:
        x, pads = self._prepare(x)
        padding = pads if isinstance(pads, (str, int)) else tuple(p for p, _ in pads)
        if isinstance(pads, tuple) and any(a != b for a, b in pads):    # "same" with even k
            padding = "same"
        h, w = x.shape[2:]
        span = [d * (k - 1) + 1 for k, d in zip(self.kernel_size, self.dilation)]
        extra = [sum(p) for p in self._pads] if self.padding_mode == "zeros" else [0, 0]
        if h + extra[0] < span[0] or w + extra[1] < span[1]:
            raise ValueError(f"Conv2d: kernel {self.kernel_size} (dilation {self.dilation}) is "
                             f"larger than the padded input size {(h + extra[0], w + extra[1])} "
                             f"(input shape {x.shape})")
        return conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) sequences (PyTorch's Conv1d arguments)."""

    dims = 1

    def forward(self, x) -> Tensor:
        x, pads = self._prepare(x)
        padding = pads if isinstance(pads, (str, int)) else pads[0][0]
        return conv1d(x, self.weight, self.bias, self.stride, padding, self.dilation,
                      self.groups)
