"""graphgrad with plain ``autograd`` Tensors only: the engine's own cost, no nn on top.

Parameters are leaf Tensors; the model is written with ``@``, ``ag.relu``/``ag.tanh``,
``ag.log_softmax`` and indexing; the update is SGD on ``p.data`` in place.  ``step() -> loss``.
The chain and per-op workloads (plain Tensors in any case) are built here and reused by
impl_graphgrad; this module's own column runs the model workloads only.
"""

from __future__ import annotations

import numpy as np

import autograd as ag
from autograd import Tensor

from .workloads import Workload, chain_ops, run_chain

__all__ = ["make_step", "make_chain", "make_op", "versions", "commit"]


def versions() -> dict:
    return {"graphgrad": commit()}


def commit() -> str:
    """The checkout's commit, '+' when autograd/ or nn/ have uncommitted changes."""
    import subprocess
    root = __file__.rsplit("/benchmarks/", 1)[0]
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                              capture_output=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "autograd", "nn"], cwd=root,
                               text=True, capture_output=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "working tree"
    return (head or "working tree") + ("+" if dirty else "")


def _leaves(arrays):
    return [Tensor(a, requires_grad=True) for a in arrays]


def _cross_entropy(logits: Tensor, y: np.ndarray) -> Tensor:
    logp = ag.log_softmax(logits, axis=1)
    return -logp[np.arange(len(y)), y].mean()


class _SGD:
    def __init__(self, params, lr, momentum=0.0):
        self.params, self.lr, self.momentum = params, lr, momentum
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
            p.grad = None


def _make_mlp(w: Workload, data):
    p = w.params
    params = _leaves(data["params"])
    x, y = Tensor(data["x"]), data["y"]
    act = ag.tanh if p["activation"] == "tanh" else ag.relu
    opt = _SGD(params, p["lr"], p["momentum"])
    n_layers = len(params) // 2

    def step():
        h = x
        for i in range(n_layers):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < n_layers - 1:
                h = act(h)
        if p["loss"] == "mse":
            diff = h - y
            loss = (diff * diff).mean()
        else:
            loss = _cross_entropy(h, y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def make_chain(w: Workload, data):
    x0 = Tensor(data["params"][0], requires_grad=True)
    ops = chain_ops(w.params["length"])

    def step():
        x = run_chain(x0, ops, ag.tanh)
        loss = x.sum()
        x0.grad = None
        loss.backward()
        return loss.item()

    step.grads = lambda: [x0.grad]
    return step


def _make_cnn(w: Workload, data):
    p = w.params
    conv_w, conv_b, fc_w, fc_b = data["params"]
    batch, k, c = p["batch"], p["kernel"], p["channels"]
    n = p["image"] - k + 1
    m = n // 2
    filters = Tensor(np.ascontiguousarray(conv_w.reshape(c, k * k).T), requires_grad=True)
    params = [filters] + _leaves([conv_b, fc_w, fc_b])
    images = data["x"][:, 0]
    y = data["y"]
    opt = _SGD(params, p["lr"])

    def step():
        windows = np.lib.stride_tricks.sliding_window_view(images, (k, k), axis=(1, 2))
        cols = Tensor(windows.reshape(batch * n * n, k * k))            # im2col of the data
        conv = ag.relu(cols @ params[0] + params[1])                       # (b*n*n, c), NHWC
        pooled = conv.reshape(batch, m, 2, m, 2, c).max(axis=(2, 4))     # (b, m, m, c)
        flat = pooled.transpose(0, 3, 1, 2).reshape(batch, c * m * m)     # NCHW flatten order
        loss = _cross_entropy(flat @ params[2] + params[3], y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def _make_rnn(w: Workload, data):
    p = w.params
    w_ih, w_hh, b_ih, b_hh, fc_w, fc_b = data["params"]
    hid = p["hidden"]
    params = _leaves([np.ascontiguousarray(w_ih.T), np.ascontiguousarray(w_hh.T), b_ih, b_hh,
                      fc_w, fc_b])
    x = Tensor(data["x"])
    y = data["y"]
    opt = _SGD(params, p["lr"])

    def step():
        wi, wh, bi, bh, fw, fb = params
        h = ag.zeros((p["batch"], hid))
        c = ag.zeros((p["batch"], hid))
        for t in range(p["steps"]):
            z = x[t] @ wi + h @ wh + bi + bh
            i = ag.sigmoid(z[:, :hid])
            f = ag.sigmoid(z[:, hid:2 * hid])
            g = ag.tanh(z[:, 2 * hid:3 * hid])
            o = ag.sigmoid(z[:, 3 * hid:])
            c = f * c + i * g
            h = o * ag.tanh(c)
        loss = _cross_entropy(h @ fw + fb, y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def make_op(w: Workload, data):
    a, b = _leaves(data["params"])
    op = w.params["op"]

    def step():
        out = a + b if op == "add" else a * b if op == "mul" else a @ b
        loss = out.sum()
        a.grad = b.grad = None
        loss.backward()
        return loss.item()

    step.grads = lambda: [a.grad, b.grad]
    return step


_BUILDERS = {"mlp": _make_mlp, "cnn": _make_cnn, "rnn": _make_rnn}


def make_step(w: Workload, data):
    builder = _BUILDERS.get(w.kind)
    return None if builder is None else builder(w, data)
