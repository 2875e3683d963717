"""Reliability of the engine (issue 6): bad input gives clear errors and changes nothing, valid but
unusual input works as in NumPy, and numerics hold at the extremes."""

from __future__ import annotations

import operator

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from engine_helpers import assert_unchanged, leaf, snapshot


# ---- bad input: each error names the op and the shapes or dtypes, and changes nothing -----------

BINARY = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / b,
    "power": lambda a, b: a ** b,
    "maximum": ag.maximum,
    "minimum": ag.minimum,
    "where": lambda a, b: ag.where(np.ones((2, 3), dtype=bool), a, b),
    "np.add": lambda a, b: np.add(a, b),       # ufunc dispatch
    "np.multiply": lambda a, b: np.multiply(b.data, a),
}


@pytest.fixture
def used_leaves():
    """Two leaves that already hold gradients, so a failure's effect on them would show."""
    a = leaf(np.arange(6.0).reshape(2, 3) + 1.0)
    b = leaf([1.0, 2.0, 3.0, 4.0])
    (a.sum() + b.sum()).backward()
    return a, b


@pytest.mark.parametrize("name", list(BINARY))
def test_mismatched_shapes_in_binary_ops(name, used_leaves):
    a, b = used_leaves
    before = snapshot(a, b)
    op = name.split(".")[-1]
    with pytest.raises(ValueError, match=rf"{op}.*\(2, ?3\).*\(4,\)|{op}.*\(4,\).*\(2, ?3\)"):
        BINARY[name](a, b)
    assert_unchanged([a, b], before)


@pytest.mark.parametrize("shapes", [((2, 3), (4,)), ((2, 3), (2, 3)), ((5,), (4,)),
                                    ((3, 2, 3), (2, 2, 4)), ((2, 3), ())])
def test_mismatched_shapes_in_matmul(shapes):
    a = leaf(np.ones(shapes[0]))
    b = leaf(np.ones(shapes[1]))
    before = snapshot(a, b)
    for call in (lambda: a @ b, lambda: ag.matmul(a, b), lambda: np.matmul(a, b)):
        with pytest.raises(ValueError, match="matmul") as info:
            call()
        text = str(info.value).replace(" ", "")
        assert str(shapes[0]).replace(" ", "") in text and str(shapes[1]).replace(" ", "") in text
    assert_unchanged([a, b], before)


@pytest.mark.parametrize("name", ["less", "less_equal", "greater", "greater_equal", "equal",
                                  "not_equal"])
def test_mismatched_shapes_in_comparisons(name):
    symbol = {"less": "lt", "less_equal": "le", "greater": "gt", "greater_equal": "ge",
              "equal": "eq", "not_equal": "ne"}[name]
    with pytest.raises(ValueError, match=rf"{name}.*\(2, 3\).*\(4,\)"):
        getattr(operator, symbol)(leaf(np.ones((2, 3))), np.ones(4))


def test_len_of_a_scalar_tensor():
    with pytest.raises(TypeError, match="len.*0-d"):
        len(Tensor(1.0))


def test_a_string_as_a_shape():
    x = leaf(np.ones((2, 3)))
    before = snapshot(x)
    with pytest.raises(TypeError, match="reshape.*'ab'"):
        x.reshape("ab")
    with pytest.raises(TypeError, match="reshape.*'ab'"):
        ag.reshape(x, "ab")
    with pytest.raises(TypeError, match="broadcast"):
        ag.broadcast_to(x, "ab")
    for factory in (ag.zeros, ag.ones, ag.randn, ag.rand):
        with pytest.raises(TypeError, match=f"{factory.__name__}.*'ab'"):
            factory("ab")
    with pytest.raises(TypeError, match="full.*'ab'"):
        ag.full("ab", 1.0)
    with pytest.raises(TypeError, match="zeros.*data type"):
        ag.zeros(2, dtype="ab")
    assert_unchanged([x], before)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std"])
def test_a_tensor_as_an_axis(name):
    x = leaf(np.ones((2, 3)))
    before = snapshot(x)
    with pytest.raises(TypeError, match=rf"{name}: axis.*Tensor.*\(2, 3\) float64"):
        getattr(x, name)(axis=Tensor(1))
    assert_unchanged([x], before)


def test_object_arrays_and_ragged_lists():
    x = leaf([1.0, 2.0, 3.0])
    before = snapshot(x)
    numeric_objects = np.array([1.0, 2.0, 3.0], dtype=object)
    with pytest.raises(TypeError, match="Tensor.*object"):
        Tensor(numeric_objects)
    with pytest.raises(TypeError, match="add.*object"):
        x + numeric_objects
    with pytest.raises(TypeError, match="multiply.*object"):
        numeric_objects * x
    with pytest.raises(TypeError, match="add.*str"):
        x + "text"
    with pytest.raises(ValueError, match="Tensor.*inhomogeneous"):
        Tensor([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match="add.*ragged"):
        x + [[1.0, 2.0], [3.0]]
    assert_unchanged([x], before)


def test_failed_backward_changes_nothing(used_leaves):
    a, b = used_leaves
    y = a * 2.0
    before = snapshot(a, b)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"\(4,\).*\(2, 3\)"):
        y.backward(np.ones(4))
    assert_unchanged([a, b], before)
    y.backward(np.ones((2, 3)))        # and the graph is still usable
    np.testing.assert_allclose(a.grad, before[0][2] + 2.0)


# ---- valid but unusual input works as in NumPy ---------------------------------------------------

def test_size_zero_tensors():
    x = leaf(np.zeros((0, 3)))
    w = leaf(np.ones((3, 2)))
    v = leaf(np.ones(3))
    total = x.sum()
    assert total.shape == () and total.item() == 0.0
    np.testing.assert_array_equal(x.sum(axis=0).data, np.zeros(3))
    y = (x @ w).sum() + (ag.tanh(x) * v).sum() + ag.exp(x).sum(axis=1).sum() + total
    assert y.item() == 0.0
    y.backward()
    assert x.grad.shape == (0, 3) and x.grad.dtype == np.float64
    np.testing.assert_array_equal(w.grad, np.zeros((3, 2)))
    np.testing.assert_array_equal(v.grad, np.zeros(3))
    (gx,) = ag.grad(ag.concatenate([x, v.reshape(1, 3)]).sum(), x)
    assert gx.shape == (0, 3)
    with pytest.raises(ValueError, match="max"):
        x.max()                      # as NumPy: no identity for an empty maximum


def test_nan_and_inf_propagate_and_unrelated_gradients_stay_finite():
    x = leaf([np.nan, 1.0, np.inf])
    w = leaf([2.0, 3.0, 4.0])
    u = leaf([1.0, 2.0])
    y = (x * w).sum() + (u * u).sum() + x[1] * 5.0
    assert np.isnan(y.item())
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 8.0, 4.0])        # d/dx: w (+5 at index 1)
    np.testing.assert_array_equal(w.grad, [np.nan, 1.0, np.inf])  # d/dw: x itself
    np.testing.assert_array_equal(u.grad, [2.0, 4.0])

    z = leaf([np.nan, 0.5, np.inf, -np.inf])
    for f, expect in [(ag.tanh, [np.nan, np.tanh(0.5), 1.0, -1.0]),
                      (ag.sigmoid, [np.nan, 1 / (1 + np.exp(-0.5)), 1.0, 0.0]),
                      (ag.exp, [np.nan, np.exp(0.5), np.inf, 0.0]),
                      (ag.relu, [np.nan, 0.5, np.inf, 0.0])]:
        out = f(z)
        np.testing.assert_allclose(out.data, expect)
        out.backward(np.ones(4))
    assert np.isnan(z.grad[0]) and np.isfinite(z.grad[1])

    a = leaf(np.array([[np.nan, 1.0], [2.0, 3.0]]))
    b = leaf(np.array([[1.0], [2.0]]))
    out = a @ b
    assert np.isnan(out.data[0, 0]) and out.data[1, 0] == 8.0
    out[1].sum().backward()
    np.testing.assert_array_equal(a.grad, [[0.0, 0.0], [1.0, 2.0]])   # row 0 unused: finite


def test_non_contiguous_and_read_only_inputs():
    base = np.arange(12.0).reshape(3, 4)
    strided = base[:, ::2]                     # non-contiguous view
    transposed = base.T
    frozen = np.arange(4.0)
    frozen.flags.writeable = False
    broadcast = np.broadcast_to(np.array([1.0, 2.0]), (3, 2))   # read-only, zero strides
    copies = [a.copy() for a in (strided, transposed, frozen, broadcast)]

    s = Tensor(strided, requires_grad=True)
    t = Tensor(transposed, requires_grad=True)
    f = Tensor(frozen, requires_grad=True)
    assert s.data is strided and f.data is frozen
    y = (s * broadcast).sum() + (f @ t).sum() + (f * f).sum() + ag.tanh(s.T).sum()
    y.backward()
    np.testing.assert_allclose(s.grad, broadcast + (1 - np.tanh(strided) ** 2))
    np.testing.assert_allclose(t.grad, np.outer(frozen, np.ones(3)))
    np.testing.assert_allclose(f.grad, transposed.sum(axis=1) + 2 * frozen)
    for g in (s.grad, t.grad, f.grad):
        assert g.flags.writeable and g.flags.owndata
    for arr, copy in zip((strided, transposed, frozen, broadcast), copies):
        np.testing.assert_array_equal(arr, copy)
    assert not frozen.flags.writeable
    with pytest.raises(ValueError, match="setitem.*read-only"):
        Tensor(frozen)[0] = 1.0
    np.testing.assert_array_equal(frozen, copies[2])


# ---- numerics at the extremes ------------------------------------------------------------------

EXTREME = {
    "sigmoid": ag.sigmoid,
    "tanh": ag.tanh,
    "logsumexp": lambda t: ag.logsumexp(t, axis=-1),
    "log_softmax": lambda t: ag.log_softmax(t, axis=-1),
    "softmax": lambda t: ag.softmax(t, axis=-1),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(EXTREME))
def test_extreme_logits_give_finite_values_and_gradients(name, dtype):
    x = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], dtype=dtype),
               requires_grad=True)
    upstream = np.random.default_rng(0)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = EXTREME[name](x)
        assert y.dtype == dtype and np.all(np.isfinite(y.data))
        y.backward(upstream.standard_normal(y.shape).astype(dtype))
    assert x.grad.dtype == dtype and np.all(np.isfinite(x.grad))


def test_extreme_values_are_right():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        x = Tensor(np.array([1e4, -1e4]))
        np.testing.assert_array_equal(ag.sigmoid(x).data, [1.0, 0.0])
        np.testing.assert_array_equal(ag.tanh(x).data, [1.0, -1.0])
        np.testing.assert_allclose(ag.logsumexp(x).item(), 1e4)
        np.testing.assert_allclose(ag.log_softmax(x).data, [0.0, -2e4])
        x = leaf([1e4, -1e4])
        ag.logsumexp(x).backward()
        np.testing.assert_allclose(x.grad, [1.0, 0.0])
