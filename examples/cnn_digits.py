"""A small CNN on scikit-learn's 8x8 digits (bundled with scikit-learn: no download).
Needs the optional extra:  pip install -e ".[examples]"

    (N, 1, 8, 8) -> Conv2d 16 3x3 pad 1 -> ReLU -> MaxPool2d 2     -> (N, 16, 4, 4)
                 -> Conv2d 32 3x3 pad 1 -> ReLU -> MaxPool2d 2     -> (N, 32, 2, 2)
                 -> Flatten -> Dropout 0.25 -> Linear 64 -> ReLU -> Dropout 0.25 -> Linear 10
    cross-entropy, Adam (lr 3e-3, cosine-annealed), minibatches of 32, nn.fit with a progress bar

Prints the test accuracy on the same held-out quarter of the images as examples/digits.py.

    python examples/cnn_digits.py [--epochs 20] [--seed 0] [--no-progress] [--compile]

--compile trains with ag.compile and prints its speed-up over eager steps (as digits.py does).
"""

from __future__ import annotations

import os

# Small matrices: a multi-threaded BLAS spends more time waking threads than multiplying (and far
# more on a busy machine).  Set before NumPy loads; an explicit setting in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import autograd as ag  # noqa: E402
import nn  # noqa: E402

# the same seeded split, standardisation and training loop as the MLP
from digits import load_digits, parse_args, train_and_report  # noqa: E402


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Dropout(0.25),
        nn.Linear(64, 10))


def main(argv=None) -> dict:
    args = parse_args(argv, epochs=20)
    X_train, X_test, y_train, y_test = load_digits(args.seed)
    data = X_train.reshape(-1, 1, 8, 8), X_test.reshape(-1, 1, 8, 8), y_train, y_test   # NCHW
    ag.manual_seed(args.seed)
    return train_and_report("digits CNN", make_model(), data, args)


if __name__ == "__main__":
    main()
