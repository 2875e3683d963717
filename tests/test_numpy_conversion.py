"""The ways out of the graph: implicit conversions of a Tensor that requires grad raise, pointing
to the fix; float/int/item/tolist and the explicit .data/.numpy()/.detach() keep working; Tensors
that do not require grad convert freely; complex numbers are refused."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag


def leaf():
    return ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)


IMPLICIT = {
    "np.asarray": lambda t: np.asarray(t),
    "np.array": lambda t: np.array(t),
    "np.array of a list": lambda t: np.array([t, t]),
    "np.mean of a list": lambda t: np.mean([t, t]),
    "np.r_": lambda t: np.r_[t, t],
    "np.c_": lambda t: np.c_[t, t],
    "ndarray setitem": lambda t: np.zeros(3).__setitem__(slice(None), t),
    "ndarray.dot": lambda t: np.ones(3).dot(t),
}


@pytest.mark.parametrize("name", IMPLICIT)
def test_implicit_conversion_of_a_tensor_that_requires_grad_raises(name):
    with pytest.raises(TypeError) as info:
        IMPLICIT[name](leaf())
    message = str(info.value)
    assert "lose its gradient" in message
    for fix in ("t.detach()", "t.data", "t.numpy()", "ag.stack"):
        assert fix in message, (fix, message)


@pytest.mark.parametrize("name", IMPLICIT)
def test_tensors_that_do_not_require_grad_convert_freely(name):
    t = ag.Tensor(np.array([1.0, 2.0, 3.0]))
    IMPLICIT[name](t)     # no error
    np.testing.assert_array_equal(np.asarray(t), t.data)
    np.testing.assert_array_equal(np.asarray(leaf().detach()), [1.0, 2.0, 3.0])


def test_sanctioned_ways_out_keep_working():
    t = leaf()
    assert t.tolist() == [1.0, 2.0, 3.0]
    assert t[1].item() == 2.0 and float(t[1]) == 2.0 and int(t[2]) == 3
    assert t.numpy() is t.data
    assert np.array_equal(t.detach().data, t.data)


def test_a_joined_list_of_tensors_keeps_its_gradient_with_ag_stack():
    t = leaf()
    (g,) = ag.grad(ag.stack([t, 2 * t]).sum(), t)
    np.testing.assert_array_equal(g.data, [3.0, 3.0, 3.0])


def test_the_issue_example_gets_the_right_gradient():
    x = ag.Tensor(np.array([0.1, 0.2, 0.3]), requires_grad=True)
    (g,) = ag.grad(np.dot(x, np.array([1.0, 2.0, 3.0])) + x.sum(), x)   # np.dot is routed now
    np.testing.assert_allclose(g.data, [2.0, 3.0, 4.0])


@pytest.mark.parametrize("make", [
    lambda t: t + 1j, lambda t: 1j * t, lambda t: t * np.array([1j, 1, 1]),
    lambda t: ag.tensor([1 + 2j]), lambda t: t.astype(np.complex128),
    lambda t: np.exp(t, dtype=np.complex128), lambda t: np.sqrt(t.astype(np.float64) * (1 + 0j)),
])
def test_complex_numbers_are_refused_naming_the_op(make):
    with pytest.raises(TypeError, match="complex"):
        make(leaf())


def test_checkpoints_may_still_store_complex_arrays(tmp_path):
    import nn
    nn.save({"z": np.array([1 + 2j])}, tmp_path / "c.npz")
    np.testing.assert_array_equal(nn.load(tmp_path / "c.npz")["z"], [1 + 2j])
