"""Normalisers along an axis: softmax and log_softmax, stable at logits of +-1e4."""

from __future__ import annotations

import numpy as np

from ..engine import Op, apply
from .elementwise import quiet_exp

__all__ = ["softmax", "log_softmax"]


def _shifted(x, axis):
    """x minus its max along axis (finite maxima only), so exp never overflows."""
    m = np.max(x, axis=axis, keepdims=True)
    return x - np.where(np.isfinite(m), m, 0)


class Softmax(Op):
    """d softmax = s * (g - sum(g * s))"""
    save_output = True

    def forward(self, x, axis=-1):
        self.axis = axis
        e = quiet_exp(_shifted(x, axis))
        return e / np.sum(e, axis=axis, keepdims=True)

    def backward(self, g):
        s = self.output
        return s * (g - (g * s).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Op):
    """d log_softmax = g - softmax * sum(g)"""
    name = "log_softmax"
    save_output = True

    def forward(self, x, axis=-1):
        self.axis = axis
        z = _shifted(x, axis)
        return z - np.log(np.sum(quiet_exp(z), axis=axis, keepdims=True))

    def backward(self, g):
        return g - quiet_exp(self.output) * g.sum(axis=self.axis, keepdims=True)


def softmax(x, axis=-1): return apply(Softmax, x, axis=axis)
def log_softmax(x, axis=-1): return apply(LogSoftmax, x, axis=axis)
