"""Guards: what a replay depends on, checked before it runs.

The call's signature (the arguments' kinds, shapes, dtypes and contiguity, and the values of
Python numbers) selects the programs captured for it; then each program's own guards, generated
as one Python function, check what the capture saw of the world: tensors' ``requires_grad``,
hooks and whether ``.grad`` was None on entry, modules' train/eval mode and attribute bindings,
and each lowered call's declared structure.  A ``.grad``-on-entry difference selects (or
captures) another program; every other difference raises CompileError naming it.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .protocol import CompileError

__all__ = ["flatten", "signature", "build_guard", "RETRACE"]

RETRACE = "retrace"
_NUMBERS = (bool, int, float, complex, np.generic)


def flatten(obj, leaves: list, spec: list) -> None:
    """Arrays and Tensors of ``obj`` into ``leaves``; its structure and constants into ``spec``."""
    if isinstance(obj, Tensor):
        d = obj.data
        leaves.append(obj)
        spec.append(("T", d.shape, d.dtype.str, d.flags.c_contiguous, d.flags.f_contiguous,
                     obj.requires_grad))
    elif isinstance(obj, np.ndarray):
        leaves.append(obj)
        spec.append(("N", obj.shape, obj.dtype.str, obj.flags.c_contiguous, obj.flags.f_contiguous))
    elif isinstance(obj, _NUMBERS):
        spec.append(("K", type(obj), repr(obj)))   # repr: NaN equals NaN, -0.0 differs from 0.0
    elif obj is None:
        spec.append(("None",))
    elif type(obj) in (tuple, list):
        spec.append((type(obj).__name__, len(obj)))
        for x in obj:
            flatten(x, leaves, spec)
    elif type(obj) is dict:
        spec.append(("dict", tuple(obj)))
        for x in obj.values():
            flatten(x, leaves, spec)
    else:
        raise CompileError(f"ag.compile: an argument of type {type(obj).__name__} cannot be "
                           f"compiled: pass Tensors, arrays, Python numbers and tuples, lists or "
                           f"dicts of them (other objects belong in the step's closure)")


def signature(args: tuple, kwargs: dict) -> tuple[tuple, list]:
    """(the call's signature, its arrays and Tensors in order); plain arrays take a short path,
    this runs before every replay."""
    leaves: list = []
    spec: list = [len(args)]
    ndarray = np.ndarray
    for a in args:
        if type(a) is ndarray:
            leaves.append(a)
            flags = a.flags
            spec.append(("N", a.shape, a.dtype.str, flags.c_contiguous, flags.f_contiguous))
        else:
            flatten(a, leaves, spec)
    if kwargs:
        flatten(kwargs, leaves, spec)
    return tuple(spec), leaves


def _diff(expected: tuple, now: tuple) -> str:
    try:
        for (label, a), (_, b) in zip(expected, now):
            if a != b:
                return f"{label} ({a!r} -> {b!r})"
    except (TypeError, ValueError):
        pass
    return "its structure"


_SETTINGS = (bool, int, float, str, type(None))


def _setting(value) -> bool:
    """A Python value a layer is configured with: a number, a string, None, a tuple of those."""
    if type(value) in (tuple, list):
        return all(type(x) in _SETTINGS for x in value)
    return type(value) in _SETTINGS


def build_guard(rec, arg_tensor_count: int):
    """(guard function, checks) for a finished capture: ``guard(_A)`` returns the index of the
    first failing check, or -1.  ``checks[i]`` is (action, message, None or a callable giving
    the message with what changed)."""
    conditions: list[str] = []
    ns: dict = {}
    checks: list = []

    def check(cond: str, action, message, detail=None) -> None:
        conditions.append(cond)
        checks.append((action, message, detail))

    def name(obj, hint):
        key = f"{hint}{len(ns)}"
        ns[key] = obj
        return key

    infos = list(rec.tensors.values())
    # Retrace checks first: they choose between programs.  The eager walk assigns a gradient
    # where .grad is None and accumulates where it is set, so a program whose first write to a
    # .grad is one of those holds only for the entry state it was captured with; one that first
    # drops it (p.grad = None, zero_grad) does the same whatever was there.
    first: dict = {}

    def grad_key(ref):
        return id(ref[1]) if ref[0] == "t" else ("A", ref[1])

    for i, step in enumerate(rec.steps):
        for info in rec.grad_drops.get(i, ()):
            first.setdefault(grad_key(info.ref), "set_none")
        if step.kind in ("leaf_set", "leaf_iadd", "set_none"):
            first.setdefault(grad_key(step.data if step.kind == "set_none" else step.data[0]),
                             step.kind)
    for info in infos:
        t, kind = info.ref, first.get(grad_key(info.ref))
        if kind in ("leaf_set", "leaf_iadd"):
            expr = f"_A[{t[1]}]" if t[0] == "A" else name(info.tensor, "t")
            accumulates = kind == "leaf_iadd"
            check(f"{expr}.grad is {'not ' if accumulates else ''}None", RETRACE,
                  f"{rec.label(info.tensor)}: .grad " + ("set on entry (accumulated into)"
                                                          if accumulates else
                                                          "None on entry (assigned)"))
    for info in infos:
        t = info.ref
        label = rec.label(info.tensor)
        expr = f"_A[{t[1]}]" if t[0] == "A" else name(info.tensor, "t")
        check(f"not {expr}._hooks", "error", f"a hook was registered on {label}, which the "
              "compiled program would skip")
        if t[0] == "t":
            d = info.tensor.data
            check(f"{expr}.requires_grad is {info.tensor.requires_grad}", "error",
                  f"requires_grad of {label} was flipped")
            dt = name(d.dtype, "d")         # a builtin dtype is one object: `is` first
            # The shape, and for another array than the capture's own (which optimizers update
            # in place) its strides and dtype too: buffers and sums follow the layout.
            check(f"(_d := {expr}.data).shape == {d.shape!r} and (_d is {name(d, 'a')} or "
                  f"_d.strides == {d.strides!r} and (_d.dtype is {dt} or _d.dtype == {dt}))",
                  "error",
                  f"{label}: .data was replaced by an array of another shape, layout or dtype")
    for m in rec.modules.values():
        mn = name(m, "m")
        kind = type(m).__name__
        if hasattr(m, "training"):
            check(f"{mn}.training is {bool(m.training)}", "error",
                  f"module {kind} switched to {'eval' if m.training else 'train'} mode")
        for attr, value in vars(m).items():
            if isinstance(value, Tensor) or id(value) in rec.modules:
                check(f"{mn}.__dict__.get({attr!r}) is {name(value, 'a')}", "error",
                      f"{kind}.{attr} was rebound")
            elif attr != "training" and _setting(value) and value == value:
                # a layer's setting (Dropout's p, BatchNorm's momentum, a pool's padding, a
                # loss's reduction) is a constant of the program, as a closure number is:
                # changing it needs a new capture
                check(f"{mn}.__dict__.get({attr!r}) == {name(value, 'n')}", "error",
                      f"{kind}.{attr} changed from {value!r}",
                      lambda m=m, attr=attr, kind=kind, value=value:
                      f"{kind}.{attr} changed ({value!r} -> {getattr(m, attr, None)!r})")
    for label, guard, _ in rec.lowered_calls:
        if guard is None:
            continue
        expected, labelled = guard(), guard(True)
        g = name(guard, "g")
        check(f"{g}() == {name(expected, 'e')}", "error", f"the structure of {label} changed",
              lambda g=guard, e=labelled, label=label: f"{label}: {_diff(e, g(True))} changed")
    # All checks as one expression on fast locals (the objects bound as defaults) for the common
    # case; only when one fails, again one by one to say which.
    params = "".join(f", {k}={k}" for k in ns)
    lines = [f"def _guard(_A{params}):"]
    if conditions:
        lines.append("    if " + " and ".join(f"({c})" for c in conditions) + ": return -1")
    lines += [f"    if not ({c}): return {i}" for i, c in enumerate(conditions)]
    lines.append("    return -1")
    exec(compile("\n".join(lines) + "\n", "<ag.compile guards>", "exec"), ns)
    return ns["_guard"], checks, "\n".join(lines[2:-1])
