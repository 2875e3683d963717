"""nn.fit and nn.evaluate: the loop, history, metrics, modes, scheduler and the progress bar."""

import numpy as np
import pytest

import autograd as ag
import nn
from nn.data import DataLoader
import importlib
from nn.fit import accuracy, binary_accuracy, evaluate, fit
from nn.optim import SGD
from nn.optim.lr_scheduler import StepLR

fit_module = importlib.import_module("nn.fit")   # nn.fit is also the name of the function


class Softmax2:
    """A linear softmax classifier on plain Tensors, with train/eval recorded for the tests."""

    def __init__(self, n_in, n_out):
        rng = np.random.default_rng(0)
        self.w = ag.Tensor(rng.standard_normal((n_in, n_out)) * 0.1, requires_grad=True)
        self.b = ag.Tensor(np.zeros(n_out), requires_grad=True)
        self.training = True
        self.modes = []

    def __call__(self, x):
        return x @ self.w + self.b

    def train(self):
        self.training = True
        self.modes.append("train")

    def eval(self):
        self.training = False
        self.modes.append("eval")


def cross_entropy(logits, target):
    picked = logits[np.arange(len(target)), target.data]
    return (ag.logsumexp(logits, axis=1) - picked).mean()


def blobs(n, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.standard_normal((n, 2)) * 0.5 + np.array([[0, 3], [3, 0], [-3, -3]])[y]
    return X, y


def test_fit_trains_and_returns_the_history(capsys, monkeypatch):
    X, y = blobs(300, 0)
    Xv, yv = blobs(90, 1)
    model = Softmax2(2, 3)
    opt = SGD([model.w, model.b], lr=0.5)
    monkeypatch.setattr(fit_module, "_on_terminal", lambda: True)    # as on a terminal
    history = fit(model, cross_entropy, opt, DataLoader(X, y, batch_size=32, shuffle=True,
                                                        seed=0), epochs=4,
                  val_data=[(ag.Tensor(Xv), ag.Tensor(yv))], metrics=["accuracy"])
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 4 for v in history.values())
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] >= 0.95
    # the validation pass runs in eval mode, and training resumes in train mode
    assert model.modes[:3] == ["train", "eval", "train"] and model.training
    err = capsys.readouterr().err
    assert "epoch 4/4" in err and "val_accuracy=" in err and "loss=" in err


def test_no_bars_when_output_is_not_a_terminal_or_jupyter(capsys):
    X, y = blobs(40, 0)
    model = Softmax2(2, 3)
    fit(model, cross_entropy, SGD([model.w, model.b], lr=0.1), DataLoader(X, y, batch_size=8),
        epochs=2)
    assert capsys.readouterr().err == ""          # captured output is not a terminal


def test_history_is_the_sample_weighted_mean_and_matches_evaluate():
    X, y = blobs(50, 2)
    model = Softmax2(2, 3)
    data = DataLoader(X, y, batch_size=16, shuffle=False)      # batches of 16, 16, 16, 2
    expected = evaluate(model, cross_entropy, data, metrics={"acc": accuracy})
    full = cross_entropy(model(ag.Tensor(X)), ag.Tensor(y)).item()
    assert expected["loss"] == pytest.approx(full, rel=1e-12)
    opt = SGD([model.w, model.b], lr=0.0)                      # lr 0: the same model every batch
    history = fit(model, cross_entropy, opt, data, epochs=1, metrics={"acc": accuracy},
                  progress=False)
    assert history["loss"][0] == pytest.approx(full, rel=1e-12)
    assert history["acc"][0] == pytest.approx(expected["acc"])


def test_evaluate_records_no_graph_and_changes_nothing():
    X, y = blobs(40, 3)
    model = Softmax2(2, 3)
    w = model.w.data.copy()
    evaluate(model, cross_entropy, [(ag.Tensor(X), ag.Tensor(y))])
    assert model.w.grad is None and np.array_equal(model.w.data, w)
    model.eval()
    evaluate(model, cross_entropy, [(ag.Tensor(X), ag.Tensor(y))])
    assert not model.training          # a model already in eval mode stays there


def test_fit_steps_the_scheduler_once_per_epoch():
    X, y = blobs(64, 4)
    model = Softmax2(2, 3)
    opt = SGD([model.w, model.b], lr=1.0)
    fit(model, cross_entropy, opt, DataLoader(X, y, 32, shuffle=True, seed=0), epochs=3,
        scheduler=StepLR(opt, step_size=1, gamma=0.5), progress=False)
    assert opt.param_groups[0]["lr"] == 0.125


def test_fit_with_nn_modules_and_binary_accuracy():
    X = np.random.default_rng(5).standard_normal((200, 2)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.float32)[:, None]
    model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    history = nn.fit(model, nn.functional.binary_cross_entropy, opt,
                     DataLoader(X, y, batch_size=20, shuffle=True, seed=0), epochs=15,
                     metrics=["binary_accuracy"], progress=False)
    assert history["binary_accuracy"][-1] >= 0.95 and model.training


def test_metrics():
    scores = np.array([[0.1, 0.9], [2.0, -1.0], [0.0, 3.0]])
    assert accuracy(scores, np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert binary_accuracy(np.array([0.2, 0.7, 0.9]), np.array([0, 1, 0])) == pytest.approx(2 / 3)
    assert binary_accuracy(np.array([[-1.0], [2.0]]), np.array([[0.0], [1.0]]), threshold=0) == 1.0
    with pytest.raises(ValueError, match="binary_accuracy"):
        accuracy(np.zeros((3, 1)), np.zeros(3))


def test_fit_argument_errors():
    model = Softmax2(2, 3)
    opt = SGD([model.w], lr=0.1)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, cross_entropy, opt, [], metrics=["acuracy"])
    with pytest.raises(TypeError, match="iterable of \\(inputs, targets\\) batches"):
        fit(model, cross_entropy, opt, np.zeros((4, 2)))
    with pytest.raises(ValueError, match="no batches"):
        fit(model, cross_entropy, opt, [], epochs=1, progress=False)
