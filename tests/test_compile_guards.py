"""ag.compile's guards and refusals: each change either retraces or raises CompileError naming
it, and what capture cannot replay is refused at capture, never replayed wrong."""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from test_compile import _batches, _classifier_step, _mlp


def _trained(opt_factory=lambda p: nn.optim.SGD(p, lr=0.1, momentum=0.9), calls=3):
    """A compiled classifier step, already past capture and verification."""
    model = _mlp()
    opt = opt_factory(model.parameters())
    step = ag.compile(_classifier_step(model, opt))
    batches = _batches(calls + 1)
    for x, y in batches[:calls]:
        step(x, y)
    return step, model, opt, batches[-1]


def test_new_shape_dtype_or_contiguity_retraces_and_stays_exact():
    step, model, opt, (x, y) = _trained()
    n = step._count()
    step(x[:5], y[:5])
    assert step._count() == n + 1
    step(x.astype(np.float64), y)                 # a float64 batch: another signature
    step(np.asfortranarray(x), y)                 # F-contiguous: another signature
    assert step._count() == n + 3


def test_python_numbers_are_constants_and_zero_d_tensors_are_data():
    w = ag.tensor(np.ones(3), requires_grad=True)
    compiled = ag.compile(lambda x, scale: (w * x * scale).sum())
    x = np.arange(3.0)
    assert compiled(x, 2.0).item() == 6.0
    assert compiled(x, 3.0).item() == 9.0           # a new value retraces
    assert compiled._count() == 2
    as_data = ag.compile(lambda x, scale: (w * x * ag.tensor(scale)).sum())
    for s in (2.0, 3.0, 4.0, 5.0):
        assert as_data(x, np.array(s)).item() == 3 * s
    assert as_data._count() == 1


def test_at_most_eight_signatures():
    compiled = ag.compile(lambda x, k: (ag.tensor(x) * k).sum())
    for k in range(8):
        compiled(np.ones(2), k)
    with pytest.raises(ag.CompileError, match="more than 8 signatures"):
        compiled(np.ones(2), 8)


def test_other_argument_kinds_raise():
    compiled = ag.compile(lambda x: x)
    with pytest.raises(ag.CompileError, match="type str"):
        compiled("text")


def test_grad_mode_and_anomaly_mode_differences_raise():
    step, model, opt, (x, y) = _trained()
    with ag.no_grad():
        with pytest.raises(ag.CompileError, match="grad mode"):
            step(x, y)
    with ag.detect_anomaly():
        with pytest.raises(ag.CompileError, match="detect_anomaly"):
            step(x, y)


@pytest.mark.parametrize("change, message", [
    (lambda m, o: setattr(m[0], "weight", nn.Parameter(m[0].weight.data.copy())), "rebound"),
    (lambda m, o: m[0].bias.requires_grad_(False), "requires_grad"),
    (lambda m, o: m[0].weight.register_hook(lambda g: g), "hook"),
    (lambda m, o: m.eval(), "eval mode"),
    (lambda m, o: o.param_groups[0].update(momentum=0.0), "momentum"),
    (lambda m, o: o.param_groups[0].update(nesterov=True), "nesterov"),
    (lambda m, o: o.param_groups[0].update(weight_decay=1e-4), "weight_decay"),
    (lambda m, o: o.load_state_dict(o.state_dict()), "state arrays"),
    (lambda m, o: setattr(m[0].bias.data, "shape", (1, m[0].bias.shape[0])),
     "shape, layout or dtype"),
    (lambda m, o: o.param_groups[0].update(params=o.param_groups[0]["params"][:-1]), "parameters"),
])
def test_each_change_raises_naming_it(change, message):
    step, model, opt, (x, y) = _trained()
    change(model, opt)
    with pytest.raises(ag.CompileError, match=message):
        step(x, y)


def test_learning_rate_changes_are_read_at_every_replay():
    def run(compiled):
        model = _mlp()
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = nn.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        step = _classifier_step(model, opt)
        step = ag.compile(step) if compiled else step
        for x, y in _batches(6):
            step(x, y)
            sched.step()
        return model[0].weight.data.tobytes(), step
    (eager, _), (replayed, step) = run(False), run(True)
    assert eager == replayed and step._count() == 1


_SCHEDULERS = {
    "StepLR": lambda o: nn.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    "OneCycleLR": lambda o: nn.optim.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=10),
    "CosineAnnealingWarmRestarts":
        lambda o: nn.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3),
    "SequentialLR": lambda o: nn.optim.lr_scheduler.SequentialLR(
        o, [nn.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=2),
            nn.optim.lr_scheduler.ExponentialLR(o, gamma=0.8)], milestones=[3]),
    "ChainedScheduler": lambda o: nn.optim.lr_scheduler.ChainedScheduler(
        [nn.optim.lr_scheduler.StepLR(o, step_size=2), nn.optim.lr_scheduler.ExponentialLR(
            o, gamma=0.9)]),
    "ReduceLROnPlateau": lambda o: nn.optim.lr_scheduler.ReduceLROnPlateau(o, patience=0),
}


@pytest.mark.parametrize("name", sorted(_SCHEDULERS))
def test_a_scheduler_stepped_inside_the_step_advances_at_every_replay(name):
    def run(compiled):
        model = _mlp()
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = _SCHEDULERS[name](opt)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            sched.step(loss) if name == "ReduceLROnPlateau" else sched.step()
            return loss

        step = ag.compile(step) if compiled else step
        lrs = []
        for x, y in _batches(8):
            step(x, y)
            lrs.append(opt.param_groups[0]["lr"])
        return lrs, model[0].weight.data.tobytes()

    (lrs, weights), (lrs_c, weights_c) = run(False), run(True)
    assert len(set(lrs)) > 1 and lrs_c == lrs and weights_c == weights


def test_a_gradient_observer_raises():
    import viz
    step, model, opt, (x, y) = _trained()
    with viz.record_grad_norms():
        with pytest.raises(ag.CompileError, match="observer"):
            step(x, y)


# ---- refusals at capture --------------------------------------------------------------------

def test_hand_written_update_is_refused_naming_the_parameter():
    model = _mlp()

    def step(x, y):
        for p in model.parameters():
            p.grad = None
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad
        return loss
    x, y = _batches(1)[0]
    with pytest.raises(ag.CompileError, match=r"Linear\.weight .*changed in place"):
        ag.compile(step)(x, y)


def test_control_flow_on_tensor_values_is_refused_with_the_line():
    w = ag.tensor(np.ones(3), requires_grad=True)

    def branchy(x):
        y = (w * x).sum()
        if y > 0:
            return y * 2
        return y

    with pytest.raises(ag.CompileError, match=r"bool\(\).*test_compile_guards.py"):
        ag.compile(branchy)(np.ones(3))

    def item_in_if(x):
        y = (w * x).sum()
        return y * 2 if y.item() > 0 else y

    with pytest.raises(ag.CompileError, match=r"item\(\) at .*test_compile_guards.py"):
        ag.compile(item_in_if)(np.ones(3))


def test_custom_function_is_refused_by_name():
    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_arrays
            return 3 * x ** 2 * g

    w = ag.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ag.CompileError, match="'Cube' has no compile lowering"):
        ag.compile(lambda: Cube.apply(w).sum())()


def test_random_draws_outside_a_lowering_are_refused():
    w = ag.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ag.CompileError, match="random generator"):
        ag.compile(lambda: (w * ag.randn(3)).sum())()


def test_values_computed_outside_ops_are_refused_at_verification():
    w = ag.tensor(np.ones(3), requires_grad=True)

    def step(x):
        hidden = w * x
        doubled = ag.tensor(hidden.data * 2)      # NumPy on .data: a constant to capture
        return (hidden * doubled).sum()
    compiled = ag.compile(step)
    compiled(np.ones(3))
    with pytest.raises(ag.CompileError, match="computed outside graphgrad's ops"):
        compiled(np.full(3, 2.0))


def test_untracked_state_change_found_by_verification():
    """A change capture cannot see while it happens (before the parameter is first used) is
    found on the second call, which replays and compares with eager."""
    model = _mlp()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    counter = {"n": 0}

    def step(x, y):
        model[0].bias.data += 1.0                 # before any op reads it
        return _classifier_step(model, opt)(x, y)
    compiled = ag.compile(step)
    (x, y), (x2, y2) = _batches(2)
    compiled(x, y)
    with pytest.raises(ag.CompileError, match="replay differs"):
        compiled(x2, y2)
    assert counter["n"] == 0


def test_check_mode_names_the_difference():
    model = _mlp()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        model[0].bias.data += 1.0
        return _classifier_step(model, opt)(x, y)
    compiled = ag.compile(step, check=True)
    (x, y), (x2, y2) = _batches(2)
    compiled(x, y)
    named = r"check: the replay differs .*first at step \d+, 'linear'"     # the first op that differs
    with pytest.raises(ag.CompileError, match=named):
        compiled(x2, y2)


def test_verification_waits_for_new_values_before_trusting_fresh_arrays():
    """A constant computed outside ops agrees with itself while the data stays the same: the
    program is verified again until a call brings new values, which exposes it."""
    w = ag.tensor(np.ones(3), requires_grad=True)

    def step(x):
        hidden = w * x
        return (hidden * ag.tensor(hidden.data * 2)).sum()
    compiled = ag.compile(step)
    same = np.ones(3)
    for _ in range(3):
        assert compiled(same).item() == 6.0
    assert not compiled.programs[next(iter(compiled.programs))][0].verified
    with pytest.raises(ag.CompileError, match="computed outside graphgrad's ops"):
        compiled(np.full(3, 2.0))


def test_another_threads_eager_work_is_not_recorded():
    import threading
    w = ag.tensor(np.ones(3), requires_grad=True)
    other = ag.tensor(np.ones(3), requires_grad=True)

    def elsewhere():
        (other * 2).sum().backward()

    def step(x):
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()               # runs while this thread is capturing
        return (w * ag.tensor(x)).sum()
    compiled = ag.compile(step)
    for i in range(4):
        assert compiled(np.full(3, float(i))).item() == 3.0 * i
    (captured,) = compiled.programs[next(iter(compiled.programs))]
    assert [s.label for s in captured.program.steps] == ["multiply", "sum"]
    assert other.grad.tolist() == [4.0, 4.0, 4.0]    # the thread ran on the two eager calls only


def test_a_hyperparameter_changed_in_place_still_raises():
    """A 0-d array hyperparameter can switch a setting without being replaced: the optimizer's
    guard is then built afresh at every replay instead of kept (nn/optim/optimizer.py)."""
    step, model, opt, (x, y) = _trained()
    opt.param_groups[0]["weight_decay"] = np.array(0.0)     # still off: replays as before
    step(x, y)
    step(x, y)
    opt.param_groups[0]["weight_decay"][()] = 1e-3
    with pytest.raises(ag.CompileError, match="weight_decay"):
        step(x, y)


def test_an_optimizer_pickles_without_its_guard_cache():
    import pickle
    step, model, opt, (x, y) = _trained()
    assert "_guard_cache" in opt.__dict__
    assert "_guard_cache" not in pickle.loads(pickle.dumps(opt)).__dict__


@pytest.mark.parametrize("layer, attr, value", [
    (nn.Dropout(0.5), "p", 0.1),
    (nn.BatchNorm1d(4), "momentum", 0.5),
    (nn.LeakyReLU(0.01), "negative_slope", 0.2),
])
def test_a_layers_number_changed_after_capture_raises_naming_it(layer, attr, value):
    model = nn.Sequential(nn.Linear(3, 4), layer, nn.Linear(4, 1))
    opt = nn.optim.SGD(model.parameters(), lr=0.1)

    @ag.compile
    def step(x):
        opt.zero_grad()
        loss = model(x).sum()
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    for _ in range(3):
        step(rng.standard_normal((8, 3)).astype(np.float32))
    setattr(layer, attr, value)
    with pytest.raises(ag.CompileError, match=f"{type(layer).__name__}.{attr} changed"):
        step(rng.standard_normal((8, 3)).astype(np.float32))


def test_a_step_that_only_runs_backward_accumulates_once_grad_is_set_on_entry():
    def make():
        w = ag.Tensor(np.ones(3, np.float32), requires_grad=True)

        def step(x):
            loss = (ag.Tensor(x) * w).sum()
            loss.backward()
            return loss
        return w, step

    (we, eager), (wc, plain) = make(), make()
    compiled = ag.compile(plain)
    for i in range(6):
        if i < 2:                       # zero_grad outside: the first two calls start from None
            we.grad = wc.grad = None
        x = np.arange(3, dtype=np.float32) + i
        eager(x)
        compiled(x)
        assert we.grad.tobytes() == wc.grad.tobytes()


def test_a_grad_dropped_by_plain_python_inside_the_step_needs_one_more_capture_only():
    w = ag.Tensor(np.ones(3, np.float32), requires_grad=True)

    @ag.compile
    def step(x):
        w.grad = None                   # before the step first reads w
        loss = (ag.Tensor(x) * w).sum()
        loss.backward()
        return loss

    for i in range(6):
        step(np.full(3, float(i), np.float32))
        np.testing.assert_array_equal(w.grad, np.full(3, float(i), np.float32))
    assert step._count() == 2


@pytest.mark.parametrize("attr, value", [
    ("count_include_pad", False), ("padding", (0, 0)), ("divisor_override", 2)])
def test_a_layers_setting_changed_after_capture_raises_naming_it(attr, value):
    pool = nn.AvgPool2d(2, padding=1)
    conv = nn.Conv2d(1, 2, 3, padding=1)
    opt = nn.optim.SGD(conv.parameters(), lr=0.1)

    @ag.compile
    def step(x):
        opt.zero_grad()
        loss = pool(conv(x)).sum()
        loss.backward()
        opt.step()
        return loss

    rng = np.random.default_rng(0)
    for _ in range(3):
        step(rng.standard_normal((2, 1, 6, 6)).astype(np.float32))
    setattr(pool, attr, value)
    with pytest.raises(ag.CompileError, match=f"AvgPool2d.{attr} changed"):
        step(rng.standard_normal((2, 1, 6, 6)).astype(np.float32))


class _Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.limit = float("inf")       # a setting whose repr is no Python literal
        self.factor = 2.0

    def forward(self, x):
        return x * self.factor


def test_a_modules_own_setting_is_guarded_inf_included():
    scale = _Scale()
    w = ag.Tensor(np.ones(3, np.float32), requires_grad=True)

    @ag.compile
    def step(x):
        loss = scale(x * w).sum()
        loss.backward()
        w.grad = None
        return loss

    for i in range(3):
        assert step(np.full(3, 1.0, np.float32)).item() == 6.0
    scale.factor = 3.0
    with pytest.raises(ag.CompileError, match="_Scale.factor changed"):
        step(np.full(3, 1.0, np.float32))


def _plateau_run(compiled, metric_of):
    ag.manual_seed(0)
    net = nn.Linear(3, 1)
    opt = nn.optim.SGD(net.parameters(), lr=0.1)
    sched = nn.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0, factor=0.5)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        sched.step(metric_of(x, loss))
        return loss, metric_of(x, loss)

    step = ag.compile(step) if compiled else step
    rng = np.random.default_rng(0)
    lrs = []
    for i in range(6):
        x = np.abs(rng.standard_normal((8, 3))).astype(np.float32)
        if i < 2:
            x[:4] *= -1             # the same metric on the capture and verify calls
        step(x, rng.standard_normal((8, 1)).astype(np.float32))
        lrs.append((opt.param_groups[0]["lr"], sched.best))
    return lrs


@pytest.mark.parametrize("metric_of", [
    lambda x, loss: (ag.Tensor(x) > 0).sum(),                 # a 0-d Tensor
    lambda x, loss: (ag.Tensor(x) > 0).sum().astype(np.float32).item(),   # a float item()
], ids=["tensor", "float item"])
def test_a_computed_metric_reaches_a_scheduler_at_every_replay(metric_of):
    assert _plateau_run(True, metric_of) == _plateau_run(False, metric_of)


def test_an_int_item_given_to_a_lowered_call_is_refused():
    with pytest.raises(ag.CompileError, match="cannot tell a computed int"):
        _plateau_run(True, lambda x, loss: (ag.Tensor(x) > 0).sum().item())
