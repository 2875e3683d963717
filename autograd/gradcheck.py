"""Check analytical gradients against central finite differences."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .reverse import grad as _grad
from .grad_mode import no_grad
from .tensor import Tensor

__all__ = ["gradcheck", "numerical_grad"]


def _scalar_probe(fn, inputs, upstream):
    """<upstream, fn(inputs)> as a float, without recording."""
    with no_grad():
        out = fn(*inputs)
    return float(np.sum(np.asarray(out.data if isinstance(out, Tensor) else out,
                                   dtype=np.float64) * upstream))


def numerical_grad(fn: Callable, inputs: Sequence[Tensor], upstream: np.ndarray, i: int,
                   eps: float) -> np.ndarray:
    """d<upstream, fn>/d inputs[i] by central differences, one entry at a time.  The entries of
    ``inputs[i].data`` are perturbed in place and always restored, also when ``fn`` raises."""
    x = inputs[i].data
    if not (x.flags.c_contiguous and x.flags.writeable):
        raise ValueError(f"numerical_grad: input {i} must be a contiguous writeable array")
    result = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)          # a view: perturbs the input in place
    out_flat = result.reshape(-1)
    for k in range(flat.size):
        original = flat[k]
        try:
            flat[k] = original + eps
            plus = _scalar_probe(fn, inputs, upstream)
            flat[k] = original - eps
            minus = _scalar_probe(fn, inputs, upstream)
        finally:
            flat[k] = original
        out_flat[k] = (plus - minus) / (2 * eps)
    return result


def gradcheck(fn: Callable, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              seed: int = 0) -> bool:
    """Compare the gradients of ``fn(*inputs)`` (contracted with a random upstream gradient) with
    central differences, for every input that requires grad.  Returns True, or raises
    AssertionError naming the input and the first index that disagrees.  Use float64 inputs.

    The check runs on private copies of the inputs, so the caller's arrays are never touched."""
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    inputs = [Tensor(np.array(t.data if isinstance(t, Tensor) else t, copy=True),
                     requires_grad=isinstance(t, Tensor) and t.requires_grad) for t in inputs]
    wrt = [i for i, t in enumerate(inputs) if t.requires_grad]
    if not wrt:
        raise ValueError("gradcheck: no input requires grad")
    out = fn(*inputs)
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise ValueError("gradcheck: fn must return a Tensor computed from the inputs that "
                         "require grad")
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    analytical = _grad(out, [inputs[i] for i in wrt], grad_outputs=upstream.astype(out.dtype),
                       allow_unused=True)
    for i, g in zip(wrt, analytical):
        g = np.zeros(inputs[i].shape) if g is None else np.asarray(g.data, dtype=np.float64)
        numeric = numerical_grad(fn, inputs, upstream, i, eps)
        bad = ~np.isclose(g, numeric, atol=atol, rtol=rtol, equal_nan=True)
        if bad.any():
            index = tuple(int(k) for k in np.argwhere(bad)[0])
            raise AssertionError(
                f"gradcheck: input {i} (shape {inputs[i].shape}) at index {index}: analytical "
                f"{float(g[index])!r} vs numerical {float(numeric[index])!r} "
                f"(atol={atol}, rtol={rtol})")
    return True
