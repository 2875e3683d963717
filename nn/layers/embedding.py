"""Embedding: a lookup table whose rows are trained; repeated indices accumulate gradients."""

from __future__ import annotations

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.ops.routing import inspected

from .. import init
from ..tensor_functions import as_indices
from ..module import Module, Parameter

__all__ = ["embedding", "Embedding"]


def _in_range(idx: np.ndarray, num: int, name: str) -> np.ndarray:
    if idx.size and (idx.min() < -num or idx.max() >= num):
        raise ValueError(f"{name}: index out of range for a table of {num} rows "
                         f"(indices of shape {idx.shape}, min {idx.min()}, max {idx.max()})")
    return idx


def _indices(name: str, indices, num: int) -> np.ndarray:
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise ValueError(f"{name}: indices must be integers, got dtype {idx.dtype} "
                         f"(shape {idx.shape})")
    # a recorded inspection: a compiled step's replay checks each call's indices too
    return as_indices(inspected(_in_range, idx, num, name))


def embedding(input, weight, padding_idx: int | None = None) -> Tensor:
    """weight[indices]: rows of the table, the padding row returned as stored (as PyTorch);
    d/dweight scatters (adds) the gradient into the rows used, except the padding row, which
    gets none"""
    num = np.shape(weight)[0]
    idx = _indices("embedding", input, num)
    out = weight[idx]
    if padding_idx is not None and isinstance(weight, Tensor) and weight.requires_grad:
        # The same values everywhere; only the non-padding positions carry a gradient.  The
        # mask is a tensor op and the where taken always (no branch on whether the padding row
        # occurs): a compiled step replays both on each call's indices.
        pad = ag.Tensor(idx) % num == padding_idx % num
        with ag.no_grad():
            frozen = weight[idx]
        out = ag.where(pad[..., None], frozen, out)
    return out


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, initialised N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, dtype=np.float32) -> None:
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None and not -self.num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx {padding_idx} out of range for "
                             f"{num_embeddings} rows")
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise ValueError("Embedding: max_norm, scale_grad_by_freq and sparse are not "
                             "supported")
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim),
                                             dtype=dtype))
            self.reset_parameters()
        else:
            values = _weight.data if isinstance(_weight, Tensor) else np.asarray(_weight)
            if values.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Embedding: _weight of shape {values.shape} does not match "
                                 f"({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(values, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0,
                        scale_grad_by_freq: bool = False, sparse: bool = False) -> "Embedding":
        """An Embedding holding a copy of ``embeddings`` (rows, dim), in its dtype; ``freeze``
        (default, as PyTorch) keeps it out of training (requires_grad=False)."""
        values = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if values.ndim != 2 or values.dtype.kind != "f":
            raise ValueError(f"Embedding.from_pretrained: embeddings must be a 2-D float array, "
                             f"got shape {values.shape} dtype {values.dtype}")
        return cls(values.shape[0], values.shape[1], padding_idx, max_norm, norm_type,
                   scale_grad_by_freq, sparse, _weight=values, _freeze=freeze,
                   dtype=values.dtype)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, indices) -> Tensor:
        return embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
