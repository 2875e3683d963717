"""Small helpers shared by the engine's reliability tests."""

from __future__ import annotations

import numpy as np

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


def all_nodes(roots):
    """Every node reachable from the roots (iterative walk)."""
    seen, stack = {}, [t.grad_fn for t in roots if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(p for p in node.parents if p is not None and not isinstance(p, Tensor))
    return list(seen.values())
