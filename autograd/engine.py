"""The engine: recording ops into a graph (reverse-mode differentiation over it is in reverse.py).

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
import weakref
from typing import Any

import numpy as np

from .grad_mode import STATE
from .tensor import Tensor

__all__ = ["Op", "apply", "apply1", "apply2", "dispatch", "unbroadcast", "note_mutation", "version_of"]

# --------------------------------------------------------------------------------------------
# Version counters for in-place changes
#
# One global counter (the "epoch") is bumped by every in-place change made through the API, and
# the memory that changed (its base array: views share their base's version) is stamped with it.
# A recorded node keeps only the epoch at which it ran, one int.  At backward, a node older than
# the current epoch checks whether any array it saved has a stamp newer than itself.  So the hot
# path pays one integer store per op, and a graph whose arrays were never changed pays one
# comparison per node.

_epoch = 0
# ag.compile's recorder (autograd/compiler/capture.py) while a step is captured, else None: the
# one check the eager path pays per op.
RECORDER = None
_stamps: dict[int, tuple[int, weakref.ref]] = {}   # id(base array) -> (epoch, weakref to it)


def _base(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _forget(ref: weakref.ref, key: int) -> None:
    entry = _stamps.get(key)
    if entry is not None and entry[1] is ref:
        _stamps.pop(key, None)


def note_mutation(*arrays: np.ndarray) -> int:
    """Record that the memory of ``arrays`` was changed in place (one new version for all of them,
    e.g. every parameter an optimizer step updated); returns that version."""
    global _epoch
    _epoch = epoch = _epoch + 1
    stamps = _stamps
    for array in arrays:      # an optimizer step passes every parameter: keep the loop lean
        base = array if array.base is None else _base(array)
        key = id(base)
        entry = stamps.get(key)
        if entry is not None and entry[1]() is base:
            stamps[key] = (epoch, entry[1])
        else:
            stamps[key] = (epoch, weakref.ref(base, lambda r, k=key: _forget(r, k)))
    return epoch


def version_of(array: np.ndarray) -> int:
    """The version of ``array``'s memory: 0 until changed in place through the API."""
    base = _base(array)
    entry = _stamps.get(id(base))
    return entry[0] if entry is not None and entry[1]() is base else 0


class Op:
    """One recorded operation.  Subclasses define ``forward(self, *arrays, **params)`` returning an
    ndarray and ``backward(self, grad)`` returning one gradient (or None) per input.

    ``save_inputs`` / ``save_output`` ask the engine to keep ``self.inputs`` / ``self.output`` for
    backward.  Anything else a backward rule keeps on ``self`` must be non-differentiable (shapes,
    axes, masks, indices): under ``create_graph`` only inputs and output become Tensors again.
    """

    # scope is a slot, set on every recorded node: in __dict__ it would give every node built
    # inside an nn.Module a dict (and make releasing it slower).
    __slots__ = ("parents", "shape", "dtype", "inputs", "output", "epoch", "scope", "__dict__",
                 "__weakref__")

    save_inputs = False
    save_output = False
    higher_order = True      # backward can run on Tensors (create_graph); custom Functions cannot
    # How ag.compile replays the op (autograd/compiler): "rerun" runs forward and backward again on
    # the replay's arrays, right for every op whose rules are functions of their inputs, params
    # and what forward keeps on self; None makes compile refuse it (custom Functions).
    lowering = "rerun"
    name = "op"
    # Per-node extras, stored in __dict__ only when used.
    hooks = None             # hooks on the output tensor (non-leaf); retain_grad's comes last
    retained = None          # weakref to the output tensor when retain_grad() was called
    trace = None             # creation stack, under detect_anomaly
    # scope (slot): STATE.scope when the op ran, the nn.Modules it was called inside (or None)

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

    @property
    def released(self) -> bool:
        """True once a backward without retain_graph has freed what this node saved."""
        return self.epoch < 0

    def saved(self) -> list[tuple[str, Any]]:
        """(label, value) for each value kept for backward whose in-place change would corrupt it."""
        found = []
        if self.inputs is not None:
            found += [(f"input {i}", a) for i, a in enumerate(self.inputs)]
        if self.output is not None:
            found.append(("output", self.output))
        return found

    def release(self) -> None:
        """Free what was saved for backward; keep name, shape, dtype and parents for drawing."""
        self.inputs = None
        self.output = None
        self.epoch = -1
        extras = self.__dict__
        if extras:
            kept = {k: extras[k] for k in ("name",) if k in extras}
            extras.clear()
            extras.update(kept)

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


def _op_error(name: str, err: Exception, arrays) -> Exception:
    """NumPy's error from an op's forward, as a builtin error naming the op and its inputs."""
    base = next(c for c in (ValueError, TypeError, IndexError) if isinstance(err, c))
    if type(err) is not base and not type(err).__module__.startswith("numpy"):
        return err   # someone's own exception type (a custom Function): leave it alone
    text = str(err)
    if text.startswith(name + ": "):
        text = text[len(name) + 2:]
    return base(f"{name}: {text} (inputs: {_describe(arrays)})")


def _as_array(name: str, value) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as err:
        raise type(err)(f"{name}: cannot use this {type(value).__name__} as an array "
                        f"(ragged or not numeric): {err}") from None


def apply(op_cls: type[Op], *inputs, **params) -> Tensor:
    """Run ``op_cls`` forward on the inputs' arrays and, when any input requires grad and grad mode
    is on, record the node.  Python scalars stay Python scalars so NumPy 2's weak promotion keeps
    float32 float32."""
    arrays = []
    parents = []
    record = False
    for x in inputs:
        if isinstance(x, Tensor):
            arrays.append(x.data)
            if x.requires_grad:
                record = True
                node = x._node
                parents.append(x if node is None else node)
            else:
                parents.append(None)
        else:
            arrays.append(_as_array(op_cls.name, x) if isinstance(x, (list, tuple)) else x)
            parents.append(None)
    op = _new(op_cls)
    try:
        out = op.forward(*arrays, **params)
    except (ValueError, IndexError, TypeError) as err:
        raise _op_error(op.name, err, arrays) from None
    t = _output(op, out, tuple(parents) if record else None, arrays)
    if RECORDER is not None:
        RECORDER.forward(op, inputs, arrays, params, t)
    return t


# apply1 and apply2 are apply for one and two inputs without keyword parameters: the Tensor
# operators and the elementwise functions.  They are written out in full, because on small arrays
# the bookkeeping of a recorded op costs more than NumPy's arithmetic and every list, loop and
# call saved here is paid once per op (see benchmarks/PROFILE.md, finding 1).

def apply1(op_cls: type[Op], x) -> Tensor:
    """``apply(op_cls, x)``, faster."""
    if isinstance(x, Tensor):
        a = x.data
        if x.requires_grad:
            p = x._node
            if p is None:
                p = x
        else:
            p = None
    else:
        a = _as_array(op_cls.name, x) if isinstance(x, (list, tuple)) else x
        p = None
    op = _new(op_cls)
    try:
        out = op.forward(a)
    except (ValueError, IndexError, TypeError) as err:
        raise _op_error(op.name, err, (a,)) from None
    if type(out) is not np.ndarray or out.dtype.kind not in "fiub":
        out = _checked_result(op, out, (a,))
    t = _new(Tensor)
    t.data = out
    t.grad = None
    t._hooks = None
    state = STATE
    if p is None or not state.enabled:
        t._node = None
        t.requires_grad = False
        if RECORDER is not None:
            RECORDER.forward(op, (x,), (a,), None, t)
        return t
    op.parents = (p,)
    op.shape = out.shape
    op.dtype = out.dtype
    op.inputs = (a,) if op_cls.save_inputs else None
    op.output = out if op_cls.save_output else None
    op.epoch = _epoch
    op.scope = state.scope
    if state.anomaly:
        op.trace = traceback.extract_stack()[:-1]
    t._node = op
    t.requires_grad = True
    if RECORDER is not None:
        RECORDER.forward(op, (x,), (a,), None, t)
    return t


def apply2(op_cls: type[Op], x, y) -> Tensor:
    """``apply(op_cls, x, y)``, faster."""
    if isinstance(x, Tensor):
        a = x.data
        if x.requires_grad:
            p = x._node
            if p is None:
                p = x
        else:
            p = None
    else:
        a = _as_array(op_cls.name, x) if isinstance(x, (list, tuple)) else x
        p = None
    if isinstance(y, Tensor):
        b = y.data
        if y.requires_grad:
            q = y._node
            if q is None:
                q = y
        else:
            q = None
    else:
        b = _as_array(op_cls.name, y) if isinstance(y, (list, tuple)) else y
        q = None
    op = _new(op_cls)
    try:
        out = op.forward(a, b)
    except (ValueError, IndexError, TypeError) as err:
        raise _op_error(op.name, err, (a, b)) from None
    if type(out) is not np.ndarray or out.dtype.kind not in "fiub":
        out = _checked_result(op, out, (a, b))
    t = _new(Tensor)
    t.data = out
    t.grad = None
    t._hooks = None
    state = STATE
    if (p is None and q is None) or not state.enabled:
        t._node = None
        t.requires_grad = False
        if RECORDER is not None:
            RECORDER.forward(op, (x, y), (a, b), None, t)
        return t
    op.parents = (p, q)
    op.shape = out.shape
    op.dtype = out.dtype
    op.inputs = (a, b) if op_cls.save_inputs else None
    op.output = out if op_cls.save_output else None
    op.epoch = _epoch
    op.scope = state.scope
    if state.anomaly:
        op.trace = traceback.extract_stack()[:-1]
    t._node = op
    t.requires_grad = True
    if RECORDER is not None:
        RECORDER.forward(op, (x, y), (a, b), None, t)
    return t


def _output(op: Op, out, parents: tuple | None, arrays) -> Tensor:
    """The output Tensor of ``op`` (``Tensor._make`` inlined), recording the node when
    ``parents`` is given and grad mode is on."""
    if type(out) is not np.ndarray or out.dtype.kind not in "fiub":
        out = _checked_result(op, out, arrays)
    t = _new(Tensor)
    t.data = out
    t.grad = None
    t._hooks = None
    state = STATE
    if parents is None or not state.enabled:
        t._node = None
        t.requires_grad = False
        return t
    op.parents = parents
    op.shape = out.shape
    op.dtype = out.dtype
    op.inputs = tuple(arrays) if op.save_inputs else None
    op.output = out if op.save_output else None
    op.epoch = _epoch
    op.scope = state.scope
    if state.anomaly:
        op.trace = traceback.extract_stack()[:-1]
    t._node = op
    t.requires_grad = True
    return t


_new = object.__new__


def _checked_result(op, out, arrays) -> np.ndarray:
    out = np.asarray(out)
    if out.dtype.kind == "c":
        raise TypeError(f"{op.name}: complex numbers are not supported (result dtype {out.dtype}; "
                        f"inputs: {_describe(arrays)}); graphgrad tensors hold real data")
    if out.dtype.kind not in "fiub":
        raise TypeError(f"{op.name}: unsupported result dtype {out.dtype} (tensors hold bool, "
                        f"integer or floating-point data; inputs: {_describe(arrays)})")
    return out


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
    if extra > 0 and grad.shape[extra:] == shape:      # only leading axes were broadcast
        return grad.sum(axis=tuple(range(extra)) if extra > 1 else 0)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    if extra:
        grad = grad.reshape(shape)
    return grad
