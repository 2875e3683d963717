"""Reliability of nn (issue 6): memory stays flat over long training, inference under no_grad
builds no graph, and a failed forward, loss or load changes no parameter, gradient or optimizer
state."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F


def small_model():
    ag.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 1))


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2)).astype(np.float32)
    y = (X[:, :1] * X[:, 1:] > 0).astype(np.float32)
    return ag.Tensor(X), ag.Tensor(y)


def train_step(model, opt, X, y):
    opt.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(X), y)
    loss.backward()
    opt.step()
    return loss


def test_a_thousand_training_steps_grow_traced_memory_by_less_than_256_kib():
    model = small_model()
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)
    X, y = data()
    for _ in range(20):                       # optimizer state and caches exist after warm-up
        train_step(model, opt, X, y)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            loss = train_step(model, opt, X, y)
        del loss
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert growth < 256 * 1024, f"traced memory grew by {growth / 1024:.1f} KiB over 1,000 steps"


def test_inference_under_no_grad_builds_no_graph():
    model = small_model()
    X, _ = data()
    with ag.no_grad():
        out = model(X)
    assert not out.requires_grad and out.grad_fn is None and out.is_leaf
    out = model(X)                            # and with grad mode on, it does
    assert out.requires_grad and out.grad_fn is not None


def state_of(model, opt):
    """Copies of every parameter, gradient and optimizer array."""
    params = {k: (p.data.copy(), None if p.grad is None else p.grad.copy())
              for k, p in model.named_parameters()}
    return params, {k: np.array(v, copy=True) for k, v in opt.state_dict().items()}


def assert_same_state(a, b):
    (params_a, opt_a), (params_b, opt_b) = a, b
    assert params_a.keys() == params_b.keys() and opt_a.keys() == opt_b.keys()
    for k in params_a:
        np.testing.assert_array_equal(params_a[k][0], params_b[k][0])
        if params_a[k][1] is None:
            assert params_b[k][1] is None
        else:
            np.testing.assert_array_equal(params_a[k][1], params_b[k][1])
    for k in opt_a:
        np.testing.assert_array_equal(opt_a[k], opt_b[k])


@pytest.fixture
def trained():
    model = small_model()
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)
    X, y = data()
    for _ in range(3):
        train_step(model, opt, X, y)
    loss = F.binary_cross_entropy_with_logits(model(X), y)
    loss.backward()                           # grads present, as mid-step
    return model, opt


def test_failed_forward_changes_nothing(trained):
    model, opt = trained
    before = state_of(model, opt)
    with pytest.raises(ValueError, match=r"(?i)linear.*\(8, 3\)"):
        model(ag.Tensor(np.ones((8, 3), dtype=np.float32)))   # 3 features, the model wants 2
    assert_same_state(before, state_of(model, opt))


@pytest.mark.parametrize("loss_fn, logits, target", [
    (F.mse_loss, np.zeros((4, 1), np.float32), np.zeros((5, 1), np.float32)),
    (F.cross_entropy, np.zeros((4, 3), np.float32), np.array([0, 1, 2, 3])),      # class 3 of 3
    (F.binary_cross_entropy_with_logits, np.zeros((4, 1), np.float32), np.zeros((4, 2), np.float32)),
])
def test_failed_loss_changes_nothing(trained, loss_fn, logits, target):
    model, opt = trained
    before = state_of(model, opt)
    with pytest.raises(ValueError) as info:
        loss_fn(ag.Tensor(logits, requires_grad=True), ag.Tensor(target))
    assert loss_fn.__name__.replace("_loss", "") in str(info.value)
    assert_same_state(before, state_of(model, opt))


def test_failed_load_changes_nothing(trained, tmp_path):
    model, opt = trained
    sd = model.state_dict()
    sd["0.weight"] = np.zeros((3, 3), dtype=np.float32)      # wrong shape
    sd["extra"] = np.zeros(1, dtype=np.float32)               # unexpected key
    before = state_of(model, opt)
    with pytest.raises(RuntimeError, match=r"0\.weight.*\(3, 3\)|extra"):
        model.load_state_dict(sd)
    osd = opt.state_dict()
    broken = {k: v for k, v in osd.items() if not k.endswith("exp_avg_sq")}
    with pytest.raises((ValueError, KeyError, RuntimeError)):
        opt.load_state_dict(broken)
    path = tmp_path / "truncated.npz"
    nn.save(model.state_dict(), path)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ValueError):
        model.load_state_dict(nn.load(path))
    assert_same_state(before, state_of(model, opt))
