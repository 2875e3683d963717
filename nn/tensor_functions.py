"""Functions of tensors that are neither layers nor losses, with PyTorch's signatures:
``one_hot``, ``pad``, ``normalize``, ``cosine_similarity``.

``pad`` builds every mode from graphgrad ops: constant padding is ``ag.pad``; reflect, replicate
and circular are one gather along each padded axis (an index array, so the gradient of a padded
entry flows back to the entry it copies, and repeated copies accumulate).
"""

from __future__ import annotations

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.ops.routing import inspected

__all__ = ["one_hot", "pad", "pad_indices", "normalize", "cosine_similarity"]


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def one_hot(tensor, num_classes: int = -1) -> Tensor:
    """Integer classes (any shape) as int64 indicator vectors along a new last axis of length
    ``num_classes`` (-1: one more than the largest class).  Never requires grad."""
    idx = tensor.data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expects integer class values, got dtype {idx.dtype}")
    if num_classes == -1:
        from autograd.compiler.protocol import recording
        rec = recording()
        if rec is not None:   # the width would be the capture's: refused on data, as bool() is
            rec.value_read("one_hot(num_classes=-1)", [tensor])
        num_classes = int(idx.max()) + 1 if idx.size else 0
    # An inspection: a compiled step's replay makes (and checks) it from each call's classes.
    return Tensor._make(inspected(_one_hot, idx, num_classes), None)


def _one_hot(idx: np.ndarray, num_classes: int) -> np.ndarray:
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes}), got min "
                         f"{idx.min()} and max {idx.max()} (shape {idx.shape})")
    return (idx[..., None] == np.arange(num_classes)).astype(np.int64)


def as_indices(indices: np.ndarray) -> np.ndarray:
    """Integer indices as intp: where that copies, a recorded inspection (a compiled step's
    replay casts each call's indices, not the capture's)."""
    return indices if indices.dtype == np.intp else inspected(np.asarray, indices, np.intp)


def as_dtype(values: np.ndarray, dtype) -> np.ndarray:
    """``values`` in ``dtype`` (a weight in the input's), recorded like as_indices where the
    cast copies."""
    return values if values.dtype == dtype else inspected(np.asarray, values, dtype)


def pad_indices(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """The source index of every position of an axis of ``size`` padded by (before, after)."""
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    # reflect: mirror about the first and last entries (which are not repeated)
    period = 2 * (size - 1)
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded >= size, period - folded, folded)


def pad(input, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last ``len(pad) // 2`` axes: ``pad = (left, right)`` for the last axis, then
    ``(top, bottom)`` for the one before, ...  ``mode``: "constant" (with ``value``, default 0),
    "reflect", "replicate", "circular"."""
    x = _tensor(input)
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: needs pairs of pads for at most {x.ndim} axes (input shape "
                         f"{x.shape}), got {pad}")
    if any(p < 0 for p in pad):
        raise ValueError(f"pad: negative padding {pad} is not supported (crop by indexing)")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    if mode != "constant" and value is not None:
        raise ValueError(f"pad: value= is only used by mode='constant', got mode={mode!r}")
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]   # last axis first
    if mode == "constant":
        widths = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]
        return ag.pad(x, widths, constant_values=0.0 if value is None else value)
    for i, (before, after) in enumerate(pairs):
        axis = x.ndim - 1 - i
        size = x.shape[axis]
        if not before and not after:
            continue
        if mode == "reflect" and (before >= size or after >= size):
            raise ValueError(f"pad: reflect padding {(before, after)} must be smaller than the "
                             f"axis it pads (size {size}, input shape {x.shape})")
        if mode == "circular" and (before > size or after > size):
            raise ValueError(f"pad: circular padding {(before, after)} must be at most the size "
                             f"of the axis it pads (size {size}, input shape {x.shape})")
        if size == 0:
            raise ValueError(f"pad: cannot {mode}-pad an empty axis (input shape {x.shape})")
        index = (slice(None),) * axis + (pad_indices(size, before, after, mode),)
        x = x[index]
    return x


def normalize(input, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along ``dim`` (each slice scaled to unit p-norm)"""
    x = _tensor(input)
    norm = ag.norm(x, ord=p, axis=dim, keepdims=True)
    return x / ag.maximum(norm, eps)


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps)) along ``dim`` (inputs broadcast first);
    each input is divided by its clamped norm before the product, as PyTorch does"""
    a, b = _tensor(x1), _tensor(x2)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"cosine_similarity: shapes {a.shape} and {b.shape} do not "
                         f"broadcast") from None
    if a.shape != shape:
        a = ag.broadcast_to(a, shape)
    if b.shape != shape:
        b = ag.broadcast_to(b, shape)
    na = ag.maximum(ag.norm(a, axis=dim, keepdims=True), eps)
    nb = ag.maximum(ag.norm(b, axis=dim, keepdims=True), eps)
    return ((a / na) * (b / nb)).sum(axis=dim)
