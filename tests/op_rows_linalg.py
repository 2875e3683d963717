"""Rows of the op table (tests/op_specs.py) for linear algebra: NumPy's products and np.linalg.

Each row's ``fn`` is NumPy's own spelling applied to Tensors (so it tests the routing and the op
together) and, on ndarrays, is its own reference.  Shapes are drawn to fit each function's
contraction rules; inputs of the solvers and decompositions are built inside ``fn`` from the
drawn array so that they are well conditioned (see linalg_inputs below) and the gradient checks
go through that construction.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import autograd.testing as agt
from op_specs import SAME, Domain, OpSpec

SIDE = st.integers(1, 3)


# ---- products -----------------------------------------------------------------------------------

@st.composite
def dot_shapes(draw):
    """np.dot's cases: 0-d times anything, 1-d . 1-d, n-d . 1-d and n-d . m-d (a's last axis
    against b's second-to-last)."""
    na, nb = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    a = tuple(draw(st.lists(SIDE, min_size=na, max_size=na)))
    b = list(draw(st.lists(SIDE, min_size=nb, max_size=nb)))
    if na and nb:
        b[-2 if nb > 1 else 0] = a[-1]
    return a, tuple(b)


@st.composite
def inner_shapes(draw):
    na, nb = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    a = tuple(draw(st.lists(SIDE, min_size=na, max_size=na)))
    b = list(draw(st.lists(SIDE, min_size=nb, max_size=nb)))
    if na and nb:
        b[-1] = a[-1]
    return a, tuple(b)


@st.composite
def vdot_shapes(draw):
    """Two shapes with the same number of entries (vdot flattens both)."""
    a = draw(agt.shapes(max_side=3))
    flat = (int(np.prod(a)),)
    return a, flat if flat[0] <= 4 and draw(st.booleans()) else a[::-1]


@st.composite
def tensordot_cases(draw):
    """axes as an int (a's last N against b's first N) or as a pair of axis lists."""
    a = tuple(draw(st.lists(SIDE, min_size=0, max_size=3)))
    if draw(st.booleans()):
        n = draw(st.integers(0, len(a)))
        rest = draw(st.lists(SIDE, min_size=0, max_size=3 - n))
        return (a, a[len(a) - n:] + tuple(rest)), {"axes": n}
    k = draw(st.integers(0, len(a)))
    axes_a = draw(st.permutations(range(len(a))))[:k]
    nb = draw(st.integers(k, 3))
    axes_b = draw(st.permutations(range(nb)))[:k]
    b = list(draw(st.lists(SIDE, min_size=nb, max_size=nb)))
    for i, j in zip(axes_a, axes_b):
        b[j] = a[i]
    negative = draw(st.booleans())
    axes = ([i - len(a) if negative else i for i in axes_a], list(axes_b))
    return (a, tuple(b)), {"axes": axes}


@st.composite
def cross_cases(draw):
    """3-vectors along axisa/axisb (batch axes broadcast), the result's vectors along axisc."""
    batch_a, batch_b = draw(agt.broadcastable_shapes(2, max_dims=1, max_side=3))
    out_ndim = max(len(batch_a), len(batch_b)) + 1
    axisa = draw(st.integers(-len(batch_a) - 1, len(batch_a)))
    axisb = draw(st.integers(-len(batch_b) - 1, len(batch_b)))
    axisc = draw(st.integers(-out_ndim, out_ndim - 1))

    def place(batch, ax):
        shape = list(batch)
        shape.insert(ax % (len(batch) + 1), 3)
        return tuple(shape)
    return (place(batch_a, axisa), place(batch_b, axisb)), \
        {"axisa": axisa, "axisb": axisb, "axisc": axisc}


@st.composite
def multi_dot_cases(draw):
    """3 or 4 matrices in a chain; the first may be a 1-d row, the last a 1-d column."""
    n = draw(st.integers(3, 4))
    dims = draw(st.lists(SIDE, min_size=n + 1, max_size=n + 1))
    shapes = [(dims[i], dims[i + 1]) for i in range(n)]
    if draw(st.booleans()):
        shapes[0] = (dims[1],)
    if draw(st.booleans()):
        shapes[-1] = (dims[n - 1],)
    return tuple(shapes), {}


def gufunc_shapes(signature):
    return agt.broadcastable_shapes(signature=signature, max_dims=1, max_side=3)


PRODUCTS = [
    OpSpec("dot", np.dot, 2, shapes=dot_shapes(), reference=SAME),
    OpSpec("vdot", np.vdot, 2, shapes=vdot_shapes(), reference=SAME),
    OpSpec("inner", np.inner, 2, shapes=inner_shapes(), reference=SAME),
    OpSpec("outer", np.outer, 2, shapes=st.tuples(agt.shapes(max_dims=2, max_side=3),
                                                  agt.shapes(max_dims=2, max_side=3)),
           reference=SAME),
    OpSpec("outer[linalg]", np.linalg.outer, 2, shapes=st.tuples(*[agt.shapes(
        min_dims=1, max_dims=1)] * 2), reference=SAME),
    OpSpec("tensordot", lambda a, b, axes: np.tensordot(a, b, axes), 2, cases=tensordot_cases(),
           reference=SAME),
    OpSpec("tensordot[linalg]", lambda a, b, axes: np.linalg.tensordot(a, b, axes=axes), 2,
           cases=tensordot_cases(), reference=SAME),
    OpSpec("kron", np.kron, 2, shapes=st.tuples(agt.shapes(max_dims=2, max_side=2),
                                                agt.shapes(max_dims=3, max_side=2)),
           reference=SAME),
    OpSpec("cross", lambda a, b, **axes: np.cross(a, b, **axes), 2, cases=cross_cases(),
           reference=SAME),
    OpSpec("cross[linalg]", np.linalg.cross, 2, shapes=agt.broadcastable_shapes(
        2, max_dims=1, max_side=3).map(lambda s: (s[0] + (3,), s[1] + (3,))), reference=SAME),
    OpSpec("matvec", np.matvec, 2, shapes=gufunc_shapes(np.matvec.signature), reference=SAME),
    OpSpec("vecmat", np.vecmat, 2, shapes=gufunc_shapes(np.vecmat.signature), reference=SAME),
    OpSpec("vecdot", np.vecdot, 2, shapes=agt.broadcastable_shapes(
        signature=np.vecdot.signature, max_dims=2, max_side=3), reference=SAME),
    OpSpec("vecdot[linalg axis]", lambda a, b: np.linalg.vecdot(a, b, axis=0), 2,
           shapes=agt.broadcastable_shapes(signature=np.vecdot.signature, max_dims=1,
                                           max_side=3).map(lambda s: (s[0][::-1], s[1][::-1])),
           reference=SAME),
    OpSpec("matmul[linalg]", np.linalg.matmul, 2, shapes=agt.broadcastable_shapes(
        signature=np.matmul.signature, max_dims=1), reference=SAME),
    OpSpec("multi_dot", lambda *xs: np.linalg.multi_dot(list(xs)), None, cases=multi_dot_cases(),
           reference=SAME),
    OpSpec("matrix_transpose", np.matrix_transpose, shapes=agt.shapes(min_dims=2).map(
        lambda s: (s,)), reference=SAME),
    OpSpec("matrix_transpose[linalg]", np.linalg.matrix_transpose, shapes=agt.shapes(
        min_dims=2).map(lambda s: (s,)), reference=SAME),
    # np.linalg's spellings of the trace and diagonal ops (their own rows are the reductions' and
    # the selection's): the last two axes, offsets on either side.
    OpSpec("trace[linalg]", lambda x, offset: np.linalg.trace(x, offset=offset),
           shapes=agt.shapes(min_dims=2).map(lambda s: (s,)),
           params=lambda s: st.fixed_dictionaries({"offset": st.integers(-1, 1)}), reference=SAME),
    OpSpec("diagonal[linalg]", lambda x, offset: np.linalg.diagonal(x, offset=offset),
           shapes=agt.shapes(min_dims=2).map(lambda s: (s,)),
           params=lambda s: st.fixed_dictionaries({"offset": st.integers(-1, 1)}), reference=SAME),
]


# ---- solvers and decompositions -----------------------------------------------------------------
#
# The drawn array x (entries in [-1, 1], sides <= 3) is turned into a well-conditioned input inside
# each row's fn, on Tensors and ndarrays alike, so the finite differences go through the same
# construction as the gradient:
# - dominant(x) = x + 5 I is strictly diagonally dominant (|x_ii + 5| >= 4 > 2 >= the rest of the
#   row): invertible, condition number below 7 (inv, solve, det, matrix_power);
# - spd(x) = x x^T + n I is symmetric positive definite, eigenvalues in [n, n + n^2] (cholesky);
# - separated(x) = x + x^T + diag(0, 20, 40): symmetric, eigenvalues within ||x + x^T|| <= 6 of
#   0, 20, 40, so at least 8 apart (eigh: the eigenvectors' gradient divides by the gaps);
# - spread(x) = x + diag(20, 40, 60) (rectangular): singular values within ||x|| <= 3 of 20, 40,
#   60 -- distinct, at least 14 apart and at least 17 (svd, qr, pinv, lstsq).
# Symmetric constructions also make the symmetric-gradient convention (PyTorch's) of cholesky and
# eigh agree with the finite differences.
#
# Eigenvectors, U and Vh, and Q and R are determined only up to signs (v -> -v, (u, v) -> (-u, -v),
# (Q, R) -> (Q D, D R)), and LAPACK may pick either sign on a nudged input, so finite differences
# of a factor itself are meaningless.  Their rows differentiate functions the signs cancel out of:
# V diag(c) V^T, U diag(c) Vh, U diag(c) U^T, Vh^T diag(c) Vh, Q diag(c) R, Q diag(c) Q^T,
# R^T diag(c) R, with fixed distinct weights c.

WELL = Domain(-1.0, 1.0)


def mT(x):
    return np.swapaxes(x, -1, -2)


def dominant(x):
    return x + 5.0 * np.eye(x.shape[-1], dtype=x.dtype)


def signed(x):
    """dominant(x) with its first column negated: the determinant is negative."""
    flip = np.ones(x.shape[-1], dtype=x.dtype)
    flip[0] = -1.0
    return dominant(x) * flip


def spd(x):
    return x @ mT(x) + x.shape[-1] * np.eye(x.shape[-1], dtype=x.dtype)


def separated(x):
    n = x.shape[-1]
    return x + mT(x) + np.diag(np.arange(n) * 20.0).astype(x.dtype)


def spread(x):
    m, n = x.shape[-2:]
    return x + np.eye(m, n, dtype=x.dtype) * (20.0 * np.arange(1, n + 1, dtype=x.dtype))


def weights(k, x):
    return np.array([1.0, -2.0, 3.0], dtype=x.dtype)[:k]


@st.composite
def square_shapes(draw, count=1):
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    n = draw(SIDE)
    return ((batch + (n, n)),) * count


@st.composite
def matrix_shapes(draw, tall=None):
    """(batch, m, n) with tall=True: m >= n, tall=False: m <= n, None: either."""
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    m, n = draw(SIDE), draw(SIDE)
    if tall is not None and (m >= n) != tall and m != n:
        m, n = n, m
    return (batch + (m, n),)


@st.composite
def solve_shapes(draw):
    """b of shape (n,) (a vector, NumPy 2's rule) or (..., n, k), batch axes broadcasting."""
    (a,) = draw(square_shapes())
    n = a[-1]
    if draw(st.booleans()):
        return a, (n,)
    batch = draw(st.sampled_from([(), a[:-2], (1,) * len(a[:-2])]))
    return a, batch + (n, draw(SIDE))


@st.composite
def lstsq_shapes(draw):
    m, n = draw(SIDE), draw(SIDE)
    return (m, n), (m,) if draw(st.booleans()) else (m, draw(SIDE))


def power_params(shapes):
    return st.fixed_dictionaries({"n": st.sampled_from([-2, -1, 0, 1, 2, 3])})


def slogdet_fn(x):
    sign, logabsdet = np.linalg.slogdet(signed(x))
    return sign * logabsdet


def lstsq_fn(a, b):
    x, residuals, rank, s = np.linalg.lstsq(spread(a), b)
    return np.concatenate([np.reshape(x, -1), residuals, s])


def eigh_fn(x, UPLO="L"):
    w, v = np.linalg.eigh(separated(x), UPLO=UPLO)
    return (v * weights(3, x)[:x.shape[-1]]) @ mT(v) + w[..., None, :]


def svd_fn(x, part="U S Vh", full_matrices=False):
    u, s, vh = np.linalg.svd(spread(x), full_matrices=full_matrices)
    c = weights(s.shape[-1], x)
    if part == "U":
        return (u * c) @ mT(u)
    if part == "Vh":
        return mT(vh) @ (vh * c[:, None])
    return (u * c) @ vh + s.sum(axis=-1)[..., None, None]


def qr_fn(x, part="QR", mode="reduced"):
    if mode == "r":
        q, r = None, np.linalg.qr(spread(x), mode="r")
    else:
        q, r = np.linalg.qr(spread(x), mode=mode)
    c = weights(r.shape[-2], x)
    if part == "Q":
        return (q * c) @ mT(q)
    if part == "R":
        return mT(r) @ (r * c[:, None])
    return (q * c) @ r


def linalg_row(name, fn, arity=1, **kw):
    return OpSpec(name, fn, arity, (WELL,), reference=SAME, **kw)


SOLVERS = [
    linalg_row("inv", lambda x: np.linalg.inv(dominant(x)), shapes=square_shapes()),
    linalg_row("solve", lambda a, b: np.linalg.solve(dominant(a), b), 2, shapes=solve_shapes()),
    linalg_row("det", lambda x: np.linalg.det(signed(x)), shapes=square_shapes()),
    linalg_row("slogdet", slogdet_fn, shapes=square_shapes()),
    linalg_row("matrix_power", lambda x, n: np.linalg.matrix_power(dominant(x) / 5.0, n),
               shapes=square_shapes(), params=power_params),
    linalg_row("pinv", lambda x: np.linalg.pinv(spread(x)), shapes=matrix_shapes()),
    linalg_row("pinv[hermitian]", lambda x: np.linalg.pinv(spd(x), hermitian=True),
               shapes=square_shapes()),
    linalg_row("lstsq", lstsq_fn, 2, shapes=lstsq_shapes()),
]

DECOMPOSITIONS = [
    linalg_row("cholesky", lambda x: np.linalg.cholesky(spd(x)), shapes=square_shapes()),
    linalg_row("cholesky[upper]", lambda x: np.linalg.cholesky(spd(x), upper=True),
               shapes=square_shapes()),
    linalg_row("eigh", eigh_fn, shapes=square_shapes()),
    linalg_row("eigh[UPLO=U]", lambda x: eigh_fn(x, "U"), shapes=square_shapes()),
    linalg_row("eigvalsh", lambda x: np.linalg.eigvalsh(separated(x)), shapes=square_shapes()),
    linalg_row("eigvalsh[UPLO=U]", lambda x: np.linalg.eigvalsh(separated(x), UPLO="U"),
               shapes=square_shapes()),
    linalg_row("svd", svd_fn, shapes=matrix_shapes()),
    linalg_row("svd[U]", lambda x: svd_fn(x, "U"), shapes=matrix_shapes(tall=True)),
    linalg_row("svd[Vh]", lambda x: svd_fn(x, "Vh"), shapes=matrix_shapes(tall=False)),
    linalg_row("svd[square, full_matrices]", lambda x: svd_fn(x, full_matrices=True),
               shapes=square_shapes()),
    linalg_row("svd[compute_uv=False]", lambda x: np.linalg.svd(spread(x), compute_uv=False),
               shapes=matrix_shapes()),
    linalg_row("svdvals", lambda x: np.linalg.svdvals(spread(x)), shapes=matrix_shapes()),
    linalg_row("qr", qr_fn, shapes=matrix_shapes()),
    linalg_row("qr[Q]", lambda x: qr_fn(x, "Q"), shapes=matrix_shapes()),
    linalg_row("qr[R]", lambda x: qr_fn(x, "R"), shapes=matrix_shapes()),
    linalg_row("qr[mode=r]", lambda x: qr_fn(x, "R", "r"), shapes=matrix_shapes()),
    linalg_row("qr[mode=complete]", lambda x: qr_fn(x, mode="complete"),
               shapes=matrix_shapes(tall=False)),
]

ROWS: list[OpSpec] = PRODUCTS + SOLVERS + DECOMPOSITIONS
