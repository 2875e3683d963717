"""Snapshots of everything a captured program touches, for verification and check mode: the
Tensors it reads or writes (``.data`` and ``.grad``), the state its lowered calls declare, arrays
passed to lowered calls, and graphgrad's random generator.  Restoring writes arrays back in place,
so every reference to them (an optimizer's, a module's) stays valid."""

from __future__ import annotations

import math

import numpy as np

from .. import creation
from ..tensor import Tensor

__all__ = ["take", "restore", "collect", "first_difference"]


def _copy(value):
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def _tensors(rec, arg_tensors):
    for info in rec.tensors.values():
        if info.ref[0] == "A":
            yield rec.label(info.tensor), arg_tensors[info.ref[1]]
        else:
            yield rec.label(info.tensor), info.tensor


def _items(rec):
    """(label, container, key) for every declared piece of lowered state, as it is now."""
    seen = set()
    for name, _, state in rec.lowered_calls:
        if state is None or id(state) in seen:
            continue
        seen.add(id(state))
        for label, container, key in state():
            yield f"{name}: {label}", container, key


def _get(container, key):
    return container[key] if isinstance(container, dict) else getattr(container, key)


def _set(container, key, value) -> None:
    if isinstance(container, dict):
        container[key] = value
    else:
        setattr(container, key, value)


def take(rec, arg_tensors) -> list:
    snap = []
    for label, t in _tensors(rec, arg_tensors):
        snap.append(("tensor", t, t.data, _copy(t.data), t.grad, _copy(t.grad)))
    for label, container, key in _items(rec):
        value = _get(container, key)
        snap.append(("item", container, key, value, _copy(value)))
    for a in rec.lowered_arrays:
        snap.append(("array", a, _copy(a)))
    rng = creation.default_rng()
    snap.append(("rng", rng, rng.bit_generator.state))
    return snap


def restore(snap) -> None:
    for entry in snap:
        kind = entry[0]
        if kind == "tensor":
            _, t, data, data_copy, grad, grad_copy = entry
            data[...] = data_copy
            t.data = data
            if grad is not None:
                grad[...] = grad_copy
            t.grad = grad
        elif kind == "item":
            _, container, key, value, copy = entry
            if isinstance(value, np.ndarray):
                value[...] = copy
            _set(container, key, value)
        elif kind == "array":
            entry[1][...] = entry[2]
        else:                               # the generator object stays; its state goes back
            entry[1].bit_generator.state = entry[2]


def collect(rec, arg_tensors, result) -> list:
    """(label, copy of value) for every piece of state and every returned value, now."""
    out = []
    for label, t in _tensors(rec, arg_tensors):
        out.append((f"{label} .data", _copy(t.data)))
        out.append((f"{label} .grad", _copy(t.grad)))
    for label, container, key in _items(rec):
        out.append((label, _copy(_get(container, key))))
    for i, a in enumerate(rec.lowered_arrays):
        out.append((f"array {i} passed to a lowered call", _copy(a)))
    _returned(result, "the return value", out)
    return out


def _returned(obj, label, out) -> None:
    if isinstance(obj, Tensor):
        out.append((label, _copy(obj.data)))
    elif isinstance(obj, (tuple, list)):
        for i, x in enumerate(obj):
            _returned(x, f"{label}[{i}]", out)
    elif isinstance(obj, dict):
        for k, x in obj.items():
            _returned(x, f"{label}[{k!r}]", out)
    else:
        out.append((label, _copy(obj)))


# The numba backend's per-step tolerance: relative to the largest magnitude of the eager value.
FUSED_RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}


def _equal(a, b, fused: bool = False) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                and a.dtype == b.dtype):
            return False
        if a.tobytes() == b.tobytes():
            return True
        rtol = FUSED_RTOL.get(a.dtype) if fused else None
        if rtol is None:
            return False
        # NaN and infinities where eager has them, the same; the finite values within rtol of
        # the largest finite one (an infinity in the scale would accept any difference)
        finite = np.isfinite(b)
        if not np.array_equal(finite, np.isfinite(a)) or not np.array_equal(
                a[~finite], b[~finite], equal_nan=True):
            return False
        a, b = a[finite], b[finite]
        scale = np.max(np.abs(b), initial=0.0)
        return bool(np.all(np.abs(a - b) <= rtol * scale))
    if fused and isinstance(a, float) and isinstance(b, float):
        if not (math.isfinite(a) and math.isfinite(b)):
            return a == b or (a != a and b != b)
        return abs(a - b) <= 1e-5 * abs(b)
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def first_difference(a: list, b: list, fused: bool = False) -> str | None:
    if len(a) != len(b):
        return "the set of state it touches"
    for (label, x), (_, y) in zip(a, b):
        if not _equal(x, y, fused):
            return label
    return None
