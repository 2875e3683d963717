"""The floor: each workload's training step written by hand in NumPy, as a careful NumPy programmer
would write it (in-place updates where they are free, no gradient for the input data, derivatives
taken from saved activations), plus the pure GEMM time of each MLP step.

Every ``make_*`` returns ``step() -> loss`` (the loss computed by that step's forward pass).
Frozen: this file is the yardstick graphgrad is measured against; change it only to fix a bug.
"""

from __future__ import annotations

import numpy as np

from .workloads import Workload, chain_ops

__all__ = ["make_step", "make_gemm_step", "versions"]


def versions() -> dict:
    return {"numpy": np.__version__}


# ---- shared pieces -------------------------------------------------------------------------------

def _cross_entropy(logits, y):
    """Mean cross-entropy of integer targets, and its gradient w.r.t. the logits."""
    batch = logits.shape[0]
    rows = np.arange(batch)
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    loss = np.log(s[:, 0]).sum() - z[rows, y].sum()
    e /= s
    e[rows, y] -= 1
    e /= batch
    return float(loss) / batch, e


def _mse(out, y):
    diff = out - y
    loss = float(np.vdot(diff, diff)) / diff.size
    diff *= 2.0 / diff.size
    return loss, diff


class _SGD:
    """p -= lr * (momentum buffer or gradient), in place; PyTorch's momentum convention."""

    def __init__(self, params, lr, momentum=0.0):
        self.params, self.lr, self.momentum = params, lr, momentum
        self.buffers = [None] * len(params) if momentum else None

    def update(self, i, grad):
        """One parameter's step; ``grad`` is the step's own temporary and gets overwritten."""
        if self.momentum:
            buf = self.buffers[i]
            if buf is None:
                buf = self.buffers[i] = grad.copy()
            else:
                buf *= self.momentum
                buf += grad
            np.multiply(buf, self.lr, out=grad)
        else:
            grad *= self.lr
        self.params[i] -= grad


# ---- MLP -----------------------------------------------------------------------------------------

def _make_mlp(w: Workload, data):
    p = w.params
    params, x, y = data["params"], data["x"], data["y"]
    n_layers = len(params) // 2
    tanh = p["activation"] == "tanh"
    opt = _SGD(params, p["lr"], p["momentum"])

    def step():
        acts = [x]
        h = x
        for i in range(n_layers):
            h = h @ params[2 * i]
            h += params[2 * i + 1]
            if i < n_layers - 1:
                if tanh:
                    np.tanh(h, out=h)
                else:
                    np.maximum(h, 0, out=h)
            acts.append(h)
        loss, g = _mse(h, y) if p["loss"] == "mse" else _cross_entropy(h, y)
        for i in reversed(range(n_layers)):
            weight = params[2 * i]
            grad_w = acts[i].T @ g
            grad_b = g.sum(axis=0)
            if i > 0:                          # no gradient for the input data
                g = g @ weight.T
                a = acts[i]
                if tanh:
                    g *= 1 - a * a
                else:
                    g *= a > 0
            opt.update(2 * i, grad_w)
            opt.update(2 * i + 1, grad_b)
        return loss

    return step


def make_gemm_step(w: Workload, data):
    """Only the matrix products of an MLP step (3 forward, 3 weight gradients, 2 data gradients),
    into preallocated outputs: the physical limit of a training step on this BLAS."""
    if w.kind != "mlp":
        return None
    sizes, batch = w.params["sizes"], w.params["batch"]
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((a, b)).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
    acts = [rng.standard_normal((batch, n)).astype(np.float32) for n in sizes]
    grads = [np.empty((batch, n), np.float32) for n in sizes]
    wgrads = [np.empty_like(m) for m in weights]

    def step():
        for i, m in enumerate(weights):
            np.matmul(acts[i], m, out=acts[i + 1])
        for i in reversed(range(len(weights))):
            np.matmul(acts[i].T, acts[i + 1], out=wgrads[i])
            if i > 0:
                np.matmul(acts[i + 1], weights[i].T, out=grads[i])
        return 0.0

    return step


# ---- chain ---------------------------------------------------------------------------------------

def _make_chain(w: Workload, data):
    x0 = data["params"][0]
    ops = chain_ops(w.params["length"])
    grad_buffer = np.empty_like(x0)

    def step():
        x = x0
        saved = []                          # tanh outputs, the only values backward needs
        for name, c in ops:
            if name == "mul":
                x = x * c
            elif name == "add":
                x = x + c
            elif name == "sub":
                x = x - c
            else:
                x = np.tanh(x)
                saved.append(x)
        loss = float(x.sum())
        grad = grad_buffer
        grad.fill(1.0)
        k = len(saved)
        for name, c in reversed(ops):       # add and sub pass the gradient through untouched
            if name == "mul":
                grad *= c
            elif name == "tanh":
                k -= 1
                y = saved[k]
                grad *= 1 - y * y
        return loss

    step.grads = lambda: [grad_buffer]
    return step


# ---- CNN: im2col convolution ---------------------------------------------------------------------

def _make_cnn(w: Workload, data):
    p = w.params
    conv_w, conv_b, fc_w, fc_b = data["params"]
    x, y = data["x"], data["y"]
    batch, k, c = p["batch"], p["kernel"], p["channels"]
    n = p["image"] - k + 1                  # conv output side
    m = n // 2                              # pooled side
    # Internal layouts, converted once: filters as a (k*k, c) matrix, activations NHWC, and the
    # linear layer's rows permuted from NCHW-flatten order to NHWC-flatten order.
    filters = np.ascontiguousarray(conv_w.reshape(c, k * k).T)
    fc = np.ascontiguousarray(fc_w.reshape(c, m, m, -1).transpose(1, 2, 0, 3).reshape(m * m * c, -1))
    params = [filters, conv_b, fc, fc_b]
    opt = _SGD(params, p["lr"])
    images = x[:, 0]

    def step():
        # im2col each step, as a training loop over changing batches must
        windows = np.lib.stride_tricks.sliding_window_view(images, (k, k), axis=(1, 2))
        cols = windows.reshape(batch * n * n, k * k)          # one copy: the im2col matrix
        conv = cols @ filters
        conv += conv_b
        np.maximum(conv, 0, out=conv)
        blocks = conv.reshape(batch, m, 2, m, 2, c)
        pooled = blocks[:, :, 0, :, 0].copy()         # pairwise maxima: 8x faster than
        for i, j in ((0, 1), (1, 0), (1, 1)):         # blocks.max(axis=(2, 4)) here
            np.maximum(pooled, blocks[:, :, i, :, j], out=pooled)
        flat = pooled.reshape(batch, m * m * c)
        logits = flat @ fc
        logits += fc_b
        loss, g = _cross_entropy(logits, y)
        grad_fc = flat.T @ g
        grad_fc_b = g.sum(axis=0)
        g_pooled = (g @ fc.T).reshape(batch, m, 1, m, 1, c)
        # A ReLU output of 0 gets no gradient, so ties among zeros need no splitting here.
        g_conv = (blocks == pooled.reshape(batch, m, 1, m, 1, c)) * g_pooled
        g_conv = g_conv.reshape(batch * n * n, c)
        g_conv *= conv > 0
        grad_filters = cols.T @ g_conv
        grad_conv_b = g_conv.sum(axis=0)
        for i, gi in enumerate((grad_filters, grad_conv_b, grad_fc, grad_fc_b)):
            opt.update(i, gi)
        return loss

    return step


# ---- RNN: LSTM with the input projection of all steps in one GEMM --------------------------------

def _sigmoid(z, out):
    np.negative(z, out=out)
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)


def _make_rnn(w: Workload, data):
    p = w.params
    w_ih, w_hh, b_ih, b_hh, fc_w, fc_b = data["params"]
    x, y = data["x"], data["y"]
    steps, batch, hid = p["steps"], p["batch"], p["hidden"]
    w_ih_t = np.ascontiguousarray(w_ih.T)   # (inputs, 4h)
    w_hh_t = np.ascontiguousarray(w_hh.T)   # (h, 4h)
    params = [w_ih_t, w_hh_t, b_ih, b_hh, fc_w, fc_b]
    opt = _SGD(params, p["lr"])
    x_flat = x.reshape(steps * batch, -1)
    acts = np.empty((steps, batch, 4 * hid), np.float32)   # i, f, g, o after their nonlinearity
    cells = np.empty((steps + 1, batch, hid), np.float32)  # c_0 .. c_T
    hiddens = np.empty((steps + 1, batch, hid), np.float32)
    tanh_c = np.empty((steps, batch, hid), np.float32)
    d_gates = np.empty_like(acts)

    def step():
        pre = (x_flat @ w_ih_t).reshape(steps, batch, 4 * hid)
        pre += b_ih
        pre += b_hh
        cells[0] = 0
        hiddens[0] = 0
        for t in range(steps):
            z = pre[t]
            z += hiddens[t] @ w_hh_t
            a = acts[t]
            _sigmoid(z[:, :2 * hid], a[:, :2 * hid])
            np.tanh(z[:, 2 * hid:3 * hid], out=a[:, 2 * hid:3 * hid])
            _sigmoid(z[:, 3 * hid:], a[:, 3 * hid:])
            i, f, g, o = a[:, :hid], a[:, hid:2 * hid], a[:, 2 * hid:3 * hid], a[:, 3 * hid:]
            np.multiply(f, cells[t], out=cells[t + 1])
            cells[t + 1] += i * g
            np.tanh(cells[t + 1], out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=hiddens[t + 1])
        h_last = hiddens[steps]
        logits = h_last @ fc_w
        logits += fc_b
        loss, g_logits = _cross_entropy(logits, y)
        grad_fc = h_last.T @ g_logits
        grad_fc_b = g_logits.sum(axis=0)
        dh = g_logits @ fc_w.T
        dc = np.zeros((batch, hid), np.float32)
        for t in reversed(range(steps)):
            a, tc = acts[t], tanh_c[t]
            i, f, g, o = a[:, :hid], a[:, hid:2 * hid], a[:, 2 * hid:3 * hid], a[:, 3 * hid:]
            dc += dh * o * (1 - tc * tc)
            d = d_gates[t]
            np.multiply(dc * g, i * (1 - i), out=d[:, :hid])
            np.multiply(dc * cells[t], f * (1 - f), out=d[:, hid:2 * hid])
            np.multiply(dc * i, 1 - g * g, out=d[:, 2 * hid:3 * hid])
            np.multiply(dh * tc, o * (1 - o), out=d[:, 3 * hid:])
            dc *= f
            if t > 0:                       # h_0 is a constant: no gradient for it
                dh = d @ w_hh
        d_flat = d_gates.reshape(steps * batch, 4 * hid)
        grad_w_ih = x_flat.T @ d_flat
        grad_w_hh = hiddens[:steps].reshape(steps * batch, hid).T @ d_flat
        grad_b = d_flat.sum(axis=0)
        for idx, gi in enumerate((grad_w_ih, grad_w_hh, grad_b, grad_b.copy(), grad_fc, grad_fc_b)):
            opt.update(idx, gi)
        return loss

    return step


# ---- per-op micro-benchmarks ---------------------------------------------------------------------

def _make_op(w: Workload, data):
    a, b = data["params"]
    op = w.params["op"]
    last = {}

    def step():
        if op == "add":
            out = a + b
        elif op == "mul":
            out = a * b
        else:
            out = a @ b
        loss = float(out.sum())
        g = np.ones_like(out)                 # the gradient of the sum
        if op == "add":
            grads = (g, g)                    # one array serves both inputs
        elif op == "mul":
            grads = (g * b, g * a)
        else:
            grads = (g @ b.T, a.T @ g)
        last["grads"] = grads
        return loss

    step.grads = lambda: list(last["grads"])
    return step


_BUILDERS = {"mlp": _make_mlp, "chain": _make_chain, "cnn": _make_cnn, "rnn": _make_rnn,
             "op": _make_op}


def make_step(w: Workload, data):
    return _BUILDERS[w.kind](w, data)
