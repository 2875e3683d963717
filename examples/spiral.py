"""The showcase: a small network learns TensorFlow Playground's two spirals, and viz draws it.

    python examples/spiral.py [--out DIR] [--epochs N] [--seed S] [--compile]

--compile runs each step's forward and backward through ag.compile (the gradient norms are
recorded and Adam steps outside it) and prints the speed-up over eager steps.

Writes into DIR (default: the current directory):
    graph.svg     the computation graph, grouped by module, each node coloured by its gradient norm
    boundary.png  the learned decision boundary over the data, Playground style
    loss.png      loss and accuracy per epoch, training and held-out
    gradflow.png  each layer's gradient norm over training (vanishing/exploding diagnostics)
When graphviz's `dot` is missing, graph.dot is written instead and the reason is printed.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

import autograd as ag
import nn
import nn.functional as F
from nn.fit import progress_bar
import viz


class SpiralNet(nn.Module):
    """2 inputs -> two tanh hidden layers -> 1 logit (class 1 when positive)."""

    def __init__(self, hidden: int = 16) -> None:
        super().__init__()
        self.hidden1 = nn.Sequential(nn.Linear(2, hidden), nn.Tanh())
        self.hidden2 = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh())
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.out(self.hidden2(self.hidden1(x)))


def accuracy(logits, targets) -> float:
    """Share of correct signs; on the values (.data): a metric is not part of the graph."""
    return float(np.mean((logits.data > 0) == (np.asarray(getattr(targets, "data", targets)) > 0.5)))


def forward_backward(model, opt):
    def step(xb, yb):
        opt.zero_grad()
        logits = model(xb)
        loss = F.binary_cross_entropy_with_logits(logits, yb)
        loss.backward()
        return loss, logits
    return step


def compile_speedup(model, opt, loader, rounds: int = 7) -> str:
    """Eager and compiled time per step (forward, backward, Adam) over one epoch's batches, each
    on a copy of the model and optimizer (training itself is left as it was); the median of
    interleaved rounds, as a busy machine's timings vary."""
    batches = list(copy.deepcopy(loader))
    steps = []
    for compiled in (False, True):
        twin_model, twin_opt = copy.deepcopy((model, opt))
        inner = forward_backward(twin_model, twin_opt)

        def full(xb, yb, inner=inner, twin_opt=twin_opt):
            result = inner(xb, yb)
            twin_opt.step()
            return result
        steps.append(ag.compile(full) if compiled else full)
    times = [[], []]
    for _ in range(rounds):
        for i, step in enumerate(steps):
            start = time.perf_counter()
            for xb, yb in batches:       # the first two rounds include capture and verification
                step(xb, yb)
            times[i].append((time.perf_counter() - start) / len(batches))
    eager, compiled = (float(np.median(t[2:])) for t in times)
    return (f"ag.compile: {eager * 1e3:.3f} ms per eager step, {compiled * 1e3:.3f} ms "
            f"compiled: speed-up {eager / compiled:.2f}x (median of {rounds - 2} rounds)")


def train(model, loader, X_test, y_test, epochs: int, lr: float, grad_norms,
          compiled: bool = False):
    """Plain minibatch training with Adam; records every step's per-layer gradient norms."""
    opt = nn.optim.Adam(model.parameters(), lr=lr)
    history = {"loss": [], "val_loss": [], "accuracy": [], "val_accuracy": []}
    if compiled:
        print(compile_speedup(model, opt, loader))
    step = forward_backward(model, opt)
    step = ag.compile(step) if compiled else step
    # nn.fit's bar: drawn on a terminal or in Jupyter, quiet in a log (make demo's output)
    bar = progress_bar(epochs, True, desc="spiral", unit="epoch", dynamic_ncols=True)
    for _ in range(epochs):
        total, correct, seen = 0.0, 0.0, 0
        for xb, yb in loader:
            loss, logits = step(xb, yb)
            grad_norms.record()   # after backward, before the step changes anything
            opt.step()
            n = len(yb)
            total += loss.item() * n
            correct += accuracy(logits, yb) * n
            seen += n
        with ag.no_grad():
            test_logits = model(X_test)
            test_loss = F.binary_cross_entropy_with_logits(test_logits, y_test).item()
        history["loss"].append(total / seen)
        history["accuracy"].append(correct / seen)
        history["val_loss"].append(test_loss)
        history["val_accuracy"].append(accuracy(test_logits, y_test))
        bar.set_postfix(loss=f"{total / seen:.3f}", test_acc=f"{history['val_accuracy'][-1]:.3f}")
        bar.update(1)
    bar.close()
    return history


def draw(model, X, y, out: Path, title: str) -> Path:
    """One more forward/backward on the data, its gradients recorded for every node."""
    model.zero_grad()
    loss = F.binary_cross_entropy_with_logits(model(X), y)
    with viz.record_grad_norms() as grads:
        loss.backward()
    model.zero_grad()
    graph = viz.draw_graph({"loss": loss}, model=model, group_by_module=True, grad_flow=True,
                           grads=grads, title=title, rankdir="LR")
    return viz.render(graph, out / "graph", "svg")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=".", help="directory for the pictures (default: .)")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--compile", action="store_true",
                        help="forward and backward through ag.compile; prints the speed-up")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()

    ag.manual_seed(args.seed)
    X, labels = nn.data.spiral(500, noise=0.25, seed=args.seed)
    y = labels.astype(np.float32).reshape(-1, 1)
    X_train, X_test, y_train, y_test = nn.data.train_test_split(X, y, test_size=0.2,
                                                                seed=args.seed)
    loader = nn.data.DataLoader(X_train, y_train, batch_size=32, shuffle=True, seed=args.seed)
    model = SpiralNet(hidden=16)
    grad_norms = viz.GradNormHistory(model)
    history = train(model, loader, X_test, y_test, args.epochs, args.lr, grad_norms, args.compile)

    test_acc = history["val_accuracy"][-1]
    print(f"final accuracy: train {history['accuracy'][-1]:.1%}, test {test_acc:.1%}")
    written = [draw(model, X_train, y_train, out,
                    f"SpiralNet on the spiral: test accuracy {test_acc:.1%}")]
    viz.plot_decision_boundary(model, X, labels, out / "boundary.png",
                               title=f"SpiralNet, test accuracy {test_acc:.1%}")
    viz.plot_history(history, out / "loss.png", title="spiral: loss and accuracy")
    viz.plot_grad_norms(grad_norms, out / "gradflow.png",
                        title="gradient norm per layer over training (input side first)")
    written += [out / "boundary.png", out / "loss.png", out / "gradflow.png"]
    print("wrote " + ", ".join(str(p) for p in written)
          + f" in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
