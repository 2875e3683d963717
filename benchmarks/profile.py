"""Profile one implementation's training step (graphgrad by default) on one workload.

    python -m benchmarks.profile mlp_small                      # CPU-time ratio + cProfile table
    python -m benchmarks.profile chain --tool pyinstrument      # call tree (pip install pyinstrument)
    python -m benchmarks.profile mlp_mnist --threads 1 --steps 50

First the step's time against the NumPy floor, interleaved, by wall clock and by this process's
CPU time (``time.process_time``: on a shared machine the CPU time of a single-threaded step hardly
moves with the load, the wall time does); then the profile of ``--steps`` steps.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time

from .impls import configure_threads, load


def _timed(step, n):
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        step()
    return (time.perf_counter() - wall) / n, (time.process_time() - cpu) / n


def compare(impl: str, workload: str, threads: int, rounds: int = 9, block_s: float = 0.1) -> dict:
    """Median per-step wall and CPU times of ``impl`` and the floor, interleaved, and ratios."""
    from .workloads import by_name, make_data
    w = by_name(workload)
    floor = load("numpy", threads)[0](w, make_data(w))
    step = load(impl, threads)[0](w, make_data(w))
    for s in (floor, step):
        for _ in range(3):
            s()
    est = _timed(floor, 3)[0], _timed(step, 3)[0]
    n = [max(1, round(block_s / max(t, 1e-9))) for t in est]
    wall, cpu = [], []
    for _ in range(rounds):
        fw, fc = _timed(floor, n[0])
        sw, sc = _timed(step, n[1])
        wall.append((sw / fw, fw, sw))
        cpu.append((sc / fc, fc, sc))
    med = lambda rows, i: statistics.median(r[i] for r in rows)  # noqa: E731
    return dict(wall_ratio=med(wall, 0), floor_wall_s=med(wall, 1), wall_s=med(wall, 2),
                cpu_ratio=med(cpu, 0), floor_cpu_s=med(cpu, 1), cpu_s=med(cpu, 2))


def profile(impl: str, workload: str, threads: int, steps: int, tool: str, limit: int) -> str:
    from .workloads import by_name, make_data
    w = by_name(workload)
    step = load(impl, threads)[0](w, make_data(w))
    for _ in range(5):
        step()
    if tool == "pyinstrument":
        from pyinstrument import Profiler
        profiler = Profiler(interval=0.0001)
        profiler.start()
        for _ in range(steps):
            step()
        profiler.stop()
        return profiler.output_text(unicode=False, color=False, show_all=False)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__)
    ap.add_argument("workload")
    ap.add_argument("--impl", default="graphgrad")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--tool", choices=("cprofile", "pyinstrument"), default="cprofile")
    ap.add_argument("--limit", type=int, default=30, help="rows of the cProfile table")
    ap.add_argument("--no-profile", action="store_true", help="only the timing comparison")
    args = ap.parse_args(argv)
    configure_threads(args.threads)        # before NumPy is imported, so BLAS takes it
    c = compare(args.impl, args.workload, args.threads)
    print(f"{args.impl} on {args.workload}: wall {c['wall_s'] * 1e6:.1f} us/step "
          f"({c['wall_ratio']:.2f}x the floor's {c['floor_wall_s'] * 1e6:.1f} us); "
          f"CPU {c['cpu_s'] * 1e6:.1f} us/step ({c['cpu_ratio']:.2f}x the floor's "
          f"{c['floor_cpu_s'] * 1e6:.1f} us)")
    if not args.no_profile:
        print(profile(args.impl, args.workload, args.threads, args.steps, args.tool, args.limit))


if __name__ == "__main__":
    main()
