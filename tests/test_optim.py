"""Optimizers against trajectories computed by hand, param groups, state dicts and schedulers."""

import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn.optim import SGD, Adam, AdamW, RMSprop, Adagrad
from nn.optim.lr_scheduler import StepLR, ExponentialLR, CosineAnnealingLR


def param(*values):
    return ag.Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def run(opt, p, grad_fn, steps):
    """``steps`` updates with the gradient ``grad_fn(p.data)``; returns p's value after each."""
    out = []
    for _ in range(steps):
        opt.zero_grad()
        p.grad = grad_fn(p.data.copy())
        opt.step()
        out.append(p.data.copy())
    return np.array(out)


# ---- SGD: the lecture's rule, momentum, Nesterov, weight decay ----------------------------------

def test_sgd_plain_is_the_lecture_rule():
    p = param(1.0, -2.0)
    # E = p^2 summed, dE/dp = 2p:  p <- p - 0.1 * 2p = 0.8 p
    traj = run(SGD([p], lr=0.1), p, lambda w: 2 * w, 2)
    np.testing.assert_allclose(traj, [[0.8, -1.6], [0.64, -1.28]], rtol=0, atol=1e-15)


def test_sgd_momentum_three_steps_by_hand():
    # E = p^2 / 2, so g = p; lr 0.1, momentum 0.9, p0 = 1.
    #   1: g=1     b=1                  p=0.9
    #   2: g=0.9   b=0.9*1+0.9=1.8      p=0.9-0.18=0.72
    #   3: g=0.72  b=0.9*1.8+0.72=2.34  p=0.72-0.234=0.486
    # The same as the lecture's  dW(t) = -lr g + 0.9 dW(t-1):  -0.1, -0.18, -0.234.
    p = param(1.0)
    traj = run(SGD([p], lr=0.1, momentum=0.9), p, lambda w: w, 3)
    np.testing.assert_allclose(traj[:, 0], [0.9, 0.72, 0.486], rtol=0, atol=1e-14)


def test_sgd_nesterov_three_steps_by_hand():
    # g = p, lr 0.1, momentum 0.9, p0 = 1; step d = g + 0.9 b.
    #   1: g=1       b=1       d=1.9      p=0.81
    #   2: g=0.81    b=1.71    d=2.349    p=0.5751
    #   3: g=0.5751  b=2.1141  d=2.47779  p=0.327321
    p = param(1.0)
    traj = run(SGD([p], lr=0.1, momentum=0.9, nesterov=True), p, lambda w: w, 3)
    np.testing.assert_allclose(traj[:, 0], [0.81, 0.5751, 0.327321], rtol=0, atol=1e-14)


def test_sgd_weight_decay_adds_to_the_gradient():
    # g = 2 (constant), weight_decay 0.5, p0 = 1: d = 2 + 0.5 = 2.5, p = 1 - 0.1*2.5 = 0.75
    p = param(1.0)
    traj = run(SGD([p], lr=0.1, weight_decay=0.5), p, lambda w: np.full_like(w, 2.0), 1)
    assert traj[0, 0] == pytest.approx(0.75, abs=1e-15)


def test_sgd_momentum_buffer_does_not_alias_the_gradient():
    p = param(1.0)
    opt = SGD([p], lr=0.1, momentum=0.9)
    g = np.array([1.0])
    p.grad = g
    opt.step()
    opt.step()          # the buffer is updated in place; the user's gradient array must not be
    assert g[0] == 1.0


# ---- Adam, AdamW --------------------------------------------------------------------------------

def test_adam_first_step_moves_by_lr_times_sign():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(6)
    g = np.array([3.0, -1e-3, 1e3, -0.5, 2e-6, -7.0])
    p = ag.Tensor(w0.copy(), requires_grad=True)
    p.grad = g
    lr, eps = 0.01, 1e-8
    Adam([p], lr=lr, eps=eps).step()
    # exactly lr * |g| / (|g| + eps) in the direction of -g
    moved = w0 - p.data
    err = np.abs(moved - lr * np.sign(g))
    assert np.all(err <= lr * eps / np.abs(g) + 1e-15)


def test_adam_two_steps_against_the_formula():
    # Scalar bias-corrected Adam written out: g = p, lr 0.1, betas (0.9, 0.999), eps 1e-8, p0 = 1
    p_ref, m, v = 1.0, 0.0, 0.0
    expected = []
    for t in (1, 2):
        g = p_ref
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        p_ref -= 0.1 * (m / (1 - 0.9 ** t)) / (math.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
        expected.append(p_ref)
    assert expected[1] == pytest.approx(0.8004123, abs=1e-6)   # by hand on paper
    p = param(1.0)
    traj = run(Adam([p], lr=0.1), p, lambda w: w, 2)
    np.testing.assert_allclose(traj[:, 0], expected, rtol=0, atol=1e-13)


def test_adamw_decays_the_previous_weights():
    # zero gradient: the Adam part moves nothing, so only the decoupled decay acts
    p = param(2.0, -4.0)
    traj = run(AdamW([p], lr=0.1, weight_decay=0.1), p, lambda w: np.zeros_like(w), 2)
    np.testing.assert_allclose(traj, [[1.98, -3.96], [1.9602, -3.9204]], rtol=0, atol=1e-14)


def test_adamw_differs_from_adam_l2():
    # Adam's weight_decay goes through the adaptive scaling: g = 0.1 * p, a full lr-sized step
    p = param(2.0)
    traj = run(Adam([p], lr=0.1, weight_decay=0.1), p, lambda w: np.zeros_like(w), 1)
    assert traj[0, 0] == pytest.approx(1.9, abs=1e-7)
    assert AdamW([param(1.0)]).param_groups[0]["weight_decay"] == 1e-2


def test_adam_defaults_are_pytorchs():
    g = Adam([param(1.0)]).param_groups[0]
    assert (g["lr"], g["betas"], g["eps"], g["weight_decay"]) == (1e-3, (0.9, 0.999), 1e-8, 0.0)


# ---- RMSprop, Adagrad ---------------------------------------------------------------------------

def test_rmsprop_one_step_by_hand():
    # g = 2, alpha 0.99: s = 0.01 * 4 = 0.04, sqrt(s) = 0.2, step = 0.01 * 2 / 0.2 = 0.1
    p = param(1.0)
    traj = run(RMSprop([p], lr=0.01), p, lambda w: np.full_like(w, 2.0), 1)
    assert traj[0, 0] == pytest.approx(0.9, abs=1e-8)


def test_rmsprop_centered_and_momentum_by_hand():
    # centered: mean g = 0.02, s - mean^2 = 0.0396, step = 0.01 * 2 / sqrt(0.0396)
    p = param(1.0)
    traj = run(RMSprop([p], lr=0.01, centered=True), p, lambda w: np.full_like(w, 2.0), 1)
    assert traj[0, 0] == pytest.approx(1 - 0.02 / math.sqrt(0.0396), abs=1e-8)
    # momentum 0.9: b1 = 2/0.2 = 10, p = 0.9;
    #               s2 = 0.0796, b2 = 9 + 2/sqrt(0.0796), p = 0.9 - 0.01 b2
    p = param(1.0)
    traj = run(RMSprop([p], lr=0.01, momentum=0.9), p, lambda w: np.full_like(w, 2.0), 2)
    np.testing.assert_allclose(traj[:, 0], [0.9, 0.9 - 0.01 * (9 + 2 / math.sqrt(0.0796))],
                               atol=1e-8)


def test_adagrad_by_hand():
    # g = 2: s = 4, p -= 0.1 * 2 / 2 = 0.1; with lr_decay 0.5 step 2 uses lr 0.1/1.5, s = 8
    p = param(1.0)
    traj = run(Adagrad([p], lr=0.1, lr_decay=0.5), p, lambda w: np.full_like(w, 2.0), 2)
    np.testing.assert_allclose(traj[:, 0], [0.9, 0.9 - (0.1 / 1.5) * 2 / math.sqrt(8)], atol=1e-9)
    p = param(1.0)
    traj = run(Adagrad([p], lr=0.1, initial_accumulator_value=1.0), p,
               lambda w: np.full_like(w, 2.0), 1)
    assert traj[0, 0] == pytest.approx(1 - 0.2 / math.sqrt(5), abs=1e-9)


# ---- behaviour shared by all optimizers ---------------------------------------------------------

ALL = [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: Adam(ps, lr=0.1, weight_decay=0.01),
    lambda ps: AdamW(ps, lr=0.1),
    lambda ps: RMSprop(ps, lr=0.1, momentum=0.5, centered=True),
    lambda ps: Adagrad(ps, lr=0.1),
]


def _snapshot(opt, params):
    return [p.data.copy() for p in params], opt.state_dict()


def _same(a, b):
    (pa, sa), (pb, sb) = a, b
    assert all(np.array_equal(x, y) for x, y in zip(pa, pb))
    assert sa.keys() == sb.keys()
    assert all(np.array_equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize("make", ALL)
def test_step_without_gradients_changes_nothing(make):
    params = [param(1.0, 2.0), param(-3.0)]
    opt = make(params)
    before = _snapshot(opt, params)
    opt.step()                          # never had gradients: nothing at all, not even state
    _same(before, _snapshot(opt, params))
    assert opt.state == {}
    for p in params:
        p.grad = np.ones_like(p.data)
    opt.step()
    opt.zero_grad()
    assert all(p.grad is None for p in params)
    before = _snapshot(opt, params)
    opt.step()                          # grads dropped: params, buffers and step counts unchanged
    _same(before, _snapshot(opt, params))


@pytest.mark.parametrize("make", ALL)
def test_updates_are_in_place(make):
    p = param(1.0, 2.0)
    data = p.data
    opt = make([p])
    for _ in range(2):
        p.grad = np.array([0.5, -0.5])
        opt.step()
    assert p.data is data and not np.array_equal(data, [1.0, 2.0])


def test_step_count_advances_only_with_a_gradient():
    a, b = param(1.0), param(5.0)
    opt = Adam([a, b], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        a.grad = np.array([1.0])
        opt.step()
    assert opt.state[a]["step"] == 3 and b not in opt.state and b.data[0] == 5.0
    # b's first step is a first step for its bias correction: it moves by lr * sign(g)
    b.grad = np.array([4.0])
    opt.step()
    assert opt.state[b]["step"] == 1 and opt.state[a]["step"] == 4
    assert b.data[0] == pytest.approx(4.9, abs=1e-8)


def test_param_groups_with_their_own_lr():
    a, b, c = param(1.0), param(1.0), param(1.0)
    opt = SGD([{"params": [a], "lr": 0.1}, {"params": [b, c], "momentum": 0.5}], lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.0, 0.5]
    for p in (a, b, c):
        p.grad = np.array([1.0])
    opt.step()
    assert (a.data[0], b.data[0], c.data[0]) == (0.9, 0.99, 0.99)
    opt.add_param_group({"params": [param(0.0)], "lr": 1.0})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["momentum"] == 0.0


def test_works_with_module_parameters():
    layer = nn.Linear(3, 2)
    opt = SGD(layer.parameters(), lr=0.1)
    before = [p.data.copy() for p in layer.parameters()]
    x = ag.Tensor(np.ones((4, 3), dtype=np.float32))
    layer(x).sum().backward()
    opt.step()
    after = list(layer.parameters())
    assert all(not np.array_equal(b, p.data) for b, p in zip(before, after))
    assert all(p.data.dtype == np.float32 for p in after)


@pytest.mark.parametrize("bad, err", [
    (lambda: SGD(param(1.0), lr=0.1), TypeError),                       # a Tensor, not a list
    (lambda: SGD([], lr=0.1), ValueError),
    (lambda: SGD([ag.Tensor([1.0])], lr=0.1), ValueError),              # no requires_grad
    (lambda: SGD([param(1.0) * 2], lr=0.1), ValueError),                # non-leaf
    (lambda: SGD([np.ones(2)], lr=0.1), TypeError),
    (lambda: SGD([param(1.0)], lr=-1.0), ValueError),
    (lambda: SGD([param(1.0)], lr=0.1, nesterov=True), ValueError),     # nesterov needs momentum
    (lambda: Adam([param(1.0)], betas=(0.9, 1.0)), ValueError),
    (lambda: SGD([{"params": [param(1.0)], "lrr": 0.1}], lr=0.1), ValueError),   # typo
])
def test_bad_arguments_raise(bad, err):
    with pytest.raises(err):
        bad()


def test_the_same_parameter_twice_raises():
    p = param(1.0)
    with pytest.raises(ValueError, match="more than one place"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


# ---- state dicts --------------------------------------------------------------------------------

def _train(opt, params, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for p in params:
            p.grad = rng.standard_normal(p.shape)
        opt.step()


@pytest.mark.parametrize("make", ALL)
def test_state_dict_round_trip_through_nn_save(make, tmp_path):
    params = [param(1.0, 2.0, 3.0), param(-1.0)]
    opt = make(params)
    _train(opt, params, 3, seed=1)
    path = tmp_path / "opt.npz"
    nn.save(opt.state_dict(), path)
    # a fresh optimizer on copies of the parameters, restored from the file
    copies = [ag.Tensor(p.data.copy(), requires_grad=True) for p in params]
    fresh = make(copies)
    fresh.load_state_dict(nn.load(path))
    _train(opt, params, 3, seed=2)
    _train(fresh, copies, 3, seed=2)
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.data, q.data)
    sa, sb = opt.state_dict(), fresh.state_dict()
    assert sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


def test_state_dict_names_are_flat():
    p = param(1.0, 2.0)
    opt = Adam([p], lr=0.1)
    p.grad = np.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"param_groups.0.params", "param_groups.0.lr", "param_groups.0.betas",
                       "param_groups.0.eps", "param_groups.0.weight_decay",
                       "param_groups.0.amsgrad", "param_groups.0.maximize", "state.0.step",
                       "state.0.exp_avg", "state.0.exp_avg_sq"}
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    assert sd["state.0.step"] == 1 and sd["param_groups.0.lr"] == 0.1
    sd["state.0.exp_avg"][:] = 99           # a copy: the optimizer's state is not touched
    assert opt.state[p]["exp_avg"][0] != 99


@pytest.mark.parametrize("change, message", [
    (lambda sd: sd.__setitem__("state.0.exp_avg", np.zeros(5)), "shape"),
    (lambda sd: sd.pop("param_groups.0.lr"), "missing"),
    (lambda sd: sd.__setitem__("state.0.bogus", np.zeros(2)), "unexpected"),
    (lambda sd: sd.__setitem__("state.7.step", np.array(1)), "parameter 7"),
    (lambda sd: sd.pop("state.0.exp_avg_sq"), "lacks"),
    (lambda sd: sd.__setitem__("param_groups.0.betas", np.array(0.9)), "betas"),
    (lambda sd: sd.__setitem__("param_groups.1.params", np.array([1])), "unexpected"),
])
def test_load_state_dict_validates_before_changing_anything(change, message):
    p = param(1.0, 2.0)
    opt = Adam([p], lr=0.1)
    p.grad = np.ones(2)
    opt.step()
    good = opt.state_dict()
    other = Adam([param(0.0, 0.0)], lr=0.5)
    bad = dict(good)
    change(bad)
    before = other.state_dict()
    with pytest.raises(ValueError, match=message):
        other.load_state_dict(bad)
    assert other.state_dict().keys() == before.keys() and other.param_groups[0]["lr"] == 0.5
    other.load_state_dict(good)
    assert other.param_groups[0]["lr"] == 0.1 and other.param_groups[0]["betas"] == (0.9, 0.999)


# ---- schedulers ---------------------------------------------------------------------------------

def _lrs(make_scheduler, epochs, lr=1.0):
    opt = SGD([{"params": [param(1.0)]}, {"params": [param(1.0)], "lr": 2 * lr}], lr=lr)
    sched = make_scheduler(opt)
    out = [[g["lr"] for g in opt.param_groups]]
    for _ in range(epochs):
        opt.step()
        sched.step()
        out.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == out[-1]
    return np.array(out)


def test_step_lr():
    lrs = _lrs(lambda o: StepLR(o, step_size=2, gamma=0.5), 5)
    np.testing.assert_allclose(lrs[:, 0], [1, 1, 0.5, 0.5, 0.25, 0.25])
    np.testing.assert_allclose(lrs[:, 1], 2 * lrs[:, 0])


def test_exponential_lr():
    lrs = _lrs(lambda o: ExponentialLR(o, gamma=0.9), 3)
    np.testing.assert_allclose(lrs[:, 0], [1, 0.9, 0.81, 0.729])


def test_cosine_annealing_lr_follows_the_closed_form_and_rises_after_t_max():
    lrs = _lrs(lambda o: CosineAnnealingLR(o, T_max=4, eta_min=0.1), 10)
    closed = [0.1 + 0.9 * (1 + math.cos(math.pi * e / 4)) / 2 for e in range(11)]
    np.testing.assert_allclose(lrs[:, 0], closed, atol=1e-12)
    assert lrs[4, 0] == pytest.approx(0.1) and lrs[8, 0] == pytest.approx(1.0)


def test_scheduler_state_dict_and_optimizer_checkpoint_with_initial_lr():
    p = param(1.0)
    opt = SGD([p], lr=1.0)
    sched = StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        opt.step()
        sched.step()
    q = param(1.0)
    opt2 = SGD([q], lr=1.0)
    opt2.load_state_dict(opt.state_dict())          # carries initial_lr
    sched2 = StepLR(opt2, step_size=1, gamma=0.5)   # epoch 0 keeps the loaded lr
    sched2.load_state_dict(sched.state_dict())
    for o, s in ((opt, sched), (opt2, sched2)):
        o.step()
        s.step()
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == 0.0625


def test_repr_lists_the_groups():
    text = repr(SGD([{"params": [param(1.0)]}, {"params": [param(1.0)], "lr": 0.5}], lr=0.1))
    assert "group 0: 1 parameters, lr=0.1" in text and "group 1: 1 parameters, lr=0.5" in text


def test_backward_through_a_graph_recorded_before_a_step_raises():
    """The step changes parameters in place; a graph that saved them must not give stale grads."""
    model = nn.Linear(3, 2)
    opt = SGD(model.parameters(), lr=0.1)
    x = ag.randn(4, 3, rng=0)
    loss = (model(x) ** 2).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()
