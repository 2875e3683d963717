"""The benchmark workloads: shapes, seeds, and the float32 initial weights and data that every
implementation starts from.

A workload is a name, a kind (which tells an implementation what to build) and its parameters.
``make_data(workload)`` returns fresh copies of the arrays, so each implementation may train them
in place.  Weight layouts follow the NumPy floor: a dense layer is ``x @ W + b`` with ``W`` of
shape (in, out); a conv filter bank is (out, in, kh, kw); an LSTM uses PyTorch's layout and gate
order (i, f, g, o).  Implementations convert layouts once, at setup, never per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Workload", "WORKLOADS", "by_name", "make_data", "CHAIN_LENGTH", "chain_ops", "run_chain"]

SEED = 0


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str                   # "mlp", "chain", "cnn", "rnn" or "op"
    params: dict = field(default_factory=dict)
    description: str = ""


def _mlp(name, sizes, batch, activation, loss, lr, momentum, description):
    return Workload(name, "mlp", dict(sizes=sizes, batch=batch, activation=activation, loss=loss,
                                      lr=lr, momentum=momentum), description)


def _op(op, size):
    label = "1" if size == 1 else "1e6"
    return Workload(f"op_{op}_{label}", "op", dict(op=op, size=size),
                    f"{op} forward + backward on {label} element(s)")


WORKLOADS = [
    _mlp("mlp_small", (2, 16, 16, 1), 64, "tanh", "mse", 0.1, 0.0,
         "batch 64, 2-16-16-1, tanh, MSE, SGD"),
    _mlp("mlp_digits", (64, 256, 256, 10), 128, "relu", "ce", 0.01, 0.9,
         "batch 128, 64-256-256-10, ReLU, cross-entropy, SGD momentum 0.9"),
    _mlp("mlp_mnist", (784, 1024, 1024, 10), 256, "relu", "ce", 0.01, 0.0,
         "batch 256, 784-1024-1024-10, ReLU, cross-entropy, SGD"),
    Workload("chain", "chain", dict(size=16, length=500),
             "500 elementwise ops on a 16-vector, then backward"),
    Workload("cnn", "cnn", dict(batch=32, channels=8, kernel=3, image=28, classes=10, lr=0.01),
             "batch 32, 1x28x28, conv 3x3x8, ReLU, max-pool 2, linear 10, cross-entropy, SGD"),
    Workload("rnn", "rnn", dict(batch=32, steps=16, inputs=16, hidden=64, classes=10, lr=0.01),
             "LSTM, 16 steps, batch 32, 16 inputs, 64 hidden, linear 10 on the last state, "
             "cross-entropy, SGD"),
] + [_op(op, size) for op in ("add", "mul", "matmul") for size in (1, 10**6)]


def by_name(name: str) -> Workload:
    for w in WORKLOADS:
        if w.name == name:
            return w
    raise KeyError(f"no workload named {name!r}")


# ---- the chain: a fixed cycle of four cheap ops keeps values in (-1, 1) ------------------------

CHAIN_LENGTH = 500
CHAIN_CYCLE = (("mul", 1.1), ("add", 0.05), ("tanh", None), ("sub", 0.02))


def chain_ops(length: int = CHAIN_LENGTH):
    """The chain's ops, in order, as (name, constant) pairs."""
    return [CHAIN_CYCLE[i % len(CHAIN_CYCLE)] for i in range(length)]


def run_chain(x, ops, tanh):
    """The chain's forward, with the framework's own tensors and ``tanh``: every autodiff
    implementation runs exactly these ops (the NumPy floor writes its own, saving what its
    hand-written backward needs)."""
    for name, c in ops:
        if name == "mul":
            x = x * c
        elif name == "add":
            x = x + c
        elif name == "sub":
            x = x - c
        else:
            x = tanh(x)
    return x


# ---- data ----------------------------------------------------------------------------------------

def _uniform(rng, shape, fan_in):
    """PyTorch's default init for Linear/Conv/LSTM: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)


def _mlp_data(p, rng):
    sizes, batch = p["sizes"], p["batch"]
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights.append(_uniform(rng, (n_in, n_out), n_in))
        weights.append(_uniform(rng, (n_out,), n_in))
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    if p["loss"] == "mse":
        y = np.sin(x.sum(axis=1, keepdims=True)).astype(np.float32)
    else:
        y = rng.integers(0, sizes[-1], size=batch).astype(np.int64)
    return dict(params=weights, x=x, y=y)


def _cnn_data(p, rng):
    c, k, n = p["channels"], p["kernel"], p["image"]
    pooled = (n - k + 1) // 2
    features = c * pooled * pooled
    params = [_uniform(rng, (c, 1, k, k), k * k), _uniform(rng, (c,), k * k),
              _uniform(rng, (features, p["classes"]), features),
              _uniform(rng, (p["classes"],), features)]
    x = rng.random((p["batch"], 1, n, n)).astype(np.float32)
    y = rng.integers(0, p["classes"], size=p["batch"]).astype(np.int64)
    return dict(params=params, x=x, y=y)


def _rnn_data(p, rng):
    h, i = p["hidden"], p["inputs"]
    params = [_uniform(rng, (4 * h, i), h), _uniform(rng, (4 * h, h), h),
              _uniform(rng, (4 * h,), h), _uniform(rng, (4 * h,), h),
              _uniform(rng, (h, p["classes"]), h), _uniform(rng, (p["classes"],), h)]
    x = rng.standard_normal((p["steps"], p["batch"], i)).astype(np.float32)
    y = rng.integers(0, p["classes"], size=p["batch"]).astype(np.int64)
    return dict(params=params, x=x, y=y)


def _op_data(p, rng):
    n = p["size"]
    if p["op"] == "matmul":
        side = int(round(np.sqrt(n)))
        shape = (side, side)
    else:
        shape = (n,)
    a = rng.standard_normal(shape).astype(np.float32)
    b = rng.standard_normal(shape).astype(np.float32)
    return dict(params=[a, b])


def make_data(w: Workload) -> dict:
    """Fresh float32 arrays for ``w`` (``params``: list of arrays; ``x``, ``y`` where used)."""
    rng = np.random.default_rng([SEED, sum(map(ord, w.name))])
    if w.kind == "mlp":
        return _mlp_data(w.params, rng)
    if w.kind == "cnn":
        return _cnn_data(w.params, rng)
    if w.kind == "rnn":
        return _rnn_data(w.params, rng)
    if w.kind == "op":
        return _op_data(w.params, rng)
    if w.kind == "chain":
        return dict(params=[rng.uniform(-0.5, 0.5, w.params["size"]).astype(np.float32)])
    raise ValueError(f"unknown workload kind {w.kind!r}")
