"""Run the benchmarks and write results.md, results.png and results.json.

    python -m benchmarks.run --out benchmarks          # everything (make bench, in .venv-bench)
    python -m benchmarks.run --smoke --out /tmp/x      # seconds: graphgrad and NumPy only

Every group of implementations (see impls.GROUPS) runs in a worker process of its own, timed
interleaved with the NumPy floor; then peak memory is measured, one process per implementation and
workload.  ``--smoke`` runs the one graphgrad group in this process with tiny rounds.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

from .impls import GROUPS, IMPLS, configure_threads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _parse(argv):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks"), help="output folder")
    ap.add_argument("--smoke", action="store_true", help="graphgrad and NumPy only, tiny rounds")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for every BLAS/OpenMP/framework pool (default 1: see the Makefile)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--block-ms", type=float, default=None, help="target time of one timed block")
    ap.add_argument("--groups", default=None,
                    help="comma-separated implementations to run (default: all)")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--json", default=None, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def _settings(args):
    rounds = args.rounds or (2 if args.smoke else 15)
    block_ms = args.block_ms or (1.0 if args.smoke else 60.0)
    warm_s = 0.01 if args.smoke else 0.5
    return rounds, block_ms, warm_s


def _worker(args) -> None:
    """Inside a worker process: time one group, write its JSON."""
    from .timing import run_group
    # Importing graphgrad raises glibc's malloc thresholds (autograd/malloc.py); apply the same in
    # every worker so each process's NumPy floor, and every framework, runs under one allocator.
    from autograd.malloc import keep_freed_memory
    keep_freed_memory()
    rounds, block_ms, warm_s = _settings(args)
    result = run_group(args.worker.split(","), args.threads, rounds, block_ms / 1000, warm_s,
                       log=lambda line: print(line, flush=True))
    with open(args.json, "w") as f:
        json.dump(result, f)


def _run_worker(group, args, out_dir) -> dict:
    path = os.path.join(out_dir, f".worker-{'-'.join(group)}.json")
    cmd = [sys.executable, "-m", "benchmarks.run", "--worker", ",".join(group), "--json", path,
           "--threads", str(args.threads)]
    if args.rounds:
        cmd += ["--rounds", str(args.rounds)]
    if args.block_ms:
        cmd += ["--block-ms", str(args.block_ms)]
    print(f"[{' + '.join(group)}] against the NumPy floor", flush=True)
    proc = subprocess.run(cmd, cwd=ROOT)
    if proc.returncode != 0 or not os.path.exists(path):
        return {"impls": [], "missing": {g: f"worker exited with status {proc.returncode}"
                                         for g in group}, "workloads": {}}
    with open(path) as f:
        result = json.load(f)
    os.remove(path)
    return result


def _memory(impls, args) -> list:
    from .memory import measure_in_subprocess
    from .workloads import WORKLOADS
    workloads = [w.name for w in WORKLOADS if w.kind != "op"]
    if args.smoke:
        workloads = ["mlp_small", "cnn"]
    out = []
    for impl in ["numpy"] + [i for i in impls if i != "gemm"]:
        for w in workloads:
            m = measure_in_subprocess(impl, w, args.threads)
            out.append(m)
            if m.get("supported", True):
                shown = {k: round(v / 2**20, 2) for k, v in m.items() if k.endswith("_bytes")}
                print(f"  memory {impl:12s} {w:12s} MiB {shown or m.get('error')}", flush=True)
    return out


def main(argv=None) -> dict:
    args = _parse(argv)
    configure_threads(args.threads)        # before NumPy is imported, so BLAS takes it
    if args.worker:
        _worker(args)
        return {}
    os.makedirs(args.out, exist_ok=True)
    rounds, block_ms, warm_s = _settings(args)
    if args.smoke:
        groups = [GROUPS[0]]
    elif args.groups:
        wanted = args.groups.split(",")
        groups = [[i for i in g if i in wanted] for g in GROUPS]
        groups = [g for g in groups if g]
    else:
        groups = GROUPS
    if args.smoke:
        from .timing import run_group
        results = [run_group(groups[0], args.threads, rounds, block_ms / 1000, warm_s)]
    else:
        results = [_run_worker(g, args, args.out) for g in groups]
    ran = [i for g in groups for i in g]
    missing_all = {}
    for r in results:
        missing_all.update(r.get("missing", {}))
    available = [i for i in ran if i not in missing_all]
    from .timing import TOLERANCE
    full = dict(
        groups=results, missing_all=missing_all, tolerance=TOLERANCE,
        not_run={i: "not selected" for i in IMPLS if i not in ran and i != "numpy"},
        memory=[] if args.no_memory else _memory(available, args),
        environment=dict(date=datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                         machine=f"{platform.machine()}, {os.cpu_count()} cores",
                         python=platform.python_version(), threads=args.threads, rounds=rounds,
                         block_ms=block_ms,
                         openblas_coretype=os.environ.get("OPENBLAS_CORETYPE")))
    from .report import ratio_table, write_chart, write_markdown
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(full, f, indent=1)
    write_markdown(full, os.path.join(args.out, "results.md"))
    write_chart(full, os.path.join(args.out, "results.png"))
    print()
    print(ratio_table(full))
    print(f"\nwrote {args.out}/results.md, results.png, results.json")
    return full


if __name__ == "__main__":
    main()
