"""One worker: the NumPy floor and a group of implementations, timed interleaved in this process.

For each workload: a correctness check (every implementation's loss after its first and second
step, and for chain/op workloads its gradients, against the floor's), then warm-up, then rounds.
Each round times a block of steps of the floor and of every implementation, back to back, in an
order that rotates from round to round; an implementation's ratio for the round is its block's
time per step over the floor's in the same round.  Reported: the median ratio over rounds, and the
median time per step.
"""

from __future__ import annotations

import gc
import statistics
import time
import traceback

import numpy as np

from .impls import NUMPY_BASED, load
from .workloads import WORKLOADS, make_data

__all__ = ["run_group", "TOLERANCE"]

TOLERANCE = dict(rtol=2e-4, atol=1e-5)   # float32, after different summation orders
# The per-op losses sum up to 10^6 float32 terms with heavy cancellation: a looser bound there.
OP_LOSS_RTOL = 1e-3
SETTLE_S = 0.15


def _block(step, n: int, settle_s: float = 0.0) -> float:
    gc.collect()
    if settle_s:
        time.sleep(settle_s)
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n


def _warm(step, seconds: float) -> float:
    """Run ``step`` for about ``seconds`` (at least twice) after two untimed calls; its time per
    step.  The first calls trace, compile or capture (JAX's and numba's compilers, ag.compile's
    capture and verification); counted in, a compile of 0.5 s made a 0.1 ms step look 0.25 s
    long, and the blocks sized from it held a single step, timed cold after the floor's block."""
    step()
    step()
    calls, start = 0, time.perf_counter()
    while calls < 2 or time.perf_counter() - start < seconds:
        step()
        calls += 1
    return (time.perf_counter() - start) / calls


def _worst(a, b, scale, rtol: float) -> tuple[bool, float]:
    """Whether every |a - b| <= atol + rtol * scale, and the worst |a - b| / bound."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False, float("inf")
    err = np.abs(a - b) / (TOLERANCE["atol"] + rtol * scale)
    return bool(np.all(err <= 1)), float(np.max(err, initial=0.0))


def _close_losses(got, want, rtol):
    return _worst(got, want, np.abs(np.asarray(want, dtype=np.float64)), rtol)


def _close_arrays(got, want):
    """Relative to the largest magnitude in ``want``: an entry near zero inherits the rounding of
    the sums that made it."""
    return _worst(got, want, np.max(np.abs(want), initial=0.0), TOLERANCE["rtol"])


def _check(w, make, floor_make) -> dict:
    """Losses of the first two steps (and gradients for chain/op) against the floor's; None
    where ``make`` does not run this workload."""
    step = make(w, make_data(w))
    if step is None:
        return None
    floor = floor_make(w, make_data(w))
    start = time.perf_counter()
    got = [step()]
    first_call = time.perf_counter() - start
    got.append(step())
    want = [floor(), floor()]
    ok, worst = _close_losses(got, want, OP_LOSS_RTOL if w.kind == "op" else TOLERANCE["rtol"])
    if w.kind in ("chain", "op"):
        for g_got, g_want in zip(step.grads(), floor.grads()):
            ok_g, worst_g = _close_arrays(g_got, g_want)
            ok, worst = ok and ok_g, max(worst, worst_g)
    return dict(ok=ok, worst=worst, losses=got, floor_losses=want, first_call_s=first_call)


def _time_workload(w, makers: dict, rounds: int, block_s: float, warm_s: float,
                   settle_s: float) -> dict:
    steps = {}
    for impl, make in makers.items():
        step = make(w, make_data(w))
        if step is not None:
            steps[impl] = step
    if set(steps) <= {"numpy"}:
        return None                            # nothing but the floor runs this workload here
    per_step = {impl: _warm(step, warm_s) for impl, step in steps.items()}
    blocks = {impl: max(1, round(block_s / max(t, 1e-9))) for impl, t in per_step.items()}
    others = [impl for impl in steps if impl != "numpy"]
    times = {impl: [] for impl in steps}
    ratios = {impl: [] for impl in others}
    for r in range(rounds):
        k = r % (len(others) + 1)
        order = (["numpy"] + others)[k:] + (["numpy"] + others)[:k]
        this = {impl: _block(steps[impl], blocks[impl], settle_s) for impl in order}
        for impl, t in this.items():
            times[impl].append(t)
        for impl in others:
            ratios[impl].append(this[impl] / this["numpy"])
    result = {}
    for impl in steps:
        entry = dict(median_s=statistics.median(times[impl]), block=blocks[impl])
        if impl != "numpy":
            entry["ratio"] = statistics.median(ratios[impl])
            entry["ratios"] = ratios[impl]
        info = getattr(steps[impl], "info", None)
        if info is not None:
            entry["info"] = dict(info)
            if "traces" in info and info["traces"] != 1:
                raise AssertionError(f"{impl} on {w.name}: traced {info['traces']} times, not once")
        result[impl] = entry
    return result


def run_group(impls: list[str], threads: int = 1, rounds: int = 15, block_s: float = 0.05,
              warm_s: float = 0.3, workloads=None, log=print) -> dict:
    """Time ``impls`` against the floor on every workload; a JSON-ready dict.

    Where a framework brings its own thread pool (PyTorch, TF, XLA), each block starts after a
    pause of SETTLE_S: OpenBLAS's idle threads spin for about 0.1 s after NumPy's last matmul,
    and OpenMP's after the framework's, and on two cores either would slow the next block."""
    settle_s = 0.0 if threads == 1 or set(impls) <= NUMPY_BASED else SETTLE_S
    floor_make, versions = load("numpy", threads)
    makers, missing = {"numpy": floor_make}, {}
    for impl in impls:
        try:
            makers[impl], v = load(impl, threads)
            versions.update(v)
        except ImportError as err:
            missing[impl] = f"{type(err).__name__}: {err}"
    out = dict(impls=impls, missing=missing, versions=versions, blas=_blas_info(), workloads={},
               settle_s=settle_s)
    for w in workloads or WORKLOADS:
        entry = dict(checks={}, errors={})
        for impl, make in makers.items():
            if impl in ("numpy", "gemm"):
                continue
            try:
                check = _check(w, make, floor_make)
                if check is not None:
                    entry["checks"][impl] = check
            except Exception:                          # a broken implementation is reported
                entry["errors"][impl] = traceback.format_exc(limit=3)
        ok = {k: v for k, v in makers.items() if k not in entry["errors"]}
        entry["timing"] = _time_workload(w, ok, rounds, block_s, warm_s, settle_s)
        if entry["timing"] is None:
            continue
        out["workloads"][w.name] = entry
        summary = ", ".join(f"{k} {v['ratio']:.2f}x" for k, v in entry["timing"].items()
                            if "ratio" in v)
        log(f"  {w.name:14s} floor {entry['timing']['numpy']['median_s'] * 1e6:9.1f} us  {summary}")
    return out


def _blas_info() -> list:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "prefix", "version", "num_threads", "architecture", "threading_layer")
    return [{k: d.get(k) for k in keep} for d in threadpool_info()]
