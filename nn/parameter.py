"""Parameter, the Tensor a Module registers and optimizers update, and as_input, the dtype rule
every layer applies to its input."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Tensor
from autograd.grad_mode import STATE

__all__ = ["Parameter", "as_input"]


class Parameter(Tensor):
    """A Tensor that a Module registers and optimizers update: requires_grad=True, owns a copy."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype=None) -> None:
        if isinstance(data, Tensor):
            data = data.data
        array = np.array(data, dtype=dtype, copy=True)
        if array.dtype.kind != "f":
            raise TypeError(f"Parameter: only floating-point data can be a parameter, got dtype "
                            f"{array.dtype}; pass dtype=np.float32 (or float64) to convert")
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter" + super().__repr__()[len("Tensor"):]

    def __deepcopy__(self, memo: dict) -> "Parameter":
        new = Parameter(self.data, requires_grad=self.requires_grad)
        new.grad = None if self.grad is None else self.grad.copy()
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol):
        return (Parameter, (self.data, self.requires_grad))


def as_input(x: Any, dtype, layer: str | None = None) -> Tensor:
    """A layer's input as a Tensor (API.md's dtype rule).  ndarrays, lists and integer/bool
    tensors become constants of the layer's dtype, so feeding float64 NumPy data to a float32
    model computes in float32.  A Tensor of the layer's float dtype passes through untouched (it
    may carry gradients); one of another float dtype raises TypeError naming both, as PyTorch
    does, instead of silently computing in the wider type."""
    if isinstance(x, Tensor):
        if x.dtype.kind == "f":
            if dtype is not None and x.dtype != np.dtype(dtype):
                if layer is None:   # the module being called (its forward asked for the input)
                    scope = STATE.scope
                    layer = type(scope[-1]).__name__ if scope else "layer"
                raise TypeError(f"{layer}: input Tensor has dtype {x.dtype} but the layer's "
                                f"parameters are {np.dtype(dtype)}; convert one of them "
                                f"(x.astype(np.{np.dtype(dtype)}) or model.to(np.{x.dtype}))")
            return x
        return Tensor(x.data, dtype=dtype)   # a cast ag.compile records as one
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"expected a Tensor or a numeric array, got {type(x).__name__} "
                        f"of dtype {array.dtype}")
    return Tensor(array, dtype=dtype)
