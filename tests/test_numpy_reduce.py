"""Reductions, statistics and norms called through NumPy on Tensors: each keyword form gives NumPy's
value (and the gradient the conventions say) or a TypeError naming what is not supported; ties, NaN
inputs and norms at 0 follow API.md's conventions."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd.gradcheck import numerical_grad


def leaf(a, dtype=np.float64):
    return ag.Tensor(np.array(a, dtype=dtype), requires_grad=True)


X = np.array([[0.5, -1.0, 2.0, 0.25], [3.0, 0.75, -2.5, 1.5], [-0.5, 2.25, 1.0, -1.75]])
MASK = np.array([[True, False, True, True], [False, True, True, False], [True, True, False, True]])


def grad_of(fn, x, upstream=None):
    out = fn(x)
    (g,) = ag.grad(out, x, grad_outputs=np.ones(out.shape) if upstream is None else upstream)
    return g.data


def numeric(fn, x, seed=0):
    """(analytical, numerical) gradients of <u, fn(x)> for a random u."""
    t = leaf(x)
    out = fn(t)
    u = np.random.default_rng(seed).standard_normal(out.shape)
    (g,) = ag.grad(out, t, grad_outputs=u)
    return g.data, numerical_grad(fn, [leaf(x)], u, 0, 1e-6)


# ---- where=, initial=, dtype= -------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda f, a: np.sum(a, where=MASK), lambda f, a: np.sum(a, axis=1, where=MASK, initial=2.0),
    lambda f, a: np.prod(a, axis=0, where=MASK), lambda f, a: np.mean(a, axis=1, where=MASK),
    lambda f, a: np.max(a, axis=1, where=MASK, initial=-10.0),
    lambda f, a: np.min(a, where=MASK, initial=10.0),
    lambda f, a: np.max(a, initial=10.0), lambda f, a: np.min(a, axis=0, initial=-1.2),
    lambda f, a: np.nansum(a, axis=0, where=MASK), lambda f, a: np.nanmean(a, where=MASK),
    lambda f, a: np.nanmax(a, axis=1, where=MASK, initial=-10.0),
    lambda f, a: np.nanprod(a, axis=1, initial=2.0),
])
def test_where_and_initial_give_numpys_value_and_mask_the_gradient(call):
    x = leaf(X)
    out = call(np, x)
    np.testing.assert_allclose(out.data, call(np, X))
    analytical, numerical = numeric(lambda t: call(np, t), X)
    np.testing.assert_allclose(analytical, numerical, rtol=1e-6, atol=1e-8)


def test_where_excluded_entries_get_no_gradient():
    g = grad_of(lambda t: np.sum(t, where=MASK), leaf(X))
    np.testing.assert_array_equal(g, MASK.astype(float))
    g = grad_of(lambda t: np.mean(t, axis=1, where=MASK), leaf(X))
    np.testing.assert_allclose(g, MASK / MASK.sum(axis=1, keepdims=True))


def test_initial_that_wins_takes_the_whole_gradient():
    assert not grad_of(lambda t: np.max(t, initial=10.0), leaf(X)).any()
    # A tie with initial: the tied entry and initial share the gradient.
    g = grad_of(lambda t: np.max(t, initial=3.0), leaf(X))
    assert g[1, 0] == pytest.approx(0.5) and np.count_nonzero(g) == 1


@pytest.mark.parametrize("call", [
    lambda a: np.sum(a, dtype=np.float32), lambda a: np.cumsum(a, axis=1, dtype=np.float32),
    lambda a: np.cumprod(a, axis=0, dtype=np.float32), lambda a: np.nansum(a, dtype=np.float32),
    lambda a: np.nanmean(a, axis=0, dtype=np.float32), lambda a: np.trace(a, dtype=np.float32),
    lambda a: np.prod(a, axis=1, dtype=np.float32), lambda a: np.mean(a, dtype=np.float32),
    lambda a: np.nanvar(a, dtype=np.float32), lambda a: np.cov(a, dtype=np.float32),
])
def test_dtype_computes_in_that_dtype(call):
    x = leaf(X)
    out = call(x)
    assert out.dtype == np.float32 == call(X).dtype
    np.testing.assert_allclose(out.data, call(X), rtol=1e-5)
    (g,) = ag.grad(out.sum(), x)
    assert g.dtype == np.float64


def test_where_keeps_integer_and_bool_dtypes():
    ints = np.arange(12).reshape(3, 4)
    for call in (lambda a: np.max(a, where=MASK, initial=-5),
                 lambda a: np.min(a, axis=1, where=MASK, initial=100),
                 lambda a: np.sum(a, axis=0, where=MASK), lambda a: np.prod(a, where=MASK)):
        out = call(ag.tensor(ints))
        assert out.dtype == call(ints).dtype
        np.testing.assert_array_equal(out.data, call(ints))
    flags = ag.tensor(MASK)
    assert np.max(flags, where=~MASK, initial=False).item() == np.max(MASK, where=~MASK,
                                                                      initial=False)


def test_integer_dtype_results_have_no_gradient():
    out = np.sum(leaf(X), dtype=np.int64)
    assert out.dtype == np.int64 and out.item() == np.sum(X, dtype=np.int64)


@pytest.mark.parametrize("call, keyword", [
    (lambda t: np.nanvar(t, mean=np.zeros((3, 1)), axis=1, keepdims=True), "mean"),
    (lambda t: np.nanstd(t, mean=np.zeros(())), "mean"),
    (lambda t: np.quantile(t, 0.5, weights=np.ones((3, 4)), method="inverted_cdf"), "weights"),
    (lambda t: np.quantile(t, 0.5, method="hazen"), "method"),
    (lambda t: np.percentile(t, 50, method="weibull"), "method"),
    (lambda t: np.nansum(t, out=np.empty(())), "out"),
    (lambda t: np.median(t, out=np.empty(())), "out"),
    (lambda t: np.trace(t, out=np.empty(())), "out"),
    (lambda t: np.cumprod(t, out=np.empty(12)), "out"),
    (lambda t: np.ptp(t, out=np.empty(())), "out"),
    (lambda t: np.quantile(t, leaf(0.5)), "q"),
    (lambda t: np.gradient(t, leaf([0.0, 1.0, 3.0]), axis=0), "spacing"),
])
def test_unsupported_forms_raise_type_error_naming_them(call, keyword):
    with pytest.raises(TypeError, match=keyword):
        call(leaf(X))


# ---- ties ---------------------------------------------------------------------------------------

def test_ties_split_the_gradient_evenly():
    x = leaf([1.0, 3.0, 3.0, 2.0, np.nan])
    np.testing.assert_allclose(grad_of(np.nanmax, x), [0, 0.5, 0.5, 0, 0])
    np.testing.assert_allclose(grad_of(np.nanmin, leaf([1.0, np.nan, 1.0, 1.0])),
                               [1 / 3, 0, 1 / 3, 1 / 3])
    np.testing.assert_allclose(grad_of(np.ptp, leaf([1.0, 3.0, 3.0, 1.0])), [-0.5, 0.5, 0.5, -0.5])
    np.testing.assert_allclose(grad_of(np.median, leaf([2.0, 2.0, 1.0, 5.0, 2.0])),
                               [1 / 3, 1 / 3, 0, 0, 1 / 3])


def test_median_of_an_even_count_averages_the_two_middle_values():
    x = leaf([4.0, 1.0, 3.0, 2.0])
    assert np.median(x).item() == 2.5
    np.testing.assert_allclose(grad_of(np.median, x), [0, 0, 0.5, 0.5])
    # Ties among the middle values: each middle value's half is split among its copies.
    np.testing.assert_allclose(grad_of(np.median, leaf([1.0, 2.0, 2.0, 3.0, 3.0, 4.0])),
                               [0, 0.25, 0.25, 0.25, 0.25, 0])
    np.testing.assert_allclose(grad_of(lambda t: np.median(t, axis=0), leaf(X)),
                               _median_weights(X, 0))


def _median_weights(a, axis):
    """Where the median along axis 0 of a 3-row array comes from (distinct values: the middle)."""
    order = np.argsort(a, axis=axis)
    w = np.zeros_like(a)
    np.put_along_axis(w, order[1:2], 1.0, axis=axis)
    return w


def test_quantile_interpolates_between_its_two_order_statistics():
    x = leaf([0.0, 10.0, 20.0, 30.0])
    out = np.quantile(x, [0.1, 0.5])
    np.testing.assert_allclose(out.data, [3.0, 15.0])
    (g,) = ag.grad(out, x, grad_outputs=np.array([1.0, 10.0]))
    np.testing.assert_allclose(g.data, [0.7, 0.3 + 5.0, 5.0, 0.0])
    np.testing.assert_allclose(np.percentile(x, 50, method="lower").data, 10.0)
    np.testing.assert_allclose(grad_of(lambda t: np.percentile(t, 50, method="higher"), x),
                               [0, 0, 1, 0])


# ---- NaN inputs ---------------------------------------------------------------------------------

NAN_X = np.where(MASK & (np.arange(12).reshape(3, 4) % 5 == 0), np.nan, X)


@pytest.mark.parametrize("name", ["nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar",
                                  "nanstd", "nanmedian", "nancumsum", "nancumprod"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_nan_reductions_match_numpy_and_give_nan_entries_no_gradient(name, axis):
    f = getattr(np, name)
    nan = np.isnan(NAN_X)
    x = leaf(NAN_X)
    out = f(x, axis=axis)
    np.testing.assert_allclose(out.data, f(NAN_X, axis=axis), rtol=1e-12)
    u = np.random.default_rng(2).standard_normal(out.shape)
    (g,) = ag.grad(out, x, grad_outputs=u)
    assert np.all(g.data[nan] == 0)
    # The same function of the numbers alone (the NaN entries held fixed).
    numerical = numerical_grad(lambda t: f(np.where(nan, np.nan, t), axis=axis),
                               [leaf(np.where(nan, 0.0, NAN_X))], u, 0, 1e-6)
    np.testing.assert_allclose(g.data, numerical, rtol=1e-6, atol=1e-8)


def test_all_nan_slices_warn_as_numpy_and_get_no_gradient():
    x = leaf([[np.nan, np.nan], [1.0, 2.0]])
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        out = np.nanmean(x, axis=1)
    np.testing.assert_array_equal(np.isnan(out.data), [True, False])
    (g,) = ag.grad(out[1], x)
    np.testing.assert_array_equal(g.data, [[0, 0], [0.5, 0.5]])
    with pytest.warns(RuntimeWarning, match="All-NaN slice"):
        out = np.nanmax(x, axis=1)
    (g,) = ag.grad(out[1], x)
    np.testing.assert_array_equal(g.data, [[0, 0], [0, 1]])
    np.testing.assert_array_equal(np.nansum(x, axis=1).data, [0.0, 3.0])


def test_median_of_a_slice_with_nan_is_nan_and_its_gradient_goes_to_the_nan():
    x = leaf([1.0, np.nan, 3.0])
    out = np.median(x)
    assert np.isnan(out.item())
    np.testing.assert_array_equal(grad_of(np.median, x), [0, 1, 0])
    np.testing.assert_allclose(np.nanmedian(x).item(), 2.0)
    np.testing.assert_allclose(grad_of(np.nanmedian, x), [0.5, 0, 0.5])


# ---- running reductions, differences, statistics ------------------------------------------------

def test_cumprod_with_zeros_is_exact_to_second_order():
    x = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [0.5, -1.0, 0.0, 2.0, 3.0]])
    analytical, numerical = numeric(lambda t: np.cumprod(t, axis=1), x)
    np.testing.assert_allclose(analytical, numerical, rtol=1e-6, atol=1e-8)
    w = np.random.default_rng(1).standard_normal(x.shape)

    def weighted(t, u):
        with ag.enable_grad():
            (g,) = ag.grad(np.cumprod(t, axis=1), t, grad_outputs=u, create_graph=True)
        return (g * w).sum()

    ag.gradcheck(weighted, [leaf(x), leaf(np.ones(x.shape))], eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("call", [
    lambda a: np.cumulative_sum(a, axis=1, include_initial=True),
    lambda a: np.cumulative_prod(a, axis=0, include_initial=True),
    lambda a: np.cumulative_sum(a[0]), lambda a: np.trace(a, 1), lambda a: np.trace(a, -1),
    lambda a: np.diff(a), lambda a: np.diff(a, 2, axis=0), lambda a: np.diff(a, prepend=0.0),
    lambda a: np.diff(a, axis=0, append=a[:1]), lambda a: np.diff(a, n=0),
    lambda a: np.gradient(a, axis=1), lambda a: np.gradient(a, 2.0, edge_order=2)[0],
    lambda a: np.gradient(a, [0.0, 1.0, 3.0], [0.0, 0.5, 1.5, 2.0], edge_order=2)[1],
    lambda a: np.gradient(a[0], np.array([0, 1, 3, 4])),
    lambda a: np.average(a, axis=1, weights=[1.0, 2.0, 3.0, 4.0]),
    lambda a: np.average(a, axis=(1, 0), weights=np.arange(1.0, 13.0).reshape(4, 3)),
    lambda a: np.average(a, axis=0, returned=True)[0], lambda a: np.ptp(a, axis=1),
    lambda a: np.cov(a), lambda a: np.cov(a, rowvar=False, bias=True),
    lambda a: np.cov(a, a[0], aweights=[1.0, 2.0, 1.0, 0.5], fweights=[1, 2, 1, 1], ddof=1),
    lambda a: np.median(a, axis=(0, 1), keepdims=True),
    lambda a: np.quantile(a, [[0.2], [0.7]], axis=1, keepdims=True),
    lambda a: np.nanpercentile(a, [10, 90], axis=0, method="midpoint"),
])
def test_statistics_match_numpy_and_their_gradients(call):
    np.testing.assert_allclose(call(leaf(X)).data, call(X), rtol=1e-12, atol=1e-12)
    analytical, numerical = numeric(call, X)
    np.testing.assert_allclose(analytical, numerical, rtol=1e-6, atol=1e-8)


def test_cumprod_and_trace_methods_keep_numpys_meaning():
    x = leaf(X)
    np.testing.assert_allclose(x.cumprod().data, X.cumprod())
    np.testing.assert_allclose(x.cumprod(1).data, X.cumprod(1))
    np.testing.assert_allclose(x.cumprod(dim=0).data, X.cumprod(0))
    np.testing.assert_allclose(x.trace(1).data, X.trace(1))
    (g,) = ag.grad(x.trace(), x)
    np.testing.assert_array_equal(g.data, np.eye(3, 4))


def test_tensor_arguments_of_diff_and_average_get_their_gradient():
    x, p = leaf(X), leaf([[1.0], [2.0], [3.0]])
    gx, gp = ag.grad(np.diff(x, prepend=p).sum(), [x, p])
    np.testing.assert_allclose(gp.data, [[-1.0], [-1.0], [-1.0]])
    w = leaf([1.0, 2.0, 3.0])
    out = np.average(x, axis=0, weights=w)
    np.testing.assert_allclose(out.data, np.average(X, axis=0, weights=[1.0, 2.0, 3.0]))
    avg, total = np.average(x, axis=0, weights=w, returned=True)
    np.testing.assert_array_equal(total.data, [6.0] * 4)
    (gw,) = ag.grad(out.sum(), w)
    expected = (X - out.data).sum(axis=1) / 6.0
    np.testing.assert_allclose(gw.data, expected)


def test_statistics_errors_follow_numpy():
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        np.average(leaf(X), axis=1, weights=[1.0, -1.0, 0.0, 0.0])
    with pytest.raises(TypeError, match="Axis must be specified"):
        np.average(leaf(X), weights=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="order must be non-negative"):
        np.diff(leaf(X), -1)
    with pytest.raises(ValueError, match="at least one dimensional"):
        np.diff(leaf(1.0))
    with pytest.raises(ValueError, match="axis"):
        np.cumulative_sum(leaf(X))
    with pytest.raises(ValueError, match="edge_order"):
        np.gradient(leaf(X), edge_order=3)
    with pytest.raises(ValueError, match="too small"):
        np.gradient(leaf([1.0, 2.0]), edge_order=2)
    with pytest.raises(ValueError, match="more than 2 dimensions"):
        np.cov(leaf(np.ones((2, 2, 2))))
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"), np.errstate(all="ignore"):
        assert np.isnan(np.cov(leaf([1.0])).item())     # as np.cov([1.0])


# ---- norms --------------------------------------------------------------------------------------

A = np.array([[3.0, 0.5, -1.2], [0.2, 2.2, 0.75], [-0.5, 1.0, 1.25], [1.0, -2.0, 0.5]])
B = np.stack([A, A[::-1] * 0.5])                               # (2, 4, 3)

VECTOR = [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5, -1, -1.5, 4.0]
MATRIX = [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]


@pytest.mark.parametrize("ord", VECTOR)
@pytest.mark.parametrize("axis, keepdims", [(0, False), (-1, True), ((1,), False), (2, True)])
def test_vector_norms_match_numpy(ord, axis, keepdims):
    call = lambda a: np.linalg.norm(a, ord, axis, keepdims)  # noqa: E731
    np.testing.assert_allclose(call(leaf(B)).data, call(B), rtol=1e-12)
    np.testing.assert_allclose(ag.norm(leaf(B), ord, axis, keepdims).data, call(B), rtol=1e-12)
    analytical, numerical = numeric(call, B)
    np.testing.assert_allclose(analytical, numerical, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("ord", MATRIX)
@pytest.mark.parametrize("axis, keepdims", [((1, 2), False), ((2, 1), True), ((0, -1), False),
                                            ((-1, 0), True)])
def test_matrix_norms_match_numpy(ord, axis, keepdims):
    call = lambda a: np.linalg.norm(a, ord, axis, keepdims)  # noqa: E731
    np.testing.assert_allclose(call(leaf(B)).data, call(B), rtol=1e-12)
    analytical, numerical = numeric(call, B)
    np.testing.assert_allclose(analytical, numerical, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf])
def test_two_dimensional_inputs_take_matrix_norms_by_default(ord):
    np.testing.assert_allclose(ag.norm(leaf(A), ord).data, np.linalg.norm(A, ord), rtol=1e-12)
    np.testing.assert_allclose(ag.norm(leaf(A), ord, keepdims=True).data,
                               np.linalg.norm(A, ord, keepdims=True), rtol=1e-12)


def test_default_norm_is_the_2_norm_of_all_entries_and_ord_1_of_a_matrix_is_its_column_sum():
    np.testing.assert_allclose(ag.norm(leaf(B)).data, np.sqrt(np.sum(B * B)))
    np.testing.assert_allclose(ag.norm(leaf(A), 1).data, np.abs(A).sum(axis=0).max())
    np.testing.assert_allclose(ag.norm(leaf(A[0]), 1).data, np.abs(A[0]).sum())


@pytest.mark.parametrize("call", [
    lambda a: np.linalg.vector_norm(a), lambda a: np.linalg.vector_norm(a, ord=1, axis=(0, 2)),
    lambda a: np.linalg.vector_norm(a, ord=np.inf, axis=(2, 0), keepdims=True),
    lambda a: np.linalg.vector_norm(a, ord=-1.5, axis=1), lambda a: np.linalg.vector_norm(a, ord=0),
    lambda a: np.linalg.matrix_norm(a), lambda a: np.linalg.matrix_norm(a, ord="nuc"),
    lambda a: np.linalg.matrix_norm(a, ord=-2, keepdims=True),
    lambda a: np.linalg.matrix_norm(a, ord=np.inf),
])
def test_vector_norm_and_matrix_norm_match_numpy(call):
    np.testing.assert_allclose(call(leaf(B)).data, call(B), rtol=1e-12)
    analytical, numerical = numeric(call, B)
    np.testing.assert_allclose(analytical, numerical, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("call, error, match", [
    (lambda a: np.linalg.norm(a, 3), ValueError, "Invalid norm order for matrices"),
    (lambda a: np.linalg.norm(a, "fro", axis=0), ValueError, "Invalid norm order 'fro'"),
    (lambda a: np.linalg.norm(a, "nuc", axis=(0, 0)), ValueError, "Duplicate axes"),
    (lambda a: np.linalg.norm(a[None], 2), ValueError, "Improper number of dimensions"),
    (lambda a: np.linalg.norm(a, axis=(0, 1, 1)), ValueError, "Improper number of dimensions"),
    (lambda a: np.linalg.norm(a, axis=[0, 1]), TypeError, "'axis' must be None"),
    (lambda a: np.linalg.norm(a, axis=2), np.exceptions.AxisError, "out of bounds"),
    (lambda a: np.linalg.matrix_norm(a[0]), np.exceptions.AxisError, "out of bounds"),
    (lambda a: np.linalg.norm(a, out=None), TypeError, "out"),
])
def test_norm_errors_follow_numpy(call, error, match):
    with pytest.raises(error, match=match):
        call(A)
    with pytest.raises(error, match=match):
        call(leaf(A))


@pytest.mark.parametrize("ord", [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5])
def test_vector_norms_at_zero_take_the_subgradient_zero(ord):
    g = grad_of(lambda t: np.linalg.norm(t, ord), leaf(np.zeros(3)))
    np.testing.assert_array_equal(g, np.zeros(3))
    # Zero entries of a non-zero vector: finite (0 where the derivative is infinite, p < 1).
    g = grad_of(lambda t: np.linalg.norm(t, ord), leaf([0.0, 2.0, -1.0]))
    assert np.all(np.isfinite(g)) and g[0] == 0


def test_negative_p_norm_at_a_zero_entry_is_zero_with_numpys_warning():
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        out = np.linalg.norm(leaf([0.0, 2.0]), -1.5)
    assert out.item() == 0.0
    out.backward()


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf])
def test_matrix_norms_at_zero_take_the_subgradient_zero(ord):
    g = grad_of(lambda t: np.linalg.norm(t, ord), leaf(np.zeros((3, 2))))
    np.testing.assert_array_equal(g, np.zeros((3, 2)))


def test_singular_value_norms_split_ties_as_pytorch():
    # The identity's singular values all tie: the 2-norm's gradient is U diag(1/3) V^T = I / 3
    # (PyTorch: svdvals, then amax splitting ties evenly); 'nuc' gives U V^T = I.
    eye = leaf(np.eye(3))
    np.testing.assert_allclose(grad_of(lambda t: np.linalg.norm(t, 2), eye), np.eye(3) / 3,
                               atol=1e-12)
    np.testing.assert_allclose(grad_of(lambda t: np.linalg.norm(t, -2), eye), np.eye(3) / 3,
                               atol=1e-12)
    np.testing.assert_allclose(grad_of(lambda t: np.linalg.norm(t, "nuc"), eye), np.eye(3),
                               atol=1e-12)
    q, _ = np.linalg.qr(A[:3])
    np.testing.assert_allclose(grad_of(lambda t: np.linalg.norm(t, "nuc"), leaf(q)), q,
                               atol=1e-10)
    # The 2-norm of a rank-one matrix u v^T is |u||v|, with gradient u v^T / (|u||v|).
    u, v = np.array([1.0, 2.0, 2.0]), np.array([3.0, 4.0])
    np.testing.assert_allclose(grad_of(lambda t: np.linalg.norm(t, 2), leaf(np.outer(u, v))),
                               np.outer(u, v) / 15.0, atol=1e-12)


@pytest.mark.parametrize("ord", ["nuc", 2, -2])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2)])
def test_singular_value_norms_have_exact_second_derivatives(ord, shape):
    x = np.random.default_rng(3).standard_normal(shape)
    w = np.random.default_rng(4).standard_normal(shape)

    def weighted(t, u):
        with ag.enable_grad():
            (g,) = ag.grad(np.linalg.norm(t, ord), t, grad_outputs=u, create_graph=True)
        return (g * w).sum()

    ag.gradcheck(weighted, [leaf(x), leaf(1.3)], eps=1e-6, atol=1e-6, rtol=1e-4)


def test_a_third_derivative_of_singular_value_norms_is_refused_clearly():
    t = leaf(A)
    (g,) = ag.grad(np.linalg.norm(t, "nuc"), t, create_graph=True)
    ag.grad((g * g).sum(), t, retain_graph=True)        # the second derivative: fine
    with pytest.raises(RuntimeError, match="third derivative"):
        ag.grad((g * g).sum(), t, create_graph=True)    # a graph of it, for a third: refused


def test_float32_norms_stay_float32():
    x = leaf(A, np.float32)
    for ord in MATRIX:
        out = np.linalg.norm(x, ord)
        assert out.dtype == np.float32, ord
        (g,) = ag.grad(out, x)
        assert g.dtype == np.float32
    assert np.linalg.norm(ag.tensor(np.arange(3)), 1).dtype == np.float64   # ints: float64


def test_norm_callers_in_nn_keep_their_meaning():
    import nn.functional as F
    x = leaf(A)
    np.testing.assert_allclose(F.normalize(x, p=1.0, dim=1).data,
                               A / np.abs(A).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(F.normalize(x, dim=0).data,
                               A / np.linalg.norm(A, axis=0, keepdims=True))
