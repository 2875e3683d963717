"""ag.compile, numpy backend: a replay gives bitwise the eager results and state, step after step,
for models, every optimizer, Dropout, BatchNorm, clipping, ag.grad and accumulation over calls."""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F


def state_of(model, opt) -> dict:
    """Every piece of state after a step, as bytes: parameters, buffers, .grad, optimizer."""
    found = {f"model {k}": np.asarray(v).tobytes() for k, v in model.state_dict().items()}
    for name, p in model.named_parameters():
        found[f"grad {name}"] = None if p.grad is None else (p.grad.dtype, p.grad.tobytes())
    if opt is not None:
        found.update({f"opt {k}": np.asarray(v).tobytes() for k, v in opt.state_dict().items()})
    return found


def assert_same_state(want: dict, got: dict) -> None:
    assert want.keys() == got.keys()
    for key in want:
        assert want[key] == got[key], key


def run_both(make, batches, check=False) -> list:
    """Run make()'s step eagerly over the batches, then a fresh make()'s compiled: the losses and
    all state must agree bitwise after every step."""
    step, model, opt = make()
    eager = []
    for x, y in batches:
        loss = step(x, y)
        eager.append((loss.data.tobytes(), state_of(model, opt)))
    step, model, opt = make()
    compiled = ag.compile(step, check=check)
    for i, (x, y) in enumerate(batches):
        loss = compiled(x, y)
        assert loss.data.tobytes() == eager[i][0], f"loss of step {i}"
        assert_same_state(eager[i][1], state_of(model, opt))
    assert compiled._count() >= 1
    return [np.frombuffer(b, dtype=np.float32)[0] for b, _ in eager]


def _mlp(seed=0, dropout=0.0, batchnorm=False):
    ag.manual_seed(seed)
    layers = [nn.Linear(4, 8)]
    if batchnorm:
        layers.append(nn.BatchNorm1d(8))
    layers.append(nn.Tanh())
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(8, 3))
    return nn.Sequential(*layers)


def _batches(n, seed=1, batch=16):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, 4)).astype(np.float32), rng.integers(0, 3, batch))
            for _ in range(n)]


def _classifier_step(model, opt, clip=None):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if clip == "norm":
            nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        elif clip == "value":
            nn.utils.clip_grad_value_(model.parameters(), 0.01)
        opt.step()
        return loss
    return step


OPTIMIZERS = {
    "sgd": lambda p: nn.optim.SGD(p, lr=0.1),
    "momentum": lambda p: nn.optim.SGD(p, lr=0.1, momentum=0.9),
    "nesterov_decay": lambda p: nn.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True,
                                             weight_decay=1e-3),
    "adam": lambda p: nn.optim.Adam(p, lr=1e-2),
    "adam_amsgrad": lambda p: nn.optim.Adam(p, lr=1e-2, amsgrad=True, weight_decay=1e-3),
    "adamw": lambda p: nn.optim.AdamW(p, lr=1e-2),
    "rmsprop": lambda p: nn.optim.RMSprop(p, lr=1e-2, momentum=0.5),
    "adagrad": lambda p: nn.optim.Adagrad(p, lr=1e-1),
    "nadam": lambda p: nn.optim.NAdam(p),
    "radam": lambda p: nn.optim.RAdam(p),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_each_optimizer_20_steps_bitwise(name):
    def make():
        model = _mlp()
        opt = OPTIMIZERS[name](model.parameters())
        return _classifier_step(model, opt), model, opt
    run_both(make, _batches(20))


@pytest.mark.parametrize("clip", ["norm", "value"])
def test_clipping_bitwise(clip):
    def make():
        model = _mlp()
        opt = nn.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        return _classifier_step(model, opt, clip), model, opt
    run_both(make, _batches(8))


def test_dropout_bitwise_with_the_same_generator():
    def make():
        model = _mlp(dropout=0.5)      # seeds graphgrad's generator: both runs draw alike
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        return _classifier_step(model, opt), model, opt
    run_both(make, _batches(10))


def test_dropout_statistics_under_replay():
    ag.manual_seed(3)
    x = np.ones((200, 50), dtype=np.float32)
    drop = nn.Dropout(0.3)
    step = ag.compile(lambda a: drop(ag.tensor(a)).sum())
    sums = [float(step(x).item()) for _ in range(6)]
    assert len(set(sums)) == 6                  # every replay draws afresh
    kept = np.mean(sums) / (x.size / 0.7)
    assert abs(kept - 0.7) < 0.01               # keep rate 1 - p, scaled by 1 / (1 - p)


def test_conv_pool_lstm_models_bitwise():
    def make_cnn():
        ag.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Dropout(0.25), nn.Linear(4 * 4 * 4, 3))
        return _classifier_step(model, nn.optim.Adam(model.parameters(), lr=1e-2)), model, None
    rng = np.random.default_rng(2)
    images = [(rng.standard_normal((6, 1, 8, 8)).astype(np.float32), rng.integers(0, 3, 6))
              for _ in range(4)]
    run_both(make_cnn, images)

    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.fc = nn.LSTM(4, 6), nn.Linear(6, 3)

        def forward(self, x):
            _, (h, _) = self.lstm(x)
            return self.fc(h[-1])

    def make_rnn():
        ag.manual_seed(0)
        model = Tagger()
        return _classifier_step(model, nn.optim.SGD(model.parameters(), lr=0.1)), model, None
    sequences = [(rng.standard_normal((5, 6, 4)).astype(np.float32), rng.integers(0, 3, 6))
                 for _ in range(4)]
    run_both(make_rnn, sequences)


def test_batchnorm_running_stats_bitwise():
    def make():
        model = _mlp(batchnorm=True)
        opt = nn.optim.Adam(model.parameters(), lr=1e-2)
        return _classifier_step(model, opt), model, opt
    run_both(make, _batches(6))


def test_accumulation_across_calls_then_one_step():
    def make():
        model = _mlp()
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            loss = F.cross_entropy(model(x), y) / 3
            loss.backward()
            return loss
        return step, model, opt
    eager_step, em, eo = make()
    comp_step, cm, co = make()
    comp = ag.compile(comp_step)
    for i, (x, y) in enumerate(_batches(12)):
        a, b = eager_step(x, y), comp(x, y)
        assert a.data.tobytes() == b.data.tobytes()
        if i % 3 == 2:
            eo.step(), co.step()
            eo.zero_grad(), co.zero_grad()
        assert_same_state(state_of(em, eo), state_of(cm, co))
    # grads None on entry and grads set on entry are two programs
    assert comp._count() == 2


def test_ag_grad_and_no_grad_inside_the_step():
    ag.manual_seed(0)
    w = ag.randn(3, 2, requires_grad=True)

    def step(x):
        loss = ((ag.tensor(x) @ w).tanh() ** 2).mean()
        (g,) = ag.grad(loss, [w])
        with ag.no_grad():
            w.data -= 0.1 * g.data        # plain NumPy on .data: no op records it
        return loss, g

    def clean(x):
        loss = ((ag.tensor(x) @ w).tanh() ** 2).mean()
        (g,) = ag.grad(loss, [w])
        with ag.no_grad():
            scaled = g * 0.5
        return loss, scaled

    rng = np.random.default_rng(0)
    compiled = ag.compile(clean)
    for _ in range(4):
        x = rng.standard_normal((5, 3))
        (l1, g1), (l2, g2) = clean(x), compiled(x)
        assert l1.data.tobytes() == l2.data.tobytes() and g1.data.tobytes() == g2.data.tobytes()
    bad = ag.compile(step)
    with pytest.raises(ag.CompileError, match="changed in place"):
        bad(rng.standard_normal((5, 3)))


def test_returned_values_do_not_alias_the_next_replay():
    model = _mlp()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    step = ag.compile(_classifier_step(model, opt))
    kept = []
    for x, y in _batches(5):
        loss = step(x, y)
        kept.append((loss, loss.data.copy(), model[0].weight.grad, model[0].weight.grad.copy()))
    for loss, value, grad, grad_value in kept:
        assert loss.data.tobytes() == value.tobytes()
        assert grad.tobytes() == grad_value.tobytes()


def test_item_flowing_to_the_return_value_is_replayed():
    model = _mlp()
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    inner = _classifier_step(model, opt)
    step = ag.compile(lambda x, y: inner(x, y).item())
    values = [step(x, y) for x, y in _batches(5)]
    assert all(isinstance(v, float) for v in values) and len(set(values)) == 5


def test_check_mode_agrees_on_a_clean_step():
    def make():
        model = _mlp()
        opt = nn.optim.Adam(model.parameters(), lr=1e-2)
        return _classifier_step(model, opt), model, opt
    run_both(make, _batches(4), check=True)


def test_plain_calls_when_disabled(monkeypatch):
    monkeypatch.setenv("GRAPHGRAD_COMPILE", "0")
    calls = []
    step = ag.compile(lambda x: calls.append(x) or x)
    assert step(1) == 1 and step(2) == 2 and calls == [1, 2]
    assert "off" in step.explain()


def test_explain_lists_ops_buffers_and_guards():
    model = _mlp()
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step = ag.compile(_classifier_step(model, opt))
    for x, y in _batches(3):
        step(x, y)
    text = step.explain()
    for word in ("linear", "cross_entropy", "SGD.step", "guards", "eval mode", "Linear.weight",
                 "verified", "slots"):
        assert word in text, word


def _example(name: str):
    import importlib
    import os
    import sys
    examples = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "examples")
    if examples not in sys.path:
        sys.path.insert(0, examples)
    return importlib.import_module(name)


def test_digits_with_compile_trains_the_same_and_prints_the_speed_up(capsys):
    pytest.importorskip("sklearn")
    digits = _example("digits")
    plain = digits.main(["--epochs", "1", "--no-progress"])
    compiled = digits.main(["--epochs", "1", "--no-progress", "--compile"])
    assert compiled["test_accuracy"] == plain["test_accuracy"]
    assert compiled["history"]["loss"][-1] == pytest.approx(plain["history"]["loss"][-1])
    assert "speed-up" in capsys.readouterr().out


def test_spiral_trains_the_same_with_compile(capsys):
    import viz
    spiral = _example("spiral")
    import nn as nn_
    histories = []
    for compiled in (False, True):
        ag.manual_seed(0)
        X, labels = nn_.data.spiral(100, noise=0.25, seed=0)
        y = labels.astype(np.float32).reshape(-1, 1)
        loader = nn_.data.DataLoader(X, y, batch_size=32, shuffle=True, seed=0)
        model = spiral.SpiralNet(hidden=8)
        histories.append(spiral.train(model, loader, X, y, 2, 0.01, viz.GradNormHistory(model),
                                      compiled))
    assert histories[0] == histories[1]
    assert "speed-up" in capsys.readouterr().out


def test_a_detached_parameter_is_read_live_at_replay():
    """``w.detach()`` shares the parameter's array: the optimizer's in-place update is not a
    change the program missed, and a replay reads the parameter itself (also after its
    ``.data`` is rebound between calls)."""
    def make():
        ag.manual_seed(0)
        lin = nn.Linear(3, 2)
        opt = nn.optim.SGD(lin.parameters(), lr=0.1, momentum=0.5)

        def step(x):
            opt.zero_grad()
            loss = (lin(x) ** 2).mean() + (lin.weight.detach() * lin.weight).sum() * 0.1
            loss.backward()
            opt.step()
            return loss
        return step, lin, opt
    xs = [np.random.default_rng(i).standard_normal((4, 3)).astype(np.float32) for i in range(6)]
    runs = []
    for compiled in (False, True):
        step, lin, opt = make()
        run = ag.compile(step) if compiled else step
        out = []
        for i, x in enumerate(xs):
            if i == 4:
                lin.weight.data = lin.weight.data * 0.5      # rebound: the same shape
            out.append((run(x).data.tobytes(), state_of(lin, opt)))
        runs.append(out)
    for (le, se), (lc, sc) in zip(*runs):
        assert le == lc
        assert_same_state(se, sc)
