"""amsgrad, maximize, NAdam, RAdam, clip_grad_norm_ and the PyTorch schedulers: trajectories
against NumPy written from the published update rules, lr sequences worked out by hand, and
state_dict round trips through nn.save."""

import math

import numpy as np
import pytest

import autograd as ag
import nn
from nn.optim import SGD, Adam, AdamW, NAdam, RAdam, RMSprop, Adagrad
from nn.optim import lr_scheduler as S


def param(*values):
    return ag.Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def grads(step):
    """A fixed, varied gradient sequence (so the moment estimates matter)."""
    return np.array([math.sin(step + 1.0) * 3, math.cos(2.0 * step) - 0.5])


def trajectory(opt, p, steps=8):
    out = []
    for t in range(steps):
        opt.zero_grad()
        p.grad = grads(t) + 0.1 * p.data
        opt.step()
        out.append(p.data.copy())
    return np.array(out)


def reference(rule, steps=8, p0=(1.0, -2.0)):
    p, out, state = np.array(p0), [], {}
    for t in range(1, steps + 1):
        g = grads(t - 1) + 0.1 * p
        p = rule(p, g, t, state)
        out.append(p.copy())
    return np.array(out)


def test_adam_amsgrad_matches_the_rule():
    def rule(p, g, t, s, lr=0.1, b1=0.9, b2=0.99, eps=1e-8):
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        s["vmax"] = np.maximum(s.get("vmax", 0), s["v"])
        return p - lr * (s["m"] / (1 - b1 ** t)) / (np.sqrt(s["vmax"] / (1 - b2 ** t)) + eps)
    p = param(1.0, -2.0)
    got = trajectory(Adam([p], lr=0.1, betas=(0.9, 0.99), amsgrad=True), p)
    np.testing.assert_allclose(got, reference(rule), rtol=1e-12)
    q = param(1.0, -2.0)
    plain = trajectory(Adam([q], lr=0.1, betas=(0.9, 0.99)), q)
    assert not np.allclose(plain, got)        # the running maximum changed something


def test_maximize_ascends_on_every_optimizer():
    for make in (lambda ps, **k: SGD(ps, lr=0.05, momentum=0.9, **k),
                 lambda ps, **k: Adam(ps, lr=0.05, amsgrad=True, **k),
                 lambda ps, **k: AdamW(ps, lr=0.05, **k), lambda ps, **k: RMSprop(ps, **k),
                 lambda ps, **k: Adagrad(ps, **k), lambda ps, **k: NAdam(ps, **k),
                 lambda ps, **k: RAdam(ps, **k)):
        a, b = param(1.0, -2.0), param(1.0, -2.0)
        up, down = make([a], maximize=True), make([b])
        for t in range(6):
            a.grad = -grads(t)                # maximizing f is minimizing -f
            b.grad = grads(t)
            up.step()
            down.step()
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12)


def test_nadam_matches_the_rule():
    def rule(p, g, t, s, lr=2e-3 * 10, b1=0.9, b2=0.999, eps=1e-8, psi=4e-3):
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        s["prod"] = s.get("prod", 1.0) * mu
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        d = np.sqrt(s["v"] / (1 - b2 ** t)) + eps
        p = p - lr * (1 - mu) / (1 - s["prod"]) * g / d
        return p - lr * mu_next / (1 - s["prod"] * mu_next) * s["m"] / d
    p = param(1.0, -2.0)
    got = trajectory(NAdam([p], lr=2e-2), p)
    np.testing.assert_allclose(got, reference(rule), rtol=1e-12)


def test_radam_matches_the_rule_before_and_after_rectification():
    def rule(p, g, t, s, lr=0.05, b1=0.9, b2=0.999, eps=1e-8):
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        m_hat = s["m"] / (1 - b1 ** t)
        rho_inf = 2 / (1 - b2) - 1
        rho = rho_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        if rho <= 5:
            return p - lr * m_hat
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return p - lr * m_hat * r * math.sqrt(1 - b2 ** t) / (np.sqrt(s["v"]) + eps)
    p = param(1.0, -2.0)
    got = trajectory(RAdam([p], lr=0.05), p, steps=10)     # rho_t passes 5 at step 6
    np.testing.assert_allclose(got, reference(rule, steps=10), rtol=1e-12)


def test_new_optimizers_round_trip_their_state_and_old_adam_checkpoints_load(tmp_path):
    for make in (lambda ps: NAdam(ps, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
                 lambda ps: RAdam(ps, lr=0.01), lambda ps: Adam(ps, amsgrad=True)):
        a, b = param(1.0, -2.0), param(1.0, -2.0)
        first = make([a])
        trajectory(first, a, steps=3)
        nn.save(first.state_dict(), tmp_path / "opt.npz")
        b.data[:] = a.data
        second = make([b])
        second.load_state_dict(nn.load(tmp_path / "opt.npz"))
        np.testing.assert_array_equal(trajectory(first, a, 3), trajectory(second, b, 3))
    p = param(1.0, 2.0)
    old = Adam([p])
    p.grad = np.ones(2)
    old.step()
    sd = {k: v for k, v in old.state_dict().items() if "amsgrad" not in k and "maximize" not in k}
    Adam([param(1.0, 2.0)]).load_state_dict(sd)     # written before amsgrad/maximize existed


def test_clip_grad_norm_returns_a_0d_tensor_and_follows_pytorch_on_nonfinite_norms():
    a = nn.Parameter(np.zeros(2, dtype=np.float32))
    a.grad = np.array([3.0, 4.0], dtype=np.float32)
    total = nn.utils.clip_grad_norm_([a], 1.0)
    assert isinstance(total, ag.Tensor) and total.shape == () and total.dtype == np.float32
    assert total.item() == pytest.approx(5.0)
    a.grad = np.array([np.inf, 1.0], dtype=np.float32)
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(a.grad, [np.inf, 1.0])          # untouched when raising
    assert math.isinf(nn.utils.clip_grad_norm_([a], 1.0).item())
    assert np.isnan(a.grad[0]) and a.grad[1] == 0.0                # scale 0: 0*inf, 0*1
    a.grad = np.array([np.nan, 1.0], dtype=np.float32)
    assert math.isnan(nn.utils.clip_grad_norm_(a, 1.0).item())
    assert np.isnan(a.grad).all()


def test_parameters_to_vector_and_back():
    model = nn.Linear(3, 2, dtype=np.float64)
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert isinstance(vec, ag.Tensor) and vec.shape == (8,) and vec.requires_grad
    (vec * vec).sum().backward()                       # differentiable, like torch.cat
    np.testing.assert_allclose(model.weight.grad, 2 * model.weight.data)
    weight = model.weight
    nn.utils.vector_to_parameters(ag.arange(8.0), model.parameters())
    assert model.weight is weight
    np.testing.assert_array_equal(model.weight.data, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(model.bias.data, [6.0, 7.0])
    with pytest.raises(ValueError, match="8 values"):
        nn.utils.vector_to_parameters(ag.zeros(5), model.parameters())
    with pytest.raises(TypeError, match="Tensor"):
        nn.utils.vector_to_parameters(np.zeros(8), model.parameters())


# ---- schedulers -----------------------------------------------------------------------------

def lrs(scheduler, steps, metric=None):
    out = [scheduler.get_last_lr()[0]]
    for i in range(steps):
        scheduler.optimizer.step()
        scheduler.step() if metric is None else scheduler.step(metric[i])
        out.append(scheduler.get_last_lr()[0])
    return out


def sgd(lr=1.0, **kw):
    return SGD([param(0.0)], lr=lr, **kw)


def test_factor_schedules_by_hand():
    np.testing.assert_allclose(lrs(S.MultiStepLR(sgd(), [2, 4, 4], gamma=0.5), 5),
                               [1, 1, 0.5, 0.5, 0.125, 0.125])
    np.testing.assert_allclose(lrs(S.LambdaLR(sgd(), lambda e: 1 / (e + 1)), 3),
                               [1, 1 / 2, 1 / 3, 1 / 4])
    np.testing.assert_allclose(lrs(S.MultiplicativeLR(sgd(), lambda e: 0.5), 3),
                               [1, 0.5, 0.25, 0.125])
    np.testing.assert_allclose(lrs(S.ConstantLR(sgd(), factor=0.5, total_iters=2), 3),
                               [0.5, 0.5, 1, 1])
    np.testing.assert_allclose(lrs(S.LinearLR(sgd(), start_factor=0.5, total_iters=4), 5),
                               [0.5, 0.625, 0.75, 0.875, 1, 1])


def test_sequential_warmup_then_cosine_and_chained():
    opt = sgd()
    warm = S.LinearLR(opt, start_factor=0.25, total_iters=2)
    cos = S.CosineAnnealingLR(opt, T_max=4)
    got = lrs(S.SequentialLR(opt, [warm, cos], milestones=[2]), 6)
    cosine = [0.5 * (1 + math.cos(math.pi * e / 4)) for e in range(5)]
    np.testing.assert_allclose(got, [0.25, 0.625] + cosine, atol=1e-12)
    opt = sgd()
    chain = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=2),
                                S.ExponentialLR(opt, gamma=0.9)])
    np.testing.assert_allclose(lrs(chain, 3), [0.5, 0.45, 0.81, 0.729])


def test_one_cycle():
    opt = sgd(momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.3)
    got = lrs(sched, 9)
    assert got[0] == pytest.approx(1 / 25) and got[2] == pytest.approx(1.0)
    assert got[1] == pytest.approx(1 / 25 + (1 - 1 / 25) / 2)      # cosine midpoint of phase 1
    assert got[-1] == pytest.approx(1 / 25 / 1e4)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)   # back at max momentum
    adam = Adam([param(0.0)])
    S.OneCycleLR(adam, max_lr=0.1, epochs=2, steps_per_epoch=5, anneal_strategy="linear")
    assert adam.param_groups[0]["betas"] == (0.95, 0.999)
    with pytest.raises(ValueError, match="momentum"):
        S.OneCycleLR(Adagrad([param(0.0)]), max_lr=0.1, total_steps=5)
    with pytest.raises(ValueError, match="total_steps"):
        lrs(S.OneCycleLR(sgd(momentum=0.9), max_lr=1.0, total_steps=3), 4)


def test_cosine_warm_restarts():
    got = lrs(S.CosineAnnealingWarmRestarts(sgd(), T_0=2, T_mult=2, eta_min=0.0), 7)
    c = lambda cur, period: 0.5 * (1 + math.cos(math.pi * cur / period))
    np.testing.assert_allclose(got, [1, c(1, 2), 1, c(1, 4), c(2, 4), c(3, 4), 1, c(1, 8)])
    sched = S.CosineAnnealingWarmRestarts(sgd(), T_0=2, T_mult=2)
    sched.step(2.5)                                   # fractional epochs, per batch
    assert sched.get_last_lr()[0] == pytest.approx(c(0.5, 4))


def test_reduce_lr_on_plateau():
    sched = S.ReduceLROnPlateau(sgd(), factor=0.5, patience=1, cooldown=1, min_lr=0.2)
    got = lrs(sched, 8, metric=[5, 4, 4, 4, 4, 4, 4, 4])
    np.testing.assert_allclose(got, [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
    got = lrs(S.ReduceLROnPlateau(sgd(), mode="max", patience=0, threshold=0.1,
                                  threshold_mode="abs"), 3, metric=[1.0, 1.05, 1.2])
    np.testing.assert_allclose(got, [1, 1, 0.1, 0.1])


@pytest.mark.parametrize("make", [
    lambda o: S.MultiStepLR(o, [1, 3]), lambda o: S.LinearLR(o, total_iters=3),
    lambda o: S.ConstantLR(o), lambda o: S.MultiplicativeLR(o, lambda e: 0.9),
    lambda o: S.LambdaLR(o, lambda e: 0.9 ** e),
    lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2),
    lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=12),
    lambda o: S.SequentialLR(o, [S.LinearLR(o), S.ExponentialLR(o, 0.9)], [2]),
    lambda o: S.ChainedScheduler([S.ConstantLR(o), S.ExponentialLR(o, 0.9)]),
    lambda o: S.ReduceLROnPlateau(o, patience=0)])
def test_scheduler_state_dict_round_trip(make, tmp_path):
    metric = [3, 2, 2, 2, 1, 1, 1, 1, 1, 1]
    plateau = lambda s: isinstance(s, S.ReduceLROnPlateau)
    first = make(sgd(momentum=0.9))
    before = lrs(first, 4, metric if plateau(first) else None)
    nn.save({k: v for k, v in first.state_dict().items()}, tmp_path / "s.npz")
    opt = sgd(momentum=0.9)
    second = make(opt)
    second.load_state_dict(nn.load(tmp_path / "s.npz"))
    opt.param_groups[0]["lr"] = first.optimizer.param_groups[0]["lr"]
    rest = metric[4:] if plateau(first) else None
    assert lrs(first, 5, rest) == pytest.approx(lrs(second, 5, rest))
    assert len(before) == 5
