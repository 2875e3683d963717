"""The TensorFlow Playground's four classification sets, trained with the lecture's regularised
cross-entropy:

    C = -1/n sum [t ln a + (1 - t) ln(1 - a)]  +  lambda/(2n) sum w^2
      = F.binary_cross_entropy(a, t)           +  (lambda / n) * F.l2_penalty(weights)

A Playground-sized network (2 -> 8 -> 8 -> 1, tanh, sigmoid output; 16 units for the spiral) on
the raw coordinates, full batch, Adam.  For each set it prints train/test accuracy with and
without the L2 term, the weights' 1/2 sum w^2 (the regulariser keeps it small), and an ASCII
picture of the learned decision regions.

    python examples/playground.py [--steps N] [--l2 0.03] [--noise 0.1] [--n 500] [--sets ...]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import autograd as ag
import nn
import nn.functional as F
from nn.data import PLAYGROUND, train_test_split

STEPS = {"circle": 300, "xor": 300, "gaussians": 150, "spiral": 1500}
HIDDEN = {"circle": 8, "xor": 8, "gaussians": 8, "spiral": 16}


def make_model(hidden: int = 8, seed: int = 0) -> nn.Module:
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, 1), nn.Sigmoid())


def weights(model: nn.Module) -> list:
    """The lecture's sum runs over weights w, not biases."""
    return [p for name, p in model.named_parameters() if name.endswith("weight")]


def train(model, X, y, steps: int, l2: float, lr: float = 0.03):
    """Full-batch Adam on BCE + (lambda / n) * 1/2 sum w^2; returns the last cost."""
    opt = nn.optim.Adam(model.parameters(), lr=lr)
    x, t = ag.Tensor(X), ag.Tensor(y.astype(np.float32)[:, None])
    n = len(X)
    cost = None
    for _ in range(steps):
        opt.zero_grad()
        cost = F.binary_cross_entropy(model(x), t)
        if l2:
            cost = cost + (l2 / n) * F.l2_penalty(weights(model))
        cost.backward()
        opt.step()
    return cost.item()


def accuracy(model, X, y) -> float:
    with ag.no_grad():
        return float(np.mean((model(ag.Tensor(X)).data[:, 0] > 0.5) == y))


def ascii_map(model, size: int = 24, extent: float = 6.0) -> str:
    """'#' where the model says class 1, '.' for class 0, over [-6, 6]^2 (y up)."""
    ticks = np.linspace(-extent, extent, size, dtype=np.float32)
    grid = np.array([(x, y) for y in ticks[::-1] for x in ticks], dtype=np.float32)
    with ag.no_grad():
        p = model(ag.Tensor(grid)).data.reshape(size, size)
    return "\n".join("    " + "".join("#" if v > 0.5 else "." for v in row) for row in p)


def run(name: str, n: int, noise: float, l2: float, steps: int | None, seed: int = 0,
        picture: bool = True) -> dict:
    X, y = PLAYGROUND[name](n, noise=noise, seed=seed)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.5, seed=seed)   # Playground's 50%
    steps = steps or STEPS[name]
    out = {}
    for lam in (0.0, l2):
        model = make_model(HIDDEN[name], seed=seed)
        start = time.perf_counter()
        cost = train(model, X_tr, y_tr, steps, lam)
        with ag.no_grad():
            size = F.l2_penalty(weights(model)).item()
        out[lam] = dict(train=accuracy(model, X_tr, y_tr), test=accuracy(model, X_te, y_te),
                        cost=cost, l2=size, seconds=time.perf_counter() - start, model=model)
        print(f"  {name:9s} lambda {lam:<5g}: train {out[lam]['train']:6.1%}  test "
              f"{out[lam]['test']:6.1%}  cost {cost:.4f}  1/2 sum w^2 = {size:7.2f}  "
              f"({steps} steps, {out[lam]['seconds']:.1f} s)")
    if picture:
        print(ascii_map(out[l2]["model"]))
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="Adam steps (default per set)")
    parser.add_argument("--l2", type=float, default=0.03, help="lambda in lambda/(2n) sum w^2")
    parser.add_argument("--noise", type=float, default=0.1,
                        help="0 to 0.5, the Playground's 0-50%%")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sets", nargs="*", default=list(PLAYGROUND), choices=list(PLAYGROUND))
    args = parser.parse_args(argv)
    print(f"Playground sets, {args.n} points, noise {args.noise}, half for testing; "
          f"network 2-8-8-1 tanh (2-16-16-1 for the spiral); BCE + lambda/(2n) sum w^2")
    if args.noise > 0:
        print("  (noise gives points near a class boundary the other label, so test accuracy "
              "stays below 100%)")
    return {name: run(name, args.n, args.noise, args.l2, args.steps, args.seed)
            for name in args.sets}


if __name__ == "__main__":
    main()
