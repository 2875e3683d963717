"""Datasets and minibatches with PyTorch's names and defaults (importable from nn.data):
``Dataset``, ``TensorDataset``, ``Subset``, ``random_split``, ``default_collate`` and
``DataLoader(dataset, batch_size=1, shuffle=False, ..., drop_last=False, collate_fn=None,
generator=None, num_workers=0)``.

Any indexable object with a length is a dataset (a list of ``(x, y)`` tuples too).  Batches are
Tensors.  ``DataLoader(X, y, ...)`` is sugar for ``DataLoader(TensorDataset(X, y), ...)``; arrays
and TensorDatasets are batched by one fancy index per array instead of one call per sample.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator, Sequence

import numpy as np

import autograd as ag
from autograd import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "default_collate", "DataLoader"]


def _generator(generator, seed=None) -> np.random.Generator | None:
    """An np.random.Generator, an int seed or None (None: ag.manual_seed's default generator,
    looked up at each use)."""
    source = generator if generator is not None else seed
    if source is None or isinstance(source, np.random.Generator):
        return source
    return np.random.default_rng(source)


class Dataset:
    """Base class: subclasses give ``__getitem__(i)`` and ``__len__()``."""

    def __getitem__(self, index):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define __getitem__")

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} does not define __len__")


def _values(x) -> Any:
    return x if isinstance(x, Tensor) else np.asarray(x)


class TensorDataset(Dataset):
    """Samples are ``(a[i], b[i], ...)`` of arrays or Tensors with the same first size."""

    def __init__(self, *tensors) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one array or Tensor")
        self.tensors = tuple(_values(t) for t in tensors)
        sizes = [len(t) if np.ndim(t) else None for t in self.tensors]
        if None in sizes or len(set(sizes)) != 1:
            shapes = [tuple(np.shape(t)) for t in self.tensors]
            raise ValueError(f"TensorDataset: every array needs the same first (sample) size, "
                             f"got shapes {shapes}")

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0])


class Subset(Dataset):
    def __init__(self, dataset, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[self.indices[i]] for i in index]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths: Sequence[float], generator=None) -> list[Subset]:
    """Split into non-overlapping random Subsets of the given lengths (counts that sum to the
    dataset's length, or fractions that sum to 1: the remainder goes one each to the first
    parts, as PyTorch does)."""
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1 and not all(
            isinstance(x, (int, np.integer)) for x in lengths):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} must be non-negative counts summing "
                         f"to the dataset's length {n}, or fractions summing to 1")
    rng = _generator(generator) or ag.default_rng()
    order = rng.permutation(n).tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + int(length)]))
        start += int(length)
    return out


def _collate(samples: list, indices: list) -> Any:
    first = samples[0]
    if isinstance(first, (tuple, list)):
        width = len(first)
        for k, s in enumerate(samples):
            if not isinstance(s, (tuple, list)) or len(s) != width:
                raise TypeError(f"default_collate: sample {indices[k]} is {_kind(s)}, but sample "
                                f"{indices[0]} is a {type(first).__name__} of {width} fields")
        return type(first)(_collate([s[i] for s in samples], indices) for i in range(width)) \
            if isinstance(first, tuple) else [_collate([s[i] for s in samples], indices)
                                               for i in range(width)]
    if isinstance(first, dict):
        for k, s in enumerate(samples):
            if not isinstance(s, dict) or s.keys() != first.keys():
                raise TypeError(f"default_collate: sample {indices[k]} has keys "
                                f"{list(s) if isinstance(s, dict) else _kind(s)}, sample "
                                f"{indices[0]} has {list(first)}")
        return {key: _collate([s[key] for s in samples], indices) for key in first}
    if isinstance(first, str):
        return list(samples)
    for k, s in enumerate(samples):
        if isinstance(s, (tuple, list, dict, str)) or np.shape(s) != np.shape(first):
            raise ValueError(f"default_collate: sample {indices[k]} is {_kind(s)}, but sample "
                             f"{indices[0]} is {_kind(first)}: samples of a batch must have one "
                             f"shape (pad them, or pass collate_fn)")
    if any(isinstance(s, Tensor) for s in samples):
        return ag.stack([s if isinstance(s, Tensor) else Tensor(np.asarray(s)) for s in samples])
    arrays = [np.asarray(s) for s in samples]
    if any(a.dtype.kind not in "biuf" for a in arrays):
        bad = next(i for i, a in enumerate(arrays) if a.dtype.kind not in "biuf")
        raise TypeError(f"default_collate: sample {indices[bad]} is {_kind(samples[bad])}, "
                        f"not numeric")
    return Tensor(np.stack(arrays))


def _kind(s) -> str:
    if isinstance(s, (Tensor, np.ndarray)):
        return f"an array of shape {tuple(s.shape)}"
    if isinstance(s, (tuple, list)):
        return f"a {type(s).__name__} of {len(s)} fields"
    return f"a {type(s).__name__}" + (f" of shape {np.shape(s)}" if np.ndim(s) else "")


def default_collate(batch: list, indices: list | None = None) -> Any:
    """Stack a list of samples into Tensors, field by field (tuples, lists and dicts keep their
    structure; strings stay lists).  A ragged or mixed batch raises naming the sample index."""
    return _collate(list(batch), list(range(len(batch))) if indices is None else list(indices))


_ORDER = ("batch_size", "shuffle", "sampler", "batch_sampler", "num_workers", "collate_fn",
          "pin_memory", "drop_last")


def _is_data(x) -> bool:
    return isinstance(x, (np.ndarray, Tensor, list, tuple))


class DataLoader:
    """Batches of a dataset, as PyTorch's DataLoader with its defaults (batch_size=1, no
    shuffling).  Each pass covers every sample once; with ``shuffle`` each pass draws a fresh
    order from ``generator`` (an np.random.Generator or int seed; ``seed=`` is an alias), else
    from ``ag.default_rng()`` so ``ag.manual_seed`` makes it reproducible.  ``len()`` is the
    number of batches.  ``DataLoader(X, y, ...)``: sugar for ``TensorDataset(X, y)``.
    Worker processes are not supported (``num_workers`` must be 0)."""

    def __init__(self, dataset, *args, batch_size: int | None = None, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None,
                 generator=None, seed=None) -> None:
        arrays = []
        while args and _is_data(args[0]) and (_is_data(dataset) or arrays):
            arrays.append(args[0])
            args = args[1:]
        if len(args) > len(_ORDER):
            raise TypeError(f"DataLoader: too many positional arguments ({len(args)})")
        given = dict(batch_size=batch_size, shuffle=shuffle, sampler=sampler,
                     batch_sampler=batch_sampler, num_workers=num_workers, collate_fn=collate_fn,
                     pin_memory=pin_memory, drop_last=drop_last)
        for name, value in zip(_ORDER, args):
            given[name] = value
        if arrays or isinstance(dataset, (np.ndarray, Tensor)):
            if isinstance(dataset, Dataset):
                raise TypeError("DataLoader: give a dataset, or arrays X, y (not both)")
            self._single = not arrays
            dataset = TensorDataset(dataset, *arrays)
        else:
            self._single = False
        if given["num_workers"]:
            raise ValueError(f"DataLoader: num_workers={given['num_workers']} is not supported "
                             f"(graphgrad loads batches in the calling process); use 0")
        size = 1 if given["batch_size"] is None else given["batch_size"]
        if given["batch_sampler"] is None and (int(size) != size or size < 1):
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {size}")
        if given["sampler"] is not None and given["shuffle"]:
            raise ValueError("DataLoader: sampler and shuffle=True are mutually exclusive")
        self.dataset = dataset
        self.batch_size = int(size)
        self.shuffle = bool(given["shuffle"])
        self.sampler, self.batch_sampler = given["sampler"], given["batch_sampler"]
        self.collate_fn = given["collate_fn"]
        self.drop_last = bool(given["drop_last"])
        self.num_workers = 0
        self.generator = _generator(generator, seed)

    def _index_batches(self) -> Iterator[list]:
        if self.batch_sampler is not None:
            yield from (list(b) for b in self.batch_sampler)
            return
        n = len(self.dataset)
        if self.sampler is not None:
            order = list(self.sampler)
        elif self.shuffle:
            order = (self.generator or ag.default_rng()).permutation(n)
        else:
            order = np.arange(n)
        size = self.batch_size
        stop = len(order) // size * size if self.drop_last else len(order)
        for lo in range(0, stop, size):
            yield order[lo:lo + size]

    def __len__(self) -> int:
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator:
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn is None
        for idx in self._index_batches():
            if fast:                       # one fancy index per array, not a call per sample
                idx = np.asarray(idx, dtype=np.intp)
                fields = tuple(t[idx] if isinstance(t, Tensor) and t.requires_grad
                               else Tensor(t.data[idx] if isinstance(t, Tensor) else t[idx])
                               for t in self.dataset.tensors)
                yield fields[0] if self._single else fields
                continue
            idx = [int(i) for i in idx]
            samples = [self.dataset[i] for i in idx]
            yield (self.collate_fn(samples) if self.collate_fn is not None
                   else default_collate(samples, idx))
