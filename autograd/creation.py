"""Tensor factories and the default random generator (seeded by manual_seed)."""

from __future__ import annotations

import numpy as np

from .tensor import Tensor

__all__ = ["zeros", "ones", "full", "zeros_like", "ones_like", "arange", "randn", "rand",
           "manual_seed", "default_rng"]

_rng = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed the generator used by randn, nn.init and Dropout; returns it."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def default_rng() -> np.random.Generator:
    return _rng


def _generator(rng) -> np.random.Generator:
    if rng is None:
        return _rng
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _shape(shape: tuple, name: str) -> tuple:
    """``(2, 3)`` or ``((2, 3),)`` as a tuple of non-negative ints; anything else is refused."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for n in shape:
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{name}: a shape is ints or one tuple of ints, got {shape!r}")
        if n < 0:
            raise ValueError(f"{name}: negative dimension in shape {shape!r}")
    return tuple(int(n) for n in shape)


def _dtype(dtype, name: str):
    try:
        return None if dtype is None else np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{name}: {err}") from None


def zeros(*shape, dtype=np.float32, requires_grad=False) -> Tensor:
    return Tensor(np.zeros(_shape(shape, "zeros"), dtype=_dtype(dtype, "zeros")),
                  requires_grad=requires_grad)


def ones(*shape, dtype=np.float32, requires_grad=False) -> Tensor:
    return Tensor(np.ones(_shape(shape, "ones"), dtype=_dtype(dtype, "ones")),
                  requires_grad=requires_grad)


def full(shape, fill_value, dtype=np.float32, requires_grad=False) -> Tensor:
    shape = _shape((shape,) if isinstance(shape, (int, np.integer)) else (shape,), "full")
    return Tensor(np.full(shape, fill_value, dtype=_dtype(dtype, "full")),
                  requires_grad=requires_grad)


def zeros_like(x, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.zeros_like(np.asarray(x), dtype=dtype), requires_grad=requires_grad)


def ones_like(x, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.ones_like(np.asarray(x), dtype=dtype), requires_grad=requires_grad)


def arange(*args, dtype=None, requires_grad=False) -> Tensor:
    return Tensor(np.arange(*args, dtype=dtype), requires_grad=requires_grad)


def randn(*shape, dtype=np.float32, requires_grad=False, rng=None) -> Tensor:
    data = _generator(rng).standard_normal(_shape(shape, "randn"))
    data = data.astype(_dtype(dtype, "randn"), copy=False)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, dtype=np.float32, requires_grad=False, rng=None) -> Tensor:
    data = _generator(rng).random(_shape(shape, "rand")).astype(_dtype(dtype, "rand"), copy=False)
    return Tensor(data, requires_grad=requires_grad)
