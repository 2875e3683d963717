"""Gradient clipping (the lecture's remedy for exploding gradients) and parameters as one vector."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.compiler.protocol import lowered
from autograd.engine import note_mutation

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _with_grads(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their joint norm is at most ``max_norm``; returns the norm
    before clipping as a 0-d Tensor (``.item()`` gives the float), as PyTorch does.

    Also as PyTorch: the scale is ``max_norm / (norm + 1e-6)`` capped at 1 and applied to every
    gradient, so a non-finite norm makes the gradients non-finite (inf norm: 0 * g, NaN where g is
    inf; NaN norm: NaN) and the optimizer's step shows it; with ``error_if_nonfinite=True`` a
    non-finite norm raises RuntimeError and leaves the gradients untouched."""
    # lowered: under ag.compile every replay measures and scales the replay's gradients
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return lowered(_clip_norm, parameters, max_norm, norm_type, error_if_nonfinite,
                   name="clip_grad_norm_")


def _clip_norm(parameters: list, max_norm: float, norm_type: float,
               error_if_nonfinite: bool) -> Tensor:
    params = _with_grads(parameters)
    if not params:
        return Tensor(np.asarray(0.0, dtype=np.float32))
    dtype = np.result_type(*[p.grad.dtype for p in params])
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(p.grad))) if p.grad.size else 0.0 for p in params)
    else:
        with np.errstate(over="ignore", invalid="ignore"):   # inf/NaN grads: reported below
            total = sum(float(np.sum(np.abs(p.grad.astype(np.float64)) ** norm_type))
                        for p in params) ** (1.0 / norm_type)
    if not math.isfinite(total) and error_if_nonfinite:
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients of {len(params)} parameters is non-finite ({total}), so "
                           f"they cannot be clipped; pass error_if_nonfinite=False to scale anyway")
    scale = max_norm / (total + 1e-6) if not math.isnan(total) else math.nan
    if not scale >= 1.0:     # NaN falls through too
        with np.errstate(invalid="ignore"):   # 0 * inf -> NaN is the documented outcome
            for p in params:
                p.grad *= np.asarray(scale, dtype=p.grad.dtype)
    return Tensor(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clamp every gradient entry into [-clip_value, clip_value], in place."""
    if clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    lowered(_clip_value, parameters, clip_value, name="clip_grad_value_")


def _clip_value(parameters: list, clip_value: float) -> None:
    for p in _with_grads(parameters):
        np.clip(p.grad, -clip_value, clip_value, out=p.grad)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector, differentiable (PyTorch's
    ``torch.cat([p.view(-1) for p in parameters])``)."""
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return ag.concatenate([ag.reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters' values, in place (the inverse of
    parameters_to_vector; the same Parameter objects, so optimizers holding them keep working)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected vec to be a Tensor, got "
                        f"{type(vec).__name__}")
    params = list(parameters)
    sizes = [p.size for p in params]
    if vec.ndim != 1 or vec.shape[0] != sum(sizes):
        raise ValueError(f"vector_to_parameters: vec of shape {vec.shape} does not hold the "
                         f"{sum(sizes)} values of {len(params)} parameters")
    offset = 0
    for p, n in zip(params, sizes):
        np.copyto(p.data, vec.data[offset:offset + n].reshape(p.shape), casting="unsafe")
        offset += n
    note_mutation(*[p.data for p in params])   # a graph that saved them now raises at backward
