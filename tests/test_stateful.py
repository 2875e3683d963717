"""A Hypothesis state machine (issue 6) interleaving building expressions, backward with and without
retain_graph, zeroing grads, no_grad blocks and detach, checking every gradient by finite
differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import (Bundle, RuleBasedStateMachine, initialize, invariant, multiple,
                                 rule)

import autograd as ag
from engine_helpers import all_nodes, leaf


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
        nodes = frozenset(map(id, all_nodes([mixed])))
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
