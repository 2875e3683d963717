"""ag.compile(backend="numba"): runs of elementwise steps fused into cached kernels; every step
within 1e-5 relative (float32) / 1e-12 (float64) of eager, all state included."""

import os
import re

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHGRAD_CACHE_DIR", str(tmp_path))
    return tmp_path


def _close(got, want, dtype):
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    scale = np.max(np.abs(want), initial=0.0)
    assert np.all(np.abs(np.asarray(got) - np.asarray(want)) <= rtol * scale), (got, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_fused_chain_matches_eager_every_step(dtype, kernel_cache):
    def make():
        x0 = ag.tensor(np.linspace(-1, 1, 16).astype(dtype), requires_grad=True)

        def step(scale):
            x = x0
            for i in range(12):
                x = ag.tanh(x * 1.1 + 0.05) - 0.02 if i % 2 else -(x * scale).exp() * 0.5
            loss = x.sum()
            x0.grad = None
            loss.backward()
            return loss
        return x0, step
    (xe, eager), (xc, plain) = make(), make()
    compiled = ag.compile(plain, backend="numba")
    for i in range(5):
        scale = np.asarray(0.3 + 0.1 * i, dtype=dtype)
        a, b = eager(scale), compiled(scale)
        _close(b.data, a.data, dtype)
        _close(xc.grad, xe.grad, dtype)
        with ag.no_grad():                   # both copies take the same update
            xe.data -= 0.01 * xe.grad
            xc.data -= 0.01 * xc.grad
        xc.data[...] = xe.data               # keep one trajectory: differences stay per step
    program = compiled.programs[next(iter(compiled.programs))][0].program
    assert program.kernels >= 2               # the forward run and the backward run
    assert "fused kernel (numba)" in program.source
    files = os.listdir(kernel_cache / "numba")
    assert any(f.endswith(".py") for f in files) and "__pycache__" in files   # cached on disk


def test_a_model_with_the_numba_backend_trains_like_eager():
    def make():
        ag.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
        opt = nn.optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step, model
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((16, 4)).astype(np.float32), rng.integers(0, 3, 16))
               for _ in range(6)]
    (eager, em), (plain, cm) = make(), make()
    compiled = ag.compile(plain, backend="numba")
    for x, y in batches:
        _close(compiled(x, y).data, eager(x, y).data, np.float32)
        for p, q in zip(cm.parameters(), em.parameters()):
            _close(p.data, q.data, np.float32)


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend"):
        ag.compile(lambda: None, backend="tpu")


def test_a_broadcast_gradient_feeds_a_fused_backward():
    """sum's gradient is a read-only broadcast view: a kernel gets it as a contiguous copy."""
    a = ag.tensor(np.linspace(0, 1, 1000, dtype=np.float32), requires_grad=True)
    b = ag.tensor(np.linspace(1, 2, 1000, dtype=np.float32), requires_grad=True)

    def step():
        a.grad = b.grad = None
        loss = (a * b).sum()
        loss.backward()
        return loss
    compiled = ag.compile(step, backend="numba")
    for _ in range(3):
        compiled()
    assert compiled.programs[next(iter(compiled.programs))][0].program.kernels == 1
    np.testing.assert_array_equal(a.grad, b.data)
    np.testing.assert_array_equal(b.grad, a.data)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool_kernels_give_the_numpy_rules_values(dtype):
    """pool_kernels.py's 2 x 2 loops against BlockMaxPoolOp's NumPy rules: ReLU-like zero ties,
    a tie of two maxima, NaN in a block, an infinite and a negative gradient."""
    from nn.layers.pool import BlockMaxPoolOp
    rng = np.random.default_rng(3)
    for _ in range(5):
        x = np.maximum(rng.standard_normal((3, 2, 8, 6)), 0).astype(dtype)
        x[0, 0, 0, 0] = np.nan
        x[1, 1, 2, 2] = x[1, 1, 2, 3] = 5
        numpy_op, numba_op = (object.__new__(BlockMaxPoolOp) for _ in range(2))
        numpy_op.output = want = numpy_op.forward(x, (2, 2))
        numba_op.output = got = numba_op.numba_forward(x, (2, 2))
        np.testing.assert_array_equal(got, want)            # NaN where NumPy has NaN
        g = rng.standard_normal(want.shape).astype(dtype)
        g[0, 1, 1, 1], g[2, 0, 0, 0] = np.inf, -1.5
        with np.errstate(divide="ignore", invalid="ignore"):     # the NaN block's 0 / 0
            expected = numpy_op.backward(g)
        assert numba_op.numba_backward(g).tobytes() == expected.tobytes()


def test_a_cnn_step_uses_the_pool_kernels_and_matches_eager():
    def make():
        ag.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(3 * 3 * 3, 4))
        opt = nn.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step, model
    rng = np.random.default_rng(1)
    batches = [(rng.standard_normal((5, 1, 8, 8)).astype(np.float32), rng.integers(0, 4, 5))
               for _ in range(4)]
    (eager, em), (plain, cm) = make(), make()
    compiled = ag.compile(plain, backend="numba")
    for x, y in batches:
        _close(compiled(x, y).data, eager(x, y).data, np.float32)
        for p, q in zip(cm.parameters(), em.parameters()):
            _close(p.data, q.data, np.float32)
    source = next(iter(compiled.programs.values()))[0].program.source
    assert ".numba_forward(" in source and ".numba_backward(" in source


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_kernels_give_the_numpy_rules_values(dtype, bias):
    """lstm_kernels.py's loops against LstmSequenceOp's NumPy rules, forward and every
    gradient, with gradients arriving at two different steps."""
    from nn.layers.fused_lstm import LstmSequenceOp
    rng = np.random.default_rng(5)
    steps, n, hid = 5, 3, 4
    xp = rng.standard_normal((steps, n, 4 * hid)).astype(dtype)
    h0, c0 = (0.5 * rng.standard_normal((n, hid))).astype(dtype), rng.standard_normal((n, hid)).astype(dtype)
    w = (0.3 * rng.standard_normal((4 * hid, hid))).astype(dtype)
    b = rng.standard_normal(4 * hid).astype(dtype) if bias else None
    numpy_op, numba_op = (object.__new__(LstmSequenceOp) for _ in range(2))
    for op in (numpy_op, numba_op):
        op.inputs, op.parents = (xp, h0, c0, w, b), (1, 1, 1, 1, 1 if bias else None)
    numpy_op.output = want = numpy_op.forward(xp, h0, c0, w, b)
    numba_op.output = got = numba_op.numba_forward(xp, h0, c0, w, b)
    _close(got, want, dtype)
    g = np.zeros_like(want)
    g[0, -1], g[1, 2] = rng.standard_normal((2, n, hid))
    for mine, expected in zip(numba_op.numba_backward(g), numpy_op.backward(g)):
        assert (mine is None) == (expected is None)
        if expected is not None:
            _close(mine, expected, dtype)


def test_an_lstm_step_uses_the_lstm_kernels_and_matches_eager():
    def make():
        ag.manual_seed(0)
        lstm, head = nn.LSTM(3, 5), nn.Linear(5, 2)
        opt = nn.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            _, (h, _) = lstm(x)
            loss = F.cross_entropy(head(h[-1]), y)
            loss.backward()
            opt.step()
            return loss
        return step, lstm
    rng = np.random.default_rng(2)
    batches = [(rng.standard_normal((6, 4, 3)).astype(np.float32), rng.integers(0, 2, 4))
               for _ in range(4)]
    (eager, em), (plain, cm) = make(), make()
    compiled = ag.compile(plain, backend="numba")
    for x, y in batches:
        _close(compiled(x, y).data, eager(x, y).data, np.float32)
        for p, q in zip(cm.parameters(), em.parameters()):
            _close(p.data, q.data, np.float32)
    source = next(iter(compiled.programs.values()))[0].program.source
    assert ".numba_forward(" in source and ".numba_backward(" in source


SGD_SETTINGS = [dict(), dict(momentum=0.9), dict(momentum=0.9, dampening=0.25),
                dict(momentum=0.8, nesterov=True, weight_decay=0.01),
                dict(weight_decay=0.1, maximize=True), dict(momentum=0.5, maximize=True)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("settings", SGD_SETTINGS, ids=lambda s: ",".join(s) or "plain")
@pytest.mark.parametrize("smallest", [1, 13], ids=["all-kernels", "small-ones-numpy"])
def test_sgd_kernel_gives_the_numpy_update_bit_for_bit(dtype, settings, smallest, monkeypatch):
    """SGD._numba_update (sgd_kernels.py) against _update over 6 steps of made-up gradients: a
    matrix, a vector, a transposed (not C-contiguous) parameter and one without a gradient,
    which take the NumPy update or none.  The kernels' size threshold is lowered so that they
    take every parameter, or only the 15-element one (the rest take the NumPy update)."""
    monkeypatch.setattr("nn.optim.sgd_kernels.SMALLEST", smallest)
    rng = np.random.default_rng(5)
    shapes = [(4, 3), (7,), (3, 5), (2,)]

    def make():
        ps = [ag.Tensor(np.array(np.random.default_rng(1).standard_normal(s), dtype=dtype),
                        requires_grad=True) for s in shapes]
        ps[2].data = ps[2].data.T.copy().T      # the same values, Fortran order
        return ps, nn.optim.SGD(ps, lr=0.05, **settings)

    (pa, oa), (pb, ob) = make(), make()
    for _ in range(6):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        for ps in (pa, pb):
            for p, g in zip(ps[:3], grads):
                p.grad = g.copy()
        oa._update()
        ob._numba_update()
        for p, q in zip(pa, pb):
            assert p.data.tobytes() == q.data.tobytes()
        if settings.get("momentum"):
            for p, q in zip(pa[:3], pb[:3]):
                assert oa.state[p]["momentum_buffer"].tobytes() == \
                    ob.state[q]["momentum_buffer"].tobytes()
    untouched = np.array(np.random.default_rng(1).standard_normal(shapes[3]), dtype=dtype)
    assert pb[3].data.tobytes() == untouched.tobytes()      # no gradient: not stepped
    assert not pb[2].data.flags.c_contiguous                # the NumPy update kept it in place


def _mean_square_step(model, opt, x):
    def step():
        opt.zero_grad()
        loss = (model(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return step


def test_a_compiled_step_calls_the_sgd_kernel():
    model = nn.Linear(3, 2)
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    compiled = ag.compile(_mean_square_step(model, opt, ag.Tensor(np.ones((4, 3), np.float32))),
                          backend="numba")
    for _ in range(3):
        compiled()
    source = next(iter(compiled.programs.values()))[0].program.source
    ns = next(iter(compiled.programs.values()))[0].program.run.__globals__
    called = [v for k, v in ns.items() if getattr(v, "__name__", "") == "_numba_step"]
    assert called and "SGD.step" in source


@pytest.mark.parametrize("settings", [dict(lr=np.float64(0.05)), dict(lr=0.05, momentum=1e-46,
                                                                     weight_decay=0.01)],
                         ids=["numpy-scalar-lr", "momentum-below-float32"])
def test_sgd_kernel_cases_that_keep_numpy_values(settings):
    """A NumPy scalar hyperparameter makes NumPy compute in float64 (the kernels would cast it to
    float32): that group keeps the NumPy update; a momentum that float32 rounds to 0 is still on,
    as in the NumPy update."""
    rng = np.random.default_rng(7)
    shape = (200, 100)                       # over SMALLEST: the kernels' size

    def make():
        p = ag.Tensor(np.array(rng.standard_normal(shape), dtype=np.float32), requires_grad=True)
        return p, nn.optim.SGD([p], **settings)
    (pa, oa), (pb, ob) = make(), make()
    pb.data[...] = pa.data
    for _ in range(3):
        g = rng.standard_normal(shape).astype(np.float32)
        pa.grad, pb.grad = g.copy(), g.copy()
        oa._update()
        ob._numba_update()
        assert pa.data.tobytes() == pb.data.tobytes()


def test_a_subclass_overriding_update_is_not_given_sgds_kernels():
    class HalfSGD(nn.optim.SGD):
        def _update(self):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.data -= 0.5 * group["lr"] * p.grad

    def make():
        ag.manual_seed(3)
        model = nn.Linear(200, 100)
        opt = HalfSGD(model.parameters(), lr=0.1)
        return _mean_square_step(model, opt, ag.Tensor(np.ones((4, 200), np.float32))), model
    (eager, em), (plain, cm) = make(), make()
    compiled = ag.compile(plain, backend="numba")
    for _ in range(4):
        _close(compiled().data, eager().data, np.float32)
        _close(cm.weight.data, em.weight.data, np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [64, 1 << 14])
def test_relu_fuses_and_its_lone_backward_gets_a_kernel_on_large_arrays(dtype, size):
    """relu fuses with its neighbours; alone, its backward g * (x > 0) (two NumPy passes) is a
    kernel of its own from SINGLE_MIN elements on, not below.  Values as eager's: zeros,
    negatives, NaN (relu keeps it, its gradient there is 0) and -0.0 included."""
    from autograd.compiler.numba_backend import SINGLE_MIN
    rng = np.random.default_rng(size)
    x0 = rng.standard_normal(size).astype(dtype)
    x0[:4] = [0.0, -0.0, np.nan, -1.0]
    w0 = rng.standard_normal(size).astype(dtype)

    def make():
        x = ag.tensor(x0.copy(), requires_grad=True)
        w = ag.tensor(w0.copy(), requires_grad=True)

        def step():
            x.grad = w.grad = None
            h = ag.relu(x * w + 0.5)           # fused with the product and the sum
            out = ag.sin(h * 3.0)              # sin: not fusable, ends the run
            loss = ag.sin(ag.relu(out)).sum()  # relu alone between two sines
            loss.backward()
            return loss
        return x, w, step
    (xe, we, eager), (xc, wc, plain) = make(), make()
    compiled = ag.compile(plain, backend="numba")
    for _ in range(3):
        want, got = eager(), compiled()
        assert np.isnan(want.data) == np.isnan(got.data)
        for mine, expected in ((xc.grad, xe.grad), (wc.grad, we.grad)):
            assert np.array_equal(np.isnan(mine), np.isnan(expected))
            _close(np.nan_to_num(mine), np.nan_to_num(expected), dtype)
    source = compiled.programs[next(iter(compiled.programs))][0].program.source
    lone = re.findall(r"# (\d+)-\1: fused kernel", source)      # a run of one step
    assert "fused kernel (numba)" in source
    assert bool(lone) == (size >= SINGLE_MIN), source


def test_the_steps_numba_leaves_to_numpy_get_output_buffers():
    """A small tanh MLP has no run worth a kernel: its program is the numpy backend's, buffers
    included, and it trains as eager does."""
    def make():
        rng = np.random.default_rng(3)
        model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
        for p in model.parameters():
            p.data[...] = rng.standard_normal(p.shape).astype(np.float32)
        return model, nn.optim.SGD(model.parameters(), lr=0.05)
    rng = np.random.default_rng(4)
    xs = [ag.Tensor(rng.standard_normal((16, 2)).astype(np.float32)) for _ in range(5)]
    (me, oe), (mc, oc), (mt, ot) = make(), make(), make()
    compiled = ag.compile(lambda x: _mean_square_step(mc, oc, x)(), backend="numba")
    numpy_twin = ag.compile(lambda x: _mean_square_step(mt, ot, x)())
    for x in xs[:3]:
        numpy_twin(x)
    for x in xs:
        want, got = _mean_square_step(me, oe, x)(), compiled(x)
        _close(got.data, want.data, np.float32)
        for p, q in zip(mc.parameters(), me.parameters()):
            _close(p.data, q.data, np.float32)
            _close(p.grad, q.grad, np.float32)
    program = next(iter(compiled.programs.values()))[0].program
    twin = next(iter(numpy_twin.programs.values()))[0].program
    assert program.kernels == 0 and program.buffers
    assert program.source == twin.source        # the same lines, written into the same buffers


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_kernels_give_the_numpy_rules_values(dtype):
    """cross_entropy_kernels.py against CrossEntropy2dOp's rules: rows of logits +-1e4 (exp
    underflows to 0), a row with NaN (NaN loss, NaN row of the gradient), and the range check."""
    from nn.cross_entropy import CrossEntropy2dOp
    rng = np.random.default_rng(8)
    for rows, classes in ((16, 10), (5, 3), (1, 40)):
        x = (rng.standard_normal((rows, classes)) * 3).astype(dtype)
        x[0, :2] = (1e4, -1e4)
        target = rng.integers(0, classes, rows).astype(np.intp)
        rules, kernels = (object.__new__(CrossEntropy2dOp) for _ in range(2))
        rules.inputs = kernels.inputs = (x,)
        with np.errstate(under="ignore"):
            want = rules.forward(x, target, 1, 1.0 / rows)
        got = kernels.numba_forward(x, target, 1, 1.0 / rows)
        assert got.dtype == want.dtype == dtype and got.shape == ()
        _close(got, want, dtype)
        g = np.asarray(0.7, dtype)
        want_g, got_g = rules.backward(g), kernels.numba_backward(g)
        assert got_g.dtype == dtype
        _close(got_g, want_g, dtype)
    x[-1, 1] = np.nan
    with np.errstate(invalid="ignore"):
        want = rules.forward(x, target, 1, 1.0)
    got = kernels.numba_forward(x, target, 1, 1.0)
    assert np.isnan(got) and np.isnan(want)
    assert np.isnan(kernels.numba_backward(g)[-1]).all()
    with pytest.raises(ValueError, match="class target 40 is out of range for 40 classes"):
        kernels.numba_forward(x, np.array([40], np.intp), 1, 1.0)


def test_a_classifier_step_uses_the_cross_entropy_kernels_and_matches_eager():
    def make():
        ag.manual_seed(2)
        model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))
        return model, nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(9)
    batches = [(rng.standard_normal((12, 6)).astype(np.float32), rng.integers(0, 4, 12))
               for _ in range(5)]
    (me, oe), (mc, oc) = make(), make()

    def step_of(model, opt):
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step
    eager, compiled = step_of(me, oe), ag.compile(step_of(mc, oc), backend="numba")
    for x, y in batches:
        _close(compiled(x, y).data, eager(x, y).data, np.float32)
        for p, q in zip(mc.parameters(), me.parameters()):
            _close(p.data, q.data, np.float32)
            _close(p.grad, q.grad, np.float32)
    source = next(iter(compiled.programs.values()))[0].program.source
    assert ".numba_forward(" in source and ".numba_backward(" in source
