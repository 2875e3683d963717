"""results.md (tables) and results.png (bar chart of ratios) from the workers' results."""

from __future__ import annotations

import math

from .impls import LABELS
from .workloads import WORKLOADS

__all__ = ["write_markdown", "write_chart", "ratio_table", "COLUMNS"]

COLUMNS = ["gemm", "graphgrad", "graphgrad_tensors", "graphgrad_compiled", "graphgrad_numba", "tf_eager", "tf_function", "torch", "mygrad", "jax", "micrograd"]
MODEL_WORKLOADS = [w.name for w in WORKLOADS if w.kind != "op"]

# The targets for graphgrad: ratio to the floor (mlp_mnist: to its GEMM time).
TARGETS = {"mlp_small": 2.0, "mlp_digits": 1.10, "chain": 2.0, "cnn": 1.3}
MNIST_GEMM_TARGET = 1.15
MEMORY_TARGET = 1.3


def _find(results: dict, impl: str):
    """The worker result that timed ``impl`` (or None), and why it is missing."""
    for r in results["groups"]:
        if impl in r.get("missing", {}):
            return None, r["missing"][impl]
        if impl in r.get("impls", []):
            return r, None
    return None, results.get("not_run", {}).get(impl, "not run")


def _cell(results: dict, impl: str, workload: str) -> str:
    r, why = _find(results, impl)
    if r is None:
        return "missing"
    w = r["workloads"].get(workload)
    if w is None:
        return "—"
    if impl in w.get("errors", {}):
        return "error"
    t = w["timing"].get(impl)
    if t is None:
        return "—"
    check = w["checks"].get(impl)
    flag = "" if check is None or check["ok"] else " ✗"
    return f"{_fmt_ratio(t['ratio'])}{flag}"


def _fmt_ratio(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}×"
    if x >= 10:
        return f"{x:.1f}×"
    return f"{x:.2f}×"


def _fmt_time(seconds: float) -> str:
    us = seconds * 1e6
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"


def _floor_time(results: dict, workload: str) -> str:
    first = results["groups"][0]
    w = first["workloads"].get(workload)
    return _fmt_time(w["timing"]["numpy"]["median_s"]) if w else "—"


def ratio_table(results: dict, columns=None) -> str:
    """The README table: median step time as a ratio to the NumPy floor, per workload."""
    columns = [c for c in (columns or COLUMNS) if any(c in r.get("impls", []) or
                                                      c in r.get("missing", {})
                                                      for r in results["groups"])]
    head = ["workload", "NumPy floor (time/step)"] + [LABELS[c] for c in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in WORKLOADS:
        cells = [f"`{w.name}`", _floor_time(results, w.name)]
        cells += [_cell(results, c, w.name) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _floors_by_worker(results: dict) -> str:
    head = ["workload"] + [" + ".join(LABELS[i] for i in r["impls"]) for r in results["groups"]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in WORKLOADS:
        cells = [f"`{w.name}`"]
        for r in results["groups"]:
            e = r["workloads"].get(w.name)
            cells.append(_fmt_time(e["timing"]["numpy"]["median_s"]) if e else "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _checks(results: dict) -> str:
    lines = ["| workload | implementation | ok | worst error / tolerance | losses (steps 1, 2) | "
             "floor's losses | first call |", "|---|---|---|---|---|---|---|"]
    for w in WORKLOADS:
        for r in results["groups"]:
            e = r["workloads"].get(w.name, {})
            for impl, c in e.get("checks", {}).items():
                losses = ", ".join(f"{v:.6g}" for v in c["losses"])
                floor = ", ".join(f"{v:.6g}" for v in c["floor_losses"])
                lines.append(f"| `{w.name}` | {LABELS[impl]} | {'yes' if c['ok'] else 'NO'} | "
                             f"{c['worst']:.3f} | {losses} | {floor} | "
                             f"{_fmt_time(c['first_call_s'])} |")
            for impl, err in e.get("errors", {}).items():
                last = err.strip().splitlines()[-1].replace("|", "/")
                lines.append(f"| `{w.name}` | {LABELS[impl]} | ERROR | {last} | | | |")
    return "\n".join(lines)


def _tracing(results: dict) -> str:
    lines = ["| workload | tf.function trace | tf.function traces | JAX first call (compile) |",
             "|---|---|---|---|"]
    tf_r, _ = _find(results, "tf_function")
    jax_r, _ = _find(results, "jax")
    for w in WORKLOADS:
        cells = [f"`{w.name}`", "—", "—", "—"]
        if tf_r and w.name in tf_r["workloads"]:
            info = tf_r["workloads"][w.name]["timing"].get("tf_function", {}).get("info", {})
            if info:
                cells[1], cells[2] = _fmt_time(info["trace_s"]), str(info["traces"])
        if jax_r and w.name in jax_r["workloads"]:
            c = jax_r["workloads"][w.name]["checks"].get("jax")
            if c:
                cells[3] = _fmt_time(c["first_call_s"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _mib(n) -> str:
    return "—" if n is None else f"{n / 2**20:.2f}"


def _memory(results: dict) -> str:
    mem = results.get("memory", [])
    if not mem:
        return "(not measured in this run)"
    by = {(m["impl"], m["workload"]): m for m in mem}
    impls = ["numpy"] + [c for c in COLUMNS if c != "gemm" and any(m["impl"] == c for m in mem)]
    head = ["workload"] + [LABELS[i] for i in impls]
    out = []
    for key, title in (("tracemalloc_bytes", "tracemalloc: peak NumPy allocation during a warm "
                                             "step (a compiled step's held buffers "
                                             "added), MiB (ratio to the floor)"),
                       ("rss_first_bytes", "peak RSS growth during the first step (one-time costs "
                                           "included), MiB (ratio to the floor)"),
                       ("rss_bytes", "peak RSS growth during a warm step (0 where an allocator "
                                     "reuses its pool), MiB (ratio to the floor)")):
        lines = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for w in MODEL_WORKLOADS:
            floor = by.get(("numpy", w), {}).get(key)
            cells = [f"`{w}`"]
            for impl in impls:
                m = by.get((impl, w))
                if m is None or not m.get("supported", True):
                    cells.append("—")
                elif "error" in m:
                    cells.append("error")
                elif key not in m:
                    cells.append("n/a")
                else:
                    ratio = f" ({m[key] / floor:.2f}×)" if floor and impl != "numpy" else ""
                    cells.append(_mib(m[key]) + ratio)
            lines.append("| " + " | ".join(cells) + " |")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def _targets(results: dict) -> str:
    r, _ = _find(results, "graphgrad")
    if r is None:
        return "(graphgrad not run)"
    lines = ["| target | measured | met |", "|---|---|---|"]
    for name, limit in TARGETS.items():
        t = r["workloads"].get(name, {}).get("timing", {}).get("graphgrad")
        if t:
            lines.append(f"| `{name}` ≤ {limit}× floor | {t['ratio']:.2f}× | "
                         f"{'yes' if t['ratio'] <= limit else 'no'} |")
    m = r["workloads"].get("mlp_mnist", {}).get("timing", {})
    if "graphgrad" in m and "gemm" in m:
        vs_gemm = m["graphgrad"]["ratio"] / m["gemm"]["ratio"]
        lines.append(f"| `mlp_mnist` ≤ {MNIST_GEMM_TARGET}× its GEMM time | {vs_gemm:.2f}× the GEMM "
                     f"({m['gemm']['ratio']:.2f}× floor) | {'yes' if vs_gemm <= MNIST_GEMM_TARGET else 'no'} |")
    by = {(m["impl"], m["workload"]): m for m in results.get("memory", [])}
    for w in MODEL_WORKLOADS:
        g, f = by.get(("graphgrad", w), {}), by.get(("numpy", w), {})
        if g.get("tracemalloc_bytes") and f.get("tracemalloc_bytes"):
            ratio = g["tracemalloc_bytes"] / f["tracemalloc_bytes"]
            lines.append(f"| `{w}` peak memory ≤ {MEMORY_TARGET}× floor (tracemalloc) | "
                         f"{ratio:.2f}× | {'yes' if ratio <= MEMORY_TARGET else 'no'} |")
    return "\n".join(lines)


def _environment(results: dict) -> str:
    env = results["environment"]
    lines = [f"- Run: {env['date']}, {env['machine']}, Python {env['python']}; "
             f"{env['threads']} thread(s) for every framework; {env['rounds']} rounds of about "
             f"{env['block_ms']:.0f} ms per implementation.",
             f"- Each benchmark process (timing and memory) is pinned to {env['threads']} CPU(s) "
             "when the machine has more: XLA sizes its pool from the CPUs it may use, whatever its "
             "flags say, and pinning holds every framework to the same share.",
             f"- OPENBLAS_CORETYPE: {env['openblas_coretype'] or 'unset'}."]
    settled = [" + ".join(LABELS[i] for i in r["impls"]) for r in results["groups"]
               if r.get("settle_s")]
    if settled:
        lines.append(f"- Processes with a framework thread pool ({'; '.join(settled)}) pause "
                     f"{next(r['settle_s'] for r in results['groups'] if r.get('settle_s')):.2f} s before each timed "
                     "block, so idle BLAS/OpenMP threads that still spin do not steal a core.")
    versions = {}
    for r in results["groups"]:
        versions.update(r.get("versions", {}))
    lines.append("- Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".")
    blas = {}
    for r in results["groups"]:
        for b in r.get("blas", []):
            blas[(b.get("prefix"), b.get("architecture"))] = b
    for b in blas.values():
        lines.append(f"- Thread pool (threadpoolctl): {b.get('internal_api')} {b.get('version')} "
                     f"({b.get('prefix')}), kernel {b.get('architecture') or '—'}, "
                     f"{b.get('num_threads')} threads.")
    for impl, why in results.get("missing_all", {}).items():
        lines.append(f"- **{LABELS[impl]} missing**: {why}")
    return "\n".join(lines)


def write_markdown(results: dict, path: str) -> None:
    parts = [
        "# Benchmarks: graphgrad against the NumPy floor, PyTorch, TensorFlow, MyGrad, JAX, micrograd",
        "",
        "Written by `make bench` (`python -m benchmarks.run`); do not edit by hand.",
        "",
        "## Time per training step, as a ratio to the hand-written NumPy floor (lower is faster)",
        "",
        "Median over rounds of (implementation's time per step) / (the floor's, timed in the same "
        "round of the same process). Each framework runs in its own process, interleaved with the "
        "floor. The floor column is the floor's absolute median time per step in graphgrad's "
        "process. — : not run on that workload; ✗ : its losses or gradients did not match the "
        "floor's.",
        "",
        ratio_table(results),
        "",
        "## graphgrad against the targets of issue 5",
        "",
        _targets(results),
        "",
        "## Environment",
        "",
        _environment(results),
        "",
        "## The floor's time per step in each process",
        "",
        "The machine is shared and noisy; ratios are taken within a process, so compare these "
        "only as a sign of how much the load changed between processes.",
        "",
        _floors_by_worker(results),
        "",
        "## Peak memory of one training step",
        "",
        "Each (implementation, workload) in a process of its own, with the model, its parameters "
        "and the data built before anything is measured. tracemalloc sees NumPy's buffers, so it "
        "is given for the NumPy-based implementations only (the figure graphgrad's target is "
        "checked on; a compiled step's buffers, kept between calls, are counted in it); for "
        "TensorFlow, PyTorch and JAX, whose allocators NumPy's tracing cannot see, the resident "
        "set is measured instead, on the first step (an upper bound: tracing, "
        "compilation and allocator pools included) and on a warm step (a lower bound: a pooling "
        "allocator reuses memory it already holds). glibc is set to return freed blocks over "
        "64 KiB to the kernel, so freed NumPy/PyTorch buffers leave the resident set.",
        "",
        _memory(results),
        "",
        "## tf.function tracing and JAX compilation (not included in the step times)",
        "",
        _tracing(results),
        "",
        "## Correctness: losses of the first two steps (and gradients for chain/op) against the "
        "floor",
        "",
        f"Tolerance: |got - floor| <= {results['tolerance']['atol']} + "
        f"{results['tolerance']['rtol']} |floor|; the worst column is the largest "
        "error divided by that bound (<= 1 passes).",
        "",
        _checks(results),
        "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(parts))


def write_chart(results: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = [c for c in COLUMNS if _find(results, c)[0] is not None]
    panels = [("training steps", [w.name for w in WORKLOADS if w.kind != "op"]),
              ("single ops, forward + backward", [w.name for w in WORKLOADS if w.kind == "op"])]
    fig, axes = plt.subplots(2, 1, figsize=(13, 9))
    width = 0.8 / max(1, len(columns))
    for ax, (title, names) in zip(axes, panels):
        for j, impl in enumerate(columns):
            r, _ = _find(results, impl)
            xs, ys = [], []
            for i, name in enumerate(names):
                t = r["workloads"].get(name, {}).get("timing", {}).get(impl)
                if t and math.isfinite(t["ratio"]) and t["ratio"] > 0:
                    xs.append(i + (j - (len(columns) - 1) / 2) * width)
                    ys.append(t["ratio"])
            ax.bar(xs, ys, width, label=LABELS[impl])
        ax.axhline(1.0, color="black", linewidth=1, linestyle="--")
        ax.set_yscale("log")
        ax.set_xticks(range(len(names)), names)
        ax.set_ylabel("time / NumPy floor (log)")
        ax.set_title(title)
        ax.grid(axis="y", which="both", alpha=0.3)
    axes[0].legend(ncol=4, fontsize=9)
    fig.suptitle("Median time per step relative to the hand-written NumPy floor (lower is faster)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

