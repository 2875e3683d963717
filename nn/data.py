"""Datasets and minibatches (PyTorch's Dataset, TensorDataset, random_split, DataLoader, from
nn/dataloader.py), the TensorFlow Playground datasets and an MNIST IDX loader.

Nothing here downloads anything: the Playground sets are generated, and ``load_idx`` /
``load_mnist`` read files the user already has.

    X, y = circle(500, noise=0.1, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    for xb, yb in DataLoader(X_train, y_train, batch_size=32, shuffle=True, seed=0): ...
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib

import numpy as np

import autograd as ag
from autograd import Tensor

from .dataloader import (Dataset, TensorDataset, Subset, random_split, default_collate,
                         DataLoader)

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "default_collate", "DataLoader",
           "train_test_split", "circle", "xor", "gaussians", "spiral", "PLAYGROUND",
           "load_idx", "load_mnist"]


def _rng(seed) -> np.random.Generator:
    """An explicit seed gives its own generator; otherwise the one ``ag.manual_seed`` seeds."""
    if seed is None:
        return ag.default_rng()
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _array(x, what: str) -> np.ndarray:
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if arr.ndim == 0:
        raise ValueError(f"{what}: expected an array with a first (sample) axis, got a scalar")
    return arr


def train_test_split(*arrays, test_size: float = 0.25, shuffle: bool = True, seed=None) -> list:
    """Split arrays (or Tensors) along their first axis into train and test parts, like
    scikit-learn: returns ``[a_train, a_test, b_train, b_test, ...]``.  ``test_size`` is a fraction
    in (0, 1) or a number of samples."""
    if not arrays:
        raise ValueError("train_test_split: give at least one array")
    data = [_array(a, "train_test_split") for a in arrays]
    n = len(data[0])
    if any(len(a) != n for a in data):
        raise ValueError(f"train_test_split: arrays have different lengths "
                         f"{[len(a) for a in data]}")
    if isinstance(test_size, float) and 0.0 < test_size < 1.0:
        n_test = math.ceil(test_size * n)
    elif isinstance(test_size, (int, np.integer)) and 0 < test_size < n:
        n_test = int(test_size)
    else:
        raise ValueError(f"train_test_split: test_size must be a fraction in (0, 1) or a count in "
                         f"(0, {n}), got {test_size!r}")
    order = _rng(seed).permutation(n) if shuffle else np.arange(n)
    test, train = order[:n_test], order[n_test:]
    out = []
    for original, a in zip(arrays, data):
        for part in (train, test):
            out.append(Tensor(a[part]) if isinstance(original, Tensor) else a[part])
    return out


# ---- the TensorFlow Playground's classification sets --------------------------------------------
# Generated as playground.tensorflow.org does (dataset.ts): points in about [-6, 6]^2, `noise` in
# [0, 0.5] as the Playground's 0-50% slider.  Labels are 0/1 (the Playground's -1/+1).

def _finish(xs, ys, labels, rng) -> tuple[np.ndarray, np.ndarray]:
    X = np.stack([xs, ys], axis=1).astype(np.float32)
    y = np.asarray(labels, dtype=np.int64)
    order = rng.permutation(len(y))      # the Playground shuffles before splitting, too
    return X[order], y[order]


def _check(name: str, n: int, noise: float) -> None:
    if int(n) != n or n < 2:
        raise ValueError(f"{name}: n must be an integer >= 2, got {n}")
    if not noise >= 0:
        raise ValueError(f"{name}: noise must be >= 0, got {noise}")


def circle(n: int = 500, noise: float = 0.0, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """A disc of class 1 (radius < 2.5) inside a ring of class 0 (radius 3.5 to 5).  Noise jitters
    the position the label is read from, so points near the boundary may carry the other label."""
    _check("circle", n, noise)
    rng, radius = _rng(seed), 5.0
    inner, outer = n // 2, n - n // 2
    r = np.concatenate([rng.uniform(0, radius * 0.5, inner),
                        rng.uniform(radius * 0.7, radius, outer)])
    angle = rng.uniform(0, 2 * math.pi, n)
    x, y = r * np.sin(angle), r * np.cos(angle)
    jx, jy = rng.uniform(-radius, radius, (2, n)) * noise
    labels = np.hypot(x + jx, y + jy) < radius * 0.5
    return _finish(x, y, labels, rng)


def xor(n: int = 500, noise: float = 0.0, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Four quadrants: class 1 where x*y >= 0 (read at a jittered position), class 0 elsewhere;
    points keep 0.3 away from the axes."""
    _check("xor", n, noise)
    rng, padding = _rng(seed), 0.3
    x, y = rng.uniform(-5, 5, (2, n))
    x += np.where(x > 0, padding, -padding)
    y += np.where(y > 0, padding, -padding)
    jx, jy = rng.uniform(-5, 5, (2, n)) * noise
    labels = (x + jx) * (y + jy) >= 0
    return _finish(x, y, labels, rng)


def gaussians(n: int = 500, noise: float = 0.0, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs, class 1 at (2, 2) and class 0 at (-2, -2); the variance grows from 0.5
    (noise 0) to 4 (noise 0.5)."""
    _check("gaussians", n, noise)
    rng = _rng(seed)
    std = math.sqrt(0.5 + 7.0 * noise)
    first, second = n // 2, n - n // 2
    centres = np.concatenate([np.full(first, 2.0), np.full(second, -2.0)])
    x = centres + rng.normal(0, std, n)
    y = centres + rng.normal(0, std, n)
    labels = np.arange(n) < first
    return _finish(x, y, labels, rng)


def spiral(n: int = 500, noise: float = 0.0, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of 1.75 turns out to radius 5: class 1, and class 0 rotated by pi."""
    _check("spiral", n, noise)
    rng = _rng(seed)
    xs, ys, labels = [], [], []
    for count, delta, label in ((n // 2, 0.0, 1), (n - n // 2, math.pi, 0)):
        i = np.arange(count) / count
        r = i * 5
        t = 1.75 * i * 2 * math.pi + delta
        xs.append(r * np.sin(t) + rng.uniform(-1, 1, count) * noise)
        ys.append(r * np.cos(t) + rng.uniform(-1, 1, count) * noise)
        labels.append(np.full(count, label))
    return _finish(np.concatenate(xs), np.concatenate(ys), np.concatenate(labels), rng)


PLAYGROUND = {"circle": circle, "xor": xor, "gaussians": gaussians, "spiral": spiral}


# ---- MNIST-format IDX files ---------------------------------------------------------------------
# Layout: two zero bytes, a type code, the number of dimensions, each dimension as a big-endian
# uint32, then the values big-endian in C order.  http://yann.lecun.com/exdb/mnist/

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32, 0x0D: np.float32,
              0x0E: np.float64}


def load_idx(path) -> np.ndarray:
    """Read an IDX file (gzip-compressed or not, recognised by content) into a native ndarray.
    A truncated, padded or non-IDX file raises ValueError saying what is wrong."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(f"load_idx: {path}: the gzip stream is truncated or corrupt "
                             f"({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise ValueError(f"load_idx: {path} is not an IDX file (its magic number is "
                         f"{raw[:4].hex() or 'missing'}; IDX starts with 0000 then a type code "
                         f"08/09/0b/0c/0d/0e and the number of dimensions)")
    dtype = np.dtype(_IDX_TYPES[raw[2]]).newbyteorder(">")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise ValueError(f"load_idx: {path}: truncated header ({len(raw)} bytes for {ndim} "
                         f"dimensions)")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    count = math.prod(shape)
    expected, found = count * dtype.itemsize, len(raw) - header
    if found != expected:
        what = "truncated" if found < expected else "has trailing bytes"
        raise ValueError(f"load_idx: {path} {what}: shape {shape} of {dtype.name} needs {expected} "
                         f"bytes of data, the file has {found}")
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))     # native byte order, writable copy


def _find(directory, stem: str) -> str:
    dotted = stem.replace("-idx", ".idx")    # some mirrors name them train-images.idx3-ubyte
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"load_mnist: no {stem}[.gz] in {directory} (nothing is downloaded; "
                            "put the MNIST files there first)")


def load_mnist(directory, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images (n, 28, 28) uint8 and labels (n,) from the standard MNIST (or Fashion-MNIST) file
    names in ``directory``; ``split`` is "train" or "test"."""
    prefix = {"train": "train", "test": "t10k"}.get(split)
    if prefix is None:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    images = load_idx(_find(directory, f"{prefix}-images-idx3-ubyte"))
    labels = load_idx(_find(directory, f"{prefix}-labels-idx1-ubyte"))
    if len(images) != len(labels):
        raise ValueError(f"load_mnist: {len(images)} images but {len(labels)} labels in "
                         f"{directory}")
    return images, labels
