"""The Playground's training: XOR is learned, every activation/optimizer/loss/regulariser trains,
a diverged run stops until reset, uploads are validated, memory stays flat over 10,000 steps, the
exported script retrains to the page's loss, and the backprop view agrees with autograd."""

import io
import json
import re
import subprocess
import sys

import numpy as np
import pytest

import nn
from playground_helpers import Client, fetch, running_server
from viz.playground import views
from viz.playground.export import check_npz, model_npz, script
from viz.playground.session import Session
from viz.playground.settings import SettingsError


def trained(epochs: int, **changes) -> Session:
    s = Session()
    s.update({k.replace("_", "-"): v for k, v in changes.items()})
    s.playing = True
    while s.epoch < epochs and s.playing:
        s.advance(budget=1.0, max_epochs=epochs - s.epoch)
    return s


def test_xor_test_loss_falls_below_a_tenth_within_3000_epochs():
    s = Session()
    s.update({"dataset": "xor", "activation": "tanh"})
    s.playing = True
    while s.loss_test >= 0.1 and s.epoch < 3000:
        s.advance(budget=0.5)
    assert s.loss_test < 0.1, (s.epoch, s.loss_test)
    assert not s.diverged and s.history[0][0] == 0 and s.history[-1][0] == s.epoch


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear", "binary_step",
                                        "arctan", "prelu", "elu", "softplus"])
def test_every_activation_trains(activation):
    s = trained(5, activation=activation, optimizer="adam")
    st = s.state()
    assert st["epoch"] == 5 and st["error"] == ""
    assert re.fullmatch(r"\d+\.\d{3}", st["loss_train"])


@pytest.mark.parametrize("changes", [
    {"optimizer": "momentum"}, {"optimizer": "adam", "dataset": "spiral"},
    {"loss": "cross_entropy"}, {"regularization": "l1", "regularization_rate": 0.01},
    {"regularization": "l2", "regularization_rate": 0.01}, {"dataset": "plane"},
    {"dataset": "multigaussian", "batch_size": 30}, {"dataset": "gaussians", "noise": 50},
    {"features": ["x1sq", "x2sq", "x1x2", "sinx1", "sinx2"]}, {"layers": []},
    {"layers": [8] * 6, "train_ratio": 10}])
def test_the_loss_falls(changes):
    s = Session()
    s.update({k.replace("_", "-"): v for k, v in changes.items()})
    first = s.loss_train
    s.playing = True
    while s.epoch < 30:
        s.advance(budget=1.0, max_epochs=30 - s.epoch)
    assert s.loss_train < first, (changes, first, s.loss_train)


def test_a_diverged_run_stops_until_reset():
    s = trained(50, dataset="plane", learning_rate=10)
    assert s.diverged and not s.playing
    st = s.state()
    assert "diverged" in st["error"] and "reset" in st["error"]
    for action in ("play", "step"):
        with pytest.raises(SettingsError, match="press reset"):
            s.action(action)
    assert json.dumps(st, allow_nan=False)    # what the server sends stays valid JSON
    s.update({"learning-rate": 0.03})     # a live setting does not revive it either
    assert s.diverged
    s.action("reset")
    assert not s.diverged and s.error == "" and s.epoch == 0
    s.action("step")
    assert s.epoch == 1


def test_the_default_network_at_learning_rate_10_is_called_diverged():
    """Without overflowing: the loss rises from its start and stays up, which is reported."""
    s = trained(60, learning_rate=10)
    assert s.diverged and not s.playing
    assert "rose from" in s.error and "learning rate 10" in s.error and "reset" in s.error
    assert s.epoch <= 30


@pytest.mark.parametrize("dataset", ["circle", "xor", "gaussians", "spiral"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_reasonable_learning_rates_never_count_as_diverged(dataset, activation):
    s = trained(60, dataset=dataset, activation=activation, learning_rate=1)
    assert not s.diverged, s.error


GOOD_CSV = "x1,x2,label\n" + "".join(f"{x:.2f},{y:.2f},{int(x * y > 0)}\n"
                                     for x, y in np.random.default_rng(0).uniform(-4, 4, (60, 2)))
BAD_CSVS = [
    (b"x1,x2,label\n1,2\n3,4\n5,6\n7,8\n", "line 2 has 2 fields"),
    (b"1,2,1\n3,4,a\n5,6,1\n7,8,0\n", "line 2, column 3"),
    (b"1,2,1\n3,inf,0\n5,6,1\n7,8,0\n", "line 2, column 2"),
    (b"1,2,1\n3,4,1\n5,6,1\n7,8,1\n", "needs both classes"),
    (b"1,2,1\n", "at least 4"),
    (b"\xff\xfe1,2,3\n", "not UTF-8"),
    ("".join(f"{i},{i},{i % 2}\n" for i in range(10_001)).encode(), "10,000"),
    (b"1,2,1\n" * 200_000, "at most 1,048,576"),
]


def test_uploads_are_checked_and_a_bad_one_changes_nothing():
    with running_server() as (_, base):
        c = Client(base)
        c.action("step")
        before = c.state
        for raw, message in BAD_CSVS:
            status, reply = c.post("upload?name=bad.csv", raw=raw)
            assert status == 400 and message in reply["error"], (message, reply.get("error"))
            for key in ("settings", "epoch", "weights", "data_version", "custom"):
                assert reply["state"][key] == before[key], key
        status, st = c.post("upload?name=quadrants.csv", raw=GOOD_CSV.encode())
        assert status == 200 and st["custom"] == {"name": "quadrants.csv", "rows": 60}
        assert st["error"] == "" and st["epoch"] == 0
        status, pts = c.get("points")
        assert len(pts["points"]) == 60 and set(pts["labels"]) == {-1.0, 1.0}
        status, st = c.post("upload?name=heights.csv", raw=b"1,2,0.5\n2,3,1.5\n3,1,2.5\n0,0,3\n")
        assert st["settings"]["problem"] == "regression"
        assert "problem=classification" in st["fragment"]   # the URL holds the dataset's own
        assert c.post("action", {"action": "regenerate"})[0] == 400
        c.settings(dataset="xor")
        assert c.state["custom"] is None and c.state["settings"]["problem"] == "classification"


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2 ** 20


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_memory_grows_less_than_20_mib_over_10000_steps():
    s = Session()
    s.update({"dataset": "spiral", "layers": [8, 8, 8], "optimizer": "adam"})
    s.playing = True
    for _ in range(200):       # warm up: allocator pools, caches
        s._update()
    start = _rss_mib()
    for i in range(10_000):
        s._update()
        if i % 250 == 0:       # what the page's polls and views cost too
            s.state()
            views.backprop_steps(s)
    grown = _rss_mib() - start
    assert grown < 20, f"resident memory grew by {grown:.1f} MiB"
    assert len(s.history) <= 1001


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_server_memory_grows_less_than_20_mib_over_10000_steps():
    """Through HTTP as the page does it: advance polls, state, points and graph requests."""
    with running_server() as (_, base):
        c = Client(base)          # default: 250 training points in batches of 10, 25 steps/epoch
        c.action("play")
        while c.state["epoch"] < 20:
            c.post("advance", {})
        fetch(c.url + "graph.svg")
        start, first = _rss_mib(), c.state["epoch"]
        polls = 0
        while c.state["epoch"] < first + 400:      # 400 epochs x 25 = 10,000 optimizer steps
            assert c.post("advance", {})[0] == 200
            polls += 1
            if polls % 10 == 0:
                c.get("points")
                assert fetch(c.url + "graph.svg")[0] == 200
        grown = _rss_mib() - start
    assert grown < 20, f"resident memory grew by {grown:.1f} MiB over {polls} polls"


def test_the_exported_script_retrains_to_the_pages_loss(tmp_path):
    s = trained(40, dataset="xor", optimizer="momentum", regularization="l2",
                regularization_rate=0.001)
    path = tmp_path / "playground_model.py"
    path.write_text(script(s), encoding="utf-8")
    (tmp_path / "model.npz").write_bytes(model_npz(s))
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    train, test = map(float, re.search(r"train loss (\S+)  test loss (\S+)", out.stdout).groups())
    assert abs(test - s.loss_test) <= 0.1 * s.loss_test, (test, s.loss_test)
    assert abs(train - s.loss_train) <= 0.1 * s.loss_train
    out = subprocess.run([sys.executable, str(path), "--weights", "model.npz"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    test = float(re.search(r"test loss (\S+)", out.stdout).group(1))
    assert test == pytest.approx(s.loss_test, rel=1e-4)


def test_the_exported_model_is_the_state_dict(tmp_path):
    s = trained(3)
    raw = model_npz(s)
    names = check_npz(raw)      # nn.save may add its own bookkeeping entries (__name__)
    assert [n for n in names if not n.startswith("__")] == sorted(s.model.state_dict())
    with np.load(io.BytesIO(raw)) as z:
        np.testing.assert_array_equal(z["output.linear.weight"], s.model.output.linear.weight.data)
    (tmp_path / "model.npz").write_bytes(raw)
    fresh = trained(0)          # another network of the same shape takes the weights back
    fresh.model.load_state_dict(nn.load(tmp_path / "model.npz"))
    for name, value in s.model.state_dict().items():
        np.testing.assert_array_equal(fresh.model.state_dict()[name], value)


@pytest.mark.parametrize("changes", [{}, {"activation": "relu", "layers": [3]},
                                     {"loss": "cross_entropy", "activation": "prelu"},
                                     {"dataset": "plane", "activation": "elu",
                                      "layers": [2, 2, 2]}])
def test_backprop_walk_agrees_with_autograd(changes):
    s = trained(3, **changes)
    bp = views.backprop_steps(s)
    depth = len(s.settings["layers"]) + 1
    assert len(bp["steps"]) == 1 + 2 * depth
    assert bp["steps"][0]["node"].startswith("loss")
    assert [st["node"] for st in bp["steps"][1:3]] == ["output.activation (" +
                                                       type(s.model.output.activation).__name__ +
                                                       ")", "output.linear"]
    for step in bp["steps"]:
        assert "✗" not in step["check"] and "agrees ✓" in step["check"], step
    assert "dE/dW = dE/dout · dout/dZ · dZ/dW" in bp["steps"][2]["formula"]
    assert s.model.output.linear.weight.grad is None     # the walk leaves training alone


def test_graph_groups_layers_and_flags_gradient_norms():
    s = trained(2, layers=[3, 3])
    svg = views.graph_svg(s)
    assert svg.startswith("<svg") and "hidden1 (Layer)" in svg and "output (Layer)" in svg
    assert "0 vanishing, 0 exploding" in svg
    assert "VANISHING" in views.graph_svg(s, vanishing=1e3, exploding=1e6)
    assert "EXPLODING" in views.graph_svg(s, vanishing=1e-12, exploding=1e-9)
    assert s.model.output.linear.weight.grad is None


def test_views_of_a_diverged_run_are_refused_with_a_message():
    with running_server() as (_, base):
        c = Client(base)
        c.settings(dataset="plane", learning_rate=10)
        c.action("play")
        while c.state["playing"]:
            c.post("advance", {})
        assert c.state["diverged"]
        for view in ("graph.svg", "backprop"):
            status, body, _ = fetch(c.url + view)
            assert status == 409 and b"press reset" in body
        assert c.action("reset")[0] == 200 and fetch(c.url + "graph.svg")[0] == 200


def test_graph_is_served_while_training():
    with running_server() as (_, base):
        c = Client(base)
        c.action("play")
        for _ in range(3):
            c.post("advance", {})
            status, svg, _ = fetch(c.url + "graph.svg")
            assert status == 200 and svg.startswith(b"<svg")
        assert c.state["epoch"] > 0 and c.state["playing"]
