"""NumPy's elementwise functions on Tensors (autograd/ops/unary.py, binary.py): argument and
keyword forms, dtypes, and the conventions at edge points (API.md's table) -- each case against
NumPy's own value, or a TypeError naming what is not supported."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor


def grads(fn, *arrays, upstream=None, dtype=np.float64):
    """fn's value and its gradients at ``arrays`` (by backward), one ndarray per input."""
    xs = [Tensor(np.asarray(a, dtype=dtype), requires_grad=True) for a in arrays]
    out = fn(*xs)
    out.backward(np.ones(out.shape, out.dtype) if upstream is None else upstream)
    return (out, *[x.grad for x in xs])


UNARY = ["square", "cbrt", "tan", "arcsin", "arccos", "arcsinh", "arctanh", "sinh", "cosh",
         "log2", "log10", "exp2", "reciprocal", "fabs", "floor", "ceil", "trunc", "rint", "fix",
         "round", "around", "deg2rad", "radians", "rad2deg", "degrees", "nan_to_num", "sinc",
         "conjugate", "conj", "real", "imag", "angle", "real_if_close"]
BINARY = ["hypot", "arctan2", "logaddexp", "logaddexp2", "fmax", "fmin", "copysign",
          "remainder", "mod", "fmod", "floor_divide", "heaviside"]


# ---- routing, names and dtypes ------------------------------------------------------------------

def test_aliases_are_one_ufunc_or_routed_separately():
    assert np.mod is np.remainder and np.conj is np.conjugate     # one ufunc: one route
    assert np.radians is not np.deg2rad and np.degrees is not np.rad2deg
    assert np.around is not np.round
    for name in ("radians", "degrees", "around", "mod"):
        t = Tensor([0.25, 0.5], requires_grad=True)
        out = getattr(np, name)(t, 0.5) if name == "mod" else getattr(np, name)(t)
        assert isinstance(out, Tensor) and out.requires_grad


@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unary_matches_numpy_and_keeps_dtype(name, dtype):
    data = np.array([[0.25, -0.5, 0.75], [0.125, 0.5, -0.875]], dtype)
    if name in ("log2", "log10"):
        data = np.abs(data)
    x = Tensor(data, requires_grad=True)
    out = getattr(np, name)(x)
    expected = getattr(np, name)(data)
    assert out.dtype == expected.dtype == dtype
    np.testing.assert_array_equal(out.data, expected)
    out.backward(np.ones(out.shape, dtype))
    assert x.grad.dtype == dtype and x.grad.shape == data.shape


@pytest.mark.parametrize("name", BINARY)
def test_binary_keeps_float32_with_python_scalars_and_broadcasts(name):
    fn = getattr(np, name)
    data = np.array([[0.25, -1.5, 3.0]], np.float32)
    other = np.array([[1.5], [-0.75]], np.float32)
    x, y = Tensor(data, requires_grad=True), Tensor(other, requires_grad=True)
    for out, expected in [(fn(x, y), fn(data, other)), (fn(x, 2.0), fn(data, 2.0)),
                          (fn(2.0, x), fn(2.0, data)), (fn(x, other), fn(data, other))]:
        assert out.dtype == expected.dtype == np.float32, (name, out.dtype, expected.dtype)
        np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    ga, gb = ag.grad(fn(x, y).sum(), [x, y])
    assert ga.shape == data.shape and gb.shape == other.shape
    assert ga.dtype == gb.dtype == np.float32


def test_ufunc_keywords_cast_and_refuse():
    x = Tensor(np.array([0.5, 2.0], np.float32), requires_grad=True)
    out = np.hypot(x, 1.0, dtype=np.float64)
    assert out.dtype == np.float64 and out.requires_grad
    np.testing.assert_allclose(out.data, np.hypot(x.data.astype(np.float64), 1.0))
    with pytest.raises(TypeError, match="out="):
        np.square(x, out=np.empty(2, np.float32))
    with pytest.raises(TypeError, match="where="):
        np.cbrt(x, where=np.array([True, False]))


def test_integer_tensors_follow_numpy():
    a, b = np.array([7, -7, 5]), np.array([3, 3, -2])
    for fn in (np.remainder, np.fmod, np.floor_divide, np.float_power):
        out = fn(Tensor(a), Tensor(b))
        assert out.dtype == fn(a, b).dtype and not out.requires_grad
        np.testing.assert_array_equal(out.data, fn(a, b))
    np.testing.assert_array_equal((Tensor(a) % 3).data, a % 3)
    np.testing.assert_array_equal((Tensor(a) // 3).data, a // 3)
    assert np.sinc(Tensor(np.array([0, 1]))).dtype == np.float64


def test_float_power_computes_in_float64():
    x = Tensor(np.array([0.5, 2.0], np.float32), requires_grad=True)
    out = np.float_power(x, 3)
    assert out.dtype == np.float64 and np.float_power(x.data, 3).dtype == np.float64
    np.testing.assert_array_equal(out.data, np.float_power(x.data, 3))
    out.backward(np.ones(2))
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, 3 * x.data.astype(np.float64) ** 2)
    # A negative integer exponent (np.power refuses it for integers).
    _, g = grads(lambda t: np.float_power(t, -2), [2.0])
    np.testing.assert_allclose(g, [-2 * 2.0 ** -3])
    # d(0^y)/dy = 0 for y > 0, d(x^0)/dx = 0 at 0, as power.
    _, ga, gb = grads(np.float_power, [0.0, 0.0], [2.0, 0.0])
    np.testing.assert_array_equal(ga, [0.0, 0.0])
    np.testing.assert_array_equal(gb, [0.0, 0.0])


# ---- array functions: round, fix, nan_to_num, sinc ----------------------------------------------

@pytest.mark.parametrize("fn", [np.round, np.around])
def test_round_takes_decimals(fn):
    data = np.array([1.2345, -12.5, 0.5, 1.5, 157.0])
    x = Tensor(data, requires_grad=True)
    for decimals in (0, 2, -1):
        for out in (fn(x, decimals), fn(x, decimals=decimals), ag.round(x, decimals)):
            np.testing.assert_array_equal(out.data, fn(data, decimals))
    np.testing.assert_array_equal(fn(x).data, [1.0, -12.0, 0.0, 2.0, 157.0])   # halves to even
    (g,) = ag.grad(fn(x, 1).sum(), [x])
    np.testing.assert_array_equal(g.data, np.zeros(5))
    with pytest.raises(TypeError, match="out="):
        fn(x, 1, np.empty(5))
    with pytest.raises(TypeError, match="round"):
        fn(x, mode="half_up")


def test_fix_rounds_toward_zero():
    data = np.array([-2.5, -0.5, 0.5, 2.7])
    x = Tensor(data, requires_grad=True)
    np.testing.assert_array_equal(np.fix(x).data, np.fix(data))
    np.testing.assert_array_equal(ag.fix(x).data, [-2.0, -0.0, 0.0, 2.0])
    with pytest.raises(TypeError, match="out="):
        np.fix(x, out=np.empty(4))


def test_nan_to_num_gradient_is_zero_at_replaced_entries():
    data = np.array([1.5, np.nan, np.inf, -np.inf, -2.0], np.float32)
    out, g = grads(np.nan_to_num, data, upstream=np.arange(1.0, 6.0, dtype=np.float32),
                   dtype=np.float32)
    np.testing.assert_array_equal(out.data, np.nan_to_num(data))
    assert out.dtype == np.float32 and out.data[2] == np.finfo(np.float32).max
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0, 5.0])


def test_nan_to_num_keywords():
    data = np.array([np.nan, np.inf, -np.inf, 0.5])
    x = Tensor(data, requires_grad=True)
    for kw in ({}, {"nan": 7.0}, {"posinf": 1e3, "neginf": -1e3}, {"nan": -1, "posinf": 2}):
        np.testing.assert_array_equal(np.nan_to_num(x, **kw).data, np.nan_to_num(data, **kw))
    np.testing.assert_array_equal(np.nan_to_num(x, True, 3.0, 4.0, 5.0).data, [3, 4, 5, 0.5])
    # Replacement values that are Tensors get the gradient of the entries they replace.
    nan, posinf = Tensor(2.0, requires_grad=True), Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    out = np.nan_to_num(Tensor(np.array([np.nan, np.inf, np.nan, 1.0])), nan=nan, posinf=posinf)
    np.testing.assert_array_equal(out.data, [2.0, 2.0, 2.0, 1.0])
    g_nan, g_pos = ag.grad((out * np.array([1.0, 10.0, 100.0, 1000.0])).sum(), [nan, posinf])
    assert g_nan.data == 101.0
    np.testing.assert_array_equal(g_pos.data, [0.0, 10.0, 0.0, 0.0])
    with pytest.raises(TypeError, match="copy=False"):
        np.nan_to_num(x, copy=False)
    with pytest.raises(TypeError, match="nan_to_num"):
        np.nan_to_num(x, posinf=1.0, bogus=1)
    # An integer Tensor comes back unchanged, as in NumPy.
    np.testing.assert_array_equal(np.nan_to_num(Tensor(np.array([1, 2]))).data, [1, 2])


def test_sinc_derivatives_are_exact_at_and_near_zero():
    x = Tensor(np.array([0.0, 1e-9, 0.3, 0.5, 1.0, -2.5]), requires_grad=True)
    np.testing.assert_array_equal(np.sinc(x).data, np.sinc(x.data))
    (g,) = ag.grad(np.sinc(x).sum(), [x], create_graph=True)
    v = x.data
    with np.errstate(all="ignore"):
        first = np.where(v == 0, 0.0, (np.cos(np.pi * v) - np.sinc(v)) / v)
    first[1] = -np.pi ** 2 / 3 * v[1]
    np.testing.assert_allclose(g.data, first, rtol=1e-9, atol=1e-15)
    (h,) = ag.grad(g.sum(), [x], create_graph=True)
    assert h.data[0] == pytest.approx(-np.pi ** 2 / 3)
    (h3,) = ag.grad(h[0], [x], create_graph=True)
    assert h3.data[0] == 0.0
    (h4,) = ag.grad(h3[0], [x])
    assert h4.data[0] == pytest.approx(np.pi ** 4 / 5)

    def slope(t):
        with ag.enable_grad():
            return ag.grad(np.sinc(t).sum(), [t], create_graph=True)[0]

    # Both sides of the switch from the series (|x| < 1/2) to the recursion.
    assert ag.gradcheck(slope, [Tensor(np.array([0.05, 0.49, 0.51, 1.7]), requires_grad=True)])


# ---- edge conventions ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, sign", [("arcsin", 1.0), ("arccos", -1.0)])
def test_arcsin_arccos_at_one_give_inf_with_numpys_warning(name, sign):
    x = Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    out = getattr(np, name)(x)
    np.testing.assert_array_equal(out.data, getattr(np, name)(x.data))
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        out.backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, sign * np.array([np.inf, 1.0, np.inf]))


def test_hypot_at_zero_takes_subgradient_zero():
    _, ga, gb = grads(np.hypot, [0.0, 3.0, 0.0], [0.0, 4.0, -2.0])
    np.testing.assert_array_equal(ga, [0.0, 0.6, 0.0])
    np.testing.assert_array_equal(gb, [0.0, 0.8, -1.0])
    _, ga, gb = grads(np.arctan2, [0.0, 1.0], [0.0, 1.0])
    np.testing.assert_allclose(ga, [0.0, 0.5], rtol=1e-15, atol=0)
    np.testing.assert_allclose(gb, [0.0, -0.5], rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_fmin_split_ties_and_ignore_nan(name):
    fn = getattr(np, name)
    nan = np.nan
    a = np.array([1.0, 2.0, 3.0, nan, 5.0, nan])
    b = np.array([1.0, 0.0, 4.0, 6.0, nan, nan])
    out, ga, gb = grads(fn, a, b)
    np.testing.assert_array_equal(out.data, fn(a, b))
    wins = [0.5, 1.0, 0.0] if name == "fmax" else [0.5, 0.0, 1.0]
    # NaN: the gradient goes to the other (non-NaN) input; both NaN: to the first, which NumPy
    # returns.
    np.testing.assert_array_equal(ga, wins + [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(gb, [1 - w for w in wins] + [1.0, 0.0, 0.0])
    # Broadcast against a scalar: each tie gives the scalar half, summed over the broadcast.
    _, ga, gb = grads(fn, [2.0, 2.0, nan], 2.0)
    np.testing.assert_array_equal(ga, [0.5, 0.5, 0.0])
    assert gb == 2.0


def test_remainder_and_fmod_sign_conventions():
    a = np.array([5.5, -5.5, 5.5, -5.5])
    b = np.array([2.0, 2.0, -2.0, -2.0])
    out, ga, gb = grads(np.remainder, a, b)
    np.testing.assert_array_equal(out.data, [1.5, 0.5, -0.5, -1.5])     # sign of the divisor
    np.testing.assert_array_equal(ga, np.ones(4))
    np.testing.assert_array_equal(gb, -np.floor(a / b))                  # [-2, 3, 3, -2]
    out, ga, gb = grads(np.fmod, a, b)
    np.testing.assert_array_equal(out.data, [1.5, -1.5, 1.5, -1.5])     # sign of the dividend
    np.testing.assert_array_equal(ga, np.ones(4))
    np.testing.assert_array_equal(gb, -np.trunc(a / b))                  # [-2, 2, 2, -2]
    # The operators, with Python scalars on either side, are np.remainder and np.floor_divide.
    x = Tensor(a, requires_grad=True)
    for out, expected in [(x % 2, a % 2), (7.0 % x, 7.0 % a), (x // 2, a // 2),
                          (7.0 // x, 7.0 // a), (x % Tensor(b), a % b)]:
        np.testing.assert_array_equal(out.data, expected)
        assert out.requires_grad
    (g,) = ag.grad((7.0 % x).sum(), [x])
    np.testing.assert_array_equal(g.data, -np.floor(7.0 / a))
    (g,) = ag.grad((x // 2).sum(), [x])
    np.testing.assert_array_equal(g.data, np.zeros(4))
    # fmod's quotient is the one its result implies, also where a/b rounds to an integer.
    out, _, gb = grads(np.fmod, [1.0], [0.1])
    assert out.data[0] == np.fmod(1.0, 0.1) and gb[0] == -9.0


def test_remainder_by_zero_warns_as_numpy():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.warns(RuntimeWarning, match="invalid value encountered in remainder"):
        out = np.remainder(x, 0.0)
    assert np.all(np.isnan(out.data))


def test_copysign_gradient():
    _, ga, gb = grads(np.copysign, [2.0, -2.0, 2.0, 0.0], [1.0, 1.0, -0.0, -3.0])
    np.testing.assert_array_equal(ga, [1.0, -1.0, -1.0, 0.0])
    np.testing.assert_array_equal(gb, [0.0, 0.0, 0.0, 0.0])


def test_heaviside_gradient_goes_to_the_value_at_zero():
    out, gx, gh = grads(np.heaviside, [-1.0, 0.0, 2.0, 0.0], [0.5, 0.5, 0.5, 0.25])
    np.testing.assert_array_equal(out.data, [0.0, 0.5, 1.0, 0.25])
    np.testing.assert_array_equal(gx, np.zeros(4))
    np.testing.assert_array_equal(gh, [0.0, 1.0, 0.0, 1.0])
    _, gx, gh = grads(np.heaviside, [-1.0, 0.0, 0.0], 0.5)
    assert gh == 2.0


def test_rounding_and_step_gradients_are_zero_at_every_order():
    x = Tensor(np.array([-1.5, 0.5, 2.0, 2.7]), requires_grad=True)
    for fn in (np.floor, np.ceil, np.trunc, np.rint, np.fix, np.round,
               lambda t: np.floor_divide(t, 2.0)):
        y = fn(x)
        np.testing.assert_array_equal(y.data, fn(x.data))
        (g,) = ag.grad((y * x).sum(), [x], create_graph=True)
        np.testing.assert_array_equal(g.data, fn(x.data))       # product rule: only y survives
        (h,) = ag.grad(g.sum(), [x])
        np.testing.assert_array_equal(h.data, np.zeros(4))


def test_logaddexp_is_stable_for_large_inputs():
    out, ga, gb = grads(np.logaddexp, [1000.0, -1000.0], [1000.0, 0.0])
    np.testing.assert_allclose(out.data, [1000.0 + math.log(2.0), 0.0])
    np.testing.assert_allclose(ga, [0.5, 0.0])
    np.testing.assert_allclose(gb, [0.5, 1.0])
    out, ga, gb = grads(np.logaddexp2, [3.0], [3.0])
    np.testing.assert_allclose(out.data, [4.0])
    np.testing.assert_allclose(ga, [0.5])


# ---- parts of a number: modf, frexp, ldexp, divmod, real/imag/conj/angle ------------------------

def test_modf_frexp_ldexp_divmod_match_numpy():
    data = np.array([-2.75, -0.5, 0.0, 0.3, 5.5, np.inf], np.float32)
    x = Tensor(data, requires_grad=True)
    for ours, theirs in [(np.modf(x), np.modf(data)), (np.frexp(x), np.frexp(data)),
                         (np.divmod(x[:-1], 1.5), np.divmod(data[:-1], 1.5))]:
        assert isinstance(ours, tuple) and len(ours) == 2
        for o, t in zip(ours, theirs):
            assert o.dtype == t.dtype
            np.testing.assert_array_equal(o.data, t)
    assert not np.frexp(x)[1].requires_grad and np.frexp(x)[1].dtype.kind == "i"
    assert not np.modf(x)[1].requires_grad or not np.any(ag.grad(
        np.modf(x)[1].sum(), [x])[0].data)
    with pytest.warns(RuntimeWarning, match="invalid value encountered in divmod"):
        q, r = np.divmod(x, 1.5)                         # once, under NumPy's name
    np.testing.assert_array_equal(q.data[:-1], np.floor_divide(data[:-1], 1.5))
    assert np.isnan(q.data[-1]) and np.isnan(r.data[-1])
    out = np.ldexp(x, np.array([1, 2, 3, -1, 0, 2]))
    np.testing.assert_array_equal(out.data, np.ldexp(data, np.array([1, 2, 3, -1, 0, 2])))
    assert out.dtype == np.float32
    with pytest.raises(TypeError, match="ldexp"):
        np.ldexp(x, 1.5)                                 # NumPy takes integer exponents only


def test_modf_frexp_ldexp_divmod_gradients():
    data = np.array([-2.75, -0.5, 0.3, 5.5])
    _, g = grads(lambda t: np.modf(t)[0], data)
    np.testing.assert_array_equal(g, np.ones(4))
    _, g = grads(lambda t: np.frexp(t)[0], data)
    np.testing.assert_array_equal(g, 2.0 ** -np.frexp(data)[1])
    _, g = grads(lambda t: np.ldexp(t, np.array([1, -2, 0, 3])), data)
    np.testing.assert_array_equal(g, [2.0, 0.25, 1.0, 8.0])
    x, y = Tensor(data, requires_grad=True), Tensor(np.full(4, -2.0), requires_grad=True)
    q, r = np.divmod(x, y)
    ga, gb = ag.grad((q + 10 * r).sum(), [x, y])
    np.testing.assert_array_equal(ga.data, np.full(4, 10.0))
    np.testing.assert_array_equal(gb.data, -10 * np.floor_divide(data, -2.0))
    # ldexp is linear in x: its second derivative is 0, through ldexp again.
    t = Tensor(data, requires_grad=True)
    (g,) = ag.grad((np.ldexp(t, 2) * t).sum(), [t], create_graph=True)
    np.testing.assert_array_equal(g.data, 8 * data)
    (h,) = ag.grad(g.sum(), [t])
    np.testing.assert_array_equal(h.data, np.full(4, 8.0))


def test_parts_of_a_real_number():
    data = np.array([-1.5, -0.0, 0.0, 2.0], np.float32)
    x = Tensor(data, requires_grad=True)
    for fn in (np.real, np.imag, np.conj, np.real_if_close, np.angle,
               lambda a: np.angle(a, deg=True), lambda a: np.real_if_close(a, tol=1000)):
        out, expected = fn(x), fn(data)
        assert out.dtype == expected.dtype == np.float32
        np.testing.assert_array_equal(out.data, expected)
        assert out.requires_grad
    np.testing.assert_array_equal(np.angle(x).data, np.float32([np.pi, np.pi, 0, 0]))  # -0. too
    for fn, slope in ((np.real, 1.0), (np.conj, 1.0), (np.real_if_close, 1.0), (np.imag, 0.0),
                      (np.angle, 0.0)):
        (g,) = ag.grad(fn(x).sum(), [x])
        np.testing.assert_array_equal(g.data, np.full(4, slope, np.float32))
    imag = np.imag(x)
    assert imag.data.flags.writeable                       # a new array, not NumPy's read-only 0s


@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
def test_logaddexp_gradients_at_infinities_need_no_warning(name):
    inf = np.inf
    a = np.array([-inf, -inf, inf, inf, 1.0, -inf])
    b = np.array([-inf, 1.0, 1.0, inf, -inf, inf])
    out, ga, gb = grads(getattr(np, name), a, b)          # warnings are errors here
    np.testing.assert_array_equal(out.data, getattr(np, name)(a, b))
    np.testing.assert_array_equal(ga, [0.5, 0.0, 1.0, 0.5, 1.0, 0.0])
    np.testing.assert_array_equal(gb, [0.5, 1.0, 0.0, 0.5, 0.0, 1.0])
    # Second order at finite points: d2/da2 = s (1 - s), s = d/da.
    x = Tensor(np.array([0.3, -1.0]), requires_grad=True)
    (g,) = ag.grad(getattr(np, name)(x, 0.5).sum(), [x], create_graph=True)
    (h,) = ag.grad(g.sum(), [x])
    k = 1.0 if name == "logaddexp" else math.log(2.0)
    s = 1 / (1 + np.exp(-(x.data - 0.5) * k))
    np.testing.assert_allclose(g.data, s, rtol=1e-12)
    np.testing.assert_allclose(h.data, k * s * (1 - s), rtol=1e-12)
