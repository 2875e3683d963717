"""PyTorch eager (CPU): torch.nn layers, torch.nn.functional losses, torch.optim.SGD."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .workloads import Workload, chain_ops, run_chain

__all__ = ["make_step", "setup", "versions"]


def versions() -> dict:
    return {"torch": torch.__version__}


def setup(threads: int) -> None:
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:            # only allowed before the first parallel op; harmless later
        pass


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def _linear(weight: np.ndarray, bias: np.ndarray) -> nn.Linear:
    """nn.Linear holding ``x @ weight + bias`` (its own layout is weight.T)."""
    layer = nn.Linear(*weight.shape)
    with torch.no_grad():
        layer.weight.copy_(_t(weight.T))
        layer.bias.copy_(_t(bias))
    return layer


def _train_step(model, loss_fn, opt):
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model)
        loss.backward()
        opt.step()
        return loss.item()
    return step


def _make_mlp(w: Workload, data):
    p = w.params
    arrays = data["params"]
    layers = []
    for i in range(0, len(arrays), 2):
        layers.append(_linear(arrays[i], arrays[i + 1]))
        if i + 2 < len(arrays):
            layers.append(nn.Tanh() if p["activation"] == "tanh" else nn.ReLU())
    model = nn.Sequential(*layers)
    x, y = _t(data["x"]), _t(data["y"])
    loss_of = F.mse_loss if p["loss"] == "mse" else F.cross_entropy
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"])
    return _train_step(model, lambda m: loss_of(m(x), y), opt)


def _make_cnn(w: Workload, data):
    p = w.params
    conv_w, conv_b, fc_w, fc_b = data["params"]
    conv = nn.Conv2d(1, p["channels"], p["kernel"])
    with torch.no_grad():
        conv.weight.copy_(_t(conv_w))
        conv.bias.copy_(_t(conv_b))
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), _linear(fc_w, fc_b))
    x, y = _t(data["x"]), _t(data["y"])
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"])
    return _train_step(model, lambda m: F.cross_entropy(m(x), y), opt)


class _LSTMClassifier(nn.Module):
    def __init__(self, arrays, inputs, hidden):
        super().__init__()
        w_ih, w_hh, b_ih, b_hh, fc_w, fc_b = arrays
        self.lstm = nn.LSTM(inputs, hidden)
        with torch.no_grad():
            for name, a in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                               (w_ih, w_hh, b_ih, b_hh)):
                getattr(self.lstm, name).copy_(_t(a))
        self.fc = _linear(fc_w, fc_b)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


def _make_rnn(w: Workload, data):
    p = w.params
    model = _LSTMClassifier(data["params"], p["inputs"], p["hidden"])
    x, y = _t(data["x"]), _t(data["y"])
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"])
    return _train_step(model, lambda m: F.cross_entropy(m(x), y), opt)


def _make_chain(w: Workload, data):
    x0 = _t(data["params"][0].copy()).requires_grad_(True)
    ops = chain_ops(w.params["length"])

    def step():
        x = run_chain(x0, ops, torch.tanh)
        loss = x.sum()
        x0.grad = None
        loss.backward()
        return loss.item()

    step.grads = lambda: [x0.grad.numpy()]
    return step


def _make_op(w: Workload, data):
    a, b = (_t(v.copy()).requires_grad_(True) for v in data["params"])
    op = w.params["op"]

    def step():
        out = a + b if op == "add" else a * b if op == "mul" else a @ b
        loss = out.sum()
        a.grad = b.grad = None
        loss.backward()
        return loss.item()

    step.grads = lambda: [a.grad.numpy(), b.grad.numpy()]
    return step


_BUILDERS = {"mlp": _make_mlp, "chain": _make_chain, "cnn": _make_cnn, "rnn": _make_rnn,
             "op": _make_op}


def make_step(w: Workload, data):
    return _BUILDERS[w.kind](w, data)
