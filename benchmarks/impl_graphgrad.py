"""graphgrad as a user writes it: nn layers (Linear, Conv2d, MaxPool2d, LSTM), the fused
``F.cross_entropy`` / ``F.mse_loss``, and ``nn.optim.SGD``.  The chain and per-op workloads are
plain Tensors (impl_graphgrad_tensors)."""

from __future__ import annotations

import numpy as np

import nn
import nn.functional as F
from autograd import Tensor

from .impl_graphgrad_tensors import commit, make_chain, make_op
from .workloads import Workload

__all__ = ["make_step", "versions"]


def versions() -> dict:
    return {"graphgrad": commit()}


def _linear(weight: np.ndarray, bias: np.ndarray) -> nn.Linear:
    """nn.Linear holding ``x @ weight + bias`` (its own layout is weight.T)."""
    layer = nn.Linear(*weight.shape)
    layer.weight.data[...] = weight.T
    layer.bias.data[...] = bias
    return layer


def _train_step(model, loss_of, opt):
    def step():
        opt.zero_grad()
        loss = loss_of(model)
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
    x, y = Tensor(data["x"]), data["y"]
    loss_fn = F.mse_loss if p["loss"] == "mse" else F.cross_entropy
    opt = nn.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"])
    return _train_step(model, lambda m: loss_fn(m(x), y), opt)


def _make_cnn(w: Workload, data):
    p = w.params
    conv_w, conv_b, fc_w, fc_b = data["params"]
    conv = nn.Conv2d(1, p["channels"], p["kernel"])
    conv.weight.data[...] = conv_w
    conv.bias.data[...] = conv_b
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), _linear(fc_w, fc_b))
    x, y = Tensor(data["x"]), data["y"]
    opt = nn.optim.SGD(model.parameters(), lr=p["lr"])
    return _train_step(model, lambda m: F.cross_entropy(m(x), y), opt)


class _LSTMClassifier(nn.Module):
    def __init__(self, arrays, inputs, hidden):
        super().__init__()
        w_ih, w_hh, b_ih, b_hh, fc_w, fc_b = arrays
        self.lstm = nn.LSTM(inputs, hidden)
        for name, a in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
                           (w_ih, w_hh, b_ih, b_hh)):
            getattr(self.lstm, name).data[...] = a
        self.fc = _linear(fc_w, fc_b)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


def _make_rnn(w: Workload, data):
    p = w.params
    model = _LSTMClassifier(data["params"], p["inputs"], p["hidden"])
    x, y = Tensor(data["x"]), data["y"]
    opt = nn.optim.SGD(model.parameters(), lr=p["lr"])
    return _train_step(model, lambda m: F.cross_entropy(m(x), y), opt)


_BUILDERS = {"mlp": _make_mlp, "chain": make_chain, "cnn": _make_cnn, "rnn": _make_rnn,
             "op": make_op}


def make_step(w: Workload, data):
    return _BUILDERS[w.kind](w, data)
