"""``ag.compile``: capture a step on its first call with a signature, verify the capture on the
next call, then replay it.

Verification is the safety net for everything capture cannot see: on the second call the program
is replayed from a snapshot of every state it touches, the state is restored, the step runs
eagerly (and is captured again), and both the two captures and the two end states must agree
bitwise.  A program whose captures differ (Python control flow, a constant computed outside ops
from changing data) is captured afresh, up to three times, then refused; one whose end state
differs (a change the program does not make) is refused, naming the value.  ``check=True``
verifies every call, naming the first op whose value differs.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from .. import creation, engine
from ..grad_mode import STATE
from ..tensor import Tensor
from . import tensor_hooks
from .buffers import held_bytes
from .capture import Recorder, constants
from .guards import RETRACE, build_guard, signature
from .program import Program
from .protocol import CompileError, recording
from . import state as snapshots

__all__ = ["compile", "CompiledStep"]

MAX_SIGNATURES = 8
MAX_RECAPTURES = 3
_ONE_CAPTURE = threading.Lock()


class _Captured:
    """One program with its guards, and whether a second call has verified it."""

    def __init__(self, rec: Recorder, program: Program, n_args: int) -> None:
        self.rec = rec
        self.program = program
        self.guard, self.checks, self.guard_source = build_guard(rec, n_args)
        self.verified = False
        self.recaptures = 0


def _capture(fn, args, kwargs, leaves, trace: bool = False, backend: str = "numpy",
             grads_on_entry=None):
    """Run ``fn`` eagerly under a Recorder; (result, recorder, program)."""
    if recording() is not None:
        raise CompileError("ag.compile: a compiled step cannot run inside another's capture")
    with _ONE_CAPTURE:                  # the recorder slot is global; other threads' work is not
        rec = Recorder(leaves, trace, grads_on_entry)   # recorded (Recorder.thread)
        engine.RECORDER = rec
        try:
            with tensor_hooks.installed():
                result = fn(*args, **kwargs)
            rec.sync()
            rec.check_rng("during the step")
        finally:
            engine.RECORDER = None
    output = rec.output = _output_template(rec, result)
    result = _private(rec, result)
    returned = {r[1] for r in _refs(output) if r[0] == "v"}
    returned.update(k for s in rec.steps if s.kind == "lowered" for k in s.uses)
    for slot, site in rec.items:
        if slot not in returned:
            raise CompileError(f"capture: {site} gives a Python value the compiled program "
                               f"cannot see used (an if, a counter, a print); only one whose "
                               f"value is returned can be compiled")
    for info in rec.tensors.values():
        t = info.tensor
        if not info.touched and info.ref[0] == "t" and not np.array_equal(
                t.data, info.first_data, equal_nan=True):
            raise CompileError(f"capture: {rec.label(t)} was changed in place by code the "
                               f"compiled program does not record (e.g. p.data -= lr * p.grad in "
                               f"NumPy); update it with an nn.optim optimizer, or outside the step")
    program = Program(rec.steps, rec.arg_slots, output, rec.nslots, rec.meta, rec.strided,
                      fuse=backend == "numba")
    rec.inputs = [copy for _, copy in rec.arg_copies] + [
        info.first_data for info in rec.tensors.values() if info.ref[0] == "t"]
    # What capture kept alive for its identity map goes now: the program holds what it reads.
    arrays = [a for a in rec.keep if isinstance(a, np.ndarray)]
    rec.seen = (len(arrays), sum(a.nbytes for a in arrays))
    rec.keep, rec.slot_of, rec.arg_copies = [], {}, []
    for info in rec.tensors.values():
        info.first_data = None
    return result, rec, program


def _refs(tmpl):
    from .program import refs_in
    return refs_in(tmpl)


def _output_template(rec: Recorder, obj):
    if isinstance(obj, Tensor):
        k = rec.slot_of.get(id(obj.data))
        if k is not None:
            return ("wrap", ("v", k))
        source = rec.detached.get(id(obj))
        if source is not None:          # t.detach(): a new Tensor on t's array, as eager's
            return ("wrap", rec.ref(source.data, source))
        if id(obj) in rec.new_leaves:
            raise CompileError(f"capture: the step returns a Tensor that requires grad made "
                               f"inside it ({rec.label(obj)}); a replay cannot make a new leaf "
                               f"at every call: make it outside the step, or return its detach()")
        if id(obj) in rec.wrapped:      # Tensor(np.array(...)): eager's is new at every call
            return ("copied", rec.ref(obj.data, obj))
        return ("tensor", rec.see(obj).ref)
    if type(obj) is list and id(obj) in rec.slot_of:
        return ("v", rec.slot_of[id(obj)])        # a tolist()
    if isinstance(obj, (tuple, list)) and type(obj) in (tuple, list):
        return (type(obj).__name__, [_output_template(rec, x) for x in obj])
    if type(obj) is dict:
        return ("dict", [(k, _output_template(rec, v)) for k, v in obj.items()])
    k = rec.slot_of.get(id(obj))
    if k is not None and not isinstance(obj, bool):
        return ("v", k)
    if isinstance(obj, np.ndarray):
        rec.keep.append(obj)
    return ("c", obj)


def _same_program(a: Recorder, b: Recorder) -> tuple[str | None, bool]:
    """(None when two captures are the same program, else what differs; whether the program
    reads arrays made afresh by each call).  Constants that differ raise at once: capture would
    freeze them, and capturing again would freeze the next ones."""
    if len(a.steps) != len(b.steps):
        return f"{len(a.steps)} steps, then {len(b.steps)}", False
    for i, (x, y) in enumerate(zip(a.steps, b.steps)):
        if x.key != y.key:
            return f"step {i} was '{x.label}', then '{y.label}'", False
    labels = [s.label for s in a.steps for _ in constants([s])]
    outs_a, outs_b = _returned_arrays(a.output), _returned_arrays(b.output)
    if len(outs_a) != len(outs_b):
        return "another return value", False
    labels += ["the return value"] * len(outs_a)
    fresh = False
    for i, (x, y) in enumerate(zip(constants(a.steps) + outs_a, constants(b.steps) + outs_b)):
        if isinstance(x, Tensor):
            x, y = x.data, y.data
        if x is y:
            continue
        fresh = True
        if not (x.shape == y.shape and x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True)):
            raise CompileError(
                f"ag.compile: an input of '{labels[i]}' ({x.shape} {x.dtype}) was computed "
                f"outside graphgrad's ops (NumPy on .data, np.asarray of a tensor...) and has "
                f"other values on this call; capture would freeze it: compute it with Tensor ops "
                f"or pass it as an argument")
    return None, fresh


def _private(rec: Recorder, obj):
    """The capture's result with each returned Tensor the step wrapped around an ndarray (which
    the program reads) replaced by a copy, as every replay returns one: the caller may change
    it in place without changing the program."""
    if isinstance(obj, Tensor):
        if id(obj) in rec.wrapped and id(obj.data) not in rec.slot_of:
            return Tensor._make(np.array(obj.data, copy=True), None)
        return obj
    if type(obj) in (tuple, list):
        return type(obj)(_private(rec, x) for x in obj)
    if type(obj) is dict:
        return {k: _private(rec, v) for k, v in obj.items()}
    return obj


def _returned_arrays(output) -> list:
    """The arrays a step returns that the program did not compute (np.array(t.data * 2))."""
    return [r[1] for r in _refs(output) if r[0] == "c" and isinstance(r[1], np.ndarray)]


def _inputs(rec: Recorder, arrays) -> list:
    """What a call starts from: its argument arrays and the values of the Tensors it reads."""
    return list(arrays) + [info.tensor.data for info in rec.tensors.values() if info.ref[0] == "t"]


def _differ(now: list, then: list) -> bool:
    return len(now) != len(then) or any(
        a.shape != b.shape or not np.array_equal(a, b, equal_nan=True) for a, b in zip(now, then))


class CompiledStep:
    """The compiled step: call it like ``fn``; ``explain()`` describes what was captured."""

    def __init__(self, fn, backend: str = "numpy", check: bool = False) -> None:
        if backend not in ("numpy", "numba"):
            raise ValueError(f"ag.compile: unknown backend {backend!r} ('numpy' or 'numba')")
        if backend == "numba":
            from .numba_backend import available
            if not available():
                raise ValueError("ag.compile: backend='numba' needs numba: pip install -e "
                                 "\".[jit]\"")
        self.fn, self.backend, self.check = fn, backend, check
        self.programs: dict[tuple, list[_Captured]] = {}
        self.modes = None
        # Replays write into the program's persistent buffers, so calls of one step run one at a
        # time; reentrant so that a step calling itself while capturing gets CompileError, not a
        # deadlock.
        self._lock = threading.RLock()
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", "step")

    def __call__(self, *args, **kwargs):
        with self._lock:
            return self._call(args, kwargs)

    def _call(self, args, kwargs):
        modes = (STATE.enabled, STATE.anomaly)
        if STATE.anomaly:
            raise CompileError("ag.compile: detect_anomaly is on; compiled steps run without "
                               "anomaly checks: call the plain function under detect_anomaly")
        if self.modes is None:
            self.modes = modes
        elif modes != self.modes:
            raise CompileError(f"ag.compile: grad mode differs from the capture's (captured with "
                               f"grad {'on' if self.modes[0] else 'off'}, now "
                               f"{'on' if modes[0] else 'off'})")
        if STATE.grad_observer is not None and self.programs:
            raise CompileError("ag.compile: a gradient observer (viz.record_grad_norms) is "
                               "active, which the compiled program would skip")
        key, leaves = signature(args, kwargs)
        captured = self._select(key, leaves)
        if captured is None:
            return self._new_capture(key, args, kwargs, leaves)
        arrays = [x.data if isinstance(x, Tensor) else x for x in leaves]
        if captured.verified and not self.check:
            return captured.program.run(*arrays, _A=leaves)
        return self._verify(captured, key, args, kwargs, leaves, arrays, leaves)

    def _select(self, key, tensors):
        for captured in self.programs.get(key, ()):
            failed = captured.guard(tensors)
            if failed < 0:
                return captured
            action, message, detail = captured.checks[failed]
            if action != RETRACE:
                raise CompileError("ag.compile: " + (detail() if detail else message)
                                   + "; compile the step again (ag.compile(fn)) after such a "
                                     "change")
        return None

    def _grads_on_entry(self) -> dict[int, bool]:
        """Whether each tensor the captures so far read has a .grad now, as a call begins."""
        return {id(info.tensor): info.tensor.grad is not None
                for group in self.programs.values() for c in group
                for info in c.rec.tensors.values() if info.ref[0] == "t"}

    def _count(self) -> int:
        return sum(len(v) for v in self.programs.values())

    def _new_capture(self, key, args, kwargs, leaves):
        if self._count() >= MAX_SIGNATURES:
            raise CompileError(f"ag.compile: more than {MAX_SIGNATURES} signatures (argument "
                               f"shapes, dtypes, Python numbers, .grad set or None); pass "
                               f"changing numbers as 0-d Tensors, or call the plain function")
        result, rec, program = _capture(self.fn, args, kwargs, leaves, self.check, self.backend,
                                        self._grads_on_entry())
        program.build()
        self.programs.setdefault(key, []).append(_Captured(rec, program, len(leaves)))
        return result

    def _verify(self, captured, key, args, kwargs, leaves, arrays, tensors):
        """Replay from a snapshot, restore it, run eagerly under capture, compare."""
        program = captured.program
        new_data = _differ(_inputs(captured.rec, arrays), captured.rec.inputs)
        snap = snapshots.take(captured.rec, tensors)
        if self.check:
            program.build_traced()
            trace: dict = {}
            replayed = program.run_traced(*arrays, _A=tensors,
                                          _trace=lambda i, k, v: trace.setdefault(k, _copy(v)))
        else:
            replayed = program.run(*arrays, _A=tensors)
        after_replay = snapshots.collect(captured.rec, tensors, replayed)
        snapshots.restore(snap)
        result, rec, recaptured = _capture(self.fn, args, kwargs, leaves, self.check,
                                           self.backend, self._grads_on_entry())
        changed, fresh = _same_program(captured.rec, rec)
        if changed is not None:
            if self.check:
                raise CompileError(f"check: the step is no longer the captured program: {changed}")
            captured.recaptures += 1
            if captured.recaptures > MAX_RECAPTURES:
                raise CompileError(f"ag.compile: the step runs a different program on every call "
                                   f"({changed}); Python control flow on tensor values or on "
                                   f"state compile cannot see: call the plain function")
            recaptured.build()
            replacement = _Captured(rec, recaptured, len(leaves))
            replacement.recaptures = captured.recaptures
            group = self.programs[key]
            group[group.index(captured)] = replacement
            return result
        after_eager = snapshots.collect(captured.rec, tensors, result)
        differs = snapshots.first_difference(after_replay, after_eager,
                                             fused=self.backend == "numba")
        if differs is not None:
            where = ""
            if self.check:
                where = _first_op(program, rec, trace)
            raise CompileError(f"{'check' if self.check else 'ag.compile'}: the replay differs "
                               f"from the eager call in {differs}{where}: the step changes state "
                               f"the program does not record (plain NumPy on .data or .grad?)")
        # Arrays the step makes afresh (NumPy on tensor data, say) agreeing between two calls
        # prove nothing when the calls started from the same values: verify again until a call
        # brings new ones.
        captured.verified = new_data or not fresh
        if captured.verified:
            captured.rec.inputs = []        # the starting values were kept for this test only
        return result

    def explain(self) -> str:
        from .explain import explain
        return explain(self)

    def held_bytes(self) -> int:
        """Bytes of the buffers this step's programs keep between calls (numpy backend)."""
        return sum(held_bytes(c.program.buffers) for g in self.programs.values() for c in g)

    def __repr__(self) -> str:
        return f"<ag.compile({self.__name__}) backend={self.backend!r}, {self._count()} programs>"


def _copy(v):
    return np.array(v, copy=True) if isinstance(v, np.ndarray) else v


def _first_op(program: Program, rec: Recorder, trace: dict) -> str:
    for i, step in enumerate(program.steps):
        for k in step.defines:
            a, b = trace.get(k), rec.values.get(k)
            if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and (
                    a.shape != b.shape or a.tobytes() != b.tobytes()):
                return f" (first at step {i}, '{step.label}')"
    return ""


class _Plain:
    """What ag.compile returns under GRAPHGRAD_COMPILE=0: plain calls of fn."""

    def __init__(self, fn) -> None:
        self.fn = fn
        self.__wrapped__ = fn

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def explain(self) -> str:
        return "ag.compile is off (GRAPHGRAD_COMPILE=0): plain calls of the function"


def compile(fn=None, *, backend: str = "numpy", check: bool = False):
    """Compile a step: ``ag.compile(fn)``, ``@ag.compile`` or ``@ag.compile(backend=...)``."""
    if fn is None:
        return lambda f: compile(f, backend=backend, check=check)
    if not callable(fn):
        raise TypeError(f"ag.compile: expected a function, got {type(fn).__name__}")
    if os.environ.get("GRAPHGRAD_COMPILE", "1") == "0":
        return _Plain(fn)
    return CompiledStep(fn, backend, check)


del creation
