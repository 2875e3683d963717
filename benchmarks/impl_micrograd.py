"""micrograd (Karpathy's scalar engine, PyPI ``micrograd``), on mlp_small only: every weight,
activation and gradient is a Python ``Value``.  micrograd's ``Value`` has no tanh, so one is added
the way its own ops are written (forward value plus a ``_backward`` closure).  It computes in
Python floats (float64), from the same float32 initial weights."""

from __future__ import annotations

import math

import micrograd
from micrograd.engine import Value

from .workloads import Workload

__all__ = ["make_step", "versions"]


def versions() -> dict:
    return {"micrograd": getattr(micrograd, "__version__", "0.1.0 (PyPI)")}


def _tanh(v: Value) -> Value:
    t = math.tanh(v.data)
    out = Value(t, (v,), "tanh")

    def _backward():
        v.grad += (1 - t * t) * out.grad
    out._backward = _backward
    return out


def make_step(w: Workload, data):
    if w.name != "mlp_small":
        return None
    p = w.params
    layers = []                                   # per layer: (rows of weights, biases)
    arrays = data["params"]
    for i in range(0, len(arrays), 2):
        weight, bias = arrays[i], arrays[i + 1]
        layers.append(([[Value(float(v)) for v in row] for row in weight.T],
                       [Value(float(v)) for v in bias]))
    params = [v for rows, biases in layers for row in rows for v in row] + \
             [v for _, biases in layers for v in biases]
    xs = [[float(v) for v in row] for row in data["x"]]
    ys = [float(v) for v in data["y"][:, 0]]
    lr, n = p["lr"], len(xs)

    def forward(x):
        h = x
        for k, (rows, biases) in enumerate(layers):
            h = [sum((wi * hi for wi, hi in zip(row, h)), b) for row, b in zip(rows, biases)]
            if k < len(layers) - 1:
                h = [_tanh(v) for v in h]
        return h[0]

    def step():
        for v in params:
            v.grad = 0.0
        loss = sum((forward(x) - y) ** 2 for x, y in zip(xs, ys)) * (1.0 / n)
        loss.backward()
        for v in params:
            v.data -= lr * v.grad
        return loss.data

    return step
