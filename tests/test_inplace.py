"""In-place changes (issue 6): refused inside a graph, and caught at backward through version
counters when an array a node saved for backward was changed."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from engine_helpers import assert_unchanged, leaf, snapshot


# ---- in-place changes: refused inside a graph, caught at backward through version counters -----

def test_setitem_into_a_graph_raises_clearly():
    x = leaf([1.0, 2.0, 3.0])
    h = x * 2.0
    before = snapshot(x, h)
    with pytest.raises(RuntimeError, match=r"setitem.*requires grad.*\(3,\)"):
        h[0] = 5.0
    with pytest.raises(RuntimeError, match=r"setitem.*requires grad.*\(3,\)"):
        x[0] = 5.0                     # a leaf in use, while recording
    with pytest.raises(RuntimeError, match="setitem.*drop its gradient"):
        Tensor(np.zeros(3))[0:2] = x[0:2]
    assert_unchanged([x, h], before)
    with pytest.raises(IndexError, match=r"setitem.*out of bounds.*\(3,\)"):
        Tensor(np.zeros(3))[7] = 1.0


def test_setitem_outside_graphs_works_like_numpy():
    t = Tensor(np.zeros((2, 3)))
    t[0] = 1.0
    t[1, Tensor(np.array([0, 2]))] = Tensor(np.array([5.0, 6.0]))
    t[t.data == 0] = -1.0
    np.testing.assert_array_equal(t.data, [[1, 1, 1], [5, -1, 6]])
    x = leaf([1.0, 2.0])
    with ag.no_grad():                  # leaves may be updated in place, as optimizers do
        x[0] = 10.0
    np.testing.assert_array_equal(x.data, [10.0, 2.0])


def test_version_counter_counts_changes_to_shared_memory():
    arr = np.zeros(4)
    t = Tensor(arr)
    other = Tensor(arr)                # shares the array, so shares its version
    assert t._version == 0
    t[0] = 1.0
    v1 = t._version
    assert v1 > 0 and other._version == v1
    t[1:3] = 2.0
    assert t._version > v1
    assert Tensor(np.zeros(4))._version == 0


def test_change_to_a_saved_input_is_caught_at_backward():
    x = leaf([1.0, 2.0, 3.0])
    w = Tensor(np.array([4.0, 5.0, 6.0]))      # a constant the product saved for backward
    y = (x * w).sum()
    w[0] = 0.0                                  # fine in itself ...
    with pytest.raises(RuntimeError, match=r"'multiply'.*modified in place"):
        y.backward()                            # ... but the saved copy is stale
    assert x.grad is None
    y = (x * w).sum()                           # recomputing after the change is fine
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 5.0, 6.0])


def test_changes_through_views_detach_and_no_grad_updates_are_caught():
    x = leaf(np.arange(6.0).reshape(2, 3))
    c = Tensor(np.ones((2, 3)))
    with ag.no_grad():
        row = c[0]                   # a view of c's memory
    y = (ag.sin(x) * c).sum()
    row[1] = 7.0
    with pytest.raises(RuntimeError, match="'multiply'"):
        y.backward()

    y = ag.sin(x).sum()              # sin saves its input, x
    x.detach()[0, 0] = 1.0           # detach shares memory and version
    with pytest.raises(RuntimeError, match=r"'sin' saved its input 0"):
        y.backward()

    y = (x * x).sum()
    with ag.no_grad():
        x[1, 1] = 0.0                # an "optimizer step" between forward and backward
    with pytest.raises(RuntimeError, match="'multiply'"):
        y.backward()
    assert x.grad is None


def test_change_to_a_saved_output_is_caught():
    x = leaf([0.0, 1.0])
    y = ag.exp(x)                    # exp saves its output
    y.detach()[0] = 5.0
    with pytest.raises(RuntimeError, match=r"'exp' saved its output"):
        y.sum().backward()


def test_changes_that_backward_does_not_need_are_allowed():
    x = leaf([1.0, 2.0])
    c = Tensor(np.array([3.0, 4.0]))
    y = (x + c).sum()                # add saves nothing
    c[0] = 100.0
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    d = Tensor(np.array([1.0, 1.0]))
    d[0] = 2.0                       # changed before the op ran: nothing stale
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 2.0])


def test_change_between_retained_backward_passes_is_caught():
    x = leaf([1.0, 2.0])
    c = Tensor(np.array([3.0, 4.0]))
    y = (x * c).sum()
    y.backward(retain_graph=True)
    c[1] = 0.0
    with pytest.raises(RuntimeError, match="'multiply'"):
        y.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_change_to_a_custom_function_saved_array_is_caught():
    class Square(ag.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_arrays
            return 2 * a * grad

    x = leaf([1.0, 2.0])
    y = Square.apply(x).sum()
    x.detach()[0] = 9.0
    with pytest.raises(RuntimeError, match="'Square' saved its save_for_backward array 0"):
        y.backward()
