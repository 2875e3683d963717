"""The lecture's XOR network built with nn: 2 inputs -> hidden layer -> 1 output.

    model = Sequential(Linear(2, hidden), Tanh() or Sigmoid(), Linear(hidden, 1), Sigmoid())
    E = 1/2 * sum (target - output)^2          (the lecture's cost)
    W <- W - lr * dE/dW                         (nn.optim.SGD), then with the momentum term

Trains each combination of hidden activation (tanh, sigmoid) and momentum (0, 0.9) from the same
initial weights, prints how many epochs each needs to bring E below 0.01 and the four outputs.

    python examples/xor_nn.py [--hidden 3] [--epochs 5000] [--seed 0]
"""

from __future__ import annotations

import argparse
import copy

import numpy as np

import autograd as ag
import nn
import nn.functional as F

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
TARGETS = np.array([[0], [1], [1], [0]], dtype=np.float32)
ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


def make_model(hidden: int, activation: str, seed: int) -> nn.Module:
    ag.manual_seed(seed)    # the same initial weights for every variant with this seed
    return nn.Sequential(nn.Linear(2, hidden), ACTIVATIONS[activation](),
                         nn.Linear(hidden, 1), nn.Sigmoid())


def cost(output, target):
    """E = 1/2 * sum (target - output)^2"""
    return 0.5 * F.mse_loss(output, target, reduction="sum")


def train(model: nn.Module, lr: float, momentum: float, epochs: int, target_cost: float = 0.01):
    """Full-batch gradient descent; returns (epochs used, or None if E stayed above the target,
    and the final E)."""
    opt = nn.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    x, t = ag.Tensor(INPUTS), ag.Tensor(TARGETS)
    E = None
    for epoch in range(1, epochs + 1):
        opt.zero_grad()
        E = cost(model(x), t)
        E.backward()
        opt.step()
        if E.item() < target_cost:
            return epoch, E.item()
    return None, E.item()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5000)
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    results = {}
    print(f"XOR with a 2-{args.hidden}-1 network, E = 1/2 sum (t - o)^2, SGD lr {args.lr}")
    for activation in ACTIVATIONS:
        start = make_model(args.hidden, activation, args.seed)
        for momentum in (0.0, 0.9):
            model = copy.deepcopy(start)
            used, E = train(model, args.lr, momentum, args.epochs)
            with ag.no_grad():
                out = model(ag.Tensor(INPUTS)).data.ravel()
            results[(activation, momentum)] = (used, E, out)
            when = f"E < 0.01 after {used:5d} epochs" if used else \
                f"E = {E:.4f} after {args.epochs} epochs"
            print(f"  hidden {activation:7s} momentum {momentum:.1f}: {when}; outputs for "
                  f"00 01 10 11 = {np.round(out, 3)}")
    print("Targets: 0 1 1 0.  Momentum (dW(t) = -lr dE/dW + 0.9 dW(t-1)) reaches the same cost "
          "in fewer epochs.")
    return results


if __name__ == "__main__":
    main()
