"""Dropout: in training, zero each entry with probability p and scale the rest by 1/(1-p)
(inverted dropout, so eval is the identity).  The mask comes from the default generator, which
ag.manual_seed seeds."""

from __future__ import annotations

import numpy as np

from autograd import Tensor
from autograd.compiler.protocol import lowered
from autograd.creation import default_rng

from ..module import Module

__all__ = ["dropout", "Dropout"]


def dropout(x, p: float = 0.5, training: bool = True) -> Tensor:
    """x * mask / (1 - p) with mask ~ Bernoulli(1 - p) in training, x otherwise;
    d/dx = mask / (1 - p)"""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    if not training or p == 0:
        return x
    if p == 1:
        return x * np.zeros(x.shape, dtype=x.dtype)
    # lowered: under ag.compile every replay draws a fresh mask
    return x * lowered(_scaled_mask, x.shape, p, x.dtype, name="dropout mask")


def _scaled_mask(shape: tuple, p: float, dtype) -> np.ndarray:
    keep = default_rng().random(shape) >= p
    scale = np.asarray(1.0 / (1.0 - p), dtype=dtype)
    return (keep * scale).astype(dtype, copy=False)


class Dropout(Module):
    def __init__(self, p: float = 0.5, dtype=np.float32) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability p must be in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
