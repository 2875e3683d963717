"""The implementations the harness knows, and how they are grouped into worker processes.

Each entry: id -> (module in ``benchmarks``, factory function, label).  A factory takes
``(workload, data)`` and returns ``step() -> loss``, or None where the implementation does not run
that workload.  Each group runs in a process of its own, always together with the NumPy floor, so
frameworks never share a process (their thread pools and bundled libraries stay apart).
"""

from __future__ import annotations

import importlib
import os

__all__ = ["IMPLS", "GROUPS", "LABELS", "load", "configure_threads"]

IMPLS = {
    "numpy": ("impl_numpy", "make_step", "NumPy floor"),
    "gemm": ("impl_numpy", "make_gemm_step", "GEMM only"),
    "graphgrad": ("impl_graphgrad", "make_step", "graphgrad"),
    "graphgrad_tensors": ("impl_graphgrad_tensors", "make_step", "graphgrad (Tensors only)"),
    "graphgrad_compiled": ("impl_graphgrad_compiled", "make_step", "graphgrad compiled (numpy)"),
    "graphgrad_numba": ("impl_graphgrad_compiled", "make_numba_step", "graphgrad compiled (numba)"),
    "tf_eager": ("impl_tf", "make_eager_step", "TF eager"),
    "tf_function": ("impl_tf", "make_function_step", "tf.function"),
    "torch": ("impl_torch", "make_step", "PyTorch"),
    "mygrad": ("impl_mygrad", "make_step", "MyGrad"),
    "jax": ("impl_jax", "make_step", "JAX jit"),
    "micrograd": ("impl_micrograd", "make_step", "micrograd"),
}
LABELS = {k: v[2] for k, v in IMPLS.items()}

GROUPS = [["gemm", "graphgrad", "graphgrad_tensors", "graphgrad_compiled"], ["graphgrad_numba"], ["torch"], ["tf_eager", "tf_function"], ["mygrad"], ["jax"],
          ["micrograd"]]

# Implementations that allocate through NumPy, so tracemalloc sees their memory.
NUMPY_BASED = {"numpy", "gemm", "graphgrad", "graphgrad_tensors", "graphgrad_compiled",
               "graphgrad_numba", "mygrad", "micrograd"}


def configure_threads(threads: int) -> None:
    """Thread counts for every BLAS/OpenMP/XLA pool; must run before any framework is imported.

    The process is also pinned to ``threads`` CPUs: XLA's CPU client sizes its pool from the CPUs
    it may run on and ignores the thread flags, and pinning holds every framework to the same
    share of the machine whatever it does."""
    allowed = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if 0 < threads < len(allowed):
        os.sched_setaffinity(0, set(allowed[-threads:]))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[var] = str(threads)
    if "xla_cpu_multi_thread_eigen" not in os.environ.get("XLA_FLAGS", ""):
        multi = "true" if threads > 1 else "false"
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                   f" --xla_cpu_multi_thread_eigen={multi}").strip()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def load(impl: str, threads: int):
    """(factory, versions dict) for ``impl``; raises ImportError when its framework is missing."""
    module_name, factory, _ = IMPLS[impl]
    module = importlib.import_module(f"benchmarks.{module_name}")
    if hasattr(module, "setup"):
        module.setup(threads)
    return getattr(module, factory), module.versions()
