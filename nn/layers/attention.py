"""Attention: ``scaled_dot_product_attention`` and ``MultiheadAttention``, PyTorch's signatures,
parameter names and layout (``in_proj_weight`` (3E, E), ``in_proj_bias`` (3E,), ``out_proj``).

Built from graphgrad ops (batched matmul, softmax, where), so every order of derivative works.
softmax subtracts the row maximum, so logits of +-1e4 stay finite; a masked score is -inf and gets
weight exactly 0.  The causal mask is one ``np.tril`` of the (L, S) grid, no Python loop.

Mask conventions are PyTorch's, which differ between the two: for
``scaled_dot_product_attention`` a boolean ``attn_mask`` is True where attention is *allowed*;
for ``MultiheadAttention`` boolean ``attn_mask`` and ``key_padding_mask`` are True where it is
*not*.  Float masks are added to the scores in both.
"""

from __future__ import annotations

import math

import numpy as np

import autograd as ag
from autograd import Tensor

from .. import init
from ..module import Module, Parameter, as_input
from .dropout import dropout
from .linear import Linear, linear

__all__ = ["scaled_dot_product_attention", "MultiheadAttention", "causal_mask"]


def causal_mask(target: int, source: int) -> np.ndarray:
    """Boolean (target, source) grid, True where query i may see key j (j <= i)."""
    return np.tril(np.ones((target, source), dtype=bool))


def _swap_last(t: Tensor) -> Tensor:
    axes = list(range(t.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return t.transpose(*axes)


def _attend(q: Tensor, k: Tensor, v: Tensor, keep, bias, dropout_p: float, scale: float
            ) -> tuple[Tensor, Tensor]:
    """softmax(q k^T * scale + bias, masked to ``keep``) @ v, and the weights."""
    scores = (q @ _swap_last(k)) * scale
    if bias is not None:
        scores = scores + bias
    if keep is not None:
        scores = ag.where(keep, scores, -np.inf)
    weights = ag.softmax(scores, axis=-1)
    if dropout_p > 0:
        weights = dropout(weights, dropout_p, True)
    return weights @ v, weights


def _mask_parts(mask, allowed_when_true: bool, dtype) -> tuple[Tensor | None, Tensor | None]:
    """A mask as (keep, bias): a boolean mask gives ``keep``, a float mask an additive bias.
    Both are Tensors, and what is made of them (inverted, reshaped, combined) tensor ops and
    recorded inspections: a compiled step's replay recomputes them from each call's masks."""
    if mask is None:
        return None, None
    if not isinstance(mask, Tensor):
        mask = Tensor(np.asarray(mask))
    if mask.dtype == bool:
        return (mask if allowed_when_true else np.logical_not(mask)), None
    return None, (mask if mask.dtype == dtype else mask.astype(dtype))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None) -> Tensor:
    """softmax(Q K^T / sqrt(E) + mask) V for Q (..., L, E), K (..., S, E), V (..., S, Ev).
    ``attn_mask``: boolean (True = may attend) or float (added), broadcast to (..., L, S);
    ``is_causal``: query i attends to keys 0..i; ``dropout_p``: dropout on the weights."""
    q, k, v = (x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in (query, key, value))
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2 or q.shape[-1] != k.shape[-1] \
            or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"scaled_dot_product_attention: query {q.shape}, key {k.shape} and "
                         f"value {v.shape} must be (..., L, E), (..., S, E) and (..., S, Ev)")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal, not both")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1], got "
                         f"{dropout_p}")
    target, source = q.shape[-2], k.shape[-2]
    keep, bias = _mask_parts(attn_mask, True, q.dtype)
    if is_causal:
        keep = causal_mask(target, source)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    out, _ = _attend(q, k, v, keep, bias, dropout_p, scale)
    return out


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al.): project to ``num_heads`` query/key/value heads of
    size ``embed_dim // num_heads``, attend in each, concatenate, project with ``out_proj``.
    Inputs are (L, N, E), or (N, L, E) with ``batch_first``, or unbatched (L, E).  ``forward``
    returns ``(output, weights)``: weights (N, L, S) averaged over heads (per head with
    ``average_attn_weights=False``), or None when ``need_weights=False``."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, dtype=np.float32) -> None:
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim {embed_dim} must be divisible by "
                             f"num_heads {num_heads}")
        if add_bias_kv or add_zero_attn or kdim not in (None, embed_dim) \
                or vdim not in (None, embed_dim):
            raise ValueError("MultiheadAttention: add_bias_kv, add_zero_attn and kdim/vdim other "
                             "than embed_dim are not supported")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.dtype = np.dtype(dtype)
        self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype=dtype)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        init.xavier_uniform_(self.in_proj_weight)     # PyTorch's init; biases start at 0
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    def _heads(self, x: Tensor, n: int) -> Tensor:
        """(N, L, E) -> (N, H, L, D)"""
        return x.reshape(n, x.shape[1], self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _project(self, query: Tensor, key: Tensor, value: Tensor):
        w, b, e = self.in_proj_weight, self.in_proj_bias, self.embed_dim
        if query is key and key is value:            # self-attention: one matmul for all three
            qkv = linear(query, w, b)
            return qkv[..., :e], qkv[..., e:2 * e], qkv[..., 2 * e:]
        parts = [(w[i * e:(i + 1) * e], None if b is None else b[i * e:(i + 1) * e])
                 for i in range(3)]
        return tuple(linear(x, wi, bi) for x, (wi, bi) in zip((query, key, value), parts))

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True,
                attn_mask=None, average_attn_weights: bool = True, is_causal: bool = False):
        same = query is key and key is value
        query = as_input(query, self.dtype)
        key = query if same else as_input(key, self.dtype)
        value = query if same else as_input(value, self.dtype)
        name = f"MultiheadAttention({self.embed_dim}, {self.num_heads})"
        unbatched = query.ndim == 2
        if query.ndim not in (2, 3) or query.shape[-1] != self.embed_dim or key.ndim != \
                query.ndim or value.ndim != query.ndim or key.shape[:-1] != value.shape[:-1]:
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(f"{name}: expected query, key and value of shape {layout} or (L, E) "
                             f"with E = {self.embed_dim}, got {query.shape}, {key.shape}, "
                             f"{value.shape}")
        if unbatched:
            query, key, value = (ag.expand_dims(t, 0) for t in (query, key, value))
        elif not self.batch_first:
            query, key, value = (t.transpose(1, 0, 2) for t in (query, key, value))
        if same:
            key = value = query
        n, target, source = query.shape[0], query.shape[1], key.shape[1]
        q, k, v = self._project(query, key, value)
        q, k, v = self._heads(q, n), self._heads(k, n), self._heads(v, n)
        keep, bias = _mask_parts(attn_mask, False, q.dtype)
        if keep is not None and keep.ndim == 3:      # (N * H, L, S), PyTorch's per-head layout
            keep = keep.reshape(n, self.num_heads, target, source)
        if bias is not None and bias.ndim == 3:
            bias = bias.reshape(n, self.num_heads, target, source)
        if is_causal and attn_mask is None:
            keep = causal_mask(target, source)
        pad_keep, pad_bias = _mask_parts(key_padding_mask, False, q.dtype)
        if pad_keep is not None:                     # (N, S) -> (N, 1, 1, S)
            pad_keep = pad_keep.reshape(n, 1, 1, source)
            keep = pad_keep if keep is None else np.logical_and(keep, pad_keep)
        if pad_bias is not None:
            pad_bias = pad_bias.reshape(n, 1, 1, source)
            bias = pad_bias if bias is None else bias + pad_bias
        p = self.dropout if self.training else 0.0
        out, weights = _attend(q, k, v, keep, bias, p, 1.0 / math.sqrt(self.head_dim))
        out = out.transpose(0, 2, 1, 3).reshape(n, target, self.embed_dim)
        out = self.out_proj(out)
        if unbatched:
            out = out[0]
        elif not self.batch_first:
            out = out.transpose(1, 0, 2)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(axis=1)
        return out, (weights[0] if unbatched else weights)

    def extra_repr(self) -> str:
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"batch_first={self.batch_first}")
