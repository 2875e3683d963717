"""Engine semantics: backward, accumulation, retain_graph, hooks, grad mode, detach and dtypes,
construction, graph lifetime."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from engine_helpers import leaf


# ---- backward basics --------------------------------------------------------------------------

def test_shared_subexpressions_are_counted_once():
    a = leaf(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0


def test_diamond_graph():
    x = leaf([1.0, 2.0])
    h = x * x
    y = (h * 3.0 + ag.exp(h)).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, (3.0 + np.exp([1.0, 4.0])) * 2 * np.array([1.0, 2.0]))


def test_leaf_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0 + 3.0, 4.0 + 3.0])
    x.grad = None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0])


def test_retain_graph_allows_exactly_one_more_pass():
    x = leaf([1.0, -2.0])
    y = (ag.tanh(x) * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)   # the failed pass changed nothing


def test_second_backward_without_retain_graph_raises_and_changes_nothing():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    h = x * w
    y = h.sum()
    y.backward()
    grads = x.grad.copy(), w.grad.copy()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (h * 2.0).sum().backward()   # a new graph on top of a freed one
    np.testing.assert_array_equal(x.grad, grads[0])
    np.testing.assert_array_equal(w.grad, grads[1])


def test_freed_graph_keeps_structure_for_drawing():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    node = y.grad_fn
    assert node.released and node.name == "sum" and node.shape == () and node.dtype == np.float64
    mul = node.parents[0]
    assert mul.name == "multiply" and mul.parents == (x, x) and mul.inputs is None


def test_non_scalar_backward_needs_a_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"shape \(3,\)"):
        y.backward()
    y.backward(np.array([1.0, 0.0, 2.0]), retain_graph=True)
    np.testing.assert_allclose(x.grad, [2.0, 0.0, 4.0])
    y.backward(1.0, retain_graph=True)      # broadcast to the output's shape
    np.testing.assert_allclose(x.grad, [4.0, 2.0, 6.0])
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        y.backward(np.ones(2))


def test_backward_on_tensor_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).sum().backward()


def test_backward_of_a_leaf():
    x = leaf(2.0)
    x.backward()
    assert x.grad == 1.0


def test_non_leaf_grad_is_none_unless_retained():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    k = x * 2.0
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad, [3.0, 6.0])
    assert not h.is_leaf and x.is_leaf


# ---- hooks ------------------------------------------------------------------------------------

def test_hooks_modify_and_observe_and_remove():
    x = leaf([1.0, 2.0])
    seen = []
    handle_leaf = x.register_hook(lambda g: seen.append(g.copy()))
    h = x * 2.0
    handle_scale = h.register_hook(lambda g: g * 10.0)
    h.sum().backward()
    np.testing.assert_allclose(x.grad, [20.0, 20.0])
    np.testing.assert_allclose(seen[0], [20.0, 20.0])

    handle_leaf.remove()
    handle_scale.remove()
    handle_scale.remove()   # removing twice is harmless
    x.grad = None
    h2 = x * 2.0
    h2.register_hook(lambda g: None)   # observing only
    h2.sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])
    assert len(seen) == 1


def test_leaf_hook_sees_the_total_gradient_once_per_pass():
    x = leaf(1.0)
    calls = []
    x.register_hook(lambda g: calls.append(float(g)))
    (x * 2.0 + x * 3.0).backward()
    assert calls == [5.0]


def test_leaf_hook_can_replace_the_gradient():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 0.5)
    (x * 4.0).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])
    (g,) = ag.grad((x * 4.0).sum(), x)      # grad sees hooked gradients too
    np.testing.assert_allclose(g.data, [2.0, 2.0])


def test_retained_grad_sees_what_hooks_return_even_when_registered_later():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    h.retain_grad()
    h.retain_grad()                          # twice is once
    h.register_hook(lambda g: g * 3.0)
    (h * 1.0).sum().backward()
    np.testing.assert_allclose(h.grad, [3.0, 3.0])
    np.testing.assert_allclose(x.grad, [6.0, 6.0])


def test_register_hook_requires_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Tensor([1.0]).register_hook(lambda g: g)


def test_a_raising_leaf_hook_leaves_every_grad_untouched():
    x, w = leaf([1.0]), leaf([2.0])

    def boom(g):
        raise KeyError("hook failed")

    w.register_hook(boom)
    with pytest.raises(KeyError):
        (x * w).sum().backward()
    assert x.grad is None and w.grad is None


# ---- grad mode --------------------------------------------------------------------------------

def test_no_grad_context_and_decorators():
    x = leaf([1.0])
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        y = x * 2.0
        with ag.enable_grad():
            z = x * 2.0
        with ag.no_grad():
            pass
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and z.requires_grad

    @ag.no_grad()
    def called():
        return ag.is_grad_enabled(), x * 2.0

    @ag.no_grad
    def bare():
        return ag.is_grad_enabled()

    enabled, out = called()
    assert not enabled and not out.requires_grad and not bare() and ag.is_grad_enabled()
    assert called.__name__ == "called"


def test_set_grad_enabled_forms():
    with ag.set_grad_enabled(False):
        assert not ag.is_grad_enabled()
        with ag.set_grad_enabled(True):
            assert ag.is_grad_enabled()
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()

    @ag.set_grad_enabled(False)
    def off():
        return ag.is_grad_enabled()

    assert ag.is_grad_enabled() and not off() and ag.is_grad_enabled()
    try:
        ag.set_grad_enabled(False)      # a plain call switches at once, as in PyTorch
        assert not ag.is_grad_enabled()
    finally:
        ag.set_grad_enabled(True)
    assert ag.is_grad_enabled()


def test_grad_mode_restored_after_exceptions():
    with pytest.raises(ZeroDivisionError):
        with ag.no_grad():
            with ag.enable_grad():
                1 / 0
    assert ag.is_grad_enabled()

    @ag.no_grad()
    def fails():
        raise ValueError("inside")

    with pytest.raises(ValueError):
        fails()
    assert ag.is_grad_enabled()
    with pytest.raises(ZeroDivisionError):
        with ag.detect_anomaly():
            1 / 0
    assert not ag.is_anomaly_enabled()


def test_same_no_grad_instance_can_be_nested():
    off = ag.no_grad()
    with off:
        with ag.enable_grad():
            with off:
                assert not ag.is_grad_enabled()
            assert ag.is_grad_enabled()
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()


def test_grad_mode_is_thread_local():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with ag.no_grad():
            seen["worker"] = ag.is_grad_enabled()
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(5)
    try:
        seen["main"] = ag.is_grad_enabled()
        seen["main_records"] = (leaf([1.0]) * 2.0).requires_grad
    finally:
        release.set()
        thread.join()
    assert seen == {"worker": False, "main": True, "main_records": True}

    def fresh_thread():
        seen["fresh"] = ag.is_grad_enabled()

    with ag.no_grad():          # a new thread starts with recording on, whatever its parent does
        t = threading.Thread(target=fresh_thread)
        t.start()
        t.join()
    assert seen["fresh"] is True


# ---- detach, requires_grad, dtypes ------------------------------------------------------------

def test_detach_shares_data_and_cuts_history():
    x = leaf([1.0, 2.0])
    h = x * 2.0
    d = h.detach()
    assert d.data is h.data and not d.requires_grad and d.is_leaf
    (d * x).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0])   # no path through d


def test_requires_grad_on_leaves_only():
    t = Tensor([1.0, 2.0])
    assert t.requires_grad_() is t and t.requires_grad
    t.requires_grad_(False)
    assert not t.requires_grad
    h = leaf([1.0]) * 2.0
    with pytest.raises(RuntimeError, match="leaf"):
        h.requires_grad_(False)


@pytest.mark.parametrize("data", [[1, 2], [True, False], np.arange(3, dtype=np.int32),
                                  np.zeros(2, dtype=np.uint8)])
def test_integer_and_bool_tensors_cannot_require_grad(data):
    dtype = np.asarray(data).dtype
    with pytest.raises(TypeError, match=str(dtype)):
        Tensor(data, requires_grad=True)
    with pytest.raises(TypeError, match=str(dtype)):
        Tensor(data).requires_grad_()


def test_float32_in_float32_grads_out():
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    w = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    y = ag.tanh(x @ w * 2.0 + 1.0).sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    z = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    (z * np.ones(2)).sum().backward()        # the float64 product's gradient is cast back
    assert z.grad.dtype == np.float32


def test_astype_gradient_returns_to_input_dtype():
    x = Tensor(np.array([1.5, 2.5], dtype=np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, [3.0, 5.0])


# ---- construction and Python protocol ---------------------------------------------------------

def test_construction_rules():
    arr = np.arange(6.0).reshape(2, 3)
    t = Tensor(arr)
    assert t.data is arr                          # shared, like np.asarray
    assert Tensor(t).data is arr
    assert Tensor([1.0]).dtype == np.float64
    assert Tensor([1, 2]).dtype == np.int64
    assert Tensor([True]).dtype == np.bool_
    assert Tensor(np.float32(1)).dtype == np.float32
    assert Tensor(np.ones(2, np.float32)).dtype == np.float32
    assert Tensor(2.5).shape == ()
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert ag.tensor([[1.0, 2.0]], requires_grad=True).requires_grad
    assert (Tensor(np.ones(2, np.float32)) * 2.0).dtype == np.float32
    assert (Tensor(np.ones(2, np.float32)) + np.ones(2, np.float32)).dtype == np.float32


@pytest.mark.parametrize("data", [np.array([object(), 1], dtype=object),
                                  np.array([1.0, 2.0], dtype=object), "text", None, [1.0, "a"],
                                  np.array([1 + 2j])])
def test_construction_refuses_non_numeric(data):
    with pytest.raises(TypeError, match="Tensor.*dtype"):
        Tensor(data)


def test_construction_refuses_ragged_lists():
    with pytest.raises(ValueError, match="Tensor"):
        Tensor([[1.0, 2.0], [3.0]])


def test_numpy_interop_and_protocol():
    t = Tensor([1.0, 2.0])
    assert np.asarray(t) is t.data and t.numpy() is t.data
    assert np.asarray(t, dtype=np.float32).dtype == np.float32
    assert len(t) == 2 and t.ndim == 1 and t.size == 2 and t.shape == (2,)
    u = Tensor([1.0, 2.0])
    assert hash(t) != hash(u) and hash(t) == hash(t)
    assert {t: 1, u: 2}[u] == 2                    # identity hash, so usable as dict keys
    np.testing.assert_array_equal((t == u).data, [True, True])
    assert not (t == u).requires_grad
    assert bool(Tensor([3.0])) and not bool(Tensor(0.0))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        bool(t)
    with pytest.raises(ValueError):
        bool(Tensor(np.zeros(0)))
    assert Tensor(3.5).item() == 3.5 and float(Tensor([2.0])) == 2.0
    with pytest.raises(ValueError, match="item"):
        t.item()


def test_repr():
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1., 2.])"
    assert repr(Tensor([1.0], requires_grad=True)) == "Tensor([1.], requires_grad=True)"
    assert repr(Tensor(np.ones(1, np.float32))) == "Tensor([1.], dtype=float32)"
    assert repr(leaf([2.0]) * 2.0) == "Tensor([4.], grad_fn=<multiply>)"


# ---- graph size and lifetime ------------------------------------------------------------------

def test_long_chain_backward_has_no_recursion():
    x = leaf(1.0)
    y = x
    for _ in range(200_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0
    del y    # freeing the chain does not recurse either


def _graph():
    x = leaf([0.5, 1.5])
    h = ag.tanh(x * 2.0)
    y = (ag.exp(h) * h).sum()
    return x, h, y


@pytest.mark.parametrize("mode", ["none", "backward", "retain_graph", "create_graph"])
def test_graph_is_freed_by_reference_counting(mode):
    gc.collect()
    gc.disable()
    try:
        x, h, y = _graph()
        refs = [weakref.ref(h), weakref.ref(h.grad_fn), weakref.ref(y.grad_fn)]
        if mode == "backward":
            y.backward()
        elif mode == "retain_graph":
            y.backward(retain_graph=True)
        elif mode == "create_graph":
            (g,) = ag.grad(y, x, create_graph=True)
            refs += [weakref.ref(g), weakref.ref(g.grad_fn)]
            g.sum().backward()
            del g
        del h, y
        assert [r() for r in refs] == [None] * len(refs)
        assert x.grad is None or x.grad.shape == (2,)
    finally:
        gc.enable()


def test_backward_rule_with_a_wrong_shape_is_named():
    """A built-in-style Op whose backward returns a gradient no summation fits raises, naming it."""
    class BadOp(ag.Op):
        def forward(self, x):
            return x.sum()

        def backward(self, g):
            return np.ones((3, 2))

    x = ag.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"'badop'.*\(3, 2\).*\(2, 3\)"):
        ag.apply(BadOp, x).backward()
    assert x.grad is None
