"""Smaller frictions a newcomer met: each one fixed and kept fixed."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
import nn.functional as F


def test_detect_anomaly_names_the_users_line_not_a_line_inside_nn():
    x = ag.tensor(np.array([0.0, 1.0]), requires_grad=True)
    with ag.detect_anomaly():
        loss = F.mse_loss(ag.sqrt(x) * 0.0 + x.sqrt(), np.zeros(2))   # sqrt'(0) = inf
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert "test_frictions.py" in message, message
    assert "nn/losses.py" not in message and "nn" + "/functional" not in message


def test_a_recorded_backward_is_enough_to_draw_gradient_flow():
    import nn
    import viz
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    loss = (model(np.ones((4, 2), dtype=np.float32)) ** 2).mean()
    with viz.record_grad_norms():
        loss.backward()
    source = viz.draw_graph(loss, model=model, grad_flow=True).source
    assert "intermediate gradients unknown" not in source
    # every op and parameter labelled (label and tooltip); without the recording only the leaves
    assert source.count("‖g‖") >= 20


def test_the_deep_sigmoid_picture_fits_1000_pixels_wide():
    import re
    from pathlib import Path
    svg = (Path(__file__).resolve().parents[1] / "docs" / "deep_sigmoid.svg").read_text()
    width_pt = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    assert width_pt * 96 / 72 <= 1000, f"{width_pt} pt is {width_pt * 96 / 72:.0f} px at 96 dpi"


def test_the_wheel_declares_py_typed():
    import tomllib
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for package in ("autograd", "nn", "viz"):
        assert "py.typed" in data[package] and (root / package / "py.typed").exists()
