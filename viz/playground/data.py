"""The Playground's data: the six built-in sets, the train/test split and uploaded CSV files.

Classification sets come from ``nn.data`` (labels 0/1 there, +-1 here, as the TensorFlow
Playground's); the two regression sets follow its dataset.ts.  Every point lies in about [-6, 6]^2.
"""

from __future__ import annotations

import math

import numpy as np

from nn.data import PLAYGROUND

from .settings import SettingsError

SAMPLES = {"classification": 500, "regression": 1200}   # as playground.tensorflow.org
MAX_BYTES, MAX_ROWS, MIN_ROWS = 1 << 20, 10_000, 4


def plane(n: int, noise: float, rng: np.random.Generator):
    """label = (x + y) / 10 read at a jittered position, in [-1.2, 1.2]."""
    x, y = rng.uniform(-6, 6, (2, n))
    jx, jy = rng.uniform(-6, 6, (2, n)) * noise
    return np.stack([x, y], 1), (x + jx + y + jy) / 10


GAUSSIANS = [(-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1)]


def multigaussian(n: int, noise: float, rng: np.random.Generator):
    """Six bumps of +-1 that fall linearly to 0 at distance 2 from their centres."""
    x, y = rng.uniform(-6, 6, (2, n))
    jx, jy = rng.uniform(-6, 6, (2, n)) * noise
    px, py = x + jx, y + jy
    label = np.zeros(n)
    for cx, cy, sign in GAUSSIANS:
        bump = sign * np.clip(1 - np.hypot(px - cx, py - cy) / 2, 0, 1)
        label = np.where(np.abs(bump) > np.abs(label), bump, label)
    return np.stack([x, y], 1), label


def generate(name: str, noise_percent: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(points (n, 2) float32, labels (n,) float32) of a built-in set, shuffled."""
    noise = noise_percent / 100
    if name in PLAYGROUND:
        X, y = PLAYGROUND[name](SAMPLES["classification"], noise=noise, seed=seed)
        return X.astype(np.float32), (2.0 * y - 1).astype(np.float32)
    rng = np.random.default_rng(seed)
    X, y = {"plane": plane, "multigaussian": multigaussian}[name](SAMPLES["regression"], noise, rng)
    return X.astype(np.float32), y.astype(np.float32)


def split(X: np.ndarray, y: np.ndarray, ratio_percent: int):
    """The first ratio % of the (already shuffled) points train, the rest test; at least one of
    each when there are two points or more."""
    n = len(X)
    k = min(max(int(round(n * ratio_percent / 100)), 1), n - 1)
    return X[:k], y[:k, None], X[k:], y[k:, None]


def extent(X: np.ndarray) -> float:
    """Half the side of the square the pictures show: 6 for the built-in sets, enough for
    uploaded points otherwise."""
    top = float(np.abs(X).max()) if len(X) else 6.0
    return 6.0 if top <= 6.0 else math.ceil(top * 1.05)


def parse_csv(raw: bytes, name: str = "upload") -> tuple[np.ndarray, np.ndarray, str]:
    """(points, labels, problem) from CSV ``x1,x2,label`` rows (an optional header line).

    Labels that are all -1/1 or all 0/1 make a classification set (0 becomes -1), any other finite
    numbers a regression set.  Raises SettingsError naming the line that is wrong.
    """
    if len(raw) > MAX_BYTES:
        raise SettingsError(f"{name}: the file has {len(raw):,} bytes; at most {MAX_BYTES:,} "
                            f"(1 MB) are accepted")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise SettingsError(f"{name}: not UTF-8 text (byte {err.start} cannot be "
                            f"decoded)") from None
    lines = [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1) if line.strip()]
    if lines and not _numeric(lines[0][1].split(",")[0]):
        lines = lines[1:]   # a header such as x1,x2,label
    if len(lines) > MAX_ROWS:
        raise SettingsError(f"{name}: {len(lines):,} rows; at most {MAX_ROWS:,} are accepted")
    if len(lines) < MIN_ROWS:
        raise SettingsError(f"{name}: {len(lines)} data rows; at least {MIN_ROWS} are needed "
                            f"(CSV rows x1,x2,label)")
    rows = np.empty((len(lines), 3), dtype=np.float64)
    for r, (number, line) in enumerate(lines):
        fields = line.split(",")
        if len(fields) != 3:
            raise SettingsError(f"{name}: line {number} has {len(fields)} fields; each row must be "
                                f"x1,x2,label")
        for c, field in enumerate(fields):
            if not _numeric(field):
                shown = field.strip()[:30]
                raise SettingsError(f"{name}: line {number}, column {c + 1}: {shown!r} is not a "
                                    f"finite number")
            rows[r, c] = float(field)
    X, labels = rows[:, :2], rows[:, 2]
    values = set(np.unique(labels).tolist())
    if values <= {-1.0, 1.0} or values <= {0.0, 1.0}:
        if len(values) < 2:
            raise SettingsError(f"{name}: every label is {values.pop():g}; classification needs "
                                f"both classes")
        problem, labels = "classification", np.where(labels > 0, 1.0, -1.0)
    else:
        problem = "regression"
    order = np.random.default_rng(0).permutation(len(X))   # files are often sorted by label
    return X[order].astype(np.float32), labels[order].astype(np.float32), problem


def _numeric(field: str) -> bool:
    try:
        return math.isfinite(float(field))
    except ValueError:
        return False
