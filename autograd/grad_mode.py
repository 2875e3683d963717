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
    """Context manager and decorator that sets one field of STATE and restores it on exit."""

    field = "enabled"
    value = True

    def __enter__(self):
        self._previous = getattr(STATE, self.field)
        setattr(STATE, self.field, self.value)
        return self

    def __exit__(self, *exc) -> bool:
        setattr(STATE, self.field, self._previous)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_ModeSwitch):
    """Operations inside record no graph: results have requires_grad=False."""
    value = False


class enable_grad(_ModeSwitch):
    """Turn recording back on inside a no_grad block."""
    value = True


class set_grad_enabled(_ModeSwitch):
    def __init__(self, mode: bool) -> None:
        self.value = bool(mode)

    def __call__(self, fn):
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
