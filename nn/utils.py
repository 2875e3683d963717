"""Gradient clipping (the lecture's remedy for exploding gradients)."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from autograd import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector"]


def _with_grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0) -> float:
    """Scale all gradients together so their joint norm is at most ``max_norm``; returns the
    norm before clipping (inf or NaN norms are returned and leave the gradients unchanged)."""
    params = _with_grads(parameters)
    if not params:
        return 0.0
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(p.grad))) if p.grad.size else 0.0 for p in params)
    else:
        total = sum(float(np.sum(np.abs(p.grad.astype(np.float64)) ** norm_type))
                    for p in params) ** (1.0 / norm_type)
    if math.isfinite(total):
        scale = max_norm / (total + 1e-6)
        if scale < 1:
            for p in params:
                p.grad *= np.asarray(scale, dtype=p.grad.dtype)
    return total


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value], in place."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _with_grads(parameters):
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)


def parameters_to_vector(parameters: Iterable[Tensor]) -> np.ndarray:
    """All parameters' values as one flat float64 vector (handy for tests and line searches)."""
    arrays = [np.asarray(p.data, dtype=np.float64).reshape(-1) for p in parameters]
    return np.concatenate(arrays) if arrays else np.zeros(0)
