"""Reverse mode: ``backward`` and ``grad`` walk the recorded graph from the outputs to the leaves.

Kahn's algorithm over the nodes: iterative, O(V + E), each node's backward rule run once with the
total gradient of its output.  The engine's bookkeeping lives here once for every op: reducing
broadcast gradients to each input's shape, casting to its dtype, accumulating, hooks, the checks for
freed graphs and in-place changes, anomaly detection, and freeing what nodes saved.
"""

from __future__ import annotations

import os
from threading import get_ident
from typing import Any, Sequence

import numpy as np

from . import engine
from .engine import Op, unbroadcast, version_of
from .grad_mode import STATE, no_grad, enable_grad
from .tensor import Tensor, _RetainGrad

__all__ = ["backward", "grad"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
# Frames inside graphgrad's own packages (autograd, and nn/viz beside it) are not the user's line.
_LIBRARY_DIRS = tuple(os.path.join(os.path.dirname(_PACKAGE_DIR.rstrip(os.sep)), name) + os.sep
                      for name in ("autograd", "nn", "viz"))


def _fit_shape(grad, shape: tuple, node: Op):
    """Sum a broadcast gradient back to its input's shape; a gradient that no summation fits is a
    bug in the op's backward rule, named here rather than stored as a wrong-shaped .grad."""
    try:
        fitted = unbroadcast(grad, shape)
    except ValueError:
        fitted = None
    if fitted is None or fitted.shape != shape:
        raise RuntimeError(f"backward of '{node.name}' returned a gradient of shape {grad.shape} "
                           f"for an input of shape {shape}")
    return fitted


def _graph_error(op: Op) -> RuntimeError:
    return RuntimeError(
        f"backward through the graph a second time: the arrays saved by '{op.name}' were freed by "
        "an earlier backward; pass retain_graph=True to the first backward (or grad) call if you "
        "need to backward twice")


def _check_saved(node: Op) -> None:
    """The slow path of the walk, for a node older than the last in-place change (or released):
    raise if what it saved for backward is gone or was changed in place since it ran."""
    if node.epoch < 0:
        raise _graph_error(node)
    for label, value in node.saved():
        if not isinstance(value, np.ndarray):
            continue
        version = version_of(value)
        if version > node.epoch:
            raise RuntimeError(
                f"backward: '{node.name}' saved its {label} (shape {value.shape}, {value.dtype}) "
                f"for backward, and that memory was modified in place after '{node.name}' ran "
                f"(its version is now {version}; the op ran at version {node.epoch}), e.g. by "
                "t[idx] = v on a tensor sharing it; the gradient would be wrong.  Change a copy "
                "instead, or recompute the graph after the change")
    node.epoch = engine._epoch   # nothing it saved changed up to now: later checks start from here


def _creation_site(trace) -> str:
    """``file:line (code)`` of the innermost frame outside graphgrad (the user's line)."""
    if not trace:
        return ""
    frame = next((f for f in reversed(trace) if not f.filename.startswith(_LIBRARY_DIRS)),
                 trace[-1])
    return f", created at {frame.filename}:{frame.lineno} ({frame.line})"


def _anomaly_check(op: Op, grads) -> None:
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g.data if isinstance(g, Tensor) else np.asarray(g)
        if data.dtype.kind in "fc" and not np.all(np.isfinite(data)):
            what = "NaN" if np.isnan(data).any() else "inf"
            raise RuntimeError(
                f"detect_anomaly: backward of '{op.name}' returned {what} in the gradient for its "
                f"input {i} (shape {data.shape}){_creation_site(op.trace)}")


def _to_tensor_view(value, parent):
    """Under create_graph: an input/output array as a Tensor joined to the node that made it."""
    if parent is None:
        return value
    if isinstance(parent, Tensor):
        return parent
    return Tensor._make(value, parent)


def _higher_order_backward(op: Op, grad: Tensor):
    if not op.higher_order:
        raise RuntimeError(
            f"create_graph=True through custom Function '{op.name}': custom Functions are first-order "
            "only (their backward works on ndarrays)")
    saved_inputs, saved_output = op.inputs, op.output
    try:
        if saved_inputs is not None:
            op.inputs = tuple(_to_tensor_view(a, p) for a, p in zip(saved_inputs, op.parents))
        if saved_output is not None:
            op.output = Tensor._make(saved_output, op)
        return op.backward(grad)
    finally:
        op.inputs, op.output = saved_inputs, saved_output


def _watched_backward(op: Op, grad, create_graph: bool) -> tuple:
    """Under detect_anomaly: NumPy's floating-point warnings give way to a check of the result that
    names the op (warnings-as-errors would otherwise raise first, without the op's name)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        grads = _higher_order_backward(op, grad) if create_graph else op.backward(grad)
    if type(grads) is not tuple:
        grads = (grads,)
    _anomaly_check(op, grads)
    return grads


def _owned(gi, g, in_grads) -> bool:
    """Whether ``gi`` may become a leaf's .grad without a copy: nothing else holds it (not the
    incoming gradient, not a view, not read-only, not returned twice)."""
    if gi is g or type(gi) is not np.ndarray or gi.base is not None or not gi.flags.writeable:
        return False
    if len(in_grads) > 1:
        seen = 0
        for x in in_grads:
            if x is gi:
                seen += 1
        return seen == 1
    return True


def _node_backward(node: Op, g, capture: dict | None, results: dict, observer, anomaly: bool,
                   create_graph: bool):
    """One node's backward with everything the common case lacks: hooks, grad(), the observer,
    anomaly checks, create_graph.  Returns the gradient after hooks and the rule's result."""
    if node.hooks:      # register_hook's, then retain_grad's
        for hook in node.hooks:
            if capture is not None and type(hook) is _RetainGrad:
                continue        # grad() returns gradients; it fills no .grad
            new = hook(g)
            if new is not None:
                g = new
    if observer is not None:
        observer(node, g)
    if capture is not None and id(node) in capture:
        results[id(node)] = g
    if anomaly:
        return g, _watched_backward(node, g, create_graph)
    if create_graph:
        return g, _higher_order_backward(node, g)
    return g, node.backward(g)


def count_consumers(roots: Sequence[Tensor]) -> tuple[dict, list]:
    """Step 1 of every backward walk (eager, and ag.compile's recording one): for every node
    reachable from ``roots``, how many edges from reachable nodes point at it, with the in-place
    check of each node that is older than the latest change.  Nodes are keyed by identity (Op
    defines no __eq__); leaves are not counted, so later a parent missing from it is a leaf.
    Returns (pending counts, the roots' nodes in order)."""
    epoch = engine._epoch
    pending: dict[Op, int] = {}
    starts = []
    for t in roots:
        node = t._node
        if node is not None and node not in pending:
            pending[node] = 0
            starts.append(node)
    visit = list(starts)
    push, pop = visit.append, visit.pop
    get = pending.get
    while visit:
        node = pop()
        if node.epoch != epoch:
            _check_saved(node)
        for p in node.parents:
            if p is None or isinstance(p, Tensor):
                continue
            count = get(p)
            if count is None:
                pending[p] = 1
                push(p)
            else:
                pending[p] = count + 1
    return pending, starts


def _run(roots: Sequence[Tensor], root_grads: Sequence[Any], retain_graph: bool,
         create_graph: bool, capture: dict | None) -> dict:
    """Kahn's algorithm over the nodes reachable from ``roots``, iterative, O(V + E).

    Without ``capture`` gradients accumulate into leaves' ``.grad``.  With ``capture`` (a dict
    id(node or leaf) -> None) the total gradient of those entries is returned instead and no
    ``.grad`` is touched, as ``autograd.grad`` does.  Every check that can fail (a freed graph, a
    saved array changed in place) runs before any gradient is computed, so such a failure changes
    nothing.

    This loop runs once per node and per edge, so it is written for speed: on small arrays its
    bookkeeping costs as much as the backward rules' arithmetic (benchmarks/PROFILE.md).
    """
    recorder = engine.RECORDER
    if recorder is not None and recorder.thread == get_ident():   # ag.compile is capturing here
        return recorder.backward(roots, root_grads, retain_graph, create_graph, capture)
    pending, starts = count_consumers(roots)

    # 2. Seed the roots' gradients.  node_grads holds the partial sums of nodes with more than one
    #    consumer still to run; a node's total travels with it on the ready stack.
    node_grads: dict[Op, Any] = {}
    leaf_grads: dict[Tensor, list] = {}   # leaf -> [grad, owned] (keyed by identity)
    for t, g in zip(roots, root_grads):
        node = t._node
        if node is None:
            _add_leaf(leaf_grads, t, g, False)
        else:
            node_grads[node] = node_grads[node] + g if node in node_grads else g

    # 3. Walk in topological order, each node once all its consumers have been processed.
    results: dict = {}
    ready = []
    for node in starts:
        if not pending[node]:
            ready.append((node, node_grads.pop(node, None)))
    push, pop = ready.append, ready.pop
    get = pending.get
    anomaly = STATE.anomaly
    observer = STATE.grad_observer
    plain = capture is None and observer is None and not anomaly and not create_graph
    while ready:
        node, g = pop()
        parents = node.parents
        if g is None:
            in_grads = (None,) * len(parents)
        else:
            if plain and not node.hooks:
                in_grads = node.backward(g)
            else:
                g, in_grads = _node_backward(node, g, capture, results, observer, anomaly,
                                             create_graph)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if len(in_grads) != len(parents):
                raise RuntimeError(f"backward of '{node.name}' returned {len(in_grads)} gradients "
                                   f"for {len(parents)} inputs")
            if not retain_graph:
                node.inputs = None          # Op.release, inlined: most nodes keep no extras
                node.output = None
                node.epoch = -1
                if node.__dict__:
                    node.release()
        for p, gi in zip(parents, in_grads):
            if p is None:
                continue
            count = get(p)
            if count is None:               # a leaf
                if gi is not None:
                    data = p.data
                    if gi.shape != data.shape:
                        gi = _fit_shape(gi, data.shape, node)
                    if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                        gi = gi.astype(data.dtype)
                    entry = leaf_grads.get(p)
                    if entry is None:
                        leaf_grads[p] = [gi, _owned(gi, g, in_grads)]
                    else:
                        _accumulate(entry, gi)
                continue
            if gi is not None:
                if gi.shape != p.shape:
                    gi = _fit_shape(gi, p.shape, node)
                if gi.dtype is not p.dtype and gi.dtype != p.dtype:
                    gi = gi.astype(p.dtype)
            if count == 1:                  # the last consumer: p is ready with its total
                if node_grads:
                    previous = node_grads.pop(p, None)
                    if previous is not None:
                        gi = previous if gi is None else previous + gi
                push((p, gi))
            else:
                pending[p] = count - 1
                if gi is not None:
                    previous = node_grads.get(p)
                    node_grads[p] = gi if previous is None else previous + gi

    # 4. Leaves: hooks see the total gradient of this pass, then it is captured or accumulated
    #    (all hooks first, so a hook that raises leaves every .grad as it was).
    for leaf, entry in leaf_grads.items():
        if leaf._hooks:
            g = entry[0]
            for hook in leaf._hooks:
                new = hook(g)
                if new is not None:
                    g = entry[0] = new
                    entry[1] = False
        if observer is not None:
            observer(leaf, entry[0])
        if capture is not None and id(leaf) in capture:
            results[id(leaf)] = entry[0]
    if capture is None:
        for leaf, (g, owned) in leaf_grads.items():
            if isinstance(g, Tensor):
                g = g.data
            if leaf.grad is None:
                leaf.grad = g if owned else np.array(g, dtype=leaf.data.dtype, copy=True)
            else:
                leaf.grad += g
    return results


def _add_leaf(leaf_grads: dict, leaf: Tensor, g, owned: bool) -> None:
    entry = leaf_grads.get(leaf)
    if entry is None:
        leaf_grads[leaf] = [g, owned]
    else:
        _accumulate(entry, g)


def _accumulate(entry: list, g) -> None:
    """Add ``g`` to a leaf's [grad, owned] entry: in place when the entry owns its array."""
    if entry[1] and type(entry[0]) is np.ndarray and type(g) is np.ndarray:
        entry[0] += g
    else:
        entry[0] = entry[0] + g
        entry[1] = type(entry[0]) is np.ndarray


def _as_grad_value(g, out: Tensor, create_graph: bool, what: str):
    if g is None:
        if out.data.size != 1:
            raise RuntimeError(
                f"{what}: gradient can be implicitly created only for scalar outputs; the output has "
                f"shape {out.shape}: pass a gradient of that shape")
        # np.array is ~0.4 us faster than np.ones (a Python-level wrapper) for the usual 0-d loss
        g = np.array(1, dtype=out.dtype) if not out.data.ndim else np.ones(out.shape, out.dtype)
    else:
        try:
            gd = g.data if isinstance(g, Tensor) else np.asarray(g, dtype=out.dtype)
        except (ValueError, TypeError) as err:
            raise TypeError(f"{what}: the gradient must be numeric and broadcast to the output's "
                            f"shape {out.shape}: {err}") from None
        try:
            gd = np.broadcast_to(gd, out.shape)
        except ValueError:
            raise ValueError(f"{what}: gradient of shape {gd.shape} does not broadcast to the "
                             f"output's shape {out.shape}") from None
        if gd.dtype != out.dtype:
            gd = gd.astype(out.dtype)
        if create_graph and isinstance(g, Tensor) and g.shape == out.shape:
            return g
        g = gd
    return Tensor(g) if create_graph else g


def backward(tensor: Tensor, gradient=None, retain_graph: bool = False) -> None:
    """Accumulate d tensor / d leaf into every leaf's ``.grad`` (see Tensor.backward)."""
    if not tensor.requires_grad:
        raise RuntimeError(
            f"backward: the tensor of shape {tensor.shape} does not require grad and has no graph "
            "(was it computed under no_grad, or from inputs without requires_grad=True?)")
    g = _as_grad_value(gradient, tensor, False, "backward")
    previous = STATE.enabled
    STATE.enabled = False           # no_grad(), without building a context-manager object
    try:
        _run([tensor], [g], retain_graph, False, None)
    finally:
        STATE.enabled = previous


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated) as Tensors.

    With ``create_graph=True`` the returned gradients are recorded, so they can be differentiated
    again (higher-order derivatives)."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]      # one Tensor, array or number for the one output
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    for i, t in enumerate(outputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and has no graph")
    if retain_graph is None:
        retain_graph = create_graph
    keys = [id(t._node) if t._node is not None else id(t) for t in inputs]
    capture = dict.fromkeys(keys)
    root_grads = [_as_grad_value(g, o, create_graph, "grad") for g, o in zip(grad_outputs, outputs)]
    with enable_grad() if create_graph else no_grad():
        results = _run(outputs, root_grads, retain_graph, create_graph, capture)
    grads = []
    for i, (t, k) in enumerate(zip(inputs, keys)):
        g = results.get(k)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it")
            grads.append(None)
            continue
        if not isinstance(g, Tensor):
            g = Tensor(np.array(g, dtype=t.dtype, copy=True))
        grads.append(g)
    recorder = engine.RECORDER
    if recorder is not None and recorder.thread == get_ident():   # part of a captured program
        recorder.grad_copies(results, keys, grads)
    return tuple(grads)
