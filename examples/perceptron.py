"""The lecture's perceptron: one neuron with a binary step, trained with the perceptron rule.

    o = step(w . x + b)          step(z) = 1 for z >= 0, else 0
    w <- w + lr * (t - o) * x    b <- b + lr * (t - o)     (only when the neuron is wrong)

It learns any linearly separable set (AND, OR, two Gaussian clouds) in a few epochs, and never
learns XOR: no single line separates XOR's classes, so some point is always misclassified.
Nor can gradient descent rescue it: the binary step's derivative is 0 everywhere (API.md's
convention at 0), so dE/dw of the lecture's cost E = 1/2 sum (t - o)^2 is exactly zero although E
is not, and W <- W - lr * dE/dW never moves.  That is why the lecture's networks use sigmoid/tanh.

    python examples/perceptron.py
"""

from __future__ import annotations

import numpy as np

import autograd as ag
import nn.functional as F
from nn.data import gaussians

TRUTH_TABLE = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
GATES = {
    "AND": np.array([0, 0, 0, 1], dtype=np.float32),
    "OR": np.array([0, 1, 1, 1], dtype=np.float32),
    "XOR": np.array([0, 1, 1, 0], dtype=np.float32),
}


def step(z: np.ndarray) -> np.ndarray:
    return (z >= 0).astype(np.float32)


def train_perceptron(X: np.ndarray, t: np.ndarray, lr: float = 1.0, epochs: int = 100):
    """Rosenblatt's rule, one sample at a time, until an epoch has no mistakes (or ``epochs``
    run out).  Returns the weights, the bias and the number of mistakes in each epoch."""
    w = np.zeros(X.shape[1], dtype=np.float32)
    b = np.float32(0.0)
    mistakes = []
    for _ in range(epochs):
        wrong = 0
        for x_i, t_i in zip(X, t):
            error = t_i - step(x_i @ w + b)
            if error != 0:
                w += lr * error * x_i
                b += lr * error
                wrong += 1
        mistakes.append(wrong)
        if wrong == 0:
            break
    return w, b, mistakes


def accuracy(w, b, X, t) -> float:
    return float(np.mean(step(X @ w + b) == t))


def step_gradient(X: np.ndarray, t: np.ndarray, seed: int = 0):
    """The lecture's cost through a binary step, differentiated by the engine: (E, dE/dw, dE/db)."""
    rng = np.random.default_rng(seed)
    w = ag.Tensor(rng.standard_normal(X.shape[1]).astype(np.float32), requires_grad=True)
    b = ag.Tensor(np.float32(0.1), requires_grad=True)
    o = F.binary_step(ag.Tensor(X) @ w + b)
    E = 0.5 * ((ag.Tensor(t) - o) ** 2).sum()
    E.backward()
    return E.item(), w.grad, b.grad


def main() -> dict:
    results = {}
    print("Perceptron rule on the logic gates (inputs 00 01 10 11):")
    for name, t in GATES.items():
        w, b, mistakes = train_perceptron(TRUTH_TABLE, t)
        acc = accuracy(w, b, TRUTH_TABLE, t)
        results[name] = acc
        outcome = (f"converged after {len(mistakes)} epochs" if mistakes[-1] == 0 else
                   f"did NOT converge in {len(mistakes)} epochs (mistakes in the last five epochs: "
                   f"{mistakes[-5:]})")
        print(f"  {name:3s}: w = {np.round(w, 2)}, b = {b:+.2f}, outputs "
              f"{step(TRUTH_TABLE @ w + b).astype(int)} vs targets {t.astype(int)}: "
              f"accuracy {acc:.0%}, {outcome}")

    X, y = gaussians(200, noise=0.0, seed=0)
    w, b, mistakes = train_perceptron(X, y.astype(np.float32))
    results["gaussians"] = accuracy(w, b, X, y)
    print(f"\nTwo Gaussian clouds (200 points, linearly separable): accuracy "
          f"{results['gaussians']:.1%}, mistakes per epoch {mistakes}")

    E, dw, db = step_gradient(TRUTH_TABLE, GATES["XOR"])
    results["step_grad_norm"] = float(np.abs(dw).sum() + np.abs(db).sum())
    print(f"\nGradient descent through the binary step on XOR: E = {E:.2f}, but dE/dw = {dw}, "
          f"dE/db = {db}")
    print("The step's derivative is zero, so W <- W - lr*dE/dW never moves: a single step neuron "
          "cannot learn XOR,\nand no gradient flows through one (see examples/xor_nn.py for the "
          "two-layer network with tanh/sigmoid that can).")
    return results


if __name__ == "__main__":
    main()
