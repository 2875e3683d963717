"""graphgrad's nn step (impl_graphgrad) under ``ag.compile``, numpy or numba backend: the first call
captures, the second verifies, later calls replay.  The harness's warm-up covers both, so timed
steps are replays; its correctness check (first two losses, and the chain/op gradients) sees the
capture and the verification, whose results are eager's."""

from __future__ import annotations

import autograd as ag

from .impl_graphgrad import make_step as _eager_step
from .impl_graphgrad_tensors import commit
from .workloads import Workload

__all__ = ["make_step", "make_numba_step", "versions"]


def versions() -> dict:
    return {"graphgrad": commit()}


def make_step(w: Workload, data, backend: str = "numpy"):
    step = _eager_step(w, data)
    if step is None:
        return None
    compiled = ag.compile(step, backend=backend)
    if hasattr(step, "grads"):
        compiled.grads = step.grads
    return compiled


def make_numba_step(w: Workload, data):
    """The same under backend="numba" (elementwise runs fused; kernels cached on disk)."""
    return make_step(w, data, backend="numba")
