"""The lecture's network on XOR, with plain Tensors and the lecture's own update rule.

2 inputs -> a hidden layer of two units, as the lecture draws it (tanh) -> 1 output (sigmoid);
cost E = 1/2 * sum (target - output)^2; gradient descent W <- W - lr * dE/dW.  Prints the loss
falling and the four predictions, and writes the computation graph of the cost as xor_graph.svg
(only xor_graph.dot, with a note saying why, when graphviz's dot program is missing).

    python examples/xor.py [--out DIR]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import autograd as ag
import viz

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
TARGETS = np.array([[0], [1], [1], [0]], dtype=np.float32)


def init_params(hidden: int, seed: int) -> list[ag.Tensor]:
    rng = np.random.default_rng(seed)
    w0 = rng.normal(0, 1, (2, hidden)).astype(np.float32)
    w1 = rng.normal(0, 1, (hidden, 1)).astype(np.float32)
    return [ag.Tensor(w0, requires_grad=True), ag.zeros(hidden, requires_grad=True),
            ag.Tensor(w1, requires_grad=True), ag.zeros(1, requires_grad=True)]


def forward(params, x):
    """Z1 = x W0 + b0, a1 = tanh(Z1), Z2 = a1 W1 + b1, y = sigmoid(Z2)  (the lecture's forward)."""
    w0, b0, w1, b1 = params
    hidden = ag.tanh(x @ w0 + b0)
    return ag.sigmoid(hidden @ w1 + b1)


def cost(output, target):
    """E = 1/2 * sum (target - output)^2"""
    return 0.5 * ((target - output) ** 2).sum()


def train(hidden: int = 2, lr: float = 0.5, epochs: int = 2000, seed: int = 0, report=print):
    params = init_params(hidden, seed)
    for epoch in range(epochs + 1):
        loss = cost(forward(params, INPUTS), TARGETS)
        for p in params:
            p.grad = None
        loss.backward()
        for p in params:                 # W <- W - lr * dE/dW
            p.data -= lr * p.grad
        if epoch % 250 == 0:
            report(f"epoch {epoch:5d}   E = {loss.item():.5f}")
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="directory for xor_graph.svg")
    args = parser.parse_args()

    params = train()
    output = forward(params, INPUTS)
    print("\ninput    target  prediction")
    for x, t, y in zip(INPUTS, TARGETS, output.data):
        print(f"{x.astype(int)}   {int(t[0])}      {y[0]:.3f}")
    correct = int(((output.data > 0.5) == (TARGETS > 0.5)).sum())
    print(f"{correct}/4 correct")

    loss = cost(forward(params, INPUTS), TARGETS)
    loss.backward()
    names = dict(zip(params, ["W0", "b0", "W1", "b1"]))
    graph = viz.draw_graph(loss, names=names)
    path = viz.render(graph, os.path.join(args.out, "xor_graph"), format="svg")
    print(f"computation graph: {path}")


if __name__ == "__main__":
    main()
