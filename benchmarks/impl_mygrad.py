"""MyGrad, the closest NumPy-based peer: mygrad Tensors, mygrad.nnet layers and losses, SGD on
``p.data`` in place after ``backward`` (MyGrad unlocks the arrays once the graph is cleared).
Constants are float32 NumPy scalars: MyGrad turns Python floats into float64 arrays."""

from __future__ import annotations

import mygrad as mg
import numpy as np
from mygrad.nnet.activations import relu, sigmoid, tanh
from mygrad.nnet.layers import conv_nd, max_pool
from mygrad.nnet.losses import softmax_crossentropy

from .workloads import Workload, chain_ops, run_chain

__all__ = ["make_step", "versions"]


def versions() -> dict:
    return {"mygrad": mg.__version__}


class _SGD:
    def __init__(self, params, lr, momentum=0.0):
        self.params, self.lr, self.momentum = params, np.float32(lr), np.float32(momentum)
        self.buffers = [None] * len(params)

    def step(self):
        for i, p in enumerate(self.params):
            g = p.grad
            if self.momentum:
                if self.buffers[i] is None:
                    self.buffers[i] = g.copy()
                else:
                    self.buffers[i] *= self.momentum
                    self.buffers[i] += g
                g = self.buffers[i]
            p.data -= self.lr * g


def _train(params, loss_of, lr, momentum=0.0):
    opt = _SGD(params, lr, momentum)

    def step():
        loss = loss_of()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _make_mlp(w: Workload, data):
    p = w.params
    params = [mg.Tensor(a) for a in data["params"]]
    x, y = data["x"], data["y"]
    act = tanh if p["activation"] == "tanh" else relu

    def loss_of():
        h = x
        for i in range(0, len(params), 2):
            h = mg.matmul(h, params[i]) + params[i + 1]
            if i + 2 < len(params):
                h = act(h)
        return mg.mean((h - y) ** 2) if p["loss"] == "mse" else softmax_crossentropy(h, y)

    return _train(params, loss_of, p["lr"], p["momentum"])


def _make_cnn(w: Workload, data):
    p = w.params
    conv_w, conv_b, fc_w, fc_b = (mg.Tensor(a) for a in data["params"])
    x, y = data["x"], data["y"]

    def loss_of():
        h = relu(conv_nd(x, conv_w, stride=1) + conv_b.reshape(1, -1, 1, 1))
        h = max_pool(h, (2, 2), 2)
        return softmax_crossentropy(mg.matmul(h.reshape(h.shape[0], -1), fc_w) + fc_b, y)

    return _train([conv_w, conv_b, fc_w, fc_b], loss_of, p["lr"])


def _make_rnn(w: Workload, data):
    p = w.params
    w_ih, w_hh, b_ih, b_hh, fc_w, fc_b = data["params"]
    params = [mg.Tensor(a) for a in (w_ih.T.copy(), w_hh.T.copy(), b_ih, b_hh, fc_w, fc_b)]
    x, y = data["x"], data["y"]
    hid = p["hidden"]

    def loss_of():
        wi, wh, bi, bh, fw, fb = params
        h = np.zeros((p["batch"], hid), np.float32)
        c = np.zeros((p["batch"], hid), np.float32)
        for t in range(p["steps"]):
            z = mg.matmul(x[t], wi) + mg.matmul(h, wh) + bi + bh
            i, f = sigmoid(z[:, :hid]), sigmoid(z[:, hid:2 * hid])
            g, o = tanh(z[:, 2 * hid:3 * hid]), sigmoid(z[:, 3 * hid:])
            c = f * c + i * g
            h = o * tanh(c)
        return softmax_crossentropy(mg.matmul(h, fw) + fb, y)

    return _train(params, loss_of, p["lr"])


def _make_chain(w: Workload, data):
    x0 = mg.Tensor(data["params"][0])
    ops = [(name, None if c is None else np.float32(c)) for name, c in chain_ops(w.params["length"])]

    def step():
        x = run_chain(x0, ops, mg.tanh)
        loss = mg.sum(x)
        loss.backward()
        return loss.item()

    step.grads = lambda: [x0.grad]
    return step


def _make_op(w: Workload, data):
    a, b = (mg.Tensor(v) for v in data["params"])
    op = w.params["op"]

    def step():
        out = a + b if op == "add" else a * b if op == "mul" else mg.matmul(a, b)
        loss = mg.sum(out)
        loss.backward()
        return loss.item()

    step.grads = lambda: [a.grad, b.grad]
    return step


_BUILDERS = {"mlp": _make_mlp, "chain": _make_chain, "cnn": _make_cnn, "rnn": _make_rnn,
             "op": _make_op}


def make_step(w: Workload, data):
    return _BUILDERS[w.kind](w, data)
