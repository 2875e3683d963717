"""Embedding: a lookup table whose rows are trained; repeated indices accumulate gradients."""

from __future__ import annotations

import numpy as np

from autograd import Tensor

from .. import init
from ..module import Module, Parameter

__all__ = ["embedding", "Embedding"]


def _indices(name: str, indices, num: int) -> np.ndarray:
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"{name}: indices must be integers, got dtype {idx.dtype} "
                         f"(shape {idx.shape})")
    if idx.size and (idx.min() < -num or idx.max() >= num):
        raise ValueError(f"{name}: index out of range for a table of {num} rows "
                         f"(indices of shape {idx.shape}, min {idx.min()}, max {idx.max()})")
    return idx.astype(np.intp, copy=False)


def embedding(indices, weight, padding_idx: int | None = None) -> Tensor:
    """weight[indices]: rows of the table;  d/dweight scatters (adds) the gradient into the rows
    used, except the padding row, which gets none"""
    num = np.shape(weight)[0]
    idx = _indices("embedding", indices, num)
    out = weight[idx]
    if padding_idx is not None:
        keep = (idx != padding_idx % num)[..., None].astype(out.dtype)
        out = out * keep
    return out


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, initialised N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 dtype=np.float32) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None and not -self.num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx {padding_idx} out of range for "
                             f"{num_embeddings} rows")
        self.padding_idx = padding_idx
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices) -> Tensor:
        return embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
