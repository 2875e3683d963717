"""Capture: run a step eagerly while the engine reports every op to a Recorder, which writes the
program (program.py) that replays the same array work.

The engine calls ``forward`` for every op (engine.apply*), ``backward`` instead of its own walk
(walk.py mirrors it step for step) and ``grad_copies`` for ``ag.grad``'s returned copies; nn's
optimizers, Dropout, BatchNorm and clipping call ``lowered`` (protocol.py).  Anything else that
touches a value the program depends on is invisible here, so the recorder watches for it: a
parameter's ``.data``/``.grad`` replaced or changed by code it did not see, arrays derived from
computed values outside ops, draws from graphgrad's generator, ``bool``/``item`` on tensors.
"""

from __future__ import annotations

import traceback
from threading import get_ident

import numpy as np

from .. import creation, engine
from ..grad_mode import STATE
from ..tensor import Tensor
from .program import Step
from .protocol import CompileError

__all__ = ["Recorder"]

_PACKAGE = __file__.rsplit("/compiler/", 1)[0] + "/"     # autograd/


def user_site() -> str:
    """``file:line`` of the innermost frame outside autograd and nn (the user's line)."""
    frames = traceback.extract_stack()
    for f in reversed(frames):
        if not f.filename.startswith(_PACKAGE) and "/nn/" not in f.filename:
            return f"{f.filename}:{f.lineno} ({f.line})"
    return "?"


class TensorInfo:
    """What the recorder knows about a Tensor the program reads live or writes ``.grad`` of."""

    __slots__ = ("tensor", "ref", "data_obj", "grad_obj", "first_data", "grad_none", "touched")

    def __init__(self, tensor: Tensor, ref) -> None:
        self.tensor, self.ref = tensor, ref
        self.data_obj = tensor.data
        self.grad_obj = tensor.grad
        self.first_data = np.array(tensor.data, copy=True)
        self.grad_none = tensor.grad is None       # at first sight: part of the signature
        self.touched = False                        # changed by a lowered call (may change data)


class Recorder:
    def __init__(self, arg_leaves: list, trace: bool = False, grads_on_entry=None) -> None:
        # id(tensor) -> whether it had a .grad when the call began, for the tensors an earlier
        # capture of this step read: one seen first without a .grad it had on entry was dropped
        # by plain Python (p.grad = None) before, and the program drops it there too.
        self.grads_on_entry: dict[int, bool] = grads_on_entry or {}
        self.steps: list[Step] = []
        self.slot_of: dict[int, int] = {}
        self.keep: list = []           # everything whose id() is a key stays alive while capturing
        self.nslots = 0
        self.node_of: dict[int, int] = {}
        self.tensors: dict[int, TensorInfo] = {}
        self.detached: dict[int, Tensor] = {}      # id(t.detach()) -> t, of tensors read live
        self.new_leaves: set[int] = set()           # ids of Tensors the step made that need grad
        self.wrapped: set[int] = set()              # ids of Tensors it made around an ndarray
        self.modules: dict[int, object] = {}
        self.items: list[tuple[int, str]] = []
        self.lowered_calls: list[tuple[str, object, object]] = []   # (name, guard, state)
        self.lowered_arrays: list[np.ndarray] = []
        self.trace = trace
        self.values: dict[int, np.ndarray] = {}     # slot -> copy at creation (trace only)
        self.meta: dict[int, tuple] = {}            # slot -> (shape, dtype) of its array
        self.strided: set[int] = set()              # slots whose array is not C-contiguous
        self.grad_drops: dict[int, list] = {}       # step index -> infos whose .grad it drops
        self.output = None                          # the return value's template (step.py)
        self.arg_slots: list[int] = []
        self.arg_tensors: dict[int, int] = {}
        self.arg_copies: list[tuple[int, np.ndarray]] = []    # the values the capture started from
        self.inputs: list[np.ndarray] = []                     # those and the tensors' (step.py)
        for i, leaf in enumerate(arg_leaves):
            data = leaf.data if isinstance(leaf, Tensor) else leaf
            k = self.new_slot(data)
            self.arg_slots.append(k)
            self.arg_copies.append((k, np.array(data, copy=True)))
            if isinstance(leaf, Tensor):
                self.arg_tensors[id(leaf)] = i
                self.keep.append(leaf)
        self.thread = get_ident()
        self.rng = creation.default_rng()
        self.rng_state = self.rng.bit_generator.state

    # ---- values -----------------------------------------------------------------------------
    def new_slot(self, obj) -> int:
        k = self.nslots
        self.nslots += 1
        self.slot_of[id(obj)] = k
        self.keep.append(obj)
        if isinstance(obj, np.ndarray):
            self.meta[k] = (obj.shape, obj.dtype)
            if not obj.flags.c_contiguous:
                self.strided.add(k)
            if self.trace:
                self.values[k] = np.array(obj, copy=True)
        return k

    def add(self, kind, label, uses=(), defines=(), node=None, data=None, key=()) -> Step:
        step = Step(kind, label, uses, defines, node, data, key)
        self.steps.append(step)
        return step

    def detach(self, out: Tensor, source: Tensor) -> None:
        """``out = source.detach()``: the same array, so a replay reads ``source.data`` for it
        (a parameter the step's optimizer updates in place, or rebinds between calls)."""
        if id(source.data) not in self.slot_of:          # a computed value is found by its array
            self.detached[id(out)] = self.detached.get(id(source), source)
            self.keep.append(out)

    def construct(self, tensor: Tensor, data) -> None:
        """``Tensor(data, ...)`` inside the step.  Sharing an array, it reads that array as any
        op input does; casting one (an argument, a computed array, a closure's), the program
        casts it again at every replay; built from Python values (a list, a number), it is a new
        Tensor at every call.  (Layers convert their inputs this way, nn.parameter.as_input.)"""
        if get_ident() != self.thread:
            return
        src = data.data if isinstance(data, Tensor) else data
        if not isinstance(src, np.ndarray):
            self.fresh(tensor)
            return
        k = self.slot_of.get(id(src))
        if k is None:
            self.refuse_views(src, "Tensor")
        if tensor.data is src:          # read live as the array; returned, a copy (step.py)
            if k is None:
                self.wrapped.add(id(tensor))
                self.keep.append(tensor)
            return
        out, dtype = self.new_slot(tensor.data), tensor.data.dtype
        if k is not None:
            self.add("argcast", f"Tensor(..., dtype={dtype})", (k,), (out,),
                     data=(("v", k), out, dtype), key=("argcast", k, out, dtype.str))
        else:                           # a cast of an array read live (a closure's): again
            self.keep.append(src)       # from its values at every replay
            self.add("copy", f"Tensor(..., dtype={dtype})", (), (out,),
                     data=(("c", src), out, dtype), key=("new", out, dtype.str, src.shape))

    def fresh(self, tensor: Tensor) -> None:
        """A Tensor the step makes from constants (``ag.zeros``, ``Tensor([1, 2])``): eager
        makes a new one at every call, so the program does, from a copy of its first values, and
        in-place updates and returns act on that one.  (Read as a constant, the capture's own
        object would carry one replay's in-place updates into the next, and a returned one would
        be the same object at every call.)"""
        if get_ident() != self.thread or id(tensor.data) in self.slot_of:
            return
        self.keep.append(tensor)
        if tensor.requires_grad:
            self.new_leaves.add(id(tensor))     # refused if returned (step._output_template)
            return
        first = np.array(tensor.data, copy=True)
        self.keep.append(first)
        out = self.new_slot(tensor.data)
        self.add("copy", "new tensor", (), (out,), data=(("c", first), out, first.dtype),
                 key=("new", out, first.dtype.str, first.shape))

    def see(self, tensor: Tensor) -> TensorInfo:
        tensor = self.detached.get(id(tensor), tensor)
        info = self.tensors.get(id(tensor))
        if info is None:
            i = self.arg_tensors.get(id(tensor))
            ref = ("A", i) if i is not None else ("t", tensor)
            info = self.tensors[id(tensor)] = TensorInfo(tensor, ref)
            self.keep.append(tensor)
            if tensor.grad is None and self.grads_on_entry.get(id(tensor)):
                self.add("set_none", f"{self.label(tensor)}.grad = None", data=ref,
                         key=("set_none", _key(ref)))
        return info

    def ref(self, a, tensor: Tensor | None = None, op_name: str = ""):
        """The reference an op input (or a lowered argument) becomes."""
        k = self.slot_of.get(id(a))
        if k is not None:
            return ("v", k)
        if tensor is not None:
            info = self.see(tensor)
            if info.ref[0] == "A":
                return ("v", self.arg_slots[info.ref[1]])
            return ("t", info.tensor)
        if isinstance(a, np.ndarray):
            return self.constant_array(a, op_name)
        return ("c", a)

    def refuse_views(self, a: np.ndarray, op_name: str) -> None:
        """A view (taken with NumPy) of an argument or a computed array: a replay would read the
        capture's."""
        base = a.base
        while isinstance(base, np.ndarray):
            k = self.slot_of.get(id(base))
            if k is not None:
                what = ("an argument (an ndarray argument sliced with NumPy?)"
                        if k in self.arg_slots else
                        "a computed array (NumPy on .data?)")
                raise CompileError(
                    f"capture: '{op_name}' reads a view of {what}, taken outside graphgrad's ops, "
                    f"which a replay cannot follow; index a Tensor instead (ag.Tensor(x)[:4]) or "
                    f"take the view outside the step (at {user_site()})")
            base = base.base

    def constant_array(self, a: np.ndarray, op_name: str):
        self.refuse_views(a, op_name)
        self.keep.append(a)
        return ("c", a)

    def template(self, obj, op_name: str, lowered: bool = False):
        """A structure (params, lowered arguments) with its arrays and Tensors as references."""
        if isinstance(obj, Tensor):
            k = self.slot_of.get(id(obj.data))
            if k is not None:
                return ("wrap", ("v", k))
            info = self.see(obj)
            if lowered:
                info.touched = True
            return ("tensor", info.ref) if info.ref[0] == "A" or lowered else self.ref(
                obj.data, obj, op_name)
        if isinstance(obj, np.ndarray):
            r = self.ref(obj, None, op_name)
            if lowered and r[0] == "c":
                self.lowered_arrays.append(obj)
            return r
        if isinstance(obj, (tuple, list)) and type(obj) in (tuple, list):
            return (type(obj).__name__, [self.template(x, op_name, lowered) for x in obj])
        if type(obj) is dict:
            return ("dict", [(k, self.template(v, op_name, lowered)) for k, v in obj.items()])
        if type(obj) in (float, int):   # an item()'s value?  A float is its own object; a small
            k = self.slot_of.get(id(obj))   # int is shared by every equal int in the process
            if k is not None and type(obj) is float:
                return ("v", k)
            if k is not None and lowered:
                raise CompileError(
                    f"capture: {op_name} is given the int {obj!r}, which an item() in the step "
                    f"also gave: compile cannot tell a computed int from a constant; pass the "
                    f"0-d Tensor itself (at {user_site()})")
        return ("c", obj)

    # ---- what the engine reports --------------------------------------------------------------
    def forward(self, op, inputs, arrays, params, out: Tensor) -> None:
        if get_ident() != self.thread:
            return                      # another thread's eager work
        cls = type(op)
        if cls.lowering is None:
            raise CompileError(f"capture: op '{op.name}' has no compile lowering (custom Function"
                               f"s run user code compile cannot replay); call it outside the "
                               f"compiled step (at {user_site()})")
        scope = STATE.scope
        if scope:
            for m in scope:
                self.modules.setdefault(id(m), m)
        ins = [self.ref(a, x if isinstance(x, Tensor) else None, op.name)
               for x, a in zip(inputs, arrays)]
        tmpl = self.template(params, op.name) if params else None
        uses = [r[1] for r in ins if r[0] == "v"]
        if tmpl is not None:
            from .program import refs_in
            uses += [r[1] for r in refs_in(tmpl) if r[0] == "v"]
        node = None
        parents = None
        if out._node is op:
            node = len(self.node_of)
            self.node_of[id(op)] = node
            self.keep.append(op)
            parents = tuple(None if p is None else True for p in op.parents)
        k = self.new_slot(out.data)
        # NumPy returns a scalar, not an array, for a 0-d result; the engine wraps it
        as_array = out.data.ndim == 0
        self.add("forward", op.name, uses, (k,), node,
                 (cls, ins, tmpl, k, parents, as_array),
                 key=("forward", cls, _keys(ins), _params_key(tmpl), k, node, parents))

    def backward(self, roots, root_grads, retain_graph, create_graph, capture):
        from .walk import record_backward
        return record_backward(self, roots, root_grads, retain_graph, create_graph, capture)

    def grad_copies(self, results: dict, keys: list, grads: list) -> None:
        for k, g in zip(keys, grads):
            src = results.get(k)
            if src is None or g is None:
                continue
            out = self.new_slot(g.data)
            r = self.ref(src, None, "grad")
            self.add("copy", "ag.grad copy", [r[1]] if r[0] == "v" else [], (out,),
                     data=(r, out, g.data.dtype), key=("copy", _key(r), out))

    def item(self, tensor: Tensor, value, method: str = "item") -> None:
        """``t.item()`` or ``t.tolist()``: a Python value the program computes again."""
        r = self.ref(tensor.data, None, method)
        if r[0] == "c":
            return      # a constant: its item is a constant too
        out = self.new_slot(value)
        self.items.append((out, f"{method}() at {user_site()}"))
        self.add(method, f"{method}()", [r[1]] if r[0] == "v" else [], (out,), data=(r, out),
                 key=(method, _key(r), out))

    def requires_grad(self, tensor: Tensor) -> None:
        """``x.requires_grad_()`` of an argument inside the step: the replay sets it too."""
        i = self.arg_tensors.get(id(tensor))
        if i is not None:
            flag = tensor.requires_grad
            self.add("requires_grad", f"requires_grad_({flag})", data=(("A", i), flag),
                     key=("requires_grad", i, flag))

    def operand(self, x, name: str):
        """An operand of a comparison or in-place update: its array."""
        if isinstance(x, Tensor):
            return self.ref(x.data, x, name)
        if isinstance(x, np.ndarray):
            return self.ref(x, None, name)
        return ("c", x)

    def operands(self, obj, name: str):
        """``operand`` through lists, tuples and dicts: a template of references."""
        if isinstance(obj, (Tensor, np.ndarray)):
            return self.operand(obj, name)
        if type(obj) in (tuple, list):
            return (type(obj).__name__, [self.operands(x, name) for x in obj])
        if type(obj) is dict:
            return ("dict", [(k, self.operands(v, name)) for k, v in obj.items()])
        return ("c", obj)

    def inspect(self, fn, args, kwargs, result) -> None:
        """An inspection (argmax, argsort, nonzero, np.any, a comparison ufunc): NumPy's ``fn``
        on the arrays of ``args``/``kwargs`` outside the engine, which replays run again on
        their values.  ``result``: its array, or tuple of arrays."""
        from .program import refs_in
        name = getattr(fn, "__name__", "inspection")
        a, kw = self.operands(list(args), name), self.operands(dict(kwargs), name)
        refs = [*refs_in(a), *refs_in(kw)]
        if all(r[0] == "c" for r in refs):
            return                      # constants in, a constant out
        many = isinstance(result, tuple)
        outs = [self.new_slot(r) for r in (result if many else (result,))]
        self.add("inspect", name, [r[1] for r in refs if r[0] == "v"], outs,
                 data=(fn, a, kw, outs, many),
                 key=("inspect", fn, _params_key(a), _params_key(kw), tuple(outs)))

    def value_read(self, name: str, args) -> None:
        """A Python value computed from arrays (np.allclose): refused where one is computed."""
        from .program import refs_in
        if any(r[0] != "c" for r in refs_in(self.operands(list(args), name))):
            raise CompileError(f"capture: {name} of a computed tensor gives a Python value, which "
                               f"the program would freeze (Python control flow on tensor "
                               f"values cannot be compiled; at {user_site()})")

    def array_call(self, kind: str, fn, inputs, out: np.ndarray) -> None:
        """A comparison (Tensor._compare): NumPy on the inputs' arrays, outside the engine."""
        ins = [self.operand(x, fn.__name__) for x in inputs]
        if all(r[0] == "c" for r in ins):
            return                      # constants in, a constant out
        k = self.new_slot(out)
        self.add(kind, fn.__name__, [r[1] for r in ins if r[0] == "v"], (k,),
                 data=(fn, ins, k), key=(kind, fn, _keys(ins), k))

    def array_target(self, tensor: Tensor, name: str):
        r = self.ref(tensor.data, tensor, name)
        if r[0] == "t":
            self.see(tensor).touched = True     # changed by a step: not an untracked change
        return r

    def in_place(self, name: str, fn, target, operand, where=None) -> None:
        """An in-place update of a Tensor's array (Tensor._inplace, __setitem__)."""
        from .program import refs_in
        uses = [r[1] for t in (target, operand) + ((where,) if where else ())
                for r in refs_in(t) if r[0] == "v"]
        self.add("inplace", name, uses, data=(fn, target, operand, where),
                 key=("inplace", name, fn, _key(target), _params_key(operand),
                      _params_key(where)))

    def lowered(self, fn, args, name, guard, state, numba=None, drops_grads=None):
        self.sync()
        if drops_grads is not None:
            self.grad_drops.setdefault(len(self.steps), []).extend(
                self.see(t) for t in drops_grads())
        self.check_rng(f"before {name}")
        tmpl = self.template(tuple(args), name, lowered=True)
        if state is not None:
            for _, container, _key_ in state():
                if isinstance(container, Tensor):
                    self.see(container).touched = True
        engine.RECORDER = None          # fn's own ops are not steps: fn itself is the step
        try:
            result = fn(*args)
        finally:
            engine.RECORDER = self
        for info in self.tensors.values():     # what fn did to them, it does again at replay
            info.data_obj, info.grad_obj = info.tensor.data, info.tensor.grad
        self.rng_state = self.rng.bit_generator.state
        if state is not None:
            for _, container, _key_ in state():
                if isinstance(container, Tensor):
                    self.see(container).touched = True
        self.lowered_calls.append((name, guard, state))
        out, tensor_out = None, False
        if isinstance(result, Tensor):
            out, tensor_out = self.new_slot(result.data), True
        elif isinstance(result, (np.ndarray, float, int, np.generic)) and not isinstance(result, bool):
            out = self.new_slot(result)
        from .program import refs_in
        uses = [r[1] for r in refs_in(tmpl) if r[0] == "v"]
        self.add("lowered", name, uses, () if out is None else (out,),
                 data=(fn, tmpl, out, tensor_out, numba),
                 key=("lowered", getattr(fn, "__func__", fn), _params_key(tmpl), out))
        return result

    # ---- what nobody reports ---------------------------------------------------------------------
    def sync(self) -> None:
        """Tensors whose .grad was dropped by plain Python (``p.grad = None``, Module.zero_grad)
        get a step doing the same; any other change the program would not repeat is refused."""
        for info in self.tensors.values():
            t = info.tensor
            if t.data is not info.data_obj:
                raise CompileError(f"capture: {self.label(t)}: .data was replaced by code the "
                                   f"compiled program cannot see (at {user_site()})")
            if t.grad is not info.grad_obj:
                if t.grad is not None:
                    raise CompileError(f"capture: {self.label(t)}: .grad was set by code the "
                                       f"compiled program cannot see (at {user_site()})")
                self.add("set_none", f"{self.label(t)}.grad = None", data=info.ref,
                         key=("set_none", _key(info.ref)))
                info.grad_obj = None

    def check_rng(self, where: str) -> None:
        if creation.default_rng() is not self.rng or self.rng.bit_generator.state != self.rng_state:
            raise CompileError(f"capture: graphgrad's random generator was drawn from (or "
                               f"reseeded) outside a lowered call, {where}: those numbers would "
                               f"be frozen into the program; draw them outside the step and "
                               f"pass them as arguments")

    def label(self, t: Tensor) -> str:
        for m in self.modules.values():
            for name, value in vars(m).items():
                if value is t:
                    return f"{type(m).__name__}.{name} (shape {t.shape})"
        info = self.tensors.get(id(t))
        if info is not None and info.ref[0] == "A":
            return f"argument tensor {info.ref[1]} (shape {t.shape})"
        return f"tensor of shape {t.shape} {t.dtype}"


def _key(r):
    """What identifies a reference between two captures (arrays: by shape and dtype here, their
    values are compared separately)."""
    kind, value = r
    if kind == "c":
        if isinstance(value, np.ndarray):
            return ("c", value.shape, value.dtype.str)
        return ("c", type(value), _hashable(value))
    if kind == "t":
        if value.requires_grad:
            return ("t", id(value))
        # a Tensor without grad may be made afresh by each call (a target wrapped by a loss):
        # two captures agree when it is the same Tensor or holds the same values (constants())
        return ("t", "no grad", value.shape, value.dtype.str)
    return r


def _keys(refs):
    return tuple(_key(r) for r in refs)


def _hashable(value):
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


def _params_key(tmpl):
    if tmpl is None:
        return None
    kind = tmpl[0]
    if kind in ("tuple", "list"):
        return (kind, tuple(_params_key(x) for x in tmpl[1]))
    if kind == "dict":
        return ("dict", tuple((k, _params_key(x)) for k, x in tmpl[1]))
    if kind in ("wrap", "tensor"):
        return (kind, _key(tmpl[1]))
    return _key(tmpl)


def _constant(r) -> bool:
    return (r[0] == "c" and isinstance(r[1], np.ndarray)) or (
        r[0] == "t" and not r[1].requires_grad)


# Steps that may read an array made outside ops.  Not the backward walk's: its seed is a new
# array at every call (backward() makes it from 1.0), which would keep every program verifying.
_READS_REFS = {"copy"}


def _is_ref(r) -> bool:
    return type(r) is tuple and len(r) == 2 and r[0] in ("c", "t", "v", "A")


def constants(steps) -> list:
    """Every constant array (or Tensor without grad) the steps read, in order: compared between
    two captures by identity or, failing that, by value."""
    from .program import refs_in
    found = []
    for s in steps:
        if s.kind == "forward":
            found += [r[1] for r in s.data[1] if _constant(r)]
            if s.data[2] is not None:
                found += [r[1] for r in refs_in(s.data[2]) if _constant(r)]
        elif s.kind == "lowered":
            found += [r[1] for r in refs_in(s.data[1]) if _constant(r)]
        elif s.kind == "compare":
            found += [r[1] for r in s.data[1] if _constant(r)]
        elif s.kind == "inspect":
            found += [r[1] for t in s.data[1:3] for r in refs_in(t) if _constant(r)]
        elif s.kind in _READS_REFS:     # a Tensor the step made, from its first values
            found += [r[1] for r in s.data if _is_ref(r) and _constant(r)]
        elif s.kind == "inplace":
            for t in s.data[1:]:
                if t is not None:
                    found += [r[1] for r in refs_in(t) if _constant(r)]
    return found
