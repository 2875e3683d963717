"""viz's matplotlib pictures, produced headless, and the spiral demo that writes them all."""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import viz  # noqa: E402
from viz.plots import activation_table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def assert_png(path, min_bytes=5_000):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert len(data) > min_bytes, f"{path} is suspiciously small ({len(data)} bytes)"


def test_history_curves(tmp_path):
    history = {"loss": [1.0, 0.5, 0.2], "val_loss": [1.1, 0.7, 0.4], "accuracy": [0.5, 0.7, 0.9],
               "lr": [0.1, 0.1, 0.01], "note": "not a series"}
    fig = viz.plot_history(history, tmp_path / "loss.png", title="run")
    assert_png(tmp_path / "loss.png")
    loss_ax, acc_ax = fig.axes
    assert [l.get_label() for l in loss_ax.get_lines()] == ["loss", "val_loss"]   # lr left out
    assert [l.get_label() for l in acc_ax.get_lines()] == ["accuracy"]
    np.testing.assert_allclose(acc_ax.get_lines()[0].get_ydata(), [0.5, 0.7, 0.9])
    # a loss spanning decades goes on a log axis
    fig = viz.plot_history({"loss": [100.0, 1.0, 0.01]})
    assert len(fig.axes) == 1 and fig.axes[0].get_yscale() == "log"
    with pytest.raises(ValueError, match="no numeric series"):
        viz.plot_history({"loss": []})


def test_decision_boundary_binary_multiclass_and_module_mode(tmp_path):
    X, y = nn.data.circle(200, seed=0)
    fig = viz.plot_decision_boundary(lambda t: (t * t).sum(axis=1) - 6.0, X, y,
                                     tmp_path / "boundary.png", resolution=60, title="circle")
    assert_png(tmp_path / "boundary.png")
    ax = fig.axes[0]
    image = ax.get_images()[0].get_array()
    assert image.shape == (60, 60)
    assert image.min() < 0 < image.max()      # the score changes sign across the plane
    # three classes from (N, 3) scores; one-hot labels work too
    X3 = np.random.default_rng(0).normal(size=(90, 2)).astype(np.float32)
    y3 = np.eye(3)[np.arange(90) % 3]
    fig = viz.plot_decision_boundary(lambda t: ag.tensor(np.asarray(t) @ np.eye(2, 3)), X3, y3,
                                     resolution=40)
    assert set(np.unique(fig.axes[0].get_images()[0].get_array())) <= {0, 1, 2}
    # a module is evaluated in eval mode, without a graph, and put back into training mode
    model = nn.Sequential(nn.Linear(2, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    modes = []
    original = model.forward
    model.forward = lambda x: (modes.append(model.training), original(x))[1]
    viz.plot_decision_boundary(model, X, y, resolution=30)
    assert modes and not any(modes) and model.training
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        viz.plot_decision_boundary(model, np.zeros((5, 3)), np.zeros(5))


def test_grad_norm_history_records_per_layer_and_per_parameter():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    layers = viz.GradNormHistory(model)
    params = viz.GradNormHistory(model, per="parameter")
    for step in range(3):
        model.zero_grad()
        F.mse_loss(model(ag.randn(8, 2, rng=step)), ag.zeros((8, 1))).backward()
        layers.record()
        params.record()
    first = model[0]
    expected = np.sqrt(np.sum(first.weight.grad.astype(np.float64) ** 2)
                       + np.sum(first.bias.grad.astype(np.float64) ** 2))
    assert list(layers.history) == ["0", "2"]
    assert layers.history["0"][-1] == pytest.approx(expected, rel=1e-6)
    assert list(params.history) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(len(v) == 3 for v in params.history.values())
    model.zero_grad()                          # no gradients: NaN, a gap in the curve
    assert np.isnan(layers.record()["0"])
    with pytest.raises(ValueError, match="per"):
        viz.GradNormHistory(model, per="module")


def test_grad_norm_plot_flags_vanishing_and_exploding_layers(tmp_path):
    steps = 120
    history = {"early": list(np.full(steps, 1e-9)), "middle": list(np.linspace(0.1, 1, steps)),
               "late": list(np.full(steps, 1e5)), "zero": [0.0] * steps}
    fig = viz.plot_grad_norms(history, tmp_path / "gradflow.png")
    assert_png(tmp_path / "gradflow.png")
    curves, bars = fig.axes
    assert curves.get_yscale() == "log"
    colours = [p.get_facecolor()[:3] for p in bars.patches]
    vanishing, healthy, exploding = (0x1e / 255, 0x3a / 255, 0x8a / 255), \
        (0x08 / 255, 0x77 / 255, 0xbd / 255), (0xb9 / 255, 0x1c / 255, 0x1c / 255)
    for got, want in zip(colours, [vanishing, healthy, exploding, vanishing]):
        np.testing.assert_allclose(got, want, atol=1e-3)
    with pytest.raises(ValueError, match="no gradient norms"):
        viz.plot_grad_norms({})


def test_activation_derivatives_come_from_autograd_and_match_calculus(tmp_path):
    rows = {name: (x, y, dy) for name, x, y, dy, *_ in activation_table()}
    assert list(rows) == ["Identity", "Binary step", "Logistic", "TanH", "ArcTan", "ReLU",
                          "PReLU", "ELU", "SoftPlus"]
    x = rows["TanH"][0]
    away = np.abs(x) > 1e-3                    # kinks at 0 follow API.md's conventions instead
    sig = 1 / (1 + np.exp(-x))
    expected = {
        "Identity": np.ones_like(x), "Binary step": np.zeros_like(x), "Logistic": sig * (1 - sig),
        "TanH": 1 - np.tanh(x) ** 2, "ArcTan": 1 / (1 + x ** 2), "ReLU": (x > 0) * 1.0,
        "PReLU": np.where(x > 0, 1.0, 0.25), "ELU": np.where(x > 0, 1.0, np.exp(x)),
        "SoftPlus": sig,
    }
    for name, want in expected.items():
        np.testing.assert_allclose(rows[name][2][away], want[away], rtol=1e-4, atol=1e-5,
                                   err_msg=name)
    np.testing.assert_allclose(rows["ReLU"][1], np.maximum(x, 0), atol=1e-6)
    fig = viz.plot_activations(tmp_path / "activations.png")
    assert len(fig.axes) == 9
    assert_png(tmp_path / "activations.png", 50_000)


def test_missing_matplotlib_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)   # import now fails
    with pytest.raises(ImportError, match=r"graphgrad\[plot\]"):
        viz.plot_history({"loss": [1.0]})


def spiral_run(out, epochs, env=None):
    return subprocess.run([sys.executable, str(ROOT / "examples" / "spiral.py"), "--out", str(out),
                           "--epochs", str(epochs)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=env)


def test_spiral_demo_writes_every_picture_headless(tmp_path):
    # A GUI backend that cannot start here: the pictures must not need any backend at all.
    env = dict(os.environ, MPLBACKEND="TkAgg", PYTHONPATH=str(ROOT))
    env.pop("DISPLAY", None)
    run = spiral_run(tmp_path, 40, env)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "final accuracy" in run.stdout
    assert "epoch/s" not in run.stderr     # output to a pipe: no stream of redrawn bars
    for name in ("boundary.png", "loss.png", "gradflow.png"):
        assert_png(tmp_path / name)
    assert (tmp_path / "graph.dot").exists()
    if (tmp_path / "graph.svg").exists():
        root = ET.parse(tmp_path / "graph.svg").getroot()
        assert root.tag.endswith("svg")
    elif os.environ.get("CI"):
        pytest.fail("graph.svg missing in CI (is graphviz's dot installed?): " + run.stderr[-500:])
    else:
        assert "'dot' program is not installed" in run.stderr
