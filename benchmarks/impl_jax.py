"""JAX (CPU), the whole training step under ``jax.jit``: forward, ``value_and_grad`` and the SGD
update compiled into one XLA executable, parameters donated so the update can happen in place.
The first call compiles; the harness times it apart."""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from .workloads import Workload, chain_ops, run_chain  # noqa: E402

__all__ = ["make_step", "versions"]


def versions() -> dict:
    return {"jax": jax.__version__}


def _cross_entropy(logits, y):
    logp = jax.nn.log_softmax(logits, axis=1)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def _mlp_loss(p):
    act = jnp.tanh if p["activation"] == "tanh" else jax.nn.relu

    def loss_of(params, x, y):
        h = x
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i + 2 < len(params):
                h = act(h)
        return jnp.mean((h - y) ** 2) if p["loss"] == "mse" else _cross_entropy(h, y)

    return loss_of


def _cnn_loss(p):
    def loss_of(params, x, y):
        conv_w, conv_b, fc_w, fc_b = params
        h = lax.conv_general_dilated(x, conv_w, (1, 1), "VALID",
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"))
        h = jax.nn.relu(h + conv_b[None, :, None, None])
        h = lax.reduce_window(h, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        return _cross_entropy(h.reshape(h.shape[0], -1) @ fc_w + fc_b, y)

    return loss_of


def _rnn_loss(p):
    hid = p["hidden"]

    def loss_of(params, x, y):
        w_ih, w_hh, b_ih, b_hh, fc_w, fc_b = params

        def cell(carry, xt):
            h, c = carry
            z = xt @ w_ih.T + h @ w_hh.T + b_ih + b_hh
            i, f, g, o = (z[:, k * hid:(k + 1) * hid] for k in range(4))
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            return (jax.nn.sigmoid(o) * jnp.tanh(c), c), None

        zeros = jnp.zeros((p["batch"], hid), x.dtype)
        (h, _), _ = lax.scan(cell, (zeros, zeros), x)
        return _cross_entropy(h @ fc_w + fc_b, y)

    return loss_of


def _make_train(w: Workload, data):
    p = w.params
    loss_of = {"mlp": _mlp_loss, "cnn": _cnn_loss, "rnn": _rnn_loss}[w.kind](p)
    lr, momentum = p["lr"], p.get("momentum", 0.0)

    def update(params, buffers, x, y):
        loss, grads = jax.value_and_grad(loss_of)(params, x, y)
        if momentum:
            buffers = [momentum * b + g for b, g in zip(buffers, grads)]
            grads = buffers
        return [q - lr * g for q, g in zip(params, grads)], buffers, loss

    train = jax.jit(update, donate_argnums=(0, 1))
    state = {"params": [jnp.asarray(a) for a in data["params"]]}
    state["buffers"] = [jnp.zeros_like(a) for a in state["params"]]
    x, y = jnp.asarray(data["x"]), jnp.asarray(data["y"])

    def step():
        state["params"], state["buffers"], loss = train(state["params"], state["buffers"], x, y)
        return float(loss)

    return step


def _make_chain(w: Workload, data):
    ops = chain_ops(w.params["length"])

    def loss_of(x):
        x = run_chain(x, ops, jnp.tanh)
        return jnp.sum(x)

    fn = jax.jit(jax.value_and_grad(loss_of))
    x0 = jnp.asarray(data["params"][0])
    last = {}

    def step():
        loss, last["grad"] = jax.block_until_ready(fn(x0))
        return float(loss)

    step.grads = lambda: [np.asarray(last["grad"])]
    return step


def _make_op(w: Workload, data):
    op = w.params["op"]

    def loss_of(a, b):
        return jnp.sum(a + b if op == "add" else a * b if op == "mul" else a @ b)

    fn = jax.jit(jax.value_and_grad(loss_of, argnums=(0, 1)))
    a, b = (jnp.asarray(v) for v in data["params"])
    last = {}

    def step():
        loss, last["grads"] = jax.block_until_ready(fn(a, b))
        return float(loss)

    step.grads = lambda: [np.asarray(g) for g in last["grads"]]
    return step


def make_step(w: Workload, data):
    if w.kind == "chain":
        return _make_chain(w, data)
    if w.kind == "op":
        return _make_op(w, data)
    return _make_train(w, data)
