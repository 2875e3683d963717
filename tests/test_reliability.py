"""Reliability of the engine (issue 6): bad input, unusual but valid input, in-place changes and
version counters, scale and memory, threads, numerics at the extremes, and a stateful property
test that interleaves everything a user does and checks every gradient by finite differences."""

from __future__ import annotations

import gc
import operator
import sys
import threading
import time
import weakref

import numpy as np
import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant, multiple,
                                 rule)

import autograd as ag
from autograd import Tensor


def leaf(values, dtype=np.float64) -> Tensor:
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def snapshot(*tensors):
    """Data and grad of each tensor, copied, to check that a failure changed nothing."""
    return [(t.data, t.data.copy(), None if t.grad is None else t.grad.copy()) for t in tensors]


def assert_unchanged(tensors, before):
    for t, (data, values, grad) in zip(tensors, before):
        assert t.data is data
        np.testing.assert_array_equal(t.data, values)
        if grad is None:
            assert t.grad is None
        else:
            np.testing.assert_array_equal(t.grad, grad)


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


# ---- scale and memory ----------------------------------------------------------------------------

def _chain_seconds(n: int) -> float:
    """Build a chain of n negations, then time backward plus freeing it (gc off: refcounts only)."""
    x = leaf(1.0)
    y = x
    for _ in range(n):
        y = -y
    first = weakref.ref(x.grad_fn if x.grad_fn is not None else y.grad_fn.parents[0])
    start = time.perf_counter()
    y.backward()
    del y
    elapsed = time.perf_counter() - start
    assert x.grad == (-1.0) ** n
    assert first() is None
    return elapsed


@pytest.mark.slow
def test_million_node_chain_backward_and_freeing_are_linear():
    gc.collect()
    gc.disable()
    try:
        small = min(_chain_seconds(100_000) for _ in range(2))
        big = _chain_seconds(1_000_000)
        x = leaf(1.0)
        y = x
        for _ in range(1_000_000):
            y = y + 1.0
        tail = weakref.ref(y.grad_fn)
        del y                               # freed without any backward, without recursion
        assert tail() is None
    finally:
        gc.enable()
    assert big <= 20 * small, f"10^6 nodes took {big:.2f}s, 10^5 took {small:.3f}s"


def _all_nodes(roots):
    """Every node reachable from the roots (iterative walk)."""
    seen, stack = {}, [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(p for p in node.parents if p is not None and not isinstance(p, Tensor))
    return list(seen.values())


@pytest.mark.parametrize("mode", ["forward only", "backward", "create_graph"])
def test_every_intermediate_is_freed_by_reference_counting(mode):
    gc.collect()
    gc.disable()
    try:
        rng = np.random.default_rng(0)
        w1, w2 = leaf(rng.standard_normal((4, 8))), leaf(rng.standard_normal((8, 1)))
        x = Tensor(rng.standard_normal((5, 4)))
        hidden = ag.tanh(x @ w1)
        out = ag.sigmoid(hidden @ w2)
        loss = ((out - 1.0) ** 2).mean() + ag.logsumexp(hidden, axis=1).sum() * 0.01
        tensors = [hidden, out]
        if mode == "backward":
            loss.backward()
        elif mode == "create_graph":
            g1, g2 = ag.grad(loss, [w1, w2], create_graph=True)
            penalty = (g1 * g1).sum() + (g2 * g2).sum()
            penalty.backward()
            tensors += [g1, g2, penalty]
        refs = [weakref.ref(t) for t in tensors] + [weakref.ref(n) for n in _all_nodes(
            tensors + [loss])]
        assert len(refs) > 10
        del hidden, out, loss, tensors
        if mode == "create_graph":
            del g1, g2, penalty
        assert [r() for r in refs if r() is not None] == []
    finally:
        gc.enable()


def test_two_threads_training_at_once_match_running_one_after_the_other():
    def train(seed, results, barrier=None):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((16, 3))
        target = (x.sum(axis=1, keepdims=True) > 0).astype(np.float64)
        w = Tensor(rng.standard_normal((3, 1)) * 0.1, requires_grad=True)
        b = Tensor(np.zeros(1), requires_grad=True)
        for step in range(40):
            if barrier is not None:
                barrier.wait()
            pred = ag.sigmoid(Tensor(x) @ w + b)
            loss = ((pred - target) ** 2).mean()
            if seed % 2:                       # one thread evaluates under no_grad meanwhile
                with ag.no_grad():
                    assert not (Tensor(x) @ w).requires_grad
            assert loss.requires_grad, "another thread's no_grad leaked into this one"
            w.grad = b.grad = None
            loss.backward()
            with ag.no_grad():
                w[...] = w.data - 0.5 * w.grad
                b[...] = b.data - 0.5 * b.grad
        results[seed] = (w.data.copy(), b.data.copy(), loss.item())

    sequential, concurrent = {}, {}
    train(1, sequential)
    train(2, sequential)
    barrier = threading.Barrier(2)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)               # switch threads as often as possible
    try:
        threads = [threading.Thread(target=train, args=(s, concurrent, barrier)) for s in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert set(concurrent) == {1, 2}
    for seed in (1, 2):
        for a, b in zip(sequential[seed], concurrent[seed]):
            np.testing.assert_array_equal(a, b)
    assert ag.is_grad_enabled()


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


# ---- stateful property test ----------------------------------------------------------------------
#
# The machine keeps expressions over three leaves of broadcast-compatible shapes.  Each expression
# carries a plain-NumPy function of the leaves' values (a detached or no_grad result is a frozen
# constant there), the set of graph nodes it reaches and the leaves it depends on through the graph.
# The model predicts every leaf's .grad (accumulated since the last zero_grad) by central
# differences of those functions, and which backward calls must fail because an earlier backward
# without retain_graph freed part of their graph.

LEAF_SHAPES = [(), (3,), (2, 3)]

UNARY = {
    "tanh": (ag.tanh, np.tanh),
    "sin": (ag.sin, np.sin),
    "sigmoid": (ag.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
    "arctan": (ag.arctan, np.arctan),
    "scale": (lambda t: t * 0.5 - 1.0, lambda v: v * 0.5 - 1.0),
    "square": (lambda t: t * t, lambda v: v * v),
    "sum0": (lambda t: t.sum(axis=0) if t.ndim else t * 1.0,
             lambda v: v.sum(axis=0) if v.ndim else v * 1.0),
    "mean": (lambda t: t.mean(), np.mean),
}
BINARY_OPS = {
    "add": (lambda a, b: a + b, np.add),
    "sub": (lambda a, b: a - b, np.subtract),
    "mul": (lambda a, b: a * b, np.multiply),
}


class Expr:
    def __init__(self, tensor, fn, nodes=frozenset(), leaves=frozenset()):
        self.tensor, self.fn, self.nodes, self.leaves = tensor, fn, nodes, leaves


class EngineMachine(RuleBasedStateMachine):
    exprs = Bundle("exprs")

    @initialize(target=exprs, seed=st.integers(0, 2**32 - 1))
    def make_leaves(self, seed):
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.leaves = [leaf(rng.uniform(-1.5, 1.5, shape)) for shape in LEAF_SHAPES]
        self.expected = [None] * len(self.leaves)
        self.freed = set()
        exprs = [Expr(t, (lambda vals, i=i: vals[i]), frozenset(), frozenset([i]))
                 for i, t in enumerate(self.leaves)]
        a, b, c = self.leaves      # one expression over all three leaves, to start from
        product = a * b
        mixed = product + ag.sin(c)
        self._alive = [product, mixed]
        nodes = frozenset(map(id, _all_nodes([mixed])))
        exprs.append(Expr(mixed, lambda vals: vals[0] * vals[1] + np.sin(vals[2]), nodes,
                          frozenset([0, 1, 2])))
        return multiple(*exprs)

    def _record(self, tensor, fn, parts):
        """An expression built by a recorded op over ``parts``; too large values are dropped."""
        if not np.all(np.abs(tensor.data) < 50):
            return multiple()
        if not tensor.requires_grad:
            return Expr(tensor, fn)
        nodes = frozenset().union(*(p.nodes for p in parts)) | {id(tensor.grad_fn)}
        self._alive.append(tensor)     # keeps the nodes alive, so their ids stay unique
        return Expr(tensor, fn, nodes, frozenset().union(*(p.leaves for p in parts)))

    @rule(target=exprs, e=exprs, name=st.sampled_from(sorted(UNARY)))
    def unary(self, e, name):
        op, ref = UNARY[name]
        return self._record(op(e.tensor), lambda vals, f=e.fn: ref(f(vals)), [e])

    @rule(target=exprs, a=exprs, b=exprs, name=st.sampled_from(sorted(BINARY_OPS)))
    def binary(self, a, b, name):
        op, ref = BINARY_OPS[name]
        return self._record(op(a.tensor, b.tensor),
                            lambda vals, f=a.fn, g=b.fn: ref(f(vals), g(vals)), [a, b])

    @rule(target=exprs, e=exprs, name=st.sampled_from(sorted(UNARY)))
    def under_no_grad(self, e, name):
        with ag.no_grad():
            out = UNARY[name][0](e.tensor)
        assert not out.requires_grad and out.is_leaf
        frozen = out.data.copy()
        return Expr(out, lambda vals: frozen)

    @rule(target=exprs, e=exprs)
    def detach(self, e):
        out = e.tensor.detach()
        assert out.data is e.tensor.data and not out.requires_grad
        frozen = out.data.copy()
        return Expr(out, lambda vals: frozen)

    def _numeric_grads(self, e, upstream):
        """d<upstream, e>/d leaf for every leaf e depends on, by central differences."""
        values = [t.data.copy() for t in self.leaves]
        grads = {}
        eps = 1e-6
        for i in e.leaves:
            g = np.zeros(values[i].shape)
            for k in np.ndindex(values[i].shape):
                original = values[i][k]
                values[i][k] = original + eps
                plus = np.sum(np.broadcast_to(e.fn(values), upstream.shape) * upstream)
                values[i][k] = original - eps
                minus = np.sum(np.broadcast_to(e.fn(values), upstream.shape) * upstream)
                values[i][k] = original
                g[k] = (plus - minus) / (2 * eps)
            grads[i] = g
        return grads

    @rule(e=exprs, retain=st.booleans(), seed=st.integers(0, 2**16))
    def backward(self, e, retain, seed):
        before = [None if t.grad is None else t.grad.copy() for t in self.leaves]
        upstream = np.random.default_rng(seed).standard_normal(e.tensor.shape)
        if not e.tensor.requires_grad:
            with pytest.raises(RuntimeError, match="does not require grad"):
                e.tensor.backward(upstream)
        elif e.nodes & self.freed:
            with pytest.raises(RuntimeError, match="retain_graph"):
                e.tensor.backward(upstream, retain_graph=retain)
        else:
            expected = self._numeric_grads(e, upstream)
            e.tensor.backward(upstream, retain_graph=retain)
            for i, g in expected.items():
                self.expected[i] = g if self.expected[i] is None else self.expected[i] + g
            if not retain:
                self.freed |= e.nodes
            return
        for t, g in zip(self.leaves, before):    # a refused backward changed nothing
            assert (t.grad is None) if g is None else np.array_equal(t.grad, g)

    @rule(e=exprs, seed=st.integers(0, 2**16))
    def grad_function(self, e, seed):
        """ag.grad returns the same gradients as backward would, and touches no .grad."""
        if not e.tensor.requires_grad or e.nodes & self.freed or not e.leaves:
            return
        before = [None if t.grad is None else t.grad.copy() for t in self.leaves]
        upstream = np.random.default_rng(seed).standard_normal(e.tensor.shape)
        order = sorted(e.leaves)
        got = ag.grad(e.tensor, [self.leaves[i] for i in order], grad_outputs=upstream,
                      retain_graph=True)
        expected = self._numeric_grads(e, upstream)
        for i, g in zip(order, got):
            np.testing.assert_allclose(g.data, expected[i], rtol=1e-4, atol=1e-6)
        for t, g in zip(self.leaves, before):
            assert (t.grad is None) if g is None else np.array_equal(t.grad, g)

    @rule()
    def zero_grad(self):
        for t in self.leaves:
            t.grad = None
        self.expected = [None] * len(self.leaves)

    @invariant()
    def gradients_match_finite_differences(self):
        if not hasattr(self, "leaves"):
            return
        assert ag.is_grad_enabled()
        for t, g in zip(self.leaves, self.expected):
            if g is None:
                assert t.grad is None
            else:
                assert t.grad.shape == t.shape and t.grad.dtype == t.dtype
                np.testing.assert_allclose(t.grad, g, rtol=1e-4, atol=1e-6)


# Bounded in CI (100 runs of up to 50 steps), 2000 runs under HYPOTHESIS_PROFILE=intense.
EngineMachine.TestCase.settings = settings(max_examples=max(100, settings.default.max_examples),
                                           stateful_step_count=50)
TestEngineMachine = EngineMachine.TestCase
