"""An MLP on scikit-learn's 8x8 handwritten digits (1,797 images, bundled with scikit-learn: no
download).  Needs the optional extra:  pip install -e ".[examples]"

    64 pixels, standardised -> Linear 256 -> ReLU -> Dropout 0.2 -> Linear 10 (logits)
    cross-entropy, Adam (lr 3e-3, cosine-annealed), minibatches of 32, nn.fit with a progress bar

Prints the test accuracy on a held-out quarter of the images (seeded split).

    python examples/digits.py [--epochs 40] [--seed 0] [--no-progress]
"""

from __future__ import annotations

import argparse
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
    return parser.parse_args(argv)


def train_and_report(title: str, model: nn.Module, data, args) -> dict:
    """Adam with a cosine schedule and minibatches of 32 through nn.fit; prints and returns the
    test accuracy (shared with cnn_digits.py)."""
    X_train, X_test, y_train, y_test = data
    opt = nn.optim.Adam(model.parameters(), lr=3e-3)
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    start = time.perf_counter()
    history = nn.fit(model, F.cross_entropy, opt,
                     DataLoader(X_train, y_train, batch_size=32, shuffle=True, seed=args.seed),
                     epochs=args.epochs, val_data=[(X_test, y_test)], metrics=["accuracy"],
                     scheduler=sched, progress=not args.no_progress)
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
