"""Keywords NumPy takes: each is honoured with NumPy's value (and the right gradient), or refused
with a TypeError naming it -- never accepted and ignored."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag


def leaf(a):
    return ag.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


X = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -2.5]])
MASK = np.array([[True, False, True], [False, True, True]])


def grad_of(fn, x):
    (g,) = ag.grad(fn(x).sum(), x)
    return g.data


@pytest.mark.parametrize("name", ["sum", "prod", "mean"])
def test_where_masks_reductions(name):
    x = leaf(X)
    f = getattr(np, name)
    out = f(x, axis=1, where=MASK)
    np.testing.assert_allclose(out.data, f(X, axis=1, where=MASK))
    g = grad_of(lambda t: f(t, axis=1, where=MASK), x)
    assert np.all(g[~MASK] == 0) and np.all(g[MASK] != 0)


@pytest.mark.parametrize("name, initial", [("max", 10.0), ("min", -10.0), ("sum", 4.0),
                                           ("prod", 2.0)])
def test_initial_is_honoured(name, initial):
    x = leaf(X)
    f = getattr(np, name)
    np.testing.assert_allclose(f(x, initial=initial).data, f(X, initial=initial))
    np.testing.assert_allclose(f(x, axis=0, initial=initial).data, f(X, axis=0, initial=initial))
    if name in ("max", "min"):   # the initial value wins everywhere: no gradient reaches x
        assert not np.any(grad_of(lambda t: f(t, initial=initial), x))


def test_max_with_where_and_initial():
    x = leaf(X)
    out = np.max(x, axis=1, where=MASK, initial=-5.0)
    np.testing.assert_allclose(out.data, np.max(X, axis=1, where=MASK, initial=-5.0))
    g = grad_of(lambda t: np.max(t, axis=1, where=MASK, initial=-5.0), x)
    np.testing.assert_array_equal(g, [[0, 0, 1], [0, 0, 0]] + np.array([[0, 0, 0], [0, 1, 0]]))
    with pytest.raises(ValueError, match="initial"):
        np.max(x, where=MASK)


def test_reshape_in_fortran_order():
    x = leaf(X)
    for order in ("F", "A", "C"):
        np.testing.assert_array_equal(np.reshape(x, (3, 2), order=order).data,
                                      np.reshape(X, (3, 2), order=order))
    weights = np.arange(6.0).reshape(3, 2)
    (g,) = ag.grad((np.reshape(x, (3, 2), order="F") * weights).sum(), x)
    np.testing.assert_array_equal(g.data, np.reshape(weights, (2, 3), order="F"))


def test_argmax_keepdims_keeps_the_axis():
    x = leaf(X)
    out = np.argmax(x, axis=1, keepdims=True)
    assert out.shape == (2, 1) and not out.requires_grad
    np.testing.assert_array_equal(out.data, np.argmax(X, axis=1, keepdims=True))


@pytest.mark.parametrize("call", [
    lambda t: np.sum(t, dtype=np.float32), lambda t: np.cumsum(t, axis=1, dtype=np.float32),
    lambda t: np.concatenate([t, t], dtype=np.float32), lambda t: np.mean(t, dtype=np.float32),
    lambda t: np.prod(t, dtype=np.float32), lambda t: np.exp(t, dtype=np.float32),
])
def test_dtype_keyword_computes_in_that_dtype(call):
    x = leaf(X)
    out = call(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, call(X), rtol=1e-6)
    (g,) = ag.grad(out.sum(), x)
    assert g.dtype == np.float64    # the gradient has its input's dtype


def test_concatenate_dtype_respects_casting():
    with pytest.raises(TypeError, match="casting"):
        np.concatenate([leaf(X), leaf(X)], dtype=np.int64)


def test_clip_bounds_that_are_tensors_get_their_gradient():
    x, lo = leaf([-1.0, 0.5, 2.0]), leaf(0.0)
    out = np.clip(x, lo, 1.0)
    np.testing.assert_array_equal(out.data, [0.0, 0.5, 1.0])
    gx, glo = ag.grad(out.sum(), [x, lo])
    np.testing.assert_array_equal(gx.data, [0.0, 1.0, 0.0])
    assert glo.item() == 1.0
    np.testing.assert_array_equal(np.clip(x, min=0.0, max=1.0).data, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("call, keyword", [
    (lambda t: np.sum(t, out=np.empty(())), "out"),
    (lambda t: np.exp(t, out=np.empty((2, 3))), "out"),
    (lambda t: np.exp(t, where=MASK), "where"),
    (lambda t: np.exp(t, casting="unsafe"), "casting"),
    (lambda t: np.var(t, mean=np.zeros((2, 1)), axis=1, keepdims=True), "mean"),
    (lambda t: np.std(t, where=MASK), "where"),
    (lambda t: np.add.reduce(t), "reduce"),
    (lambda t: np.multiply.outer(t, t), "outer"),
    (lambda t: np.matmul(t, t.T, axes=[(0, 1), (0, 1), (0, 1)]), "axes"),
    (lambda t: np.reshape(t, (3, 2), copy=False), "copy"),
])
def test_unimplemented_keywords_raise_naming_them(call, keyword):
    with pytest.raises((TypeError, ValueError), match=keyword):
        call(leaf(X))


def test_a_keyword_a_handler_does_not_know_names_the_function():
    # np.pad's own signature takes **kwargs, so NumPy passes anything on: the handler refuses.
    with pytest.raises(TypeError, match=r"np\.pad.*banana"):
        np.pad(leaf(X), 1, banana=True)


@pytest.mark.parametrize("call", [
    lambda t: np.add(t, 1, dtype=np.int64), lambda t: np.floor(t, dtype=np.int64),
    lambda t: np.sign(t, dtype=np.int64), lambda t: np.maximum(t, 0, dtype=bool),
    lambda t: np.divide(ag.Tensor(np.array([3, 7])), 2, dtype=np.int64),
])
def test_ufunc_dtype_follows_numpys_casting_or_raises_as_numpy_does(call):
    with pytest.raises(TypeError):
        call(X)                      # NumPy itself refuses these
    with pytest.raises(TypeError):
        call(leaf(X))


def test_ufunc_dtype_casts_numpy_scalars_and_lists_too():
    f32 = ag.Tensor(np.float32([1.5, 2.5]))
    assert np.add(f32, np.float64(1.0), dtype=np.float32).dtype == np.float32
    assert np.add(f32, [1.0, 2.0], dtype=np.float32).dtype == np.float32
    assert np.multiply([0.1, 0.2], ag.Tensor(np.array([1, 2])), dtype=np.float32).dtype == np.float32


def test_full_like_of_a_fill_value_that_requires_grad_raises():
    fill = ag.Tensor(np.array(2.0), requires_grad=True)
    with pytest.raises(TypeError, match="full_like.*broadcast_to"):
        np.full_like(ag.Tensor(np.zeros(3)), fill)
    np.testing.assert_array_equal(np.full_like(leaf(X), 3.0).data, np.full_like(X, 3.0))


def test_initial_on_an_empty_reduction_is_numpys_value():
    x = ag.Tensor(np.zeros((0, 3)), requires_grad=True)
    np.testing.assert_array_equal(np.max(x, axis=0, initial=1.0).data, [1.0, 1.0, 1.0])
    assert np.min(x, initial=-2.0).item() == -2.0
    (g,) = ag.grad(np.max(x, axis=0, initial=1.0).sum(), x)
    assert g.shape == (0, 3)
