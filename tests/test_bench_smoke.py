"""The benchmark harness runs end to end (graphgrad and the NumPy floor, tiny rounds), so it never
rots.  Structure only: every workload is present, ratios are positive and finite, graphgrad's
losses match the floor's.  No timing is asserted."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([sys.executable, "-m", "benchmarks.run", "--smoke", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    with open(out / "results.json") as f:
        return out, json.load(f)


@pytest.mark.slow
def test_smoke_writes_every_output(smoke):
    out, _ = smoke
    for name in ("results.md", "results.png", "results.json"):
        assert (out / name).stat().st_size > 0
    text = (out / "results.md").read_text()
    assert "| workload |" in text and "graphgrad" in text


@pytest.mark.slow
def test_every_workload_has_positive_finite_ratios(smoke):
    from benchmarks.workloads import WORKLOADS
    _, results = smoke
    (group,) = results["groups"]
    assert group["missing"] == {}
    assert set(group["workloads"]) == {w.name for w in WORKLOADS}
    for w in WORKLOADS:
        timing = group["workloads"][w.name]["timing"]
        assert timing["numpy"]["median_s"] > 0
        impls = ["graphgrad"] + (["gemm"] if w.kind == "mlp" else []) + \
            (["graphgrad_tensors"] if w.kind in ("mlp", "cnn", "rnn") else [])
        for impl in impls:
            ratio = timing[impl]["ratio"]
            assert math.isfinite(ratio) and ratio > 0, (w.name, impl, ratio)


@pytest.mark.slow
def test_graphgrad_matches_the_floor(smoke):
    _, results = smoke
    for name, entry in results["groups"][0]["workloads"].items():
        assert entry["errors"] == {}, (name, entry["errors"])
        check = entry["checks"]["graphgrad"]
        assert check["ok"], (name, check)


@pytest.mark.slow
def test_memory_measured_in_subprocesses(smoke):
    _, results = smoke
    mem = results["memory"]
    assert {m["impl"] for m in mem} == {"numpy", "graphgrad", "graphgrad_tensors",
                                        "graphgrad_compiled"}
    for m in mem:
        assert "error" not in m, m
        assert m["tracemalloc_bytes"] > 0
