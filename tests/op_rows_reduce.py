"""Rows of the op table (tests/op_specs.py) for reductions, statistics and norms.  Each row's ``fn``
is NumPy's own spelling applied to Tensors (so the row tests the routing and the op together) and,
with ``reference=SAME``, the same call on ndarrays is the value it must match.

NaN inputs are made inside ``fn`` (``np.where(mask, nan, x)``, every reduced slice keeping one
number); norms with kinks (max of column sums, singular values) add a constant offset that keeps
the kinks away (well separated sums and singular values, no entry near 0)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd.testing as agt
from op_params import one_shape, single_axis
from op_specs import NONZERO, SAME, Domain, OpSpec

ALL = "all"    # norm's axis=None


def joined(pieces):
    """One array of the pieces (Tensors or ndarrays), piece i weighted by i + 1."""
    return np.concatenate([np.ravel(p) * (i + 1.0) for i, p in enumerate(pieces)])


# ---- reductions with NumPy's keywords -----------------------------------------------------------

def axes_of(shapes):
    return agt.axes(len(shapes[0]))


def reduce_params(shapes, **extra):
    return st.fixed_dictionaries({"axis": axes_of(shapes), "keepdims": st.booleans(), **extra})


def _axes_tuple(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,)))


@st.composite
def masked_params(draw, shapes, nan=True, single=False, extra=None):
    """axis, keepdims and a NaN mask whose every reduced slice keeps its first entry."""
    shape = shapes[0]
    axis = draw(single_axis(shapes) if single else axes_of(shapes))
    mask = np.array(draw(hnp.arrays(np.bool_, shape)))
    if axis is None and single:
        mask.reshape(-1)[0] = False
    else:
        reduced = _axes_tuple(axis, len(shape))
        mask[tuple(0 if i in reduced else slice(None) for i in range(len(shape)))] = False
    params = {"axis": axis, "mask": mask}
    if not single:
        params["keepdims"] = draw(st.booleans())
    for key, strategy in (extra or {}).items():
        params[key] = draw(strategy)
    return params


def with_nan(x, mask):
    return np.where(mask, np.nan, x)


def nan_row(name, fn_name, **kw):
    f = getattr(np, fn_name)
    return OpSpec(name, lambda x, mask, **p: f(with_nan(x, mask), **p), reference=SAME, **kw)


@st.composite
def where_initial_params(draw, shapes):
    shape = shapes[0]
    return {"axis": draw(axes_of(shapes)), "keepdims": draw(st.booleans()),
            "where": np.array(draw(hnp.arrays(np.bool_, shape))),
            "initial": draw(st.sampled_from([-1.0, 0.5, 4.0]))}


@st.composite
def dtype_params(draw, shapes):
    return {"axis": draw(axes_of(shapes)), "dtype": draw(st.sampled_from([np.float64, None]))}


# ---- statistics strategies ----------------------------------------------------------------------

@st.composite
def trace_params(draw, shapes):
    ndim = len(shapes[0])
    a1, a2 = draw(st.permutations(range(ndim)))[:2]
    if draw(st.booleans()):
        a1 -= ndim
    return {"offset": draw(st.integers(-2, 2)), "axis1": a1, "axis2": a2}


@st.composite
def diff_params(draw, shapes):
    ndim = len(shapes[0])
    axis = draw(st.integers(-ndim, ndim - 1))
    extra = st.sampled_from([np._NoValue, 0.5, "array"])
    params = {"n": draw(st.integers(0, 2)), "axis": axis}
    for key in ("prepend", "append"):
        value = draw(extra)
        if isinstance(value, str):
            side = list(shapes[0])
            side[axis] = draw(st.integers(1, 2))
            value = np.linspace(-1.0, 1.0, math.prod(side)).reshape(side)
        params[key] = value
    return params


@st.composite
def gradient_cases(draw):
    shape = draw(agt.shapes(min_dims=1, max_dims=2, min_side=2))
    ndim = len(shape)
    edge_order = draw(st.sampled_from([1, 2] if min(shape) >= 3 else [1]))
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))
    axes = range(ndim) if axis is None else [axis % ndim]
    form = draw(st.sampled_from(["none", "scalar", "per-axis"]))
    if form == "none":
        spacing = ()
    elif form == "scalar":
        spacing = (draw(st.sampled_from([0.5, 2.0])),)
    else:
        spacing = tuple(np.cumsum(draw(hnp.arrays(np.float64, shape[a], elements=st.sampled_from(
            [0.5, 1.0, 1.5])))) if draw(st.booleans()) else 0.7 for a in axes)
    return (shape,), {"spacing": spacing, "axis": axis, "edge_order": edge_order}


def gradient_fn(x, spacing, axis, edge_order):
    result = np.gradient(x, *spacing, axis=axis, edge_order=edge_order)
    return joined(result if isinstance(result, tuple) else (result,))


def cumulative_params(shapes):
    ndim = len(shapes[0])
    axis = st.integers(-ndim, ndim - 1) if ndim > 1 else st.sampled_from([None, 0, -1])
    return st.fixed_dictionaries({"axis": axis, "include_initial": st.booleans()})


@st.composite
def quantile_params(draw, shapes, percent=False):
    scale = 100.0 if percent else 1.0
    q = draw(st.one_of(st.sampled_from([0.0, 0.3, 0.5, 1.0]),
                       st.lists(st.sampled_from([0.1, 0.25, 0.9]), min_size=1, max_size=3)))
    q = np.asarray(q) * scale if isinstance(q, list) else q * scale
    return {"q": q, "axis": draw(axes_of(shapes)), "keepdims": draw(st.booleans()),
            "method": draw(st.sampled_from(["linear", "lower", "higher", "midpoint", "nearest"]))}


@st.composite
def average_params(draw, shapes):
    shape = shapes[0]
    ndim = len(shape)
    form = draw(st.sampled_from(["none", "full", "along"] if ndim else ["none", "full"]))
    axis = draw(axes_of(shapes)) if form != "along" else draw(
        st.lists(st.integers(0, ndim - 1), min_size=1, unique=True).map(tuple))
    weights = None
    if form == "full":
        weights = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.5, 1.0, 2.0])))
    elif form == "along":
        weights = draw(hnp.arrays(np.float64, tuple(shape[a] for a in axis),
                                  elements=st.sampled_from([0.5, 1.0, 2.0])))
    return {"axis": axis, "weights": weights, "returned": draw(st.booleans()),
            "keepdims": draw(st.sampled_from([np._NoValue, True, False]))}


def average_fn(x, axis, weights, returned, keepdims):
    out = np.average(x, axis=axis, weights=weights, returned=returned, keepdims=keepdims)
    return joined(out) if returned else out


@st.composite
def cov_cases(draw):
    variables = draw(st.integers(1, 3))
    samples = draw(st.integers(3, 4))
    rowvar = draw(st.booleans())
    shape = (variables, samples) if rowvar else (samples, variables)
    if variables == 1 and draw(st.booleans()):
        shape = (samples,)
    # Lists: np.cov multiplies an fweights ndarray in place by aweights (the caller's array).
    weights = st.one_of(st.none(), st.lists(st.sampled_from([1.0, 2.0, 3.0]), min_size=samples,
                                            max_size=samples))
    return (shape,), {"rowvar": rowvar, "bias": draw(st.booleans()),
                      "ddof": draw(st.sampled_from([None, 0, 1])),
                      "fweights": draw(weights), "aweights": draw(weights)}


# ---- norms --------------------------------------------------------------------------------------

VECTOR_ORDS = [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1.5]


@st.composite
def vector_norm_params(draw, shapes, orders):
    """axis None (1-D only: a 2-D input would take matrix norms), an int or a 1-tuple."""
    ndim = len(shapes[0])
    axis = draw(st.one_of(st.just(ALL) if ndim == 1 else st.nothing(),
                          st.integers(-ndim, ndim - 1),
                          st.integers(-ndim, ndim - 1).map(lambda a: (a,))))
    return {"ord": draw(st.sampled_from(orders)), "axis": axis, "keepdims": draw(st.booleans())}


def norm_fn(x, ord, axis, keepdims):
    return np.linalg.norm(x, ord=ord, axis=None if axis == ALL else axis, keepdims=keepdims)


@st.composite
def matrix_cases(draw, orders):
    ndim = draw(st.integers(2, 3))
    shape = draw(agt.shapes(min_dims=ndim, max_dims=ndim, min_side=1, max_side=4))
    if ndim == 2 and draw(st.booleans()):
        axis = ALL
    else:
        row, col = draw(st.permutations(range(ndim)))[:2]
        axis = (row - ndim if draw(st.booleans()) else row, col)
    return (shape,), {"ord": draw(st.sampled_from(orders)), "axis": axis,
                      "keepdims": draw(st.booleans())}


SVD_ORDS = (2, -2, "nuc")


def separated(x, axis, ord):
    """x in [-0.5, 0.5] plus a constant on the (row, col) plane that keeps the norm's kinks away:
    for 2, -2 and 'nuc' a diagonal 10 k, ..., 20, 10 (singular values >= 6 apart, none near 0);
    else 1 + 4 i + 16 j (entries >= 0.5 from 0, row sums and column sums far apart)."""
    row, col = (0, 1) if axis == ALL else (a % x.ndim for a in axis)
    m, n = x.shape[row], x.shape[col]
    if ord in SVD_ORDS:
        k = min(m, n)
        plane = np.zeros((m, n))
        plane[np.arange(k), np.arange(k)] = 10.0 * np.arange(k, 0, -1)
    else:
        plane = 1.0 + 4.0 * np.arange(m)[:, None] + 16.0 * np.arange(n)[None, :]
    shape = [1] * x.ndim
    shape[row], shape[col] = m, n
    return x + (plane if row < col else plane.T).reshape(shape).astype(x.dtype)


def matrix_norm_fn(x, ord, axis, keepdims):
    return np.linalg.norm(separated(x, axis, ord), ord=ord,
                          axis=None if axis == ALL else axis, keepdims=keepdims)


SMALL = Domain(-0.5, 0.5)


@st.composite
def stacked_matrix_cases(draw):
    shape = draw(agt.shapes(min_dims=2, max_dims=3, min_side=1, max_side=4))
    return (shape,), {"ord": draw(st.sampled_from(["fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf])),
                      "keepdims": draw(st.booleans())}


def matrix_norm_api(x, ord, keepdims):
    return np.linalg.matrix_norm(separated(x, (-2, -1), ord), ord=ord, keepdims=keepdims)


@st.composite
def vector_norm_api_params(draw, shapes):
    return {"axis": draw(axes_of(shapes)), "keepdims": draw(st.booleans()),
            "ord": draw(st.sampled_from([2, 1, 3, np.inf, -np.inf, 0, 0.5]))}


# ---- the rows -----------------------------------------------------------------------------------

ROWS: list[OpSpec] = [
    # sum/mean/prod/max/min with where=, initial=, dtype= in NumPy's spelling
    OpSpec("sum[where initial]", lambda x, **p: np.sum(x, **p), params=where_initial_params,
           reference=SAME),
    OpSpec("prod[where initial]", lambda x, **p: np.prod(x, **p),
           domains=(Domain(-2.0, 2.0, avoid=(0.0,)),), params=where_initial_params,
           reference=SAME),
    OpSpec("max[where initial]", lambda x, **p: np.max(x, **p), params=where_initial_params,
           distinct=True, reference=SAME),
    OpSpec("min[where initial]", lambda x, **p: np.min(x, **p), params=where_initial_params,
           distinct=True, reference=SAME),
    OpSpec("mean[where]", lambda x, mask, **p: np.mean(x, where=~mask, **p),
           params=masked_params, reference=SAME),
    OpSpec("sum[dtype]", lambda x, **p: np.sum(x, **p), params=dtype_params, keeps_dtype=False,
           reference=SAME),
    # nan-aware reductions
    nan_row("nansum", "nansum", params=masked_params),
    nan_row("nanmean", "nanmean", params=masked_params),
    nan_row("nanmax", "nanmax", params=masked_params, distinct=True),
    nan_row("nanmin", "nanmin", params=masked_params, distinct=True),
    nan_row("nanprod", "nanprod", params=masked_params,
            domains=(Domain(-2.0, 2.0, avoid=(0.0,)),)),
    nan_row("nanvar", "nanvar", params=masked_params),
    nan_row("nanstd", "nanstd", params=masked_params, distinct=True),
    nan_row("nancumsum", "nancumsum", params=lambda s: masked_params(s, single=True)),
    nan_row("nancumprod", "nancumprod", params=lambda s: masked_params(s, single=True),
            domains=(Domain(-2.0, 2.0, avoid=(0.0,)),)),
    # running reductions and differences
    # Exact zeros are drawn often (the gradient has its own branch there), other entries too.
    OpSpec("cumprod", lambda x, axis: np.cumprod(x, axis),
           domains=(Domain(-2.0, 2.0, avoid=(0.0,)),), zeros=True,
           params=lambda s: st.fixed_dictionaries({"axis": single_axis(s)}), reference=SAME),
    OpSpec("cumulative_sum", lambda x, **p: np.cumulative_sum(x, **p),
           shapes=one_shape(min_dims=1), params=cumulative_params, reference=SAME),
    OpSpec("cumulative_prod", lambda x, **p: np.cumulative_prod(x, **p),
           shapes=one_shape(min_dims=1), domains=(Domain(-2.0, 2.0, avoid=(0.0,)),),
           params=cumulative_params, reference=SAME),
    # prepend=0.5 is a float64 array to NumPy: float32 inputs give float64 (as NumPy's).
    OpSpec("diff", lambda x, **p: np.diff(x, **p), shapes=one_shape(min_dims=1),
           params=diff_params, keeps_dtype=False, reference=SAME),
    OpSpec("gradient", gradient_fn, cases=gradient_cases(), reference=SAME),
    OpSpec("trace", lambda x, **p: np.trace(x, **p), shapes=one_shape(min_dims=2),
           params=trace_params, reference=SAME),
    # order statistics (no ties: the gradient has a kink where two entries swap places)
    OpSpec("median", lambda x, **p: np.median(x, **p), params=reduce_params, distinct=True,
           reference=SAME),
    nan_row("nanmedian", "nanmedian", params=masked_params, distinct=True),
    # An ndarray q (float64) makes NumPy's result float64, as a float64 weights array does.
    OpSpec("quantile", lambda x, **p: np.quantile(x, **p), params=quantile_params,
           distinct=True, keeps_dtype=False, reference=SAME),
    OpSpec("percentile", lambda x, **p: np.percentile(x, **p),
           params=lambda s: quantile_params(s, percent=True), distinct=True, keeps_dtype=False,
           reference=SAME),
    nan_row("nanquantile", "nanquantile", distinct=True, params=lambda s: masked_params(
        s, extra={"q": st.sampled_from([0.2, 0.5, 1.0])})),
    nan_row("nanpercentile", "nanpercentile", distinct=True, params=lambda s: masked_params(
        s, extra={"q": st.sampled_from([20.0, 75.0])})),
    OpSpec("ptp", lambda x, **p: np.ptp(x, **p), params=reduce_params, distinct=True,
           reference=SAME),
    OpSpec("average", average_fn, params=average_params, keeps_dtype=False, reference=SAME),
    OpSpec("cov", lambda x, **p: np.cov(x, **p), cases=cov_cases(), keeps_dtype=False,
           reference=SAME),
    # norms: np.linalg.norm's meaning (ag.norm is the same function)
    OpSpec("norm", lambda x, keepdims: np.linalg.norm(x, keepdims=keepdims), domains=(NONZERO,),
           params=lambda s: st.fixed_dictionaries({"keepdims": st.booleans()}), reference=SAME),
    OpSpec("norm[vector]", norm_fn, distinct=True, domains=(NONZERO,),
           shapes=one_shape(min_dims=1), params=lambda s: vector_norm_params(s, VECTOR_ORDS),
           reference=SAME),
    OpSpec("norm[matrix]", matrix_norm_fn, domains=(SMALL,),
           cases=matrix_cases([None, "fro", 1, -1, np.inf, -np.inf]), reference=SAME),
    OpSpec("norm[matrix svd]", matrix_norm_fn, domains=(SMALL,),
           cases=matrix_cases([2, -2, "nuc"]), reference=SAME),
    OpSpec("vector_norm", lambda x, **p: np.linalg.vector_norm(x, **p), domains=(NONZERO,),
           params=vector_norm_api_params, distinct=True, reference=SAME),
    OpSpec("matrix_norm", matrix_norm_api, domains=(SMALL,), cases=stacked_matrix_cases(),
           reference=SAME),
]
