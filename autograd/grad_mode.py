"""Grad mode: whether operations record a graph. Thread-local, nestable, exception-safe."""

from __future__ import annotations

import functools
import threading

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "detect_anomaly",
           "is_anomaly_enabled"]


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = True   # record graphs
        self.anomaly = False  # record creation sites and check backward for NaN/inf
        self.scope = None     # tuple of the nn.Modules whose forward is running (outermost first)
        self.grad_observer = None  # fn(node_or_leaf, grad) told of every gradient backward computes


STATE = _State()


def is_grad_enabled() -> bool:
    return STATE.enabled


def is_anomaly_enabled() -> bool:
    return STATE.anomaly


class _ModeSwitch:
    """Context manager and decorator that sets one field of STATE and restores it on exit.

    Usable as ``with no_grad():``, ``@no_grad()`` and ``@no_grad``.  Each ``with`` remembers the
    value it replaced (a stack, so one instance may be entered again while active); the state is
    per thread, so a block in one thread never changes another thread's mode."""

    field = "enabled"
    value = True

    def __new__(cls, *args, **kwargs):
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])   # used as a bare decorator: @no_grad
        return super().__new__(cls)

    def __enter__(self):
        stack = self.__dict__.setdefault("_previous", [])
        stack.append(getattr(STATE, self.field))
        setattr(STATE, self.field, self.value)
        return self

    def __exit__(self, *exc) -> bool:
        setattr(STATE, self.field, self._previous.pop())
        return False

    def __call__(self, fn):
        switch = type(self)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with switch():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_ModeSwitch):
    """Operations inside record no graph: results have requires_grad=False."""
    value = False


class enable_grad(_ModeSwitch):
    """Turn recording back on inside a no_grad block."""
    value = True


class set_grad_enabled(_ModeSwitch):
    """As PyTorch: ``set_grad_enabled(False)`` switches at once (also as a plain call); used with
    ``with`` or as a decorator the previous mode comes back afterwards."""

    def __init__(self, mode: bool) -> None:
        self.value = bool(mode)
        self._previous = [STATE.enabled]
        STATE.enabled = self.value

    def __enter__(self):
        if not self._previous:       # entered again after an earlier exit
            self._previous.append(STATE.enabled)
        STATE.enabled = self.value
        return self

    def __exit__(self, *exc) -> bool:
        STATE.enabled = self._previous.pop()
        return False

    def __call__(self, fn):
        STATE.enabled = self._previous.pop()   # decorating is not switching: undo __init__
        mode = self.value

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class detect_anomaly(_ModeSwitch):
    """Forward records where each op was created; backward raises at the first NaN/inf gradient."""
    field = "anomaly"
    value = True
