"""The numba kernel of SGD's update (SGD._numba_update) for ag.compile's numba backend: one pass
over a parameter where the NumPy update makes two to six (momentum, weight decay, nesterov each
add passes and temporaries), which is most of an optimizer step on large layers.

Each element goes through the NumPy update's own operations in its order, every scalar already
cast to the parameter's dtype as NumPy casts a Python number, so the values are NumPy's (a NaN's
sign bit aside, which LLVM may take from the other operand).  Hyperparameters given as NumPy
scalars keep the NumPy update (SGD._numba_update), which computes in their dtype.
Imported only by that backend (numba is an optional dependency).
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, error_model="numpy")


# Below this many elements the kernel's call (its arguments' types, views) costs more than the
# NumPy update's second pass: measured 3.6 us against 2 us a parameter on mlp_small's.
SMALLEST = 1 << 14


def takes(data: np.ndarray, d: np.ndarray, buf, momentum) -> bool:
    """Whether the kernels can update ``data`` in place from gradient ``d`` (and ``buf``)."""
    if data.dtype not in (np.float32, np.float64) or d.dtype != data.dtype or (
            d.shape != data.shape or not (data.flags.c_contiguous and d.flags.c_contiguous)):
        return False
    if not momentum:
        return True
    return buf is not None and buf.dtype == data.dtype and buf.shape == data.shape and (
        buf.flags.c_contiguous)


@numba.njit(**_JIT)
def sgd_momentum(p, d, buf, lr, momentum):
    """buf = momentum * buf + d; p -= lr * buf (sgd_update's case without its branches, measured
    20-50 % faster on 64K and 1M elements)."""
    for i in range(p.size):
        b = buf[i] * momentum + d[i]
        buf[i] = b
        p[i] = p[i] - lr * b


@numba.njit(**_JIT)
def sgd_update(p, d, buf, lr, momentum, keep, decay, has_momentum, dampened, decayed, nesterov,
               maximize):
    """Every other setting (plain SGD too: as fast as a kernel of its own): p -= lr * step, where step is d (negated if maximize, plus decay * p
    if decayed), through the momentum buffer if has_momentum (momentum != 0 before its cast: a
    momentum below float32's range is still on, as in NumPy's update): buf = momentum * buf +
    keep * step (keep = 1 - dampening, applied only if dampened), then step = buf, or step +
    momentum * buf (nesterov)."""
    for i in range(p.size):
        x = -d[i] if maximize else d[i]
        if decayed:
            x = x + decay * p[i]
        if has_momentum:
            b = buf[i] * momentum
            b = b + (keep * x if dampened else x)
            buf[i] = b
            x = x + momentum * b if nesterov else b
        p[i] = p[i] - lr * x
