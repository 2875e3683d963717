"""Tensor factories and the default random generator (seeded by manual_seed)."""

from __future__ import annotations

import functools

import numpy as np

from .compiler.protocol import recording
from .spelling import check_device
from .tensor import Tensor

__all__ = ["zeros", "ones", "full", "zeros_like", "ones_like", "arange", "randn", "rand",
           "manual_seed", "default_rng", "empty", "empty_like", "full_like", "rand_like",
           "randn_like", "randint", "eye", "from_numpy", "as_tensor"]

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


def _new_each_call(factory):
    """A factory's Tensor is a new one at every call, so a step being compiled makes it again at
    every replay (Recorder.fresh) instead of reading the capture's object."""
    @functools.wraps(factory)
    def make(*args, **kwargs):
        t = factory(*args, **kwargs)
        rec = recording()
        if rec is not None:
            rec.fresh(t)
        return t
    return make


@_new_each_call
def zeros(*shape, dtype=np.float32, requires_grad=False, device=None) -> Tensor:
    check_device(device, "zeros")
    return Tensor(np.zeros(_shape(shape, "zeros"), dtype=_dtype(dtype, "zeros")),
                  requires_grad=requires_grad)


@_new_each_call
def ones(*shape, dtype=np.float32, requires_grad=False, device=None) -> Tensor:
    check_device(device, "ones")
    return Tensor(np.ones(_shape(shape, "ones"), dtype=_dtype(dtype, "ones")),
                  requires_grad=requires_grad)


@_new_each_call
def empty(*shape, dtype=np.float32, requires_grad=False, device=None) -> Tensor:
    """PyTorch's empty: the values are unspecified (graphgrad gives zeros, so runs repeat)."""
    check_device(device, "empty")
    return Tensor(np.zeros(_shape(shape, "empty"), dtype=_dtype(dtype, "empty")),
                  requires_grad=requires_grad)


@_new_each_call
def full(shape, fill_value, dtype=np.float32, requires_grad=False, device=None) -> Tensor:
    check_device(device, "full")
    shape = _shape((shape,) if isinstance(shape, (int, np.integer)) else (shape,), "full")
    return Tensor(np.full(shape, fill_value, dtype=_dtype(dtype, "full")),
                  requires_grad=requires_grad)


@_new_each_call
def eye(n, m=None, dtype=np.float32, requires_grad=False, device=None) -> Tensor:
    check_device(device, "eye")
    return Tensor(np.eye(n, m, dtype=_dtype(dtype, "eye")), requires_grad=requires_grad)


def _values(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _like(fill, name):
    def like(x, dtype=None, requires_grad=False, device=None) -> Tensor:
        check_device(device, name)
        return Tensor(fill(_values(x), dtype), requires_grad=requires_grad)
    like.__name__ = name
    like.__doc__ = f"A new Tensor of x's shape and dtype (or dtype=): {name}."
    return like


zeros_like = _new_each_call(_like(lambda a, dtype: np.zeros_like(a, dtype=dtype), "zeros_like"))
ones_like = _new_each_call(_like(lambda a, dtype: np.ones_like(a, dtype=dtype), "ones_like"))
empty_like = _new_each_call(_like(lambda a, dtype: np.zeros_like(a, dtype=dtype), "empty_like"))
rand_like = _like(lambda a, dtype: _rng.random(a.shape).astype(dtype or a.dtype, copy=False),
                  "rand_like")
randn_like = _like(lambda a, dtype: _rng.standard_normal(a.shape).astype(dtype or a.dtype,
                                                                          copy=False), "randn_like")


@_new_each_call
def full_like(x, fill_value, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device, "full_like")
    return Tensor(np.full_like(_values(x), fill_value, dtype=dtype), requires_grad=requires_grad)


@_new_each_call
def arange(*args, dtype=None, requires_grad=False, device=None) -> Tensor:
    check_device(device, "arange")
    return Tensor(np.arange(*args, dtype=dtype), requires_grad=requires_grad)


def randn(*shape, dtype=np.float32, requires_grad=False, rng=None, device=None) -> Tensor:
    check_device(device, "randn")
    data = _generator(rng).standard_normal(_shape(shape, "randn"))
    data = data.astype(_dtype(dtype, "randn"), copy=False)
    return Tensor(data, requires_grad=requires_grad)


def rand(*shape, dtype=np.float32, requires_grad=False, rng=None, device=None) -> Tensor:
    check_device(device, "rand")
    data = _generator(rng).random(_shape(shape, "rand")).astype(_dtype(dtype, "rand"), copy=False)
    return Tensor(data, requires_grad=requires_grad)


def randint(*args, size=None, dtype=np.int64, rng=None, device=None) -> Tensor:
    """PyTorch's randint: ``randint(high, size)`` or ``randint(low, high, size)``, high exclusive."""
    check_device(device, "randint")
    if size is None:
        if not args or not isinstance(args[-1], (tuple, list)):
            raise TypeError("randint: give the size, e.g. ag.randint(10, (3,)) or "
                            "ag.randint(0, 10, size=(3,))")
        *args, size = args
    if len(args) not in (1, 2):
        raise TypeError(f"randint: expected (high, size) or (low, high, size), got {len(args)} "
                        "bounds")
    low, high = (0, args[0]) if len(args) == 1 else args
    return Tensor(_generator(rng).integers(low, high, size=_shape(tuple(size), "randint"),
                                           dtype=_dtype(dtype, "randint")))


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor sharing the ndarray's memory (as PyTorch's from_numpy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    return Tensor(array)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """A Tensor of data, sharing memory when it already is an array of that dtype."""
    check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or np.dtype(dtype) == data.dtype):
        return data
    return Tensor(data, dtype=dtype)
