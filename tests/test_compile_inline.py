"""ag.compile's inline forms: nn's fused linear written into the program (bias or not, 3-D input,
dtypes that promote), Python numbers as typed 0-d constants, and the numba backend's packed
outputs and float32 tanh; bitwise equal to eager (numpy backend) or within tolerance (numba)."""

import re

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from nn.layers.linear import linear


def _pair(bias):
    a, b = nn.Linear(3, 4, bias=bias), nn.Linear(3, 4, bias=bias)
    for p, q in zip(b.parameters(), a.parameters()):
        p.data[...] = q.data
    return a, b


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(8, 3), (2, 5, 3), (3,)])
def test_linear_replay_is_bitwise_eager(bias, shape):
    models = _pair(bias)
    opts = [nn.optim.SGD(m.parameters(), lr=0.1, momentum=0.9) for m in models]

    def make(model, opt):
        def step(x):
            opt.zero_grad()
            loss = (model(x).tanh() * 0.5 - 1.5).sum()
            loss.backward()
            opt.step()
            return loss
        return step

    compiled, eager = ag.compile(make(models[0], opts[0])), make(models[1], opts[1])
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = Tensor(rng.standard_normal(shape).astype(np.float32))
        assert compiled(x).data.tobytes() == eager(x).data.tobytes()
        for p, q in zip(models[0].parameters(), models[1].parameters()):
            assert p.data.tobytes() == q.data.tobytes()
            assert p.grad.tobytes() == q.grad.tobytes()
    source = [c.program.source for g in compiled.programs.values() for c in g][0]
    assert ("@" in source) == bias          # without a bias the op is re-run, not inlined


@pytest.mark.parametrize("dtypes", [("f4", "f4", "f8"), ("f4", "f8", "f4"), ("f8", "f4", "f4"),
                                    ("f4", "f4", "f4")])
def test_linear_with_promoting_dtypes_checks_equal(dtypes):
    xd, wd, bd = dtypes
    rng = np.random.default_rng(1)
    w = Tensor(rng.random((4, 3)).astype(wd), requires_grad=True)
    b = Tensor(rng.random(4).astype(bd), requires_grad=True)

    def step(x):
        w.grad = b.grad = None
        y = (linear(x, w, b) * 1.5).sum()
        y.backward()
        return y

    compiled = ag.compile(step, check=True)         # raises on the first difference
    for _ in range(4):
        compiled(Tensor(rng.random((5, 3)).astype(xd)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_python_numbers_replay_bitwise(dtype):
    x = Tensor(np.linspace(-2, 2, 12).astype(dtype).reshape(3, 4), requires_grad=True)

    def step(x):
        x.grad = None
        y = ((x * 1.1 + 3) * 7 - 0.3).tanh() * 1e300 if dtype == np.float64 else (
            (x * 1.1 + 3) * 7 - 0.3).tanh() * 2
        loss = (y - 1).sum()
        loss.backward()
        return loss, y

    compiled = ag.compile(step)
    for _ in range(4):
        got = [t.data.tobytes() for t in compiled(x)] + [x.grad.tobytes()]
        want = [t.data.tobytes() for t in step(x)] + [x.grad.tobytes()]
        assert got == want
        x.data += 0.1


def test_numba_packed_outputs_and_tanh(tmp_path, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setenv("GRAPHGRAD_CACHE_DIR", str(tmp_path))
    x = Tensor(np.linspace(-1, 1, 12).astype(np.float32).reshape(3, 4), requires_grad=True)

    def step(x):
        x.grad = None
        a = (x * 1.5 + 0.2).tanh()
        b = (a * 0.7 - 0.1).tanh()
        c = (b * 1.3 + a).exp()
        loss = (c * ((a - b) * 2.0)).sum()
        loss.backward()
        return loss, a, b, c

    compiled = ag.compile(step, backend="numba")
    kept = None
    for i in range(5):
        got = compiled(x)
        grad = x.grad.copy()
        if kept is not None:                # the previous replay's values were not overwritten
            assert all(np.array_equal(t.data, k) for t, k in zip(previous, kept))
        previous, kept = got, [t.data.copy() for t in got]
        want = step(x)
        for g, w in zip(list(got) + [grad], list(want) + [x.grad]):
            g, w = np.asarray(getattr(g, "data", g)), np.asarray(getattr(w, "data", w))
            assert np.all(np.abs(g - w) <= 1e-5 * np.max(np.abs(w)))
    source = [c.program.source for g in compiled.programs.values() for c in g][0]
    assert "_B" in source                   # several outputs: rows of one buffer
    x.data[...] = np.array([[0.0, -0.0, np.inf, -np.inf], [np.nan, 1e-30, -1e-30, 30],
                            [-30, 1e-8, 0.003, -0.005]], dtype=np.float32)
    got, want = compiled(x)[1].data, step(x)[1].data
    assert np.allclose(got, want, rtol=1e-6, atol=0, equal_nan=True)
    assert (np.signbit(got) == np.signbit(want))[~np.isnan(want)].all()


def test_passed_on_gradients_are_not_renamed():
    """add's and subtract's backward pass the gradient on as it is: the program reads the same
    slot instead of writing ``vK = vJ`` (copy propagation), and stays bitwise equal to eager,
    accumulation into a shared gradient included."""
    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal(6).astype(np.float32), requires_grad=True)

    def step():
        x.grad = None
        a = (x * 1.5 + 0.25) - 0.5
        loss = ((a.tanh() + a) - x).sum()   # x reached twice: its gradients are summed
        loss.backward()
        return loss

    compiled = ag.compile(step)
    for _ in range(4):
        got, grad = compiled().data.tobytes(), x.grad.copy()
        assert got == step().data.tobytes() and grad.tobytes() == x.grad.tobytes()
    source = [c.program.source for g in compiled.programs.values() for c in g][0]
    assert not re.search(r"^\s*v\d+ = v\d+$", source, re.M), source
    assert "backward of add" in source      # the steps are still there, as comments
