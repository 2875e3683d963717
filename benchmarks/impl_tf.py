"""TensorFlow (CPU), two ways: eager ``GradientTape``, and the same training function compiled once
with ``tf.function``.

The model is written with raw TF ops on ``tf.Variable``s and updated with ``assign_sub`` (what a
custom training loop does; Keras optimizers add their own Python overhead).  Images are NHWC, TF's
CPU layout: the data and the linear layer's rows are permuted once at setup.

``make_function_step`` traces the function once, at setup (``info["trace_s"]``; the harness times
the first call, which optimises the graph, apart) and counts traces in ``info["traces"]``: the
harness asserts it is still 1 after all the timed steps.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from .workloads import Workload, chain_ops, run_chain  # noqa: E402

__all__ = ["make_eager_step", "make_function_step", "setup", "versions"]


def versions() -> dict:
    return {"tensorflow": tf.__version__}


def setup(threads: int) -> None:
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def _vars(arrays):
    return [tf.Variable(a) for a in arrays]


def _cross_entropy(logits, y):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def _sgd(params, grads, lr, momentum, buffers):
    for i, (v, g) in enumerate(zip(params, grads)):
        if momentum:
            buffers[i].assign(momentum * buffers[i] + g)   # zero-initialised: PyTorch's first step
            g = buffers[i]
        v.assign_sub(lr * g)


def _trainer(params, loss_of, lr, momentum=0.0):
    """A function (x, y) -> loss that takes one SGD step on ``params``."""
    buffers = [tf.Variable(tf.zeros_like(v)) for v in params] if momentum else None

    def train(x, y):
        with tf.GradientTape() as tape:
            loss = loss_of(x, y)
        _sgd(params, tape.gradient(loss, params), lr, momentum, buffers)
        return loss

    return train


def _mlp(w: Workload, data):
    p = w.params
    params = _vars(data["params"])
    act = tf.tanh if p["activation"] == "tanh" else tf.nn.relu

    def loss_of(x, y):
        h = x
        for i in range(0, len(params), 2):
            h = tf.matmul(h, params[i]) + params[i + 1]
            if i + 2 < len(params):
                h = act(h)
        return tf.reduce_mean(tf.square(h - y)) if p["loss"] == "mse" else _cross_entropy(h, y)

    return _trainer(params, loss_of, p["lr"], p["momentum"]), (data["x"], data["y"])


def _cnn(w: Workload, data):
    p = w.params
    conv_w, conv_b, fc_w, fc_b = data["params"]
    c, m = p["channels"], (p["image"] - p["kernel"] + 1) // 2
    fc_nhwc = fc_w.reshape(c, m, m, -1).transpose(1, 2, 0, 3).reshape(m * m * c, -1)
    params = _vars([conv_w.transpose(2, 3, 1, 0), conv_b, fc_nhwc, fc_b])   # filters HWIO

    def loss_of(x, y):
        h = tf.nn.relu(tf.nn.conv2d(x, params[0], 1, "VALID") + params[1])
        h = tf.nn.max_pool2d(h, 2, 2, "VALID")
        h = tf.reshape(h, (h.shape[0], -1))
        return _cross_entropy(tf.matmul(h, params[2]) + params[3], y)

    x_nhwc = np.ascontiguousarray(data["x"].transpose(0, 2, 3, 1))
    return _trainer(params, loss_of, p["lr"]), (x_nhwc, data["y"])


def _rnn(w: Workload, data):
    p = w.params
    w_ih, w_hh, b_ih, b_hh, fc_w, fc_b = data["params"]
    params = _vars([w_ih.T, w_hh.T, b_ih, b_hh, fc_w, fc_b])
    hid = p["hidden"]

    def loss_of(x, y):
        wi, wh, bi, bh, fw, fb = params
        h = tf.zeros((p["batch"], hid))
        c = tf.zeros((p["batch"], hid))
        for t in range(p["steps"]):
            z = tf.matmul(x[t], wi) + tf.matmul(h, wh) + bi + bh
            i, f, g, o = tf.split(z, 4, axis=1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h = tf.sigmoid(o) * tf.tanh(c)
        return _cross_entropy(tf.matmul(h, fw) + fb, y)

    return _trainer(params, loss_of, p["lr"]), (data["x"], data["y"])


def _chain(w: Workload, data):
    x0 = tf.Variable(data["params"][0])
    ops = chain_ops(w.params["length"])

    def train(x, y):
        with tf.GradientTape() as tape:
            h = run_chain(x0, ops, tf.tanh)
            loss = tf.reduce_sum(h)
        return loss, tape.gradient(loss, [x0])

    return train, (np.float32(0), np.float32(0))


def _op(w: Workload, data):
    a, b = _vars(data["params"])
    op = w.params["op"]

    def train(x, y):
        with tf.GradientTape() as tape:
            out = a + b if op == "add" else a * b if op == "mul" else tf.matmul(a, b)
            loss = tf.reduce_sum(out)
        return loss, tape.gradient(loss, [a, b])

    return train, (np.float32(0), np.float32(0))


_BUILDERS = {"mlp": _mlp, "chain": _chain, "cnn": _cnn, "rnn": _rnn, "op": _op}


def _stepper(train, inputs):
    """step() -> loss; for chain/op workloads ``step.grads()`` gives the last gradients."""
    x, y = (tf.constant(v) for v in inputs)
    last = {}

    def step():
        out = train(x, y)
        if isinstance(out, tuple):
            out, last["grads"] = out
        return float(out.numpy())

    step.grads = lambda: [g.numpy() for g in last["grads"]]
    return step, (x, y)


def make_eager_step(w: Workload, data):
    train, inputs = _BUILDERS[w.kind](w, data)
    return _stepper(train, inputs)[0]


def make_function_step(w: Workload, data):
    train, inputs = _BUILDERS[w.kind](w, data)
    traces = {"traces": 0}

    def counted(x, y):
        traces["traces"] += 1          # Python runs only while tracing
        return train(x, y)

    fn = tf.function(counted)
    step, (x, y) = _stepper(fn, inputs)
    start = time.perf_counter()
    fn.get_concrete_function(x, y)
    traces["trace_s"] = time.perf_counter() - start
    step.info = traces
    return step
