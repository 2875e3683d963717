"""Training pictures with matplotlib (the optional ``plot`` extra), always headless.

Figures are built with ``matplotlib.figure.Figure`` and saved through the Agg canvas, never through
pyplot, so nothing here needs a display or changes the user's backend; matplotlib is imported only
when a picture is drawn.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping

import numpy as np

from .grads import EXPLODING, VANISHING

__all__ = ["plot_history", "plot_decision_boundary", "plot_grad_norms", "GradNormHistory",
           "plot_activations", "activation_table"]

# TensorFlow Playground's colours: orange for the negative class, blue for the positive one.
ORANGE, BLUE = "#f59322", "#0877bd"


def _figure(width: float, height: float):
    try:
        from matplotlib.figure import Figure
    except ImportError as err:   # the plot extra is optional; say how to get it
        raise ImportError("viz's training plots need matplotlib, which is not installed: "
                          "pip install 'graphgrad[plot]' (or pip install matplotlib)") from err
    return Figure(figsize=(width, height), layout="constrained")


def _finish(fig, path: str | os.PathLike | None, dpi: int = 120):
    if path is not None:
        fig.savefig(os.fspath(path), dpi=dpi)
    return fig


def _as_array(x: Any) -> np.ndarray:
    return np.asarray(x.data if hasattr(x, "data") and not isinstance(x, np.ndarray) else x)


# ---- loss and accuracy -------------------------------------------------------------------------

def plot_history(history: Mapping | Any, path: str | os.PathLike | None = None, *,
                 keys: list[str] | None = None, xlabel: str = "epoch", logy: bool | None = None,
                 title: str | None = None):
    """Loss (left) and accuracy (right) curves from a history: a dict of lists such as
    ``{"loss": [...], "val_loss": [...], "accuracy": [...]}`` (or an object with ``.history``).

    By default keys containing 'loss' and 'acc' are drawn; ``keys`` picks others.  ``logy`` puts
    the loss on a log scale (default: when it spans more than two decades).
    """
    history = getattr(history, "history", history)
    if not isinstance(history, Mapping):
        raise TypeError(f"plot_history: expected a dict of lists, got {type(history).__name__}")
    series = {k: np.asarray(v, dtype=np.float64) for k, v in history.items()
              if (keys is None or k in keys) and _numeric_list(v)}
    if keys is None:
        chosen = {k: v for k, v in series.items() if "loss" in k or "acc" in k}
        series = chosen or series
    if not series:
        raise ValueError(f"plot_history: no numeric series to plot among {list(history)}")
    acc = {k: v for k, v in series.items() if "acc" in k}
    loss = {k: v for k, v in series.items() if k not in acc}
    panels = [(p, name) for p, name in ((loss, "loss"), (acc, "accuracy")) if p]
    fig = _figure(5.5 * len(panels), 4)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (panel, name) in zip(axes, panels):
        for k, v in panel.items():
            ax.plot(np.arange(1, len(v) + 1), v, label=k, linewidth=1.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(frameon=False)
        values = np.concatenate(list(panel.values()))
        values = values[np.isfinite(values)]
        if name == "loss":
            span = values.size and values.min() > 0 and values.max() / values.min() > 100
            if logy or (logy is None and span):
                ax.set_yscale("log")
        elif values.size and values.min() >= 0 and values.max() <= 1:
            ax.set_ylim(-0.02, 1.02)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def _numeric_list(v: Any) -> bool:
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return a.ndim == 1 and a.size > 0


# ---- decision boundary -------------------------------------------------------------------------

def plot_decision_boundary(predict: Callable, X: Any, y: Any,
                           path: str | os.PathLike | None = None, *, resolution: int = 200,
                           padding: float = 0.5, title: str | None = None, ax: Any = None):
    """The classifier's output over the plane behind its 2-D data, TensorFlow Playground style.

    ``predict`` maps an (N, 2) array (or Tensor) to scores: (N,) or (N, 1) for two classes
    (probabilities in [0, 1] split at 0.5, anything else split at 0), or (N, K) for K classes
    (argmax).  An nn.Module is called in eval mode under no_grad and restored afterwards.
    """
    X = _as_array(X)
    y = _as_array(y)
    y = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(X))  # one-hot or not
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary: X must have shape (N, 2), got {X.shape}")
    lo, hi = X.min(axis=0) - padding, X.max(axis=0) + padding
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(X.dtype if X.dtype.kind == "f"
                                                             else np.float64)
    scores = _predict(predict, grid)
    fig = None
    if ax is None:
        fig = _figure(5, 5)
        ax = fig.subplots()
    from matplotlib.colors import LinearSegmentedColormap, ListedColormap
    classes = np.unique(y)
    if scores.ndim == 1 or scores.shape[1] == 1:
        s = scores.reshape(-1)
        prob = s.min() >= 0 and s.max() <= 1
        centre, reach = (0.5, 0.5) if prob else (0.0, max(float(np.abs(s).max()), 1e-12))
        cmap = LinearSegmentedColormap.from_list("playground", [ORANGE, "#ffffff", BLUE])
        ax.imshow(s.reshape(gx.shape), origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]),
                  cmap=cmap, vmin=centre - reach, vmax=centre + reach, alpha=0.75,
                  aspect="auto", interpolation="bilinear")
        ax.contour(gx, gy, s.reshape(gx.shape), levels=[centre], colors="#333333",
                   linewidths=1)
        positive = y == classes.max()
        point_colours = np.where(positive, BLUE, ORANGE)
    else:
        palette = ["#0877bd", "#f59322", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
        k = scores.shape[1]
        colours = [palette[i % len(palette)] for i in range(k)]
        cls = scores.argmax(axis=1).reshape(gx.shape)
        ax.imshow(cls, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]),
                  cmap=ListedColormap(colours), vmin=-0.5, vmax=k - 0.5, alpha=0.35,
                  aspect="auto", interpolation="nearest")
        point_colours = [colours[int(c) % k] for c in y]
    ax.scatter(X[:, 0], X[:, 1], c=point_colours, s=16, edgecolors="white", linewidths=0.6)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return _finish(fig, path) if fig is not None else ax.figure


def _predict(predict: Callable, grid: np.ndarray, batch: int = 8192) -> np.ndarray:
    from autograd import Tensor, no_grad
    training = getattr(predict, "training", None)
    if training and hasattr(predict, "eval"):
        predict.eval()   # Dropout/BatchNorm must not act while we only look
    try:
        with no_grad():
            parts = [_as_array(predict(Tensor(grid[i:i + batch])))
                     for i in range(0, len(grid), batch)]
    finally:
        if training and hasattr(predict, "train"):
            predict.train()
    out = np.concatenate(parts).astype(np.float64)
    return out.reshape(len(grid), -1) if out.ndim > 1 else out


# ---- gradient norms over training --------------------------------------------------------------

class GradNormHistory:
    """Collects the gradient norm of every layer (or parameter) each time ``record()`` is called,
    i.e. after ``backward()`` and before ``zero_grad()``::

        norms = viz.GradNormHistory(model)
        for step in ...:
            loss.backward(); norms.record(); opt.step(); opt.zero_grad()
        viz.plot_grad_norms(norms, "gradflow.png")

    ``per="layer"`` combines a module's parameters (weight and bias) into one norm; ``"parameter"``
    keeps each.  Parameters without a gradient record NaN (a gap in the curve).
    """

    def __init__(self, model: Any, per: str = "layer") -> None:
        if per not in ("layer", "parameter"):
            raise ValueError(f"GradNormHistory: per must be 'layer' or 'parameter', got {per!r}")
        self.model = model
        self.per = per
        self.history: dict[str, list[float]] = {}
        self.steps = 0

    def _named(self) -> list[tuple[str, Any]]:
        if hasattr(self.model, "named_parameters"):
            return list(self.model.named_parameters())
        if isinstance(self.model, Mapping):
            return list(self.model.items())
        return [(f"param{i}", p) for i, p in enumerate(self.model)]

    def record(self) -> dict[str, float]:
        squares: dict[str, float] = {}
        for name, p in self._named():
            key = name.rsplit(".", 1)[0] if self.per == "layer" and "." in name else name
            if p.grad is None:
                squares.setdefault(key, float("nan"))
                continue
            g = np.asarray(p.grad, dtype=np.float64).ravel()
            with np.errstate(all="ignore"):
                squares[key] = squares.get(key, 0.0) + float(np.dot(g, g))
        norms = {k: float(np.sqrt(v)) for k, v in squares.items()}
        for k, v in norms.items():   # a layer first seen late is padded, so steps line up
            self.history.setdefault(k, [float("nan")] * self.steps).append(v)
        self.steps += 1
        for k, v in self.history.items():
            if len(v) < self.steps:
                v.append(float("nan"))
        return norms

    def __call__(self, *args, **kwargs) -> dict[str, float]:
        """Same as record(), so the recorder can be passed where a callback is expected."""
        return self.record()


def plot_grad_norms(history: GradNormHistory | Mapping, path: str | os.PathLike | None = None, *,
                    vanishing: float = VANISHING, exploding: float = EXPLODING,
                    title: str | None = None):
    """Per-layer gradient norms: curves over training (left, log scale) and each layer's median
    norm in network order (right), with the vanishing and exploding zones shaded."""
    series = getattr(history, "history", history)
    if not series:
        raise ValueError("plot_grad_norms: no gradient norms recorded")
    names = list(series)
    data = {k: np.asarray(series[k], dtype=np.float64) for k in names}
    floor = vanishing * 1e-3   # zero norms cannot be drawn on a log axis; show them at the floor
    fig = _figure(11, 4.2)
    left, right = fig.subplots(1, 2, width_ratios=[1.4, 1])
    from matplotlib import colormaps
    colours = colormaps["viridis"](np.linspace(0, 0.9, len(names)))
    for colour, k in zip(colours, names):
        v = np.maximum(data[k], floor)
        steps = np.arange(1, len(v) + 1)
        window = max(1, len(v) // 50)   # per-step norms are noisy; the trend is what diagnoses
        if window > 1:
            left.plot(steps, v, color=colour, linewidth=0.6, alpha=0.25)
            left.plot(steps, _rolling_mean(v, window), color=colour, label=k, linewidth=1.6)
        else:
            left.plot(steps, v, color=colour, label=k, linewidth=1.4)
    pct = np.array([np.nanpercentile(data[k], [5, 50, 95]) if np.isfinite(data[k]).any()
                    else [np.nan] * 3 for k in names]).reshape(len(names), 3)
    pct = np.maximum(np.nan_to_num(pct, nan=floor), floor)
    medians = pct[:, 1]
    bar_colours = ["#1e3a8a" if m < vanishing else "#b91c1c" if m > exploding else "#0877bd"
                   for m in medians]
    right.bar(range(len(names)), medians, color=bar_colours)
    right.errorbar(range(len(names)), medians, yerr=[medians - pct[:, 0], pct[:, 2] - medians],
                   fmt="none", ecolor="#374151", capsize=3, linewidth=1)
    right.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
    for ax in (left, right):
        ax.set_yscale("log")
        top = max(float(np.nanmax(np.maximum(np.concatenate(list(data.values())), floor))
                        if np.isfinite(np.concatenate(list(data.values()))).any() else 1.0),
                  exploding * 10)
        ax.axhspan(floor * 0.5, vanishing, color="#1e3a8a", alpha=0.08)
        ax.axhspan(exploding, top * 2, color="#b91c1c", alpha=0.08)
        ax.set_ylim(floor * 0.5, top * 2)
        ax.grid(alpha=0.3, which="major")
    left.text(0.01, 0.02, "vanishing", transform=left.transAxes, color="#1e3a8a", fontsize=8)
    left.text(0.01, 0.95, "exploding", transform=left.transAxes, color="#b91c1c", fontsize=8)
    left.set_xlabel("step")
    left.set_ylabel("gradient norm ‖g‖")
    right.set_ylabel("median ‖g‖ over training (5–95 %)")
    if len(names) <= 12:
        left.legend(frameon=False, fontsize=8)
    fig.suptitle(title or "gradient norms per layer (input side first)")
    return _finish(fig, path)


def _rolling_mean(v: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps in log space (norms span decades), NaN-aware."""
    logs = np.log10(v)
    ok = np.isfinite(logs)
    sums = np.concatenate([[0.0], np.cumsum(np.where(ok, logs, 0.0))])
    counts = np.concatenate([[0], np.cumsum(ok)])
    idx = np.arange(1, len(v) + 1)
    start = np.maximum(idx - window, 0)
    n = counts[idx] - counts[start]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, 10 ** ((sums[idx] - sums[start]) / np.maximum(n, 1)), np.nan)


# ---- the activation table ----------------------------------------------------------------------

# (name, nn module name and arguments, f(x) as written in the lecture, f'(x)).
_ACTIVATIONS = [
    ("Identity", "Identity", {}, r"$x$", r"$1$"),
    ("Binary step", "BinaryStep", {}, r"$0$ if $x<0$, $1$ if $x\geq0$", r"$0$ ($x\neq0$)"),
    ("Logistic", "Sigmoid", {}, r"$\sigma(x)=1/(1+e^{-x})$", r"$\sigma(x)(1-\sigma(x))$"),
    ("TanH", "Tanh", {}, r"$\tanh(x)$", r"$1-\tanh^2(x)$"),
    ("ArcTan", "ArcTan", {}, r"$\tan^{-1}(x)$", r"$1/(x^2+1)$"),
    ("ReLU", "ReLU", {}, r"$\max(0,x)$", r"$0$ if $x<0$, $1$ if $x>0$"),
    ("PReLU", "PReLU", {}, r"$\alpha x$ if $x<0$, $x$ if $x\geq0$", r"$\alpha$ / $1$"),
    ("ELU", "ELU", {"alpha": 1.0}, r"$\alpha(e^x-1)$ if $x<0$, $x$", r"$f(x)+\alpha$ / $1$"),
    ("SoftPlus", "Softplus", {}, r"$\ln(1+e^x)$", r"$1/(1+e^{-x})$"),
]


def activation_table(lo: float = -4.0, hi: float = 4.0, n: int = 401) -> list[tuple]:
    """(name, x, f(x), f'(x), formula, derivative formula) per activation; f' comes from
    graphgrad's own backward through the nn activation module, not from a written formula."""
    import nn
    from autograd import Tensor
    rows = []
    for name, cls, kwargs, formula, dformula in _ACTIVATIONS:
        layer = getattr(nn, cls)(**kwargs)
        x = Tensor(np.linspace(lo, hi, n), requires_grad=True)
        y = layer(x)
        y.sum().backward()   # d/dx_i of sum_j f(x_j) is f'(x_i): elementwise activations
        rows.append((name, x.data.copy(), np.asarray(y.data, dtype=np.float64),
                     np.asarray(x.grad, dtype=np.float64), formula, dformula))
    return rows


def plot_activations(path: str | os.PathLike | None = None):
    """The lecture's activation table: each function (solid) and its derivative (dashed)."""
    rows = activation_table()
    fig = _figure(11, 10)
    axes = fig.subplots(3, 3).ravel()
    for ax, (name, x, y, dy, formula, dformula) in zip(axes, rows):
        ax.axhline(0, color="#9ca3af", linewidth=0.6)
        ax.axvline(0, color="#9ca3af", linewidth=0.6)
        ax.plot(x, y, color=BLUE, linewidth=2, label="f(x)")
        ax.plot(x, dy, color=ORANGE, linewidth=1.8, linestyle="--", label="f'(x) by autograd")
        ax.set_title(f"{name}\nf: {formula}\nf': {dformula}", fontsize=9)
        ax.set_ylim(-1.6, 4.2)
        ax.grid(alpha=0.25)
    axes[0].legend(frameon=False, fontsize=8, loc="upper left")
    fig.suptitle("Activation functions and their derivatives (derivatives computed by graphgrad)")
    return _finish(fig, path)
