"""Hypothesis strategies for testing code built on graphgrad: shapes, broadcastable shape tuples,
arrays and tensors with a given domain (bounded, away from kinks, optionally without ties).

    from hypothesis import given
    import autograd.testing as agt

    @given(agt.tensors(agt.shapes(), low=0.1, high=3.0))
    def test_log_grad(x): ...

Needs the ``hypothesis`` package (``pip install 'graphgrad[dev]'``).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        "autograd.testing needs the 'hypothesis' package, which is not installed; install it with "
        "pip install 'graphgrad[dev]' (or pip install hypothesis)") from err

from .tensor import Tensor

__all__ = ["shapes", "broadcastable_shapes", "elements", "arrays", "distinct_arrays", "tensors",
           "axes", "axis_and_keepdims"]

Shape = tuple[int, ...]
# Kinks are avoided by at least this much by default: far more than a finite-difference step.
DEFAULT_MARGIN = 1e-2
# A tie-free grid is offset so that no value is 0, no two values are opposite (|a| != |b|) and
# every value is away from the grid's ends.
_GRID_OFFSET = 0.3


def shapes(*, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Array shapes, from ``()`` up to ``max_dims`` axes of ``min_side..max_side`` entries."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, *, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 4,
                         signature: str | None = None) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (NumPy rules), including ``()``
    and size-1 axes.  With a gufunc ``signature`` (e.g. ``np.matmul.signature``) the core axes
    follow it and ``max_dims`` bounds the broadcast (loop) axes."""
    if signature is not None:
        strategy = hnp.mutually_broadcastable_shapes(
            signature=signature, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
            max_side=max_side)
    else:
        strategy = hnp.mutually_broadcastable_shapes(
            num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
            max_side=max_side)
    return strategy.map(lambda result: tuple(result.input_shapes))


def _far_from(avoid: Sequence[float], margin: float):
    return lambda v: all(abs(v - k) >= margin for k in avoid)


def elements(low: float = -3.0, high: float = 3.0, *, avoid: Sequence[float] = (),
             margin: float = DEFAULT_MARGIN, dtype=np.float64) -> st.SearchStrategy[float]:
    """Finite floats in ``[low, high]``, at least ``margin`` away from every point in ``avoid``
    (kinks such as 0 for abs, or where a finite difference would cross a branch)."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    strategy = st.floats(low, high, width=width)
    if avoid:
        strategy = strategy.filter(_far_from(avoid, margin))
    return strategy


def _grid(low: float, high: float, avoid: Sequence[float], margin: float, dtype):
    """Values ``low + (k + 0.3) * margin``: any two differ by >= margin, so (with ``unique``) no
    two entries tie, even after rounding to float32 and a finite-difference step."""
    count = int(math.floor((high - low) / margin - _GRID_OFFSET))
    if count < 1:
        raise ValueError(f"arrays: no room for distinct values in [{low}, {high}] "
                         f"with spacing {margin}")
    strategy = st.integers(0, count).map(lambda k: low + (k + _GRID_OFFSET) * margin)
    if avoid:
        strategy = strategy.filter(_far_from(avoid, margin))
    if np.dtype(dtype) == np.float32:
        strategy = strategy.map(lambda v: float(np.float32(v)))
    return strategy


def arrays(shape, dtype=np.float64, low: float = -3.0, high: float = 3.0, *,
           avoid: Sequence[float] = (), margin: float = DEFAULT_MARGIN,
           distinct: bool = False, zeros: bool = False) -> st.SearchStrategy[np.ndarray]:
    """Float arrays of ``shape`` (a tuple or a strategy of tuples) with entries in
    ``[low, high]``, at least ``margin`` from each point of ``avoid``.

    ``distinct=True``: no two entries within ``margin`` of each other and no two of the same
    absolute value (no ties for max/min, even of ``abs``).  ``zeros=True``: exact zeros are drawn
    often (for ops whose gradient is special there, like ``prod``)."""
    if distinct:
        values = _grid(low, high, avoid, margin, dtype)
    else:
        values = elements(low, high, avoid=avoid, margin=margin, dtype=dtype)
    if zeros:
        values = st.one_of(st.just(0.0), values)
    return hnp.arrays(np.dtype(dtype), shape, elements=values, unique=distinct and not zeros)


@st.composite
def distinct_arrays(draw, shape_tuple: Sequence[Shape], dtype=np.float64, low: float = -3.0,
                    high: float = 3.0, *, avoid: Sequence[float] = (),
                    margin: float = DEFAULT_MARGIN) -> tuple[np.ndarray, ...]:
    """One array per shape, with no tie *across* all of them (for ``maximum(a, b)`` and joins)."""
    sizes = [math.prod(s) for s in shape_tuple]
    pool = draw(arrays((sum(sizes),), dtype, low, high, avoid=avoid, margin=margin,
                       distinct=True))
    pieces, start = [], 0
    for s, n in zip(shape_tuple, sizes):
        pieces.append(pool[start:start + n].reshape(s).copy())
        start += n
    return tuple(pieces)


def tensors(shape, dtype=np.float64, low: float = -3.0, high: float = 3.0, *,
            avoid: Sequence[float] = (), margin: float = DEFAULT_MARGIN, distinct: bool = False,
            zeros: bool = False, requires_grad: bool = True) -> st.SearchStrategy[Tensor]:
    """Tensors whose data comes from :func:`arrays` (same arguments), requiring grad by default."""
    return arrays(shape, dtype, low, high, avoid=avoid, margin=margin, distinct=distinct,
                  zeros=zeros).map(lambda a: Tensor(a, requires_grad=requires_grad))


def axes(ndim: int, *, allow_none: bool = True, allow_tuple: bool = True,
         allow_negative: bool = True) -> st.SearchStrategy:
    """An ``axis`` argument for an array of ``ndim`` axes: None, an int or a tuple of distinct
    ints (negative ones too, as NumPy accepts)."""
    options = []
    if allow_none:
        options.append(st.none())
    if ndim > 0:
        low = -ndim if allow_negative else 0
        options.append(st.integers(low, ndim - 1))
        if allow_tuple:
            options.append(st.lists(st.integers(0, ndim - 1), max_size=ndim, unique=True).flatmap(
                lambda picked: st.tuples(*[
                    st.sampled_from([a, a - ndim]) if allow_negative else st.just(a)
                    for a in picked])))
    if not options:
        raise ValueError("axes: a 0-d array only has axis=None")
    return st.one_of(options)


def axis_and_keepdims(ndim: int, **kwargs) -> st.SearchStrategy[dict]:
    """``{"axis": ..., "keepdims": ...}`` keyword arguments for a reduction."""
    return st.fixed_dictionaries({"axis": axes(ndim, **kwargs), "keepdims": st.booleans()})
