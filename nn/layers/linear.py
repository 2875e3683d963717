"""The fully connected layer (y = x W^T + b as one fused op) and Flatten."""

from __future__ import annotations

import math

import numpy as np

from autograd import Tensor
from autograd.engine import Op, apply

from .. import init
from ..module import Module, Parameter, as_input

__all__ = ["linear", "flatten", "unflatten", "Linear", "Flatten", "Unflatten"]


class LinearOp(Op):
    """y = x W^T + b;  dx = g W,  dW = g^T x (over all leading axes),  db = sum of g"""
    name = "linear"
    save_inputs = True

    def forward(self, x, w, b=None):
        out = x @ w.T
        if b is None:
            return out
        if type(out) is np.ndarray and out.dtype == b.dtype:
            out += b            # out is this op's own fresh array: add the bias in place
            return out
        return out + b

    def backward(self, g):
        x, w, _ = self.inputs
        gx = g @ w if self.needs_grad(0) else None
        gw = None
        if self.needs_grad(1):
            gw = g.reshape((-1, g.shape[-1])).T @ x.reshape((-1, x.shape[-1]))
        gb = None
        if self.needs_grad(2):   # summed here: the engine's generic unbroadcast costs ~2 us more
            gb = g.reshape((-1, g.shape[-1])).sum(axis=0) if type(g) is np.ndarray else g
        return gx, gw, gb


def linear(x, weight, bias=None) -> Tensor:
    """x @ weight.T + bias, for weight of shape (out_features, in_features)."""
    in_features = np.shape(weight)[-1]
    if np.ndim(x) < 1 or np.shape(x)[-1] != in_features:
        raise ValueError(f"linear: input of shape {np.shape(x)} does not match weight of shape "
                         f"{np.shape(weight)}: the last input dimension must be {in_features}")
    return apply(LinearOp, x, weight, bias)


def flatten(x, start_axis: int = 1, end_axis: int = -1) -> Tensor:
    """Merge axes start_axis..end_axis into one (the gradient is reshaped back)."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    shape = x.shape
    if not shape:
        return x.reshape(1)
    start = start_axis % len(shape)
    end = end_axis % len(shape)
    if start > end:
        raise ValueError(f"flatten: start_axis {start_axis} comes after end_axis {end_axis} "
                         f"for shape {shape}")
    merged = math.prod(shape[start:end + 1])
    return x.reshape(shape[:start] + (merged,) + shape[end + 1:])


class Linear(Module):
    """Fully connected layer; weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)) as in PyTorch."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=np.float32) -> None:
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.dtype = np.dtype(dtype)
        self.weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        self.bias = Parameter(np.empty(self.out_features, dtype=dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform(a=sqrt(5)) is PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x) -> Tensor:
        x = as_input(x, self.dtype)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): input of shape "
                             f"{x.shape} must have last dimension {self.in_features}")
        return apply(LinearOp, x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Flatten(Module):
    """Merge axes start_dim..end_dim (default: all but the batch axis); PyTorch's names, and
    ``start_axis``/``end_axis`` as NumPy-style aliases."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1, dtype=np.float32, *,
                 start_axis: int | None = None, end_axis: int | None = None) -> None:
        super().__init__()
        self.start_axis = start_dim if start_axis is None else start_axis
        self.end_axis = end_dim if end_axis is None else end_axis

    def forward(self, x):
        return flatten(x, self.start_axis, self.end_axis)

    def extra_repr(self) -> str:
        return f"start_axis={self.start_axis}, end_axis={self.end_axis}"


def unflatten(x, dim: int, sizes) -> Tensor:
    """Split axis ``dim`` into ``sizes`` (one entry may be -1), the inverse of flatten."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    axis = dim % x.ndim if x.ndim else 0
    sizes = tuple(int(s) for s in sizes)
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[axis]) \
            or (-1 in sizes and (known == 0 or x.shape[axis] % known)):
        raise ValueError(f"unflatten: axis {dim} of shape {x.shape} (size {x.shape[axis]}) "
                         f"cannot be split into {sizes}")
    return x.reshape(x.shape[:axis] + sizes + x.shape[axis + 1:])


class Unflatten(Module):
    """PyTorch's Unflatten(dim, unflattened_size): split one axis into several."""

    def __init__(self, dim: int, unflattened_size) -> None:
        super().__init__()
        self.dim, self.unflattened_size = int(dim), tuple(unflattened_size)

    def forward(self, x) -> Tensor:
        return unflatten(x, self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
