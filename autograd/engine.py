"""The engine: recording ops into a graph, and reverse-mode differentiation over it.

An `Op` subclass holds one operation's forward and backward rule side by side; each call makes one
instance, which is the graph node (PyTorch's ``ctx``).  A node references its parents' *nodes*
(or, for leaves, the leaf Tensors), never its own output, so the graph has no reference cycles and
is freed by reference counting.  Everything else that is the same for every op lives here, once:
deciding whether to record, saving inputs/outputs for backward, reducing broadcast gradients back to
each input's shape, casting gradients to each input's dtype, accumulating, hooks and freeing.

Backward rules are written once with operators, methods and NumPy functions that work on both
ndarrays and Tensors (Tensor implements ``__array_ufunc__``/``__array_function__``).  A normal
backward runs them on ndarrays; ``grad(..., create_graph=True)`` runs the same rules on Tensors, so
the gradient is itself recorded and can be differentiated again.
"""

from __future__ import annotations

import traceback
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .grad_mode import STATE, no_grad, enable_grad
from .tensor import Tensor

__all__ = ["Op", "apply", "dispatch", "backward", "grad", "unbroadcast"]


class Op:
    """One recorded operation.  Subclasses define ``forward(self, *arrays, **params)`` returning an
    ndarray and ``backward(self, grad)`` returning one gradient (or None) per input.

    ``save_inputs`` / ``save_output`` ask the engine to keep ``self.inputs`` / ``self.output`` for
    backward.  Anything else a backward rule keeps on ``self`` must be non-differentiable (shapes,
    axes, masks, indices): under ``create_graph`` only inputs and output become Tensors again.
    """

    __slots__ = ("parents", "shape", "dtype", "inputs", "output", "__dict__", "__weakref__")

    save_inputs = False
    save_output = False
    higher_order = True      # backward can run on Tensors (create_graph); custom Functions cannot
    name = "op"
    # Per-node extras, stored in __dict__ only when used.
    hooks = None             # hooks registered on the output tensor (non-leaf)
    retained = None          # weakref to the output tensor when retain_grad() was called
    released = False         # saved arrays freed by a backward without retain_graph
    trace = None             # creation stack, under detect_anomaly
    scope = None             # STATE.scope when the op ran: the nn.Modules it was called inside

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__.lower()

    def forward(self, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    def needs_grad(self, i: int) -> bool:
        """Whether input ``i`` wants a gradient (lets a rule skip work, e.g. the data's matmul)."""
        return self.parents[i] is not None

    def release(self) -> None:
        """Free what was saved for backward; keep name, shape, dtype and parents for drawing."""
        self.inputs = None
        self.output = None
        kept = {k: v for k, v in self.__dict__.items() if k in ("name", "scope")}
        self.__dict__.clear()
        self.__dict__.update(kept)
        self.released = True

    def __repr__(self) -> str:
        return f"<{self.name} {self.shape} {self.dtype}>"


def _describe(arrays) -> str:
    parts = []
    for a in arrays:
        if isinstance(a, np.ndarray):
            parts.append(f"{a.shape} {a.dtype}")
        else:
            parts.append(type(a).__name__)
    return ", ".join(parts)


def apply(op_cls: type[Op], *inputs, **params) -> Tensor:
    """Run ``op_cls`` forward on the inputs' arrays and, when any input requires grad and grad mode
    is on, record the node.  Python scalars stay Python scalars so NumPy 2's weak promotion keeps
    float32 float32."""
    arrays = []
    record = False
    for x in inputs:
        if isinstance(x, Tensor):
            arrays.append(x.data)
            if x.requires_grad:
                record = True
        elif isinstance(x, (list, tuple)):
            arrays.append(np.asarray(x))
        else:
            arrays.append(x)
    op = op_cls.__new__(op_cls)
    try:
        out = op.forward(*arrays, **params)
    except (ValueError, IndexError, TypeError) as err:
        raise type(err)(f"{op_cls.name}: {err} (inputs: {_describe(arrays)})") from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    if not (record and STATE.enabled):
        return Tensor._make(out, None)
    op.parents = tuple(
        (x._node if x._node is not None else x) if isinstance(x, Tensor) and x.requires_grad else None
        for x in inputs)
    op.shape = out.shape
    op.dtype = out.dtype
    op.inputs = tuple(arrays) if op_cls.save_inputs else None
    op.output = out if op_cls.save_output else None
    if STATE.anomaly:
        op.trace = traceback.extract_stack()[:-2]
    if STATE.scope is not None:
        op.scope = STATE.scope
    return Tensor._make(out, op)


def dispatch(op_cls: type[Op], *inputs, **params):
    """Run an op on ndarrays (returning an ndarray) or on Tensors (recording it).  Backward rules
    call helper ops through this so that one rule serves both first- and higher-order passes."""
    if any(isinstance(x, Tensor) for x in inputs):
        return apply(op_cls, *inputs, **params)
    return op_cls.__new__(op_cls).forward(*inputs, **params)


def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting is summation."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra:
        grad = grad.reshape(shape)
    return grad


# --------------------------------------------------------------------------------------------
# Reverse mode


def _graph_error(op: Op) -> RuntimeError:
    return RuntimeError(
        f"backward through the graph a second time: the arrays saved by '{op.name}' were freed by "
        "an earlier backward; pass retain_graph=True to the first backward (or grad) call if you "
        "need to backward twice")


def _anomaly_check(op: Op, grads) -> None:
    for g in grads:
        if g is None:
            continue
        data = g.data if isinstance(g, Tensor) else g
        if data.dtype.kind in "fc" and not np.all(np.isfinite(data)):
            where = ""
            if op.trace:
                frame = op.trace[-1]
                where = f", created at {frame.filename}:{frame.lineno} ({frame.line})"
            raise RuntimeError(
                f"detect_anomaly: backward of '{op.name}' returned a non-finite gradient "
                f"(NaN or inf) for an input{where}")


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


def _run(roots: Sequence[Tensor], root_grads: Sequence[Any], retain_graph: bool,
         create_graph: bool, capture: dict | None) -> dict:
    """Kahn's algorithm over the nodes reachable from ``roots``, iterative, O(V + E).

    Without ``capture`` gradients accumulate into leaves' ``.grad``.  With ``capture`` (a dict
    id(node or leaf) -> None) the total gradient of those entries is returned instead and no
    ``.grad`` is touched, as ``autograd.grad`` does.
    """
    # 1. Count, for every node, how many edges from reachable nodes point at it.
    pending: dict[int, int] = {}
    stack, seen = [], set()
    for t in roots:
        if t._node is not None and id(t._node) not in seen:
            seen.add(id(t._node))
            stack.append(t._node)
    visit = list(stack)
    while visit:
        node = visit.pop()
        for p in node.parents:
            if p is None or isinstance(p, Tensor):
                continue
            k = id(p)
            if k in pending:
                pending[k] += 1
            else:
                pending[k] = 1
                visit.append(p)

    # 2. Seed the roots' gradients.
    node_grads: dict[int, Any] = {}
    leaf_grads: dict[int, list] = {}   # id(leaf) -> [leaf, grad, owned]

    def add_leaf(leaf, g, owned):
        k = id(leaf)
        entry = leaf_grads.get(k)
        if entry is None:
            leaf_grads[k] = [leaf, g, owned]
        else:
            entry[1] = entry[1] + g
            entry[2] = True

    for t, g in zip(roots, root_grads):
        if t._node is None:
            add_leaf(t, g, False)
        else:
            k = id(t._node)
            node_grads[k] = node_grads[k] + g if k in node_grads else g

    results: dict = {}
    ready = [n for n in stack if id(n) not in pending]
    anomaly = STATE.anomaly
    observer = STATE.grad_observer
    while ready:
        node = ready.pop()
        k = id(node)
        g = node_grads.pop(k, None)
        if g is not None:
            if node.released:
                raise _graph_error(node)
            if node.hooks:
                for hook in node.hooks:
                    new = hook(g)
                    if new is not None:
                        g = new
            if node.retained is not None:
                t = node.retained()
                if t is not None:
                    gd = g.data if isinstance(g, Tensor) else g
                    t.grad = np.array(gd, dtype=t.dtype) if t.grad is None else t.grad + gd
            if observer is not None:
                observer(node, g)
            if capture is not None and k in capture:
                results[k] = g
            if create_graph:
                in_grads = _higher_order_backward(node, g)
            else:
                in_grads = node.backward(g)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            if anomaly:
                _anomaly_check(node, in_grads)
            if not retain_graph:
                node.release()
            for p, gi in zip(node.parents, in_grads):
                if p is None or gi is None:
                    continue
                if isinstance(p, Tensor):
                    shape, dtype = p.data.shape, p.data.dtype
                else:
                    shape, dtype = p.shape, p.dtype
                if gi.shape != shape:
                    gi = unbroadcast(gi, shape)
                if gi.dtype != dtype:
                    gi = gi.astype(dtype)
                if isinstance(p, Tensor):
                    # A gradient may be stored as a leaf's .grad without a copy only if nothing
                    # else holds it: not the incoming gradient, not a view, not returned twice.
                    owned = (gi is not g and isinstance(gi, np.ndarray) and gi.base is None
                             and gi.flags.writeable and sum(x is gi for x in in_grads) == 1)
                    add_leaf(p, gi, owned)
                else:
                    pk = id(p)
                    node_grads[pk] = node_grads[pk] + gi if pk in node_grads else gi
        for p in node.parents:
            if p is None or isinstance(p, Tensor):
                continue
            pk = id(p)
            pending[pk] -= 1
            if pending[pk] == 0:
                del pending[pk]
                ready.append(p)

    # 3. Leaves: hooks see the total gradient of this pass, then it is captured or accumulated.
    for k, (leaf, g, owned) in leaf_grads.items():
        if leaf._hooks:
            for hook in leaf._hooks:
                new = hook(g)
                if new is not None:
                    g, owned = new, False
        if observer is not None:
            observer(leaf, g)
        if capture is not None:
            if k in capture:
                results[k] = g
            continue
        if isinstance(g, Tensor):
            g = g.data
        if leaf.grad is None:
            leaf.grad = g if owned else np.array(g, dtype=leaf.data.dtype, copy=True)
        else:
            leaf.grad += g
    return results


def _as_grad_value(g, out: Tensor, create_graph: bool, what: str):
    if g is None:
        if out.data.size != 1:
            raise RuntimeError(
                f"{what}: gradient can be implicitly created only for scalar outputs; the output has "
                f"shape {out.shape}: pass a gradient of that shape")
        g = np.ones(out.shape, dtype=out.dtype)
    else:
        gd = g.data if isinstance(g, Tensor) else np.asarray(g, dtype=out.dtype)
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
    with no_grad():
        _run([tensor], [g], retain_graph, False, None)


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated) as Tensors.

    With ``create_graph=True`` the returned gradients are recorded, so they can be differentiated
    again (higher-order derivatives)."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
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
    return tuple(grads)
