"""ag.compile and what library code computes from data outside ops: argmax and other
inspections, masks, per-sample weights, one-hot targets and input checks.  A replay must
compute them from each call's values (or raise as eager does, or refuse); the capture's values
must never be reused silently.  In each case the first two calls (capture and verification)
agree about the data-derived array by design, and the later calls do not."""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

RNG = np.random.default_rng(11)


def _compare(make, calls):
    """make() -> (step, params).  Eager and compiled copies over ``calls``: equal results and
    gradients, or the same exception type."""
    eager, pe = make()
    plain, pc = make()
    for p, q in zip(pe, pc):
        q.data[...] = p.data
    compiled = ag.compile(plain)
    for args in calls:
        try:
            want = eager(*args)
        except Exception as err:            # eager refuses the data: so must the replay
            with pytest.raises(type(err)):
                compiled(*args)
            continue
        got = compiled(*args)
        np.testing.assert_allclose(np.asarray(got.data), np.asarray(want.data), rtol=1e-6)
        for p, q in zip(pe, pc):
            assert (p.grad is None) == (q.grad is None)
            if p.grad is not None:
                np.testing.assert_allclose(q.grad, p.grad, rtol=1e-6, atol=1e-7)
    return compiled


def _linear(n_in=3, n_out=4, bias=(0.0, 0.0, 0.0, 50.0)):
    lin = nn.Linear(n_in, n_out)
    lin.weight.data[...] = RNG.standard_normal(lin.weight.shape).astype(np.float32)
    lin.bias.data[...] = bias
    return lin


# Calls 1 and 2 see small inputs (the bias of 50 picks class 3 both times), later ones large.
XS = [ag.Tensor((RNG.standard_normal((5, 3)) * (1 if i < 2 else 200)).astype(np.float32))
      for i in range(5)]


@pytest.mark.parametrize("pick", ["argmax", "max-dim", "sort-descending", "median-dim",
                                  "np.argmax"])
def test_index_results_are_recomputed_at_replay(pick):
    def make():
        lin = _linear()

        def step(x):
            lin.zero_grad()
            out = lin(x)
            if pick == "argmax":
                loss = out[np.arange(5), out.argmax(1)].sum()
            elif pick == "np.argmax":
                loss = out[np.arange(5), np.argmax(out, axis=1)].sum()
            elif pick == "max-dim":
                loss = out.max(dim=1).values.sum() + out.max(dim=1).indices.sum()
            elif pick == "sort-descending":
                values, order = out.sort(dim=1, descending=True)
                loss = values[:, 0].sum() + order[:, 0].sum()
            else:
                loss = out.median(dim=1).values.sum()
            loss.backward()
            return loss
        return step, list(lin.parameters())
    _compare(make, [(x,) for x in XS])


def test_an_accuracy_metric_follows_each_calls_predictions():
    def make():
        lin = _linear()

        def step(x, y):
            lin.zero_grad()
            out = lin(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            return (out.argmax(1) == y).astype(np.float32).mean() + loss * 0
        return step, list(lin.parameters())
    ys = [np.array([3, 3, 3, 3, 3])] * 2 + [RNG.integers(0, 4, 5) for _ in range(3)]
    _compare(make, list(zip(XS, ys)))


def test_python_control_flow_through_inspections_is_refused():
    lin = _linear()

    def any_branch(x):
        h = lin(x)
        return h.sum() * 2 if np.any(h > 5) else h.sum()

    def allclose_branch(x):
        h = lin(x)
        return h.sum() if np.allclose(h, 0) else h.sum() * 2
    for fn in (any_branch, allclose_branch):
        with pytest.raises(ag.CompileError, match="Python"):
            ag.compile(fn)(XS[0])


def test_frexp_and_take_modes_follow_the_data():
    def make(kind):
        def build():
            w = ag.Tensor(np.linspace(0.5, 3.0, 5).astype(np.float32), requires_grad=True)

            def step(x, idx):
                w.grad = None
                if kind == "frexp":
                    mantissa, exponent = np.frexp(w * x)
                    loss = (mantissa * exponent).sum()
                else:
                    loss = (np.take(w * x, idx, mode=kind) * np.arange(1, 4)).sum()
                loss.backward()
                return loss
            return step, [w]
        return build
    xs = [np.full(5, 1.0, np.float32)] * 2 + [np.full(5, v, np.float32) for v in (9.0, 0.1, 40.)]
    idx = [np.array([0, 1, 2])] * 2 + [np.array(i) for i in ([-1, 7, 2], [9, -6, 4], [3, 3, 0])]
    for kind in ("frexp", "clip", "wrap"):
        _compare(make(kind), list(zip(xs, idx)))


@pytest.mark.parametrize("settings", [
    dict(ignore_index=-100), dict(ignore_index=0), dict(weight=np.float32([1, 1, 2, 3])),
    dict(weight=np.float32([1, 1, 2, 3]), reduction="sum"), dict(label_smoothing=0.1,
                                                                 ignore_index=1)],
    ids=["ignore-100", "ignore-0", "weight", "weight-sum", "smoothing-ignore"])
def test_cross_entropy_weights_and_ignored_targets_follow_the_targets(settings):
    def make():
        lin = _linear(bias=(0.0, 0.0, 0.0, 0.0))

        def step(x, y):
            lin.zero_grad()
            loss = F.cross_entropy(lin(x), y, **settings)
            loss.backward()
            return loss
        return step, list(lin.parameters())
    ignore = settings.get("ignore_index", 1)
    first = np.array([ignore, 1, 0, 3, 2]) if ignore >= 0 else np.array([ignore, 1, 0, 3, 2])
    ys = [first, first] + [np.array(y) for y in ([0, 0, 1, 3, ignore], [2, ignore, ignore, 1, 0],
                                                 [1, 0, 2, 3, 3])]
    _compare(make, [(x, y) for x, y in zip(XS, ys)])


def test_attention_padding_masks_follow_each_call():
    def make():
        ag.manual_seed(0)
        attn = nn.MultiheadAttention(4, 2, batch_first=True)

        def step(x, pad):
            attn.zero_grad()
            out, _ = attn(x, x, x, key_padding_mask=pad)
            loss = (out ** 2).sum()
            loss.backward()
            return loss
        return step, list(attn.parameters())
    xs = [RNG.standard_normal((2, 3, 4)).astype(np.float32) for _ in range(5)]
    none = np.zeros((2, 3), bool)
    pads = [none, none, np.array([[0, 0, 1], [0, 1, 1]], bool), np.array([[0, 1, 0], [0, 0, 0]],
                                                                        bool), none]
    _compare(make, list(zip(xs, pads)))


def test_one_hot_follows_the_classes_and_checks_them_at_replay():
    def make():
        lin = _linear(bias=(0.0, 0.0, 0.0, 0.0))

        def step(x, y):
            lin.zero_grad()
            loss = (lin(x) * F.one_hot(y, 4)).sum()
            loss.backward()
            return loss
        return step, list(lin.parameters())
    ys = [np.array([0, 1, 2, 3, 0])] * 2 + [np.array(y) for y in ([3, 3, 1, 0, 2],
                                                                  [0, 1, 4, 0, 0], [1, 1, 1, 1, 1])]
    _compare(make, list(zip(XS, ys)))
    with pytest.raises(ag.CompileError, match="one_hot"):
        ag.compile(lambda y: F.one_hot(y).sum())(ag.Tensor(np.array([0, 2])))


def test_input_checks_run_at_replay():
    """binary_cross_entropy's probability range and np.average's zero-sum weights raise at a
    replay as in eager."""
    def make(kind):
        def build():
            w = ag.Tensor(np.full(4, 0.5, np.float32), requires_grad=True)

            def step(x):
                w.grad = None
                if kind == "bce":
                    loss = F.binary_cross_entropy(w * x, np.ones(4, np.float32))
                else:
                    loss = np.average(w, weights=x)
                loss.backward()
                return loss
            return step, [w]
        return build
    xs = [np.full(4, v, np.float32) for v in (1.0, 1.5, 0.5, 3.0, 0.2)]
    _compare(make("bce"), [(x,) for x in xs])                        # 3.0 * 0.5 > 1 raises
    weights = [np.float32(v) for v in ([1, 1, 1, 1], [2, 1, 1, 1], [1, -1, 1, -1], [1, 2, 3, 4])]
    _compare(make("average"), [(x,) for x in weights])             # the third sums to 0


def _leaf_step(body):
    """make() for a step of one leaf w (5 values) and an argument x: loss = body(w, x)."""
    def make():
        w = ag.Tensor(np.linspace(0.5, 2.5, 5).astype(np.float32), requires_grad=True)

        def step(x):
            w.grad = None
            loss = body(w, x)
            loss.backward()
            return loss
        return step, [w]
    return make


# Calls 1 and 2 differ in their data but agree about what the case derives from it.
CASTS = [np.array(v, np.float32) for v in ([1.2, 2.4, 3.1, 0.2, 1.9], [1.3, 2.2, 3.4, 0.1, 1.6],
                                            [3.7, 0.3, 9.9, 4.5, 2.2], [0.4, 7.7, 1.1, 2.9, 5.5])]


@pytest.mark.parametrize("case", ["astype-int", "where-int-condition", "nansum", "nancumsum",
                                  "repeat-counts", "linspace-int"])
def test_casts_masks_and_counts_follow_the_data(case):
    def body(w, x):
        if case == "astype-int":
            return (w * (w * x).astype(np.int64)).sum()
        if case == "where-int-condition":
            return np.where((w * x).astype(np.int64) % 2, w, -w).sum()
        if case in ("nansum", "nancumsum"):
            y = np.where(ag.Tensor(x) > 3, np.nan, w * x)
            return np.nansum(y) if case == "nansum" else np.nancumsum(y).sum()
        if case == "repeat-counts":
            return (np.repeat(w, ag.Tensor(x).astype(np.int64) % 3) ** 2).sum()
        return (w * np.linspace(0, w * x, 5, dtype=np.int64)).sum()
    _compare(_leaf_step(body), [(x,) for x in CASTS])


@pytest.mark.parametrize("case", ["class-weight", "pos-weight", "bce-weight"])
def test_float64_weights_for_float32_inputs_follow_each_call(case):
    def make():
        lin = _linear(bias=(0.0, 0.0, 0.0, 0.0))

        def step(x, w):
            lin.zero_grad()
            out = lin(x)
            if case == "class-weight":
                loss = F.cross_entropy(out, np.array([0, 1, 2, 3, 0]), weight=w)
            elif case == "pos-weight":
                loss = F.binary_cross_entropy_with_logits(out, np.ones((5, 4), np.float32),
                                                          pos_weight=w)
            else:
                loss = F.binary_cross_entropy(ag.sigmoid(out), np.ones((5, 4), np.float32),
                                              weight=w)
            loss.backward()
            return loss
        return step, list(lin.parameters())
    wa, wb = np.array([0.1, 0.3, 0.7, 0.9]), np.array([0.9, 0.2, 0.3, 0.1])    # float64
    _compare(make, [(XS[0], wa), (XS[1], wa), (XS[2], wb), (XS[3], wb)])


def test_batch_norm_in_eval_reads_the_running_statistics_of_each_call():
    """Loaded or trained statistics (changed in place, or rebound) reach an eval replay."""
    def make():
        ag.manual_seed(0)
        bn = nn.BatchNorm1d(3)
        bn.eval()

        def step(x):
            bn.zero_grad()
            loss = (bn(x) ** 2).sum()
            loss.backward()
            return loss
        return step, bn

    xs = [RNG.standard_normal((4, 3)).astype(np.float32) for _ in range(5)]
    (eager, be), (plain, bc) = make(), make()
    compiled = ag.compile(plain)
    for i, x in enumerate(xs):
        if i == 3:
            for bn in (be, bc):
                bn.running_var.data *= 4.0            # in place, as load_state_dict does
        if i == 4:
            for bn in (be, bc):
                bn.running_mean.data = bn.running_mean.data + 2.0      # rebound
        np.testing.assert_allclose(compiled(x).data, eager(x).data, rtol=1e-6)
        np.testing.assert_allclose(bc.weight.grad, be.weight.grad, rtol=1e-6)


def test_embedding_indices_computed_in_another_integer_dtype_follow_each_call():
    def make():
        ag.manual_seed(0)
        emb = nn.Embedding(6, 2)

        def step(x):
            emb.zero_grad()
            idx = (ag.Tensor(x) * 5).astype(np.int32)     # computed, int32: cast to intp
            loss = (emb(idx) ** 2).sum()
            loss.backward()
            return loss
        return step, list(emb.parameters())
    xs = [np.array(v, np.float32) for v in ([0.1, 0.5, 0.9], [0.15, 0.55, 0.95], [0.9, 0.0, 0.3],
                                            [0.45, 0.45, 0.7])]
    _compare(make, [(x,) for x in xs])


def test_embedding_indices_out_of_range_at_replay_raise_as_eager():
    def make():
        ag.manual_seed(0)
        emb = nn.Embedding(10, 3)

        def step(i):
            emb.zero_grad()
            loss = emb(i).sum()
            loss.backward()
            return loss
        return step, list(emb.parameters())
    calls = [[1, 2], [3, 4], [5, 6], [12, 1], [-11, 0], [-3, 2]]
    compiled = _compare(make, [(np.array(c),) for c in calls])
    with pytest.raises(ValueError, match="index out of range"):
        compiled(np.array([10, 0]))


def test_one_hot_takes_lists():
    np.testing.assert_array_equal(F.one_hot([1, 2], 3).data, [[0, 1, 0], [0, 0, 1]])


def test_numba_fuses_no_step_whose_shape_the_data_chooses():
    pytest.importorskip("numba")

    def body(w, x):
        h = w * x
        picked = h[h > 1.0]                    # as many entries as the data has above 1
        return (ag.tanh(picked * 1.5 + 0.1) * 2.0 - picked).sum()
    eager, pe = _leaf_step(body)()
    plain, pc = _leaf_step(body)()
    compiled = ag.compile(plain, backend="numba")
    for x in CASTS:
        np.testing.assert_allclose(compiled(x).data, eager(x).data, rtol=1e-5)
        np.testing.assert_allclose(pc[0].grad, pe[0].grad, rtol=1e-5, atol=1e-6)
