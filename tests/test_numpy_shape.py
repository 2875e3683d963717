"""NumPy's shape, joining, sorting, selection and padding functions on Tensors: every argument
form gives NumPy's value (and a graph), every refused one a TypeError, every bad one NumPy's error;
np.pad in each mode against np.pad on ndarrays; ties in sort/partition; linspace's endpoint
gradients."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor

RNG = np.random.default_rng(0)
UNSTACK = getattr(np, "unstack", ag.unstack)     # np.unstack is NumPy >= 2.1
X = RNG.standard_normal((2, 3, 4))
M = RNG.standard_normal((3, 4))
V = RNG.standard_normal(5)


def pieces(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def assert_same(got, expected, name):
    """got (Tensors) has NumPy's values, dtypes and shapes, and is differentiable."""
    got, expected = pieces(got), pieces(expected)
    assert len(got) == len(expected), name
    for g, e in zip(got, expected):
        assert isinstance(g, Tensor), (name, type(g))
        e = np.asarray(e)
        assert g.shape == e.shape and g.dtype == e.dtype, (name, g.shape, e.shape, g.dtype)
        np.testing.assert_array_equal(g.data, e, err_msg=name)


# name, fn(np_array_or_tensor) -> result; applied to X, M, V (as ndarrays and as Tensors)
FORMS = [
    ("ravel", lambda a: np.ravel(a)), ("ravel F", lambda a: np.ravel(a, order="F")),
    ("ravel A", lambda a: np.ravel(a, "A")), ("ravel K", lambda a: np.ravel(a, "K")),
    ("method ravel F", lambda a: a.ravel("F")),
    ("reshape F", lambda a: np.reshape(a, (4, -1), order="F")),
    ("swapaxes", lambda a: np.swapaxes(a, 0, -1)),
    ("moveaxis int", lambda a: np.moveaxis(a, 0, -1)),
    ("moveaxis lists", lambda a: np.moveaxis(a, [0, -1], [-1, 0])),
    ("rollaxis", lambda a: np.rollaxis(a, -1)), ("rollaxis start", lambda a: np.rollaxis(a, 0, 2)),
    ("atleast_1d", lambda a: np.atleast_1d(a)), ("atleast_3d", lambda a: np.atleast_3d(a)),
    ("atleast_2d several", lambda a: np.atleast_2d(a, a[0])),
    ("broadcast_arrays", lambda a: np.broadcast_arrays(a, a[..., :1], 1.0)),
    ("repeat flat", lambda a: np.repeat(a, 2)), ("repeat axis", lambda a: np.repeat(a, 3, axis=-1)),
    ("repeat counts", lambda a: np.repeat(a, [2, 0, 1][:a.shape[0]], axis=0)),
    ("tile int", lambda a: np.tile(a, 2)), ("tile longer", lambda a: np.tile(a, (2, 1, 1, 2))),
    ("tile shorter", lambda a: np.tile(a, (2,))), ("tile zero", lambda a: np.tile(a, (0, 1))),
    ("append flat", lambda a: np.append(a, [1.0, 2.0])),
    ("append axis", lambda a: np.append(a, a, axis=0)),
    ("vstack", lambda a: np.vstack([a, a])), ("vstack tuple", lambda a: np.vstack((a, 2 * a))),
    ("vstack dtype", lambda a: np.vstack([a, a], dtype=np.float32)),
    ("hstack", lambda a: np.hstack([a, a])), ("dstack", lambda a: np.dstack([a, a])),
    ("column_stack", lambda a: np.column_stack([a, a])),
    ("unstack", lambda a: UNSTACK(a)), ("unstack axis", lambda a: UNSTACK(a, axis=-1)),
    ("roll flat", lambda a: np.roll(a, 3)), ("roll axis", lambda a: np.roll(a, -1, axis=0)),
    ("roll tuple", lambda a: np.roll(a, (1, 2), axis=(0, -1))),
    ("roll same axis twice", lambda a: np.roll(a, (1, 1), axis=(0, 0))),
    ("roll nothing", lambda a: np.roll(a, (), axis=())),
    ("flip", lambda a: np.flip(a)), ("flip axes", lambda a: np.flip(a, (0, -1))),
    ("flipud", lambda a: np.flipud(a)),
    ("rot90", lambda a: np.rot90(a[..., :3] if a.ndim > 1 else a[None])),
    ("rot90 k axes", lambda a: np.rot90(a[None] if a.ndim == 1 else a, -3, axes=(1, 0))),
    ("array_split", lambda a: np.array_split(a, 3)),
    ("array_split indices", lambda a: np.array_split(a, [1, -1, 10], axis=-1)),
    ("hsplit", lambda a: np.hsplit(a, [1])), ("split", lambda a: np.split(a, [1], axis=0)),
    ("sort", lambda a: np.sort(a)), ("sort None", lambda a: np.sort(a, axis=None)),
    ("sort stable", lambda a: np.sort(a, 0, stable=True)),
    ("sort kind", lambda a: np.sort(a, kind="mergesort")),
    ("partition", lambda a: np.partition(a, 1)),
    ("partition kths", lambda a: np.partition(a, [0, -1], axis=-1)),
    ("take flat", lambda a: np.take(a, [0, -1, 2])),
    ("take 2-d", lambda a: np.take(a, [[0], [1]], 0)),
    ("take scalar", lambda a: np.take(a, 1, axis=-1)),
    ("take wrap", lambda a: np.take(a, [7, -9], axis=-1, mode="wrap")),
    ("take clip", lambda a: np.take(a, [7, -9], axis=0, mode="clip")),
    ("take_along_axis", lambda a: np.take_along_axis(a, np.argsort(a, axis=-1), axis=-1)),
    ("take_along_axis default", lambda a: np.take_along_axis(a, np.argsort(a)[..., :1])),
    ("take_along_axis None", lambda a: np.take_along_axis(a, np.array([0, 2, 0]), axis=None)),
    ("tril", lambda a: np.tril(a)), ("triu k", lambda a: np.triu(a, -1)),
    ("tril k", lambda a: np.tril(a, 2)), ("diag", lambda a: np.diag(a if a.ndim < 3 else a[0], 1)),
    ("diag negative", lambda a: np.diag(a if a.ndim < 3 else a[0], -2)),
    ("select", lambda a: np.select([a > 0.5, a < -0.5], [a, 2 * a], default=-1.0)),
    ("select array default", lambda a: np.select([a > 0], [a], default=np.zeros(a.shape[-1:]))),
    ("where one argument", lambda a: np.where(a > 0)),
    ("einsum sublists", lambda a: np.einsum(a, [0, Ellipsis], [Ellipsis])),
    ("einsum sublists out", lambda a: np.einsum(a, [Ellipsis, 27], a, [Ellipsis, 27],
                                                 [Ellipsis, 27])),
    ("pad constant", lambda a: np.pad(a, 1, constant_values=(1, 2))),
    ("pad reflect odd", lambda a: np.pad(a, ((3, 1),) * a.ndim, "reflect", reflect_type="odd")),
    ("pad dict", lambda a: np.pad(a, {0: 2}, "wrap")),
]
FORMS_2D = [
    ("fliplr", lambda a: np.fliplr(a)), ("vsplit", lambda a: np.vsplit(a, [1])),
    ("diagonal", lambda a: np.diagonal(a)), ("diagonal offset", lambda a: np.diagonal(a, -1, 1, 0)),
    ("diagonal far", lambda a: np.diagonal(a, 9)),
]


CASES = [(name, fn, a) for name, fn in FORMS for a in (V, M, X)] + [
    (name, fn, a) for name, fn in FORMS_2D for a in (M, X)]


@pytest.mark.parametrize("name, fn, array", CASES,
                         ids=[f"{n}-{a.ndim}d" for n, _, a in CASES])
def test_argument_forms_give_numpys_values_and_gradients(name, fn, array):
    try:
        expected = fn(array)
    except (ValueError, IndexError, TypeError) as err:   # NumPy's AxisError is a ValueError
        with pytest.raises(next(c for c in (ValueError, IndexError, TypeError)
                                if isinstance(err, c))):
            fn(Tensor(array, requires_grad=True))
        return
    t = Tensor(array, requires_grad=True)
    got = fn(t)
    assert_same(got, expected, name)
    if name == "where one argument":
        assert not any(g.requires_grad for g in got)
        return
    total = sum((p * (i + 1.0)).sum() for i, p in enumerate(pieces(got)))
    total.backward()
    assert t.grad is not None and t.grad.shape == t.shape


def test_dsplit_and_column_stack_of_vectors():
    t = Tensor(X, requires_grad=True)
    assert_same(np.dsplit(t, 2), np.dsplit(X, 2), "dsplit")
    assert_same(np.dsplit(t, [1, 3]), np.dsplit(X, [1, 3]), "dsplit indices")
    assert_same(np.column_stack([Tensor(V), V, V[:, None]]), np.column_stack([V, V, V[:, None]]),
                "column_stack")
    assert_same(np.hstack([Tensor(1.0), 2.0]), np.hstack([1.0, 2.0]), "hstack of 0-d")


def test_ravel_keeps_memory_order_of_views():
    for view in (X.transpose(2, 0, 1), X[:, ::-1].transpose(1, 2, 0), M.T):
        t = Tensor._make(view, None)             # the data as it lies, without a copy
        assert_same(np.ravel(t, "K"), np.ravel(view, "K"), "ravel K")
        assert_same(np.ravel(t, "A"), np.ravel(view, "A"), "ravel A")


@pytest.mark.parametrize("call, error", [
    (lambda t: np.moveaxis(t, [0], [1, 2]), ValueError),
    (lambda t: np.moveaxis(t, [0, 0], [1, 2]), ValueError),
    (lambda t: np.swapaxes(t, 0, 3), ValueError),
    (lambda t: np.rollaxis(t, 0, 4), ValueError),
    (lambda t: np.flipud(t[0, 0, 0]), ValueError),
    (lambda t: np.fliplr(t[0, 0]), ValueError),
    (lambda t: np.rot90(t, axes=(0, 0)), ValueError),
    (lambda t: np.rot90(t, axes=(0, 1, 2)), ValueError),
    (lambda t: np.array_split(t, 0), ValueError),
    (lambda t: np.split(t, 3, axis=-1), ValueError),
    (lambda t: np.vsplit(t[0, 0], 1), ValueError),
    (lambda t: np.dsplit(t[0], 1), ValueError),
    (lambda t: np.repeat(t, [1, 2, 3], axis=0), ValueError),
    (lambda t: np.repeat(t, [[1, 2]], axis=0), ValueError),
    (lambda t: np.tile(t, -1), ValueError),
    (lambda t: np.vstack(t[0, 0, 0]), TypeError),
    (lambda t: np.vstack([]), ValueError),
    (lambda t: np.take(t, [99]), IndexError),
    (lambda t: np.take(t, [0], mode="nearest"), ValueError),
    (lambda t: np.take_along_axis(t, np.zeros((1, 1, 1)), 0), IndexError),
    (lambda t: np.take_along_axis(t, np.zeros((1, 1), int), 0), ValueError),
    (lambda t: np.select([], []), ValueError),
    (lambda t: np.select([X > 0], [t, t]), ValueError),
    (lambda t: np.select([t], [t]), TypeError),
    (lambda t: np.diag(t), ValueError),
    (lambda t: np.diagonal(t[0, 0]), ValueError),
    (lambda t: np.diagonal(t, 0, 1, 1), ValueError),
    (lambda t: np.pad(t, -1), ValueError),
    (lambda t: np.pad(t, 1.5), TypeError),
    (lambda t: np.pad(t, 1, "edge", constant_values=1), ValueError),
    (lambda t: np.pad(t, 1, "nearest"), ValueError),
    (lambda t: np.pad(t, 1, "maximum", stat_length=0), ValueError),
    (lambda t: np.linspace(t, 1.0, -1), ValueError),
    (lambda t: np.linspace(t, 1.0, 2.5), TypeError),
    (lambda t: np.einsum(t, [0, 52, 1]), ValueError),
])
def test_bad_arguments_raise_numpys_error(call, error):
    with pytest.raises(error):
        call(X)
    with pytest.raises(error):
        call(Tensor(X, requires_grad=True))


@pytest.mark.parametrize("call, words", [
    (lambda t: np.sort(t, order="f"), "order="),
    (lambda t: np.partition(t, 1, order="f"), "order="),
    (lambda t: np.take(t, [0], out=np.empty(1)), "out="),
    (lambda t: np.pad(t, 1, "empty"), "'empty'"),
    (lambda t: np.pad(t, 1, lambda *args: None), "callable"),
    (lambda t: np.pad(t, 1, fill=0), "fill"),
    (lambda t: np.vstack([t], axis=0), "axis"),
    (lambda t: np.tril(t, k=0, diagonal=1), "diagonal"),
])
def test_refused_forms_raise_type_error_naming_them(call, words):
    with pytest.raises(TypeError, match=words):
        call(Tensor(X, requires_grad=True))


# ---- np.pad -------------------------------------------------------------------------------------

PAD_MODES = [
    ("constant", {}), ("constant", {"constant_values": (1.5, -2)}),
    ("constant", {"constant_values": ((1, 2),)}), ("edge", {}), ("wrap", {}),
    ("linear_ramp", {}), ("linear_ramp", {"end_values": (5, -1)}),
    ("linear_ramp", {"end_values": ((5, -1),)}),
    ("maximum", {}), ("minimum", {"stat_length": 2}), ("mean", {"stat_length": (1, 3)}),
    ("median", {}), ("median", {"stat_length": 2}),
    ("reflect", {}), ("reflect", {"reflect_type": "odd"}),
    ("symmetric", {}), ("symmetric", {"reflect_type": "odd"}),
]


@pytest.mark.parametrize("mode, kw", PAD_MODES, ids=[f"{m}{kw}" for m, kw in PAD_MODES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pad_modes_match_numpy(mode, kw, dtype):
    for shape in [(1,), (2,), (3,), (4,), (2, 3), (1, 3), (3, 1, 2)]:
        x = RNG.standard_normal(shape).astype(dtype)
        # widths wider than the array make the reflections repeat (and the ramps long)
        for width in [0, 1, 3, 7, (2, 5), [(1, 0)] * len(shape), {0: 4}]:
            expected = np.pad(x, width, mode, **kw)
            got = np.pad(Tensor(x, requires_grad=True), width, mode, **kw)
            assert got.dtype == expected.dtype and got.requires_grad
            np.testing.assert_allclose(got.data, expected, rtol=2e-6 if dtype == np.float32
                                       else 1e-13, err_msg=f"{shape} {width}")
    xi = np.arange(6).reshape(2, 3)        # integers: NumPy's rounding of the statistics
    np.testing.assert_array_equal(np.pad(Tensor(xi), 2, mode, **kw).data,
                                  np.pad(xi, 2, mode, **kw))


@pytest.mark.parametrize("mode, kw", PAD_MODES, ids=[f"{m}{kw}" for m, kw in PAD_MODES])
def test_pad_gradients(mode, kw):
    x = Tensor(RNG.permutation(6).reshape(3, 2) / 3.0, requires_grad=True)   # no ties
    assert ag.gradcheck(lambda a: np.pad(a, ((4, 2), (1, 3)), mode, **kw), [x])


def test_pad_tensor_constant_and_end_values_get_gradients():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    v = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    out = np.pad(x, 1, constant_values=v)
    np.testing.assert_array_equal(out.data, np.pad(x.data, 1, constant_values=(3.0, 4.0)))
    out.sum().backward()
    # 'before' fills 3 + 3 entries (rows, then the columns of the grown array), 'after' 3 + 3
    np.testing.assert_array_equal(v.grad, [6.0, 6.0])
    np.testing.assert_array_equal(x.grad, np.ones((2, 2)))
    ramp = lambda a, e: np.pad(a, 2, "linear_ramp", end_values=e)   # noqa: E731
    np.testing.assert_allclose(ramp(x, v).data, ramp(x.data, (3.0, 4.0)))
    assert ag.gradcheck(ramp, [Tensor(RNG.standard_normal((2, 3)), requires_grad=True),
                               Tensor(np.array([[1.0, 2.0], [3.0, -1.0]]), requires_grad=True)])


# ---- ties in sort and partition -----------------------------------------------------------------

def test_sort_ties_share_the_gradient_evenly():
    x = Tensor(np.array([1.0, 3.0, 1.0, 2.0, 1.0]), requires_grad=True)
    upstream = np.array([1.0, 2.0, 6.0, 5.0, 7.0])
    for kind in (None, "stable", "heapsort"):
        x.grad = None
        out = np.sort(x, kind=kind)
        np.testing.assert_array_equal(out.data, [1, 1, 1, 2, 3])
        out.backward(upstream)
        # the three 1s get the mean of the gradients of the positions the 1s fill: (1+2+6)/3
        np.testing.assert_array_equal(x.grad, [3.0, 7.0, 3.0, 5.0, 3.0])


def test_partition_ties_share_the_gradient_and_rows_are_separate():
    x = Tensor(np.array([[2.0, 0.0, 2.0], [2.0, 2.0, 1.0]]), requires_grad=True)
    out = np.partition(x, 1, axis=1)
    np.testing.assert_array_equal(out.data, np.partition(x.data, 1, axis=1))
    g = np.array([[1.0, 2.0, 4.0], [8.0, 16.0, 32.0]])
    out.backward(g)
    # row 0: 0 is alone at position 0, the 2s share 2 + 4; row 1: 1 alone, the 2s share 16 + 32
    np.testing.assert_array_equal(x.grad, [[3.0, 1.0, 3.0], [24.0, 24.0, 8.0]])


def test_tied_sort_has_second_derivatives():
    x = Tensor(np.array([[1.0, 1.0, 0.5], [0.25, 2.0, 2.0]]), requires_grad=True)
    u = Tensor(RNG.standard_normal((2, 3)), requires_grad=True)
    (g,) = ag.grad(np.sort(x, axis=1), [x], grad_outputs=u, create_graph=True)
    w = RNG.standard_normal((2, 3))
    (gu,) = ag.grad((g * w).sum(), [u])
    # g is u unsorted, tied entries averaged (a linear map of u): u's sorted positions 1 and 2
    # are the tied 1s of row 0 (x's entries 0 and 1) and the tied 2s of row 1 (entries 1, 2)
    np.testing.assert_allclose(gu.data, [[w[0, 2]] + [(w[0, 0] + w[0, 1]) / 2] * 2,
                                         [w[1, 0]] + [(w[1, 1] + w[1, 2]) / 2] * 2])


def test_nan_is_tied_with_nothing():
    x = Tensor(np.array([np.nan, 1.0, np.nan]), requires_grad=True)
    np.sort(x).backward(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 1.0, 4.0])


# ---- linspace between Tensor endpoints ----------------------------------------------------------

@pytest.mark.parametrize("num, endpoint", [(5, True), (4, False), (1, True), (1, False), (0, True)])
def test_linspace_endpoint_gradients(num, endpoint):
    start = Tensor(np.array(0.5), requires_grad=True)
    stop = Tensor(np.array(2.0), requires_grad=True)
    y = np.linspace(start, stop, num, endpoint)
    np.testing.assert_array_equal(y.data, np.linspace(0.5, 2.0, num, endpoint))
    y.backward(np.ones(num))
    div = (num - 1) if endpoint else num
    i = np.arange(num)
    fraction = i / div if div > 0 else np.zeros(num)
    # sample i is start + i (stop - start) / div
    np.testing.assert_allclose(start.grad, np.sum(1 - fraction))
    np.testing.assert_allclose(stop.grad, np.sum(fraction))


def test_linspace_arguments():
    start = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    stop = Tensor(np.array(3.0), requires_grad=True)
    for kw in [{"axis": -1}, {"axis": 1, "endpoint": False}, {"dtype": np.float32}, {"num": 2}]:
        assert_same(np.linspace(start, stop, **{"num": 4, **kw}),
                    np.linspace(start.data, stop.data, **{"num": 4, **kw}), str(kw))
    samples, step = np.linspace(start, stop, 4, retstep=True)
    np.testing.assert_array_equal(step.data, np.linspace(start.data, 3.0, 4, retstep=True)[1])
    step.sum().backward()
    np.testing.assert_allclose(start.grad, [-1 / 3, -1 / 3])
    np.testing.assert_allclose(stop.grad, 2 / 3)
    assert np.isnan(np.linspace(start, stop, 1, retstep=True)[1])
    ints = np.linspace(start, stop, 4, dtype=int)          # NumPy rounds down: no gradient
    assert_same(ints, np.linspace(start.data, 3.0, 4, dtype=int), "int")
    assert not ints.requires_grad
    f32 = Tensor(np.float32([1.0, 2.0]), requires_grad=True)
    assert_same(np.linspace(f32, 3.3, 7), np.linspace(np.float32([1.0, 2.0]), 3.3, 7), "f32")
    assert ag.gradcheck(lambda a, b: np.linspace(a, b, 5, axis=-1),
                        [Tensor(RNG.standard_normal(3), requires_grad=True),
                         Tensor(RNG.standard_normal((2, 1)), requires_grad=True)])
