"""The conventions table of API.md asserted at its edge points: kinks, ties, zeros in prod, dtypes,
extreme logits, and the behaviour at 0 and at NaN."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


def grad_of(fn, *arrays, upstream=None, dtype=np.float64):
    """Gradients of ``fn`` at ``arrays`` (by backward), one ndarray per input."""
    xs = [Tensor(np.asarray(a, dtype=dtype), requires_grad=True) for a in arrays]
    out = fn(*xs)
    out.backward(np.ones(out.shape, out.dtype) if upstream is None else upstream)
    return [x.grad for x in xs] if len(xs) > 1 else xs[0].grad


# ---- subgradients at kinks ----------------------------------------------------------------------

def test_relu_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(grad_of(ag.relu, [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_of(lambda x: x.relu(), [0.0]), [0.0])


@pytest.mark.parametrize("shape", [(5,), (128, 10), (4, 3, 26, 26), (3, 300), (2, 70000)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_is_numpys_maximum_with_zero_bitwise(shape, dtype):
    """relu compares with cached zeros of the input's trailing dimensions (NumPy's fast loop):
    the values are np.maximum(x, 0)'s, -0.0, NaN and infinities included, in a fresh array."""
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[::3], flat[1::7], flat[2::11], flat[4::13] = -0.0, np.nan, np.inf, -np.inf
    out = ag.relu(Tensor(x)).data
    assert out.tobytes() == np.maximum(x, 0).tobytes()
    assert out.flags.writeable and not np.shares_memory(out, x)
    out[...] = 5                                     # the cached zeros are not the result
    assert ag.relu(Tensor(x)).data.tobytes() == np.maximum(x, 0).tobytes()
    ints = np.array([-2, 0, 3])
    assert ag.relu(Tensor(ints)).data.dtype == np.maximum(ints, 0).dtype


def test_abs_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(grad_of(ag.abs, [-2.0, 0.0, 3.0]), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(grad_of(lambda x: abs(x), [0.0, -0.0]), [0.0, 0.0])


def test_sign_derivative_is_zero_everywhere():
    g = grad_of(ag.sign, [-2.0, 0.0, 3.0], upstream=np.array([5.0, 6.0, 7.0]))
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    # d/dx (sign(x) x) = sign(x): only the product rule's other term survives.
    np.testing.assert_array_equal(grad_of(lambda t: ag.sign(t) * t, [-2.0, 0.0, 3.0]),
                                  [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (np.array([-1.0]), np.array(1.0))])
def test_clip_passes_gradient_on_the_boundaries(lo, hi):
    x = [-2.0, -1.0, -0.5, 1.0, 1.5]
    np.testing.assert_array_equal(grad_of(lambda t: ag.clip(t, lo, hi), x), [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(grad_of(lambda t: t.clip(lo, None), x), [0, 1, 1, 1, 1])
    np.testing.assert_array_equal(grad_of(lambda t: t.clip(None, hi), x), [1, 1, 1, 1, 0])


# ---- ties are split evenly ----------------------------------------------------------------------

@pytest.mark.parametrize("reduce", ["max", "min"])
def test_ties_in_max_min_reductions_split_evenly(reduce):
    sign = 1.0 if reduce == "max" else -1.0
    x = sign * np.array([[3.0, 1.0, 3.0, 3.0], [2.0, 2.0, 0.0, -1.0]])
    fn = lambda t, **kw: getattr(t, reduce)(**kw)   # noqa: E731
    np.testing.assert_allclose(grad_of(lambda t: fn(t), x),
                               [[1 / 3, 0, 1 / 3, 1 / 3], [0, 0, 0, 0]])
    np.testing.assert_allclose(grad_of(lambda t: fn(t, axis=1), x, upstream=np.array([3.0, 4.0])),
                               [[1, 0, 1, 1], [2, 2, 0, 0]])
    np.testing.assert_allclose(grad_of(lambda t: fn(t, axis=0, keepdims=True), x),
                               [[1, 0, 1, 1], [0, 1, 0, 0]])
    # The tied entries' gradients sum to the upstream gradient.
    np.testing.assert_allclose(grad_of(lambda t: getattr(ag, reduce)(t), np.full((2, 2), 7.0)),
                               np.full((2, 2), 0.25))


def test_ties_in_maximum_minimum_split_evenly():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 4.0])
    ga, gb = grad_of(ag.maximum, a, b)
    np.testing.assert_array_equal(ga, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gb, [0.5, 0.0, 1.0])
    ga, gb = grad_of(ag.minimum, a, b)
    np.testing.assert_array_equal(ga, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.0])
    # Broadcast against a scalar: each tie gives the scalar half, summed over the broadcast.
    ga, gb = grad_of(ag.maximum, [0.0, 0.0, 1.0], 0.0)
    np.testing.assert_array_equal(ga, [0.5, 0.5, 1.0])
    np.testing.assert_array_equal(gb, 1.0)


# ---- prod with zeros ----------------------------------------------------------------------------

def test_prod_gradient_is_exact_with_one_zero():
    np.testing.assert_array_equal(grad_of(ag.prod, [2.0, 0.0, 3.0]), [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(
        grad_of(lambda t: t.prod(axis=1), [[2.0, 0.0, 3.0], [1.0, 2.0, 4.0]]),
        [[0.0, 6.0, 0.0], [8.0, 4.0, 2.0]])


def test_prod_gradient_is_exact_with_two_zeros():
    np.testing.assert_array_equal(grad_of(ag.prod, [2.0, 0.0, 3.0, 0.0]), [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(grad_of(ag.prod, [0.0, 0.0]), [0.0, 0.0])


def test_prod_second_derivative_is_exact_at_zeros():
    # prod(x) = x0 x1 x2: the mixed derivative d2/dx0 dx1 is x2, also where x0 = x1 = 0.
    x = Tensor([0.0, 0.0, 5.0], requires_grad=True)
    (g,) = ag.grad(ag.prod(x), [x], create_graph=True)
    np.testing.assert_array_equal(g.data, [0.0, 0.0, 0.0])
    (h,) = ag.grad(g[0], [x])
    np.testing.assert_array_equal(h.data, [0.0, 5.0, 0.0])
    y = Tensor([0.0, 2.0, 5.0], requires_grad=True)
    (g,) = ag.grad(ag.prod(y), [y], create_graph=True)
    (h,) = ag.grad(g[1], [y])
    np.testing.assert_array_equal(h.data, [5.0, 0.0, 0.0])


# ---- dtypes -------------------------------------------------------------------------------------

BINARY = {
    "add": (ag.add, lambda a, b: a + b), "subtract": (ag.subtract, lambda a, b: a - b),
    "multiply": (ag.multiply, lambda a, b: a * b), "divide": (ag.divide, lambda a, b: a / b),
    "power": (ag.power, lambda a, b: a ** b), "maximum": (ag.maximum, None),
    "minimum": (ag.minimum, None), "matmul": (ag.matmul, lambda a, b: a @ b),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_float32_stays_float32(name):
    fn, operator = BINARY[name]
    x = Tensor(np.array([[1.5, 2.0], [0.5, 1.0]], np.float32), requires_grad=True)
    y = np.array([[2.0, 1.0], [1.0, 3.0]], np.float32)
    results = [fn(x, y), fn(y, x), fn(x, Tensor(y))]
    if name != "matmul":
        results += [fn(x, 2.0), fn(2.0, x), fn(x, 2)]
    if operator is not None:
        results += [operator(x, y), operator(y, x)]
        if name != "matmul":
            results += [operator(x, 2.0), operator(2.0, x), operator(x, 3)]
    for out in results:
        assert out.dtype == np.float32, (name, out)
        x.grad = None
        out.backward(np.ones(out.shape, np.float32))
        assert x.grad.dtype == np.float32


def test_float32_stays_float32_in_unary_ops_and_reductions():
    x = Tensor(np.array([[0.5, 1.5], [2.0, 0.25]], np.float32), requires_grad=True)
    fns = [ag.exp, ag.log, ag.log1p, ag.expm1, ag.sqrt, ag.abs, ag.sin, ag.cos, ag.tanh,
           ag.sigmoid, ag.relu, ag.arctan, ag.sign, ag.softmax, ag.log_softmax, ag.logsumexp,
           ag.norm, lambda t: -t, lambda t: t.sum(), lambda t: t.mean(axis=0), lambda t: t.var(),
           lambda t: t.std(ddof=1), lambda t: t.prod(), lambda t: t.max(), lambda t: ag.cumsum(t, 1),
           lambda t: ag.clip(t, 0.5, 1.0), lambda t: ag.where(t > 1, t, 0.0),
           lambda t: ag.norm(t, 3, 1), lambda t: ag.einsum("ij,jk", t, t), lambda t: ag.pad(t, 1),
           lambda t: ag.norm(t, "nuc"), lambda t: ag.norm(t, 2)]
    for fn in fns:
        out = fn(x)
        assert out.dtype == np.float32, (fn, out.dtype)
        x.grad = None
        out.backward(np.ones(out.shape, np.float32))
        assert x.grad.dtype == np.float32 and x.grad.shape == x.shape


def test_gradients_have_their_inputs_dtype_when_dtypes_mix():
    a = Tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0], np.float64), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64              # NumPy 2 promotion
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])
    c = Tensor(np.array([1.0, 2.0], np.float64), requires_grad=True)
    down = c.astype(np.float32)
    assert down.dtype == np.float32
    (down * 2).sum().backward()
    assert c.grad.dtype == np.float64
    np.testing.assert_array_equal(c.grad, [2.0, 2.0])


def test_integer_casts_end_the_graph():
    x = Tensor([1.5, 2.5], requires_grad=True)
    assert not x.astype(np.int64).requires_grad


# ---- extreme logits -----------------------------------------------------------------------------

EXTREME = [("softmax", ag.softmax), ("log_softmax", ag.log_softmax),
           ("logsumexp", lambda t: ag.logsumexp(t, axis=-1)), ("sigmoid", ag.sigmoid),
           ("tanh", ag.tanh)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, fn", EXTREME, ids=[n for n, _ in EXTREME])
def test_finite_values_and_gradients_at_extreme_logits(name, fn, dtype):
    x = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, 3.0]], dtype),
               requires_grad=True)
    with np.errstate(all="raise"):
        out = fn(x)
        out.backward(np.arange(out.size, dtype=dtype).reshape(out.shape) - 1)
        (g,) = ag.grad(fn(x), [x], np.ones(out.shape, dtype), create_graph=True)
        (h,) = ag.grad((g * g).sum(), [x])
    for values in (out.data, x.grad, g.data, h.data):
        assert np.all(np.isfinite(values)) and values.dtype == dtype, (name, values)
    if name == "softmax":
        np.testing.assert_allclose(out.data[0], [1.0, 0.0, 0.0])
        np.testing.assert_allclose(out.data[1], [1 / 3] * 3, rtol=1e-6)
    if name == "log_softmax":
        np.testing.assert_allclose(out.data[0], [0.0, -2e4, -1e4])
    if name == "logsumexp":
        np.testing.assert_allclose(out.data, [1e4, -1e4 + np.log(3), 1e4 + np.log(2)], rtol=1e-6)
    if name == "sigmoid":
        np.testing.assert_array_equal(out.data[0], [1.0, 0.0, 0.5])


def test_max_and_min_send_the_gradient_to_nan_entries():
    """A NaN maximum came from the NaN entry: that entry gets the gradient, as in PyTorch."""
    for reduce in (ag.max, ag.min):
        x = ag.tensor([np.nan, 1.0, 3.0], requires_grad=True)
        reduce(x).backward()
        np.testing.assert_array_equal(x.grad, [1.0, 0.0, 0.0])


def test_sqrt_log_norm_std_at_zero():
    """The documented behaviour at 0: sqrt' and log' are inf, with NumPy's own divide-by-zero
    warning (as np.sqrt/np.log give); norm and std take the subgradient 0 and warn about nothing."""
    for fn, expected in [(ag.sqrt, np.inf), (ag.log, np.inf)]:
        x = ag.tensor([0.0, 4.0], requires_grad=True)
        y = fn(x) if fn is ag.sqrt else None
        if fn is ag.log:
            with pytest.warns(RuntimeWarning, match="divide by zero"):
                y = fn(x)                     # log(0) = -inf, NumPy's warning
        with pytest.warns(RuntimeWarning, match="divide by zero"):
            y.sum().backward()
        assert x.grad[0] == expected and np.isfinite(x.grad[1])
    x = ag.tensor([0.0, 0.0, 0.0], requires_grad=True)
    ag.norm(x).backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    x = ag.tensor([2.0, 2.0], requires_grad=True)
    x.std().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
