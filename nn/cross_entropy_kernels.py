"""numba kernels for cross-entropy over (N, C) logits (CrossEntropy2dOp) under ag.compile's
numba backend: one pass per row for the loss and the probabilities, one for the gradient, where
the NumPy rules make about ten calls forward (maxima, shift, exp, sums, division, log, picks)
and two backward, each costing more than its arithmetic at the sizes of a classifier's head
(128 x 10: ~35 us against ~3 us).

Each row is shifted by its maximum (NaN propagates: a row holding one gives NaN, as the rules
do), exponentiated and summed in the logits' dtype; the loss adds log(sum) - shifted[target]
over the rows in float64, then takes the dtype.  Within the backend's tolerance of the rules,
not bitwise (the sums' order differs).  Targets are checked by the op before the kernels run.
Imported only by that backend (numba is an optional dependency).
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@numba.njit(**_JIT)
def forward(x, target, probs):
    """Writes softmax(x) into probs; returns the sum over rows of -log softmax(x)[target]."""
    n, c = x.shape
    total = 0.0
    for i in range(n):
        row, p = x[i], probs[i]
        m = row[0]
        for j in range(1, c):
            v = row[j]
            m = v if (v > m) | (v != v) else m
        s = np.exp(row[0] - m)
        p[0] = s
        for j in range(1, c):
            e = np.exp(row[j] - m)
            p[j] = e
            s += e
        for j in range(c):
            p[j] /= s
        total += np.log(s) - (row[target[i]] - m)
    return total


@numba.njit(**_JIT)
def backward(probs, target, scale, grad):
    """grad = scale * (probs - onehot(target))."""
    n, c = probs.shape
    for i in range(n):
        for j in range(c):
            grad[i, j] = probs[i, j] * scale
        grad[i, target[i]] -= scale
