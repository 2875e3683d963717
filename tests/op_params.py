"""Hypothesis strategies for the op table's parameters (axes, shapes, indices, subscripts, ...)
and the small builders some rows call; tests/op_specs.py holds the table itself."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
import autograd.testing as agt

Shapes = tuple[tuple[int, ...], ...]


# ---- parameter strategies -----------------------------------------------------------------------

def one_shape(**kwargs) -> st.SearchStrategy:
    return agt.shapes(**kwargs).map(lambda s: (s,))


def reduction_params(shapes: Shapes, **extra) -> st.SearchStrategy:
    """axis (None, int, negative int, tuple), keepdims, and method vs function spelling."""
    return st.fixed_dictionaries({"axis": agt.axes(len(shapes[0])), "keepdims": st.booleans(),
                                  "method": st.booleans(), **extra})


def single_axis(shapes: Shapes, allow_none: bool = True) -> st.SearchStrategy:
    return agt.axes(len(shapes[0]), allow_tuple=False, allow_none=allow_none)


@st.composite
def var_params(draw, shapes: Shapes):
    params = draw(reduction_params(shapes))
    axes = range(len(shapes[0])) if params["axis"] is None else np.atleast_1d(params["axis"])
    count = math.prod(shapes[0][a] for a in axes)
    params["ddof"] = draw(st.sampled_from([0, 1] if count > 1 else [0]))
    return params


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def reshape_params(draw, shapes: Shapes):
    """A target shape with the same size: a random factorisation, maybe with one -1."""
    n = math.prod(shapes[0])
    ndim = draw(st.integers(0 if n == 1 else 1, 3))
    target, rest = [], n
    for _ in range(ndim - 1):
        d = draw(st.sampled_from(divisors(rest)))
        target.append(d)
        rest //= d
    if ndim:
        target.append(rest)
        target = draw(st.permutations(target))
        if draw(st.booleans()):
            target[draw(st.integers(0, ndim - 1))] = -1
    return {"shape": tuple(target), "spelling": draw(st.sampled_from(["tuple", "ints", "fn"]))}


def reshape_fn(x, shape, spelling):
    if spelling == "ints":
        return x.reshape(*shape)
    if spelling == "tuple":
        return x.reshape(shape)
    return ag.reshape(x, shape)


@st.composite
def transpose_params(draw, shapes: Shapes):
    ndim = len(shapes[0])
    form = draw(st.sampled_from(["T", "none", "tuple", "ints", "fn"]))
    perm = [int(a) - (ndim if draw(st.booleans()) else 0)
            for a in draw(st.permutations(range(ndim)))]
    return {"form": form, "axes": tuple(perm)}


def transpose_fn(x, form, axes):
    if form == "T":
        return x.T
    if form == "none":
        return x.transpose()
    if form == "tuple":
        return x.transpose(axes)
    if form == "ints":
        return x.transpose(*axes)
    return ag.transpose(x, axes)


@st.composite
def squeeze_params(draw, shapes: Shapes):
    ones = [i for i, n in enumerate(shapes[0]) if n == 1]
    ndim = len(shapes[0])
    choice = draw(st.sampled_from(["none", "int", "tuple"] if ones else ["none"]))
    if choice == "none":
        axis = None
    elif choice == "int":
        axis = draw(st.sampled_from(ones)) - (ndim if draw(st.booleans()) else 0)
    else:
        axis = tuple(draw(st.lists(st.sampled_from(ones), min_size=1, unique=True)))
    return {"axis": axis, "method": draw(st.booleans())}


@st.composite
def broadcast_to_params(draw, shapes: Shapes):
    other = draw(hnp.broadcastable_shapes(shapes[0], min_dims=0, max_dims=3, max_side=3))
    return {"shape": np.broadcast_shapes(shapes[0], other)}


@st.composite
def pad_params(draw, shapes: Shapes):
    ndim = len(shapes[0])
    width = st.integers(0, 2)
    # NumPy has no per-axis form for a 0-d array (its pad_width would be empty).
    form = draw(st.sampled_from(["int", "pair", "per-axis"] if ndim else ["int", "pair"]))
    if form == "int":
        pad_width = draw(width)
    elif form == "pair":
        pad_width = (draw(width), draw(width))
    else:
        pad_width = tuple((draw(width), draw(width)) for _ in range(ndim))
    return {"pad_width": pad_width, "constant_values": draw(st.sampled_from([0, 1.5, -2.0]))}


@st.composite
def concatenate_cases(draw):
    base = list(draw(agt.shapes(min_dims=1)))
    axis = draw(st.integers(-len(base), len(base) - 1))
    count = draw(st.integers(1, 3))
    shapes = []
    for _ in range(count):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        shapes.append(tuple(s))
    return tuple(shapes), {"axis": axis}


@st.composite
def stack_cases(draw):
    base = draw(agt.shapes(max_dims=2))
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(base) - 1, len(base)))
    return (base,) * count, {"axis": axis}


@st.composite
def split_params(draw, shapes: Shapes):
    ndim = len(shapes[0])
    axis = draw(st.integers(-ndim, ndim - 1))
    n = shapes[0][axis]
    if draw(st.booleans()):
        sections = draw(st.sampled_from(divisors(n)))
    else:
        sections = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    return {"indices_or_sections": sections, "axis": axis}


def split_fn(x, indices_or_sections, axis):
    # Each piece is weighted differently, so a gradient routed to the wrong piece is caught.
    pieces = ag.split(x, indices_or_sections, axis=axis)
    return ag.concatenate([p.reshape(-1) * (i + 1.0) for i, p in enumerate(pieces)])


@st.composite
def advanced_index(draw, shapes: Shapes):
    """A tuple of ints, slices and integer arrays (lists or ndarrays, repeats and negative
    entries included), with at least one array."""
    shape = shapes[0]
    length = draw(st.integers(1, 4))
    items = []
    for n in shape[:draw(st.integers(1, len(shape)))]:
        kind = draw(st.sampled_from(["array", "array", "slice", "int"]))
        if kind == "slice":
            items.append(draw(st.slices(n)))
        elif kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        else:
            values = draw(st.lists(st.integers(-n, n - 1), min_size=length, max_size=length))
            items.append(values if draw(st.booleans()) else np.array(values))
    if not any(isinstance(i, (list, np.ndarray)) for i in items):
        items[0] = [draw(st.integers(-shape[0], shape[0] - 1)) for _ in range(length)]
    return {"index": tuple(items) if len(items) > 1 or draw(st.booleans()) else items[0]}


@st.composite
def boolean_index(draw, shapes: Shapes):
    """A boolean mask over the leading axes, alone or followed by a slice or an int."""
    shape = shapes[0]
    k = draw(st.integers(1, len(shape)))
    mask = draw(hnp.arrays(np.bool_, shape[:k]))
    if k < len(shape) and draw(st.booleans()):
        n = shape[k]
        rest = draw(st.one_of(st.slices(n), st.integers(-n, n - 1)))
        return {"index": (mask, rest)}
    return {"index": mask}


def basic_index(shapes: Shapes) -> st.SearchStrategy:
    return st.fixed_dictionaries({"index": hnp.basic_indices(
        shapes[0], allow_newaxis=True, allow_ellipsis=True, max_dims=3)})


EINSUM_SUBSCRIPTS = [
    "ij,jk->ik", "ij->ji", "ii->i", "ii->", "ij->", "i,i->", "i,j->ij", "ij,j->i",
    "bij,bjk->bik", "ij,jk", "ba", "ij,ij->ij", "iij->ij", "ij,jk,kl->il", "i->i",
    "...ij,...jk->...ik", "i...->...", "...i,...i", "ij...,j->i...",
]


@st.composite
def einsum_cases(draw):
    subscripts = draw(st.sampled_from(EINSUM_SUBSCRIPTS))
    terms = subscripts.split("->")[0].split(",")
    letters = sorted(set(subscripts) - set(".,->"))
    size = dict(zip(letters, draw(st.lists(st.integers(1, 3), min_size=len(letters),
                                           max_size=len(letters)))))
    # '...' parts broadcast against each other, size-1 axes and missing axes included (one
    # axis at most, so no operand has more than 3).
    ellipses = draw(agt.broadcastable_shapes(len(terms), max_dims=1, max_side=3))
    shapes = []
    for term, ell in zip(terms, ellipses):
        core = [size[c] for c in term.replace("...", "")]
        if "..." in term:
            before = term.index("...")
            core = core[:before] + list(ell) + core[before:]
        shapes.append(tuple(core))
    return tuple(shapes), {"subscripts": subscripts}


@st.composite
def where_params(draw, shapes: Shapes):
    out = np.broadcast_shapes(*shapes)
    cond_shape = draw(hnp.broadcastable_shapes(out, max_dims=3, max_side=4))
    return {"cond": draw(hnp.arrays(np.bool_, cond_shape)),
            "as_tensor": draw(st.booleans())}


def where_fn(a, b, cond, as_tensor):
    return ag.where(ag.tensor(cond) if as_tensor else cond, a, b)


def clip_params(shapes: Shapes) -> st.SearchStrategy:
    bounds = st.sampled_from([(-0.5, 0.5), (None, 0.5), (-0.5, None), (0, 0.5)])
    return st.fixed_dictionaries({"bounds": bounds, "spelling": st.sampled_from(
        ["function", "method", "array bounds"])})


def clip_fn(x, bounds, spelling):
    lo, hi = bounds
    if spelling == "method":
        return x.clip(lo, hi)
    if spelling == "array bounds":   # of x's dtype, so float32 stays float32 (as in NumPy)
        lo, hi = (None if b is None else np.full(x.shape[-1:], b, dtype=x.dtype) for b in bounds)
    return ag.clip(x, lo, hi)
