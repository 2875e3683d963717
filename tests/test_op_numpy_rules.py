"""NumPy rules on Tensors: ufunc and function dispatch, indexing, matmul/einsum, joins, shape errors
and unusual but valid inputs."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


# ---- NumPy ufuncs and functions on Tensors ------------------------------------------------------

def test_numpy_ufuncs_dispatch_to_ops():
    t = Tensor([0.5, 1.0], requires_grad=True)
    y = np.exp(t)
    assert isinstance(y, Tensor) and y.requires_grad and not y.is_leaf
    np.sum(np.add(np.ones(2), y) * np.log(t)).backward()
    np.testing.assert_allclose(t.grad, np.exp([0.5, 1.0]) * np.log([0.5, 1.0])
                               + (1 + np.exp([0.5, 1.0])) / [0.5, 1.0])
    for f in (np.sin, np.cos, np.tanh, np.sqrt, np.abs, np.negative, np.arctan, np.expm1):
        assert isinstance(f(t), Tensor) and f(t).requires_grad


def test_ndarray_on_the_left_gives_a_tensor():
    t = Tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0])
    for out in (a * t, a + t, a - t, a / t, a ** t, np.float64(2.0) * t, a @ t):
        assert isinstance(out, Tensor) and out.requires_grad, out
    (a * t).sum().backward()
    np.testing.assert_array_equal(t.grad, a)


def test_unsupported_ufunc_raises_type_error():
    t = Tensor([0.5, 1.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.spacing: graphgrad has no differentiable op"):
        np.spacing(t)
    with pytest.raises(TypeError, match=r"np\.add\.reduce"):
        np.add.reduce(t)


def test_numpy_functions_dispatch_to_ops():
    t = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    outs = [np.sum(t, axis=0), np.mean(t), np.max(t, axis=1), np.reshape(t, (3, 2)),
            np.transpose(t), np.concatenate([t, t]), np.stack([t, t], axis=1),
            np.where(t.data > 2, t, 0.0), np.clip(t, 1, 4), np.einsum("ij->j", t),
            np.expand_dims(t, 0), np.squeeze(t[None]), np.broadcast_to(t, (2, 2, 3)),
            np.pad(t, 1), np.cumsum(t, axis=1), np.prod(t), np.var(t), np.std(t)]
    for out in outs:
        assert isinstance(out, Tensor) and out.requires_grad, out
    pieces = np.split(t, 3, axis=1)
    assert len(pieces) == 3 and all(isinstance(p, Tensor) and p.shape == (2, 1) for p in pieces)
    assert isinstance(np.argmax(t), Tensor) and not np.argmax(t).requires_grad


# ---- indexing -----------------------------------------------------------------------------------

def test_basic_indexing():
    x = np.arange(24.0).reshape(2, 3, 4)
    for index in [0, -1, (1, 2), slice(None, None, -1), (Ellipsis, 1), (None, 0, slice(1, 3)),
                  (slice(None), slice(0, 3, 2), -1), ()]:
        t = Tensor(x, requires_grad=True)
        out = t[index]
        np.testing.assert_array_equal(out.data, x[index])
        out.backward(np.ones(out.shape))
        expected = np.zeros_like(x)
        expected[index] = 1
        np.testing.assert_array_equal(t.grad, expected)


def test_advanced_indexing_accumulates_repeated_indices():
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = t[[0, 2, 0, 0, -1]]
    np.testing.assert_array_equal(out.data, [1.0, 3.0, 1.0, 1.0, 3.0])
    out.backward(np.array([1.0, 10.0, 100.0, 1000.0, 10000.0]))
    np.testing.assert_array_equal(t.grad, [1101.0, 0.0, 10010.0])
    m = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    rows, cols = np.array([0, 0, 1]), np.array([1, 1, 2])
    m[rows, cols].sum().backward()
    np.testing.assert_array_equal(m.grad, [[0, 2, 0], [0, 0, 1]])
    m.grad = None
    m[:, [2, 2]].sum().backward()                           # mixed slice and array
    np.testing.assert_array_equal(m.grad, [[0, 0, 2], [0, 0, 2]])
    m.grad = None
    m[Tensor(np.array([1, 1]))].sum().backward()            # an integer Tensor as the index
    np.testing.assert_array_equal(m.grad, [[0, 0, 0], [2, 2, 2]])


def test_boolean_indexing():
    x = np.arange(6.0).reshape(2, 3)
    mask = x % 2 == 0
    t = Tensor(x, requires_grad=True)
    out = t[mask]
    np.testing.assert_array_equal(out.data, [0.0, 2.0, 4.0])
    out.backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(t.grad, [[1, 0, 2], [0, 3, 0]])
    t.grad = None
    t[t > 2.5].sum().backward()                              # a boolean Tensor as the mask
    np.testing.assert_array_equal(t.grad, [[0, 0, 0], [1, 1, 1]])
    t.grad = None
    t[np.array([False, True]), 1:].sum().backward()
    np.testing.assert_array_equal(t.grad, [[0, 0, 0], [0, 1, 1]])


def test_indexing_has_second_derivatives():
    t = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = ag.grad((t[[0, 0, 2]] ** 3).sum(), [t], create_graph=True)
    np.testing.assert_array_equal(g.data, [6.0, 0.0, 27.0])
    (h,) = ag.grad(g.sum(), [t])
    np.testing.assert_array_equal(h.data, [12.0, 0.0, 18.0])


# ---- matmul and einsum rules --------------------------------------------------------------------

MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3,)), ((3,), (5, 3, 2)), ((5, 2, 3), (5, 3, 4)),
                 ((1, 2, 3), (5, 3, 4)), ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2))]


@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES)
def test_matmul_follows_numpy_1d_and_batched_rules(sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = ta @ tb
    np.testing.assert_allclose(out.data, a @ b)
    assert out.shape == np.matmul(a, b).shape
    ag.gradcheck(ag.matmul, [ta, tb])
    u = rng.standard_normal(out.shape)
    out.backward(u)
    assert ta.grad.shape == sa and tb.grad.shape == sb


def test_matmul_rejects_scalars():
    with pytest.raises(ValueError, match="matmul"):
        Tensor(2.0, requires_grad=True) @ Tensor([1.0, 2.0])


@pytest.mark.parametrize("subscripts, shapes", [
    ("ij,jk", [(2, 3), (3, 4)]),             # implicit: output 'ik'
    ("ba", [(2, 3)]),                        # implicit: alphabetical, a transpose
    ("ij,ij", [(2, 3), (2, 3)]),             # implicit: full contraction to a scalar
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),
    ("...i,...i", [(2, 1, 3), (4, 3)]),      # implicit with '...': broadcast axes first
    ("ii->i", [(3, 3)]),                     # diagonal
    ("ii", [(3, 3)]),                        # trace (implicit)
    ("iij->ji", [(2, 2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ("bij , bjk -> bik", [(2, 2, 3), (2, 3, 1)]),
])
def test_einsum_matches_numpy_and_gradcheck(subscripts, shapes):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in shapes]
    ts = [Tensor(a, requires_grad=True) for a in arrays]
    out = ag.einsum(subscripts, *ts)
    expected = np.einsum(subscripts, *arrays)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected)
    ag.gradcheck(lambda *xs: ag.einsum(subscripts, *xs), ts)


def test_einsum_diagonal_gradient():
    x = Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    ag.einsum("ii->i", x).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, np.diag([1.0, 2.0, 3.0]))


# ---- joins round-trip ---------------------------------------------------------------------------

@pytest.mark.parametrize("axis", [0, 1, -1])
def test_split_concatenate_round_trip(axis):
    x = np.arange(24.0).reshape(4, 6)
    t = Tensor(x, requires_grad=True)
    for sections in (2, [1, 3], [0, 2, 2]):
        pieces = ag.split(t, sections, axis=axis)
        assert len(pieces) == len(np.split(x, sections, axis=axis))
        for p, q in zip(pieces, np.split(x, sections, axis=axis)):
            np.testing.assert_array_equal(p.data, q)
        back = ag.concatenate(pieces, axis=axis)
        np.testing.assert_array_equal(back.data, x)
        t.grad = None
        back.backward(x + 1)
        np.testing.assert_array_equal(t.grad, x + 1)


def test_stack_round_trip_and_gradients():
    parts = [Tensor(np.full((2, 3), float(i)), requires_grad=True) for i in range(3)]
    for axis in (0, 1, 2, -1):
        out = ag.stack(parts, axis=axis)
        np.testing.assert_array_equal(out.data, np.stack([p.data for p in parts], axis=axis))
        back = [ag.squeeze(piece, axis) for piece in ag.split(out, 3, axis=axis)]
        for p, b in zip(parts, back):
            np.testing.assert_array_equal(p.data, b.data)
    out = ag.stack(parts, axis=1)
    out.backward(np.arange(18.0).reshape(out.shape))
    for i, p in enumerate(parts):
        np.testing.assert_array_equal(p.grad, np.arange(18.0).reshape(2, 3, 3)[:, i])


def test_concatenate_without_axis_flattens():
    a = Tensor(np.ones((2, 2)), requires_grad=True)
    b = Tensor(np.zeros(3), requires_grad=True)
    out = ag.concatenate([a, b], axis=None)
    np.testing.assert_array_equal(out.data, np.concatenate([a.data, b.data], axis=None))
    out.backward(np.arange(7.0))
    np.testing.assert_array_equal(a.grad, [[0, 1], [2, 3]])
    np.testing.assert_array_equal(b.grad, [4, 5, 6])


# ---- shape errors -------------------------------------------------------------------------------

MISMATCHED = [
    ("add", lambda a, b: a + b), ("add", ag.add),
    ("subtract", lambda a, b: a - b), ("subtract", ag.subtract),
    ("multiply", lambda a, b: a * b), ("multiply", ag.multiply),
    ("divide", lambda a, b: a / b), ("divide", ag.divide),
    ("power", lambda a, b: a ** b), ("power", ag.power),
    ("maximum", ag.maximum), ("minimum", ag.minimum),
    ("where", lambda a, b: ag.where(np.ones((2, 3), bool), a, b)),
    ("matmul", lambda a, b: a @ b), ("matmul", ag.matmul),
]


@pytest.mark.parametrize("name, fn", MISMATCHED, ids=[f"{n}-{i}" for i, (n, _) in
                                                      enumerate(MISMATCHED)])
@pytest.mark.parametrize("right_is_tensor", [True, False])
def test_mismatched_shapes_raise_value_error_naming_op_and_shapes(name, fn, right_is_tensor):
    a = Tensor(np.ones((2, 3)), requires_grad=True)
    b = np.ones((4, 5)) if name != "where" else np.ones((4, 3))
    b = Tensor(b) if right_is_tensor else b
    with pytest.raises(ValueError) as info:
        fn(a, b)
    message = str(info.value)
    assert name in message, message
    shape_b = (4, 5) if name != "where" else (4, 3)
    for shape in ((2, 3), shape_b):
        assert re.search(r"\(\s*%d,\s*%d\s*\)" % shape, message), (shape, message)


def test_join_errors_name_the_op_and_shapes():
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"stack.*\(2, 3\).*\(2, 4\)"):
        ag.stack([a, b])
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\).*\(2, 4\)"):
        ag.concatenate([a, b], axis=0)
    with pytest.raises(ValueError, match=r"einsum"):
        ag.einsum("ij,jk->ik", a, b)
    with pytest.raises(ValueError, match=r"split.*5"):
        ag.split(Tensor(np.ones(5)), 2)


# ---- unusual but valid inputs -------------------------------------------------------------------

NAN_SAFE = {
    "exp": ag.exp, "tanh": ag.tanh, "sigmoid": ag.sigmoid, "relu": ag.relu, "abs": ag.abs,
    "sign": ag.sign, "softmax": ag.softmax, "log_softmax": ag.log_softmax,
    "logsumexp": ag.logsumexp, "sum": ag.sum, "mean": ag.mean, "max": ag.max, "min": ag.min,
    "prod": ag.prod, "var": ag.var, "std": ag.std, "norm": ag.norm, "cumsum": ag.cumsum,
    "maximum": lambda t: ag.maximum(t, 0.5), "clip": lambda t: ag.clip(t, 0.0, 1.0),
    "matmul": lambda t: t @ np.ones(3), "getitem": lambda t: t[[0, 0, 2]],
    "power": lambda t: t ** 2, "divide": lambda t: 1.0 / (t + 3.0),
}


@pytest.mark.parametrize("name", sorted(NAN_SAFE))
def test_nan_propagates_without_errors(name):
    fn = NAN_SAFE[name]
    values = np.array([np.nan, 1.0, 2.0])
    x = Tensor(values, requires_grad=True)
    out = fn(x)           # warnings are errors in this suite: NaN must pass through quietly
    expected = fn(Tensor(values)).data
    np.testing.assert_array_equal(np.isnan(out.data), np.isnan(expected))
    assert np.isnan(out.data).any()
    out.backward(np.ones(out.shape))
    assert x.grad.shape == (3,)


def test_non_contiguous_and_read_only_inputs():
    base = np.arange(24.0).reshape(4, 6) / 10
    view = base[::2, ::-3]                  # strided, reversed: not contiguous
    assert not view.flags.c_contiguous
    frozen = np.array(base[1])
    frozen.flags.writeable = False
    for data in (view, frozen, base.T):
        x = Tensor(data, requires_grad=True)
        out = (ag.exp(x) * x).sum() + ag.softmax(x, axis=-1)[..., 0].sum() + x.T.sum()
        out.backward()
        expected = np.exp(data) * (1 + data) + 1
        s = np.exp(data - data.max(-1, keepdims=True))
        s = s / s.sum(-1, keepdims=True)
        first = np.zeros_like(data)
        first[..., 0] = 1
        expected = expected + s * (first - s[..., :1])
        np.testing.assert_allclose(x.grad, expected)
        assert x.grad.shape == data.shape
