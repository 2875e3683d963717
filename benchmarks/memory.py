"""Peak memory of one training step, each (implementation, workload) in a process of its own.

Three measures:

* ``tracemalloc``: the peak of memory allocated during one step after two warm-up steps (NumPy
  reports its array buffers to tracemalloc), for the NumPy-based implementations.  TensorFlow,
  PyTorch and XLA allocate outside Python's view, so it is not reported for them.  A compiled
  graphgrad step also holds the output buffers its program made once (``held_bytes``), allocated
  before the measured step; they are added to its figure.
* ``rss_first``: the peak resident set size during the *first* step minus the resident size
  before it (model and data already built), for every implementation: an upper bound that also
  holds one-time costs (tf.function's graph, XLA's compilation, allocator pools).
* ``rss``: the same over one step after two warm-up steps: a lower bound wherever an allocator
  keeps freed memory for reuse (it then shows ~0).

RSS is read from /proc/self/status after resetting the kernel's high-water mark (``clear_refs``);
glibc is told to serve every block over 64 KiB with mmap and to hand freed memory back
(MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ in the child's environment), so that freed
buffers leave the resident set and each step's own peak is visible.

Run as ``python -m benchmarks.memory IMPL WORKLOAD THREADS``: prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tracemalloc

__all__ = ["measure", "measure_in_subprocess", "MALLOC_ENV"]

MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "131072"}


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _rss_peak_of(step) -> int | None:
    """Peak RSS during ``step()`` above the RSS before it, in bytes (None: cannot reset)."""
    if not _reset_peak_rss():
        return None
    before = _status_kib("VmRSS")
    step()
    return max(0, _status_kib("VmHWM") - before) * 1024


def measure(impl: str, workload: str, threads: int = 1) -> dict:
    from .impls import NUMPY_BASED, configure_threads, load
    from .workloads import by_name, make_data

    configure_threads(threads)
    make, _ = load(impl, threads)
    w = by_name(workload)
    step = make(w, make_data(w))
    if step is None:
        return {"impl": impl, "workload": workload, "supported": False}
    result = {"impl": impl, "workload": workload, "supported": True}
    gc.collect()
    result["rss_first_bytes"] = _rss_peak_of(step)
    step()
    gc.collect()
    result["rss_bytes"] = _rss_peak_of(step)
    if result["rss_bytes"] is None:
        del result["rss_bytes"], result["rss_first_bytes"]
    if impl in NUMPY_BASED:
        gc.collect()
        tracemalloc.start()
        step()
        held = step.held_bytes() if hasattr(step, "held_bytes") else 0
        result["tracemalloc_bytes"] = tracemalloc.get_traced_memory()[1] + held
        tracemalloc.stop()
        if held:
            result["held_bytes"] = held
    return result


def measure_in_subprocess(impl: str, workload: str, threads: int = 1, python: str | None = None,
                          timeout: float = 600) -> dict:
    env = dict(os.environ, **MALLOC_ENV)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([python or sys.executable, "-m", "benchmarks.memory", impl, workload,
                           str(threads)], cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"impl": impl, "workload": workload, "error": tail[0]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    name, work, n_threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    print(json.dumps(measure(name, work, n_threads)))
