"""Gradient statistics for pictures: a recorder that sees every gradient a backward computes, and
the colour scale that turns gradient norms into vanishing / healthy / exploding.

Intermediate tensors keep no ``.grad`` (only leaves do, unless ``retain_grad()`` was called), so the
recorder listens on the engine's ``STATE.grad_observer``, which backward calls with the total
gradient of every node and every leaf.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from autograd.grad_mode import STATE
from autograd.tensor import Tensor

__all__ = ["GradStats", "GradRecorder", "record_grad_norms", "grad_stats", "norm_colour",
           "VANISHING", "EXPLODING"]

# Thresholds for flagging a gradient norm; both are arguments wherever they are used.
VANISHING = 1e-6
EXPLODING = 1e3


class GradStats(NamedTuple):
    """Summary of one gradient array: L2 norm, min, mean and max (NaN for empty arrays)."""
    norm: float
    min: float
    mean: float
    max: float


def grad_stats(grad: Any) -> GradStats:
    """Statistics of an ndarray or Tensor, computed in float64 so float32 squares cannot overflow."""
    data = grad.data if isinstance(grad, Tensor) else np.asarray(grad)
    if data.size == 0:
        nan = float("nan")
        return GradStats(0.0, nan, nan, nan)
    flat = data.astype(np.float64, copy=False).ravel()
    with np.errstate(all="ignore"):   # NaN/inf gradients are what a diagnosis wants to show
        return GradStats(float(np.sqrt(np.dot(flat, flat))), float(flat.min()),
                         float(flat.mean()), float(flat.max()))


class GradRecorder:
    """Context manager that records the gradient statistics of every node and leaf a backward
    reaches::

        with viz.record_grad_norms() as grads:
            loss.backward()
        viz.draw_graph(loss, grad_flow=True)   # finds the last recorder (or pass grads=grads)

    Entries keep a reference to their node or leaf, so ``id()`` keys cannot be reused while the
    recorder lives.  Another observer already installed keeps being called.
    """

    def __init__(self) -> None:
        self._stats: dict[int, tuple[Any, GradStats]] = {}
        self._previous = None
        self._active = False

    def __enter__(self) -> "GradRecorder":
        if self._active:
            raise RuntimeError("record_grad_norms: this recorder is already active")
        self._previous = STATE.grad_observer
        self._active = True
        previous = self._previous

        def observe(obj, grad) -> None:
            self._stats[id(obj)] = (obj, grad_stats(grad))
            if previous is not None:
                previous(obj, grad)

        STATE.grad_observer = observe
        return self

    def __exit__(self, *exc) -> bool:
        global _LAST
        STATE.grad_observer = self._previous
        self._previous = None
        self._active = False
        if self._stats:
            _LAST = self     # draw_graph(grad_flow=True) finds it without a grads= argument
        return False

    def stats(self, obj: Any) -> GradStats | None:
        """Statistics for a node, a leaf Tensor or a computed Tensor (looked up by its node)."""
        if isinstance(obj, Tensor) and obj._node is not None:
            obj = obj._node
        entry = self._stats.get(id(obj))
        return None if entry is None or entry[0] is not obj else entry[1]

    def norm(self, obj: Any) -> float | None:
        s = self.stats(obj)
        return None if s is None else s.norm

    def clear(self) -> None:
        self._stats.clear()

    def __len__(self) -> int:
        return len(self._stats)


_LAST: GradRecorder | None = None   # the most recent recorder that saw a backward


def last_recorder(objects) -> GradRecorder | None:
    """The most recent recorder, if it recorded any of ``objects`` (nodes or leaves of a graph)."""
    recorder = _LAST
    if recorder is None:
        return None
    return recorder if any(recorder.stats(o) is not None for o in objects) else None


def record_grad_norms() -> GradRecorder:
    """A fresh :class:`GradRecorder`; use it as ``with viz.record_grad_norms() as grads: ...``."""
    return GradRecorder()


# ---- colour scale ------------------------------------------------------------------------------

# Pale blue (small but healthy) to orange (large but healthy), on a log scale between thresholds.
_PALETTE = [(0xdb, 0xea, 0xfe), (0xbb, 0xf7, 0xd0), (0xfe, 0xf0, 0x8a), (0xfd, 0xba, 0x74)]
VANISHING_FILL = "#1e3a8a"
EXPLODING_FILL = "#b91c1c"
NAN_FILL = "#7c3aed"
MISSING_FILL = "#ffffff"


def _interpolate(t: float) -> str:
    t = min(max(t, 0.0), 1.0) * (len(_PALETTE) - 1)
    i = min(int(t), len(_PALETTE) - 2)
    f = t - i
    rgb = [round(a + (b - a) * f) for a, b in zip(_PALETTE[i], _PALETTE[i + 1])]
    return "#%02x%02x%02x" % tuple(rgb)


def norm_colour(norm: float | None, vanishing: float = VANISHING,
                exploding: float = EXPLODING) -> tuple[str, str, str | None]:
    """(fill colour, font colour, flag) for a gradient norm; flag is None, 'vanishing',
    'exploding', 'nan' or 'missing'."""
    if norm is None:
        return MISSING_FILL, "black", "missing"
    if math.isnan(norm):
        return NAN_FILL, "white", "nan"
    if norm < vanishing:
        return VANISHING_FILL, "white", "vanishing"
    if norm > exploding:
        return EXPLODING_FILL, "white", "exploding"
    lo, hi = math.log10(vanishing), math.log10(exploding)
    t = (math.log10(max(norm, vanishing)) - lo) / (hi - lo) if hi > lo else 0.5
    return _interpolate(t), "black", None


def legend_samples(vanishing: float = VANISHING, exploding: float = EXPLODING) -> list:
    """(label, fill, font colour, style) rows for a legend, largest norms first."""
    rows = [(f"exploding: ‖g‖ > {exploding:.0e}", EXPLODING_FILL, "white", "filled,bold")]
    lo, hi = math.log10(vanishing), math.log10(exploding)
    for t in (1.0, 2 / 3, 1 / 3, 0.0):
        value = 10 ** (lo + t * (hi - lo))
        rows.append((f"‖g‖ ≈ {value:.0e}", _interpolate(t), "black", "filled"))
    rows.append((f"vanishing: ‖g‖ < {vanishing:.0e}", VANISHING_FILL, "white", "filled,bold"))
    rows.append(("NaN gradient", NAN_FILL, "white", "filled"))
    rows.append(("no gradient recorded", MISSING_FILL, "black", "dashed"))
    return rows
