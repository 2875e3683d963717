"""An MLP on scikit-learn's 8x8 handwritten digits (1,797 images, bundled with scikit-learn: no
download).  Needs the optional extra:  pip install -e ".[examples]"

    64 pixels, standardised -> Linear 256 -> ReLU -> Dropout 0.2 -> Linear 10 (logits)
    cross-entropy, Adam (lr 3e-3, cosine-annealed), minibatches of 32, nn.fit with a progress bar

Prints the test accuracy on a held-out quarter of the images (seeded split).

    python examples/digits.py [--epochs 40] [--seed 0] [--no-progress] [--compile]

--compile trains with ag.compile (the step captured once, then replayed) and prints its speed-up
over eager steps, timed on a copy of the starting model.
"""

from __future__ import annotations

import argparse
import copy
import os
import time

# Small matrices: a multi-threaded BLAS spends more time waking threads than multiplying (and far
# more on a busy machine).  Set before NumPy loads; an explicit setting in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
from nn.data import DataLoader, train_test_split  # noqa: E402
from nn.fit import evaluate  # noqa: E402


def load_digits(seed: int = 0):
    """(X_train, X_test, y_train, y_test): images as float32, shape (n, 64), each pixel
    standardised with the training set's mean and spread (+0.1, as border pixels are almost
    always 0)."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise SystemExit("this example needs scikit-learn for its bundled digits: "
                         "pip install scikit-learn  (or pip install -e \".[examples]\")") from None
    digits = sklearn_digits()
    X = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=seed)
    mean, spread = X_train.mean(axis=0), X_train.std(axis=0) + 0.1
    return (X_train - mean) / spread, (X_test - mean) / spread, y_train, y_test


def make_model() -> nn.Module:
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))


def parse_args(argv, epochs: int):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--compile", action="store_true",
                        help="train with ag.compile and print the speed-up over eager steps")
    return parser.parse_args(argv)


def _train_step(model, opt):
    def step(xb, yb):
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss
    return step


def _per_step(step, batches) -> float:
    start = time.perf_counter()
    for xb, yb in batches:
        step(xb, yb)
    return (time.perf_counter() - start) / len(batches)


def fit_compiled(model, opt, sched, loader, epochs: int) -> dict:
    """nn.fit's loop (train mode, one scheduler step per epoch) with the step compiled; prints
    the compiled step's speed-up over the eager one, both timed on copies of the starting model
    and optimizer over the same 8 batches."""
    batches = list(copy.deepcopy(loader))[:8]   # the loader's own shuffle is left alone
    eager_twin, compiled_twin = copy.deepcopy((model, opt)), copy.deepcopy((model, opt))
    rng = ag.default_rng()
    state = rng.bit_generator.state     # the timing draws Dropout masks: training draws the same
    steps = _train_step(*eager_twin), ag.compile(_train_step(*compiled_twin))
    for step in steps:                 # capture and verification (per batch shape) first
        _per_step(step, batches + batches)
    times = [[_per_step(step, batches) for step in steps] for _ in range(3)]   # interleaved
    eager_s, compiled_s = np.median(times, axis=0)
    rng.bit_generator.state = state
    step = ag.compile(_train_step(model, opt))
    history = {"loss": []}
    model.train()
    for _ in range(epochs):
        total, seen = 0.0, 0
        for xb, yb in loader:
            total += step(xb, yb).item() * len(yb)
            seen += len(yb)
        history["loss"].append(total / seen)
        sched.step()
    print(f"ag.compile: {eager_s * 1e3:.2f} ms per eager step, {compiled_s * 1e3:.2f} ms "
          f"compiled: speed-up {eager_s / compiled_s:.2f}x")
    return history


def train_and_report(title: str, model: nn.Module, data, args) -> dict:
    """Adam with a cosine schedule and minibatches of 32 through nn.fit; prints and returns the
    test accuracy (shared with cnn_digits.py)."""
    X_train, X_test, y_train, y_test = data
    opt = nn.optim.Adam(model.parameters(), lr=3e-3)
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    start = time.perf_counter()
    loader = DataLoader(X_train, y_train, batch_size=32, shuffle=True, seed=args.seed)
    if getattr(args, "compile", False):
        history = fit_compiled(model, opt, sched, loader, args.epochs)
    else:
        history = nn.fit(model, F.cross_entropy, opt, loader, epochs=args.epochs,
                         val_data=[(X_test, y_test)], metrics=["accuracy"], scheduler=sched,
                         progress=not args.no_progress)
    seconds = time.perf_counter() - start
    test = evaluate(model, F.cross_entropy, [(X_test, y_test)], metrics=["accuracy"])
    print(f"{title}: {len(X_train)} training / {len(X_test)} test images, "
          f"{args.epochs} epochs in {seconds:.1f} s")
    print(f"train loss {history['loss'][-1]:.4f}, test loss {test['loss']:.4f}, "
          f"test accuracy {test['accuracy']:.2%}")
    return {"test_accuracy": test["accuracy"], "seconds": seconds, "history": history}


def main(argv=None) -> dict:
    args = parse_args(argv, epochs=40)
    data = load_digits(args.seed)
    ag.manual_seed(args.seed)
    return train_and_report("digits MLP 64-256-10", make_model(), data, args)


if __name__ == "__main__":
    main()
