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
from op_specs import SAME, OpSpec

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
    batch_a, batch_b = draw(agt.broadcastable_shapes(2, max_dims=2, max_side=3))
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
        2, max_dims=2, max_side=3).map(lambda s: (s[0] + (3,), s[1] + (3,))), reference=SAME),
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
]

ROWS: list[OpSpec] = PRODUCTS
