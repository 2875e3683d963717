"""ag.grad and higher-order derivatives, custom Functions, gradcheck and detect_anomaly."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from engine_helpers import leaf


# ---- ag.grad and higher order -----------------------------------------------------------------

def test_grad_higher_order():
    x = leaf(2.0)
    (g1,) = ag.grad(x ** 3, x, create_graph=True)
    (g2,) = ag.grad(g1, x, create_graph=True)
    (g3,) = ag.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (12.0, 12.0, 6.0)
    assert x.grad is None                          # grad captures, it does not accumulate
    assert g1.requires_grad and not g3.requires_grad


def test_grad_of_non_leaf_input_and_allow_unused():
    x = leaf(2.0)
    h = x * 3.0
    y = h * h
    unused = leaf(1.0)
    gh, gu = ag.grad(y, [h, unused], retain_graph=True, allow_unused=True)
    assert gh.item() == 12.0 and gu is None
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad(y, [unused])
    assert h.grad is None and x.grad is None


def test_grad_of_several_outputs_sharing_a_graph():
    x = leaf(1.0)
    y = (x * 3.0) * 2.0
    z = y * 5.0
    (g,) = ag.grad([y, z], x)
    assert g.item() == 6.0 + 30.0


def test_grad_of_the_same_output_twice_counts_it_twice():
    x = leaf(1.0)
    y = x * 3.0
    (g,) = ag.grad([y, y], x)
    assert g.item() == 6.0
    (g,) = ag.grad([x, x], x)
    assert g.item() == 2.0


def test_grad_with_grad_outputs_and_mixed_second_derivative():
    x, w = leaf([1.0, 2.0]), leaf([3.0, -1.0])
    y = ag.sin(x) * w
    (gx,) = ag.grad(y, x, grad_outputs=np.array([1.0, 2.0]), create_graph=True)
    np.testing.assert_allclose(gx.data, np.cos([1.0, 2.0]) * [3.0, -1.0] * [1.0, 2.0])
    (gw,) = ag.grad(gx.sum(), w)
    np.testing.assert_allclose(gw.data, np.cos([1.0, 2.0]) * [1.0, 2.0])


def test_grad_outputs_forms():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    for upstream in (2.0, np.array([2.0, 2.0]), Tensor([2.0, 2.0]), [np.array([2.0, 2.0])]):
        (g,) = ag.grad(y, x, grad_outputs=upstream, retain_graph=True)
        np.testing.assert_allclose(g.data, [6.0, 6.0])
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        ag.grad([y, y], x, grad_outputs=[np.ones(2)])
    with pytest.raises(TypeError, match=r"grad: the gradient must be numeric.*\(2,\)"):
        ag.grad(y, x, grad_outputs="ab")


def test_grad_rejects_inputs_without_grad():
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        ag.grad(leaf(1.0) * 2.0, Tensor(1.0))


# ---- custom Functions -------------------------------------------------------------------------

class Cube(ag.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        return 3 * x ** 2 * grad


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 2 * x ** 2 * grad


class ScaledAdd(ag.Function):
    @staticmethod
    def forward(ctx, a, b, scale=1.0):
        ctx.scale = scale
        return a + scale * b

    @staticmethod
    def backward(ctx, grad):
        return grad, ctx.scale * grad if ctx.needs_input_grad[1] else None


def test_custom_function_forward_and_backward():
    x = leaf([1.0, 2.0])
    y = Cube.apply(x)
    assert repr(y).endswith("grad_fn=<Cube>)")
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 12.0])
    a, b = leaf([1.0, 2.0]), leaf(1.0)
    out = ScaledAdd.apply(a, b, scale=2.0)       # b is broadcast; the engine reduces its gradient
    out.sum().backward()
    np.testing.assert_allclose(a.grad, [1.0, 1.0])
    assert b.grad == 4.0


def test_custom_function_is_first_order_only():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="first-order"):
        ag.grad(Cube.apply(x).sum(), x, create_graph=True)


def test_custom_function_with_wrong_gradient_count_or_shape():
    class TooMany(Cube):
        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    class BadShape(Cube):
        @staticmethod
        def backward(ctx, grad):
            return np.ones(5)

    for fn, pattern in [(TooMany, "TooMany.*2 gradients.*1 inputs"),
                        (BadShape, r"BadShape.*\(5,\).*\(2,\)")]:
        x = leaf([1.0, 2.0])
        with pytest.raises(RuntimeError, match=pattern):
            fn.apply(x).sum().backward()
        assert x.grad is None


# ---- gradcheck --------------------------------------------------------------------------------

def test_gradcheck_accepts_correct_ops():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    before = x.data.copy()
    assert ag.gradcheck(lambda a, b: ag.tanh(a @ b), [x, w])
    assert ag.gradcheck(Cube.apply, [Tensor(rng.standard_normal(3), requires_grad=True)])
    np.testing.assert_array_equal(x.data, before)     # the caller's arrays are untouched
    assert x.grad is None


def test_gradcheck_catches_a_wrong_backward():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with pytest.raises(AssertionError, match=r"input 0 .*index \(0,\)"):
        ag.gradcheck(WrongCube.apply, [x])
    c = Tensor(np.array([1.0, 2.0]))
    with pytest.raises(AssertionError, match=r"input 1 .*index \(0,\)"):
        ag.gradcheck(lambda a, b: a * WrongCube.apply(b), [c, Tensor([2.0, 3.0], requires_grad=True)])


def test_gradcheck_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="requires grad"):
        ag.gradcheck(lambda a: a * 2.0, [Tensor([1.0])])


# ---- detect_anomaly ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, method", [("sqrt", False), ("log", False), ("sqrt", True)])
def test_detect_anomaly_names_the_op_and_where_it_was_made(name, method):
    x = leaf([0.0, 1.0])
    with ag.detect_anomaly():
        with np.errstate(divide="ignore"):     # log(0) = -inf in forward, as NumPy says
            y = getattr(x, name)() if method else getattr(ag, name)(x)   # the creating line
        loss = (y * 2.0).sum()
        with pytest.raises(RuntimeError, match=rf"'{name}'.*inf.*test_grad_api\.py:\d+") as info:
            loss.backward()
    assert "getattr(x, name)" in str(info.value)
    assert x.grad is None


def test_detect_anomaly_reports_nan():
    x = leaf([-1.0, 1.0])
    with ag.detect_anomaly(), np.errstate(invalid="ignore"):
        y = ag.sqrt(x).sum()
        with pytest.raises(RuntimeError, match="'sqrt' returned NaN"):
            y.backward()


def test_without_anomaly_mode_nan_gradients_propagate():
    x = leaf([0.0, 1.0])
    y = ag.sqrt(x).sum()
    with np.errstate(divide="ignore"):
        y.backward()
    assert np.isinf(x.grad[0]) and x.grad[1] == 0.5


def test_grad_fills_no_retained_grad():
    """ag.grad returns gradients and leaves every .grad alone, retain_grad()'s included."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    (gx,) = ag.grad(h.sum(), [x])
    np.testing.assert_array_equal(gx.data, [2.0, 2.0])
    assert h.grad is None and x.grad is None
