"""How code outside autograd takes part in ag.compile, without autograd importing it.

A layer or optimizer whose work is not made of ops (an optimizer's in-place update, Dropout's
random mask, BatchNorm's running statistics, gradient clipping) wraps that work in ``lowered``.
Eagerly it is a plain call; while a step is being captured the call becomes one step of the
program, called again at every replay with the replay's values in place of the Tensors and arrays
the program computed.  The step's structure (what must not change between replays) and its
mutable state are declared beside it, so the rules live with the layer, in one place.
"""

from __future__ import annotations

from threading import get_ident
from typing import Any, Callable

import numpy as np

from .. import engine

__all__ = ["CompileError", "lowered", "inspected", "is_capturing"]


class CompileError(RuntimeError):
    """ag.compile cannot capture a step, or a replay would not do what the eager call does."""


def lowered(fn: Callable, *args, name: str | None = None,
            guard: Callable[..., tuple] | None = None,
            state: Callable[[], list] | None = None,
            numba: Callable | None = None,
            drops_grads: Callable[[], list] | None = None) -> Any:
    """``fn(*args)``; inside a capture, also a step of the program that calls ``fn`` again at
    every replay.

    ``fn`` may read and change only its arguments, the state it declares and graphgrad's random
    generator; Python values it reads from elsewhere (hyperparameters) are read afresh each time.
    ``guard()`` returns the structure a replay relies on, compared before every replay (keep it
    cheap); ``guard(True)`` the same as ``((label, value), ...)``, so that a change raises a
    CompileError naming the label.  ``state()`` returns
    ``[(label, container, key), ...]``: the mutable state fn changes (a dict item, or an attribute
    of an object), which compile's verification and ``check=True`` snapshot and compare.
    ``numba``: the same work written with numba kernels, which the numba backend's replays call
    in ``fn``'s place (with the same arguments; within that backend's tolerance of ``fn``).
    ``drops_grads()``: the Tensors whose ``.grad`` fn sets to None whatever it was (zero_grad), so
    that whether they had one on entry does not choose the program."""
    rec = recording()
    if rec is None:
        return fn(*args)
    return rec.lowered(fn, args, name or getattr(fn, "__qualname__", "lowered"), guard, state,
                       numba, drops_grads)


def inspected(fn, *args, **kwargs):
    """``fn`` (NumPy, no gradient: argmax, argsort, nonzero, np.any, ...) on the arrays of
    ``args`` (Tensors stripped); while a step is captured, recorded so that each replay runs it
    on that call's values instead of keeping the capture's result as a constant.  Returns an
    array, or a tuple of arrays for a function that gives several."""
    result = fn(*_arrays(args), **_arrays(kwargs))
    result = tuple(map(np.asarray, result)) if isinstance(result, tuple) else np.asarray(result)
    rec = recording()
    if rec is not None:
        rec.inspect(fn, args, kwargs, result)
    return result


def _arrays(value):
    """Tensors (also inside lists, tuples and dicts) replaced by their arrays."""
    if isinstance(value, engine.Tensor):
        return value.data
    if type(value) in (list, tuple):
        return type(value)(map(_arrays, value))
    if type(value) is dict:
        return {k: _arrays(v) for k, v in value.items()}
    return value


def recording():
    """The recorder capturing a step on this thread, or None (another thread's capture records
    only its own thread's work)."""
    rec = engine.RECORDER
    return rec if rec is not None and rec.thread == get_ident() else None


def is_capturing() -> bool:
    return recording() is not None
