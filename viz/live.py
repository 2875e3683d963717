"""Live training views for Jupyter: the loss curve, the decision boundary (2-D inputs) and the
computation graph, redrawn in place in one output cell through an IPython display handle.

    view = viz.live(model, loss_fn, data=(X, y))     # or nn.fit(..., live=True)
    for epoch in range(100):
        ...train...
        view.update(loss=epoch_loss)                 # or view.update(history)

Everything is inline HTML/SVG drawn here (no matplotlib, no ipywidgets); the graph is
``viz.draw_graph`` piped through graphviz's ``dot`` when it is installed.  IPython is imported only
when a view is shown; ``html()`` works without it.
"""

from __future__ import annotations

import html as _html
from typing import Any, Mapping

import numpy as np

__all__ = ["LiveView", "live", "boundary_svg", "loss_curve_svg", "curves_svg"]

NEG, MID, POS = np.array([245, 147, 34]), np.array([232, 234, 235]), np.array([8, 119, 189])


class LiveView:
    """One output cell that ``update`` redraws; ``every=k`` redraws on every k-th update only."""

    def __init__(self, model: Any = None, loss_fn: Any = None, data: Any = None, *,
                 every: int = 1, curve: bool = True, boundary: bool | None = None,
                 graph: bool = True, cells: int = 30, title: str | None = None) -> None:
        if int(every) != every or every < 1:
            raise ValueError(f"viz.live: every must be a positive integer, got {every}")
        self.model, self.loss_fn, self.title = model, loss_fn, title
        self.sample = _sample(data)
        inputs = None if self.sample is None else self.sample[0]
        two_d = inputs is not None and inputs.ndim == 2 and inputs.shape[1] == 2
        if boundary and not two_d:
            raise ValueError("viz.live: the decision boundary needs data with 2 input columns, "
                             f"got {None if self.sample is None else self.sample[0].shape}")
        self.show_curve = curve
        self.show_boundary = two_d and model is not None if boundary is None else boundary
        self.show_graph = graph and model is not None and loss_fn is not None and \
            self.sample is not None
        self.every, self.cells = int(every), int(cells)
        self.history: dict[str, list[float]] = {}
        self.updates = 0
        self._handle = None

    def update(self, history: Mapping | None = None, **values: float) -> "LiveView":
        """Take a whole history (dict of lists, e.g. nn.fit's) and/or append values
        (``loss=0.3``), then redraw the cell (every ``every``-th call)."""
        if history is not None:
            self.history = {k: [float(x) for x in v] for k, v in history.items()}
        for k, v in values.items():
            self.history.setdefault(k, []).append(float(v))
        self.updates += 1
        if (self.updates - 1) % self.every == 0:
            self.show()
        return self

    def finish(self) -> None:
        """Draw the last update if ``every`` skipped it (nn.fit calls this at the end)."""
        if self.updates and (self.updates - 1) % self.every != 0:
            self.show()

    def show(self) -> None:
        """Display the view, or replace what the earlier display of it shows."""
        from IPython.display import HTML, display   # only here: notebooks only
        page = HTML(self.html())
        if self._handle is None:
            self._handle = display(page, display_id=True)
        else:
            self._handle.update(page)

    def html(self) -> str:
        parts = []
        if self.show_curve:
            parts.append(_figure("loss", loss_curve_svg(self.history)))
        if self.show_boundary:
            X, y = self.sample
            parts.append(_figure("decision boundary", boundary_svg(self.model, X, y, self.cells)))
        if self.show_graph:
            parts.append(_figure("computation graph (gradient norms)", self._graph()))
        head = f"<b>{_html.escape(self.title)}</b><br>" if self.title else ""
        epochs = len(self.history.get("loss", next(iter(self.history.values()), [])))
        row = "display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start"
        return (f'<div class="graphgrad-live">{head}<small>after {epochs} epochs</small>'
                f'<div style="{row}">{"".join(parts)}</div></div>')

    _repr_html_ = html

    def _graph(self) -> str:
        import graphviz
        from autograd import Tensor
        from .graph import draw_graph
        X, y = self.sample
        k = min(len(X), 16)
        loss = self.loss_fn(self.model(Tensor(X[:k])), Tensor(y[:k]))
        g = draw_graph(loss, model=self.model, grad_flow=True, group_by_module=True,
                       rankdir="LR")
        try:
            svg = g.pipe(format="svg").decode("utf-8")
        except graphviz.ExecutableNotFound:
            return "<p>(the graph needs graphviz's <code>dot</code>: apt-get install graphviz)</p>"
        return svg[svg.find("<svg"):]


def live(model: Any = None, loss_fn: Any = None, data: Any = None, **options) -> LiveView:
    """A :class:`LiveView`; ``data`` is ``(X, y)``, a DataLoader of a TensorDataset, or a list of
    ``(X, y)`` batches (the first one is used; other iterables are never consumed)."""
    return LiveView(model, loss_fn, data, **options)


def _sample(data: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Up to 500 (inputs, targets) rows to draw with, without consuming an iterator."""
    pair = None
    tensors = getattr(getattr(data, "dataset", None), "tensors", None)
    if tensors is not None and len(tensors) >= 2:
        pair = tensors[:2]
    elif getattr(data, "X", None) is not None and getattr(data, "y", None) is not None:
        pair = data.X, data.y            # a loader that keeps its arrays as X and y
    elif isinstance(data, tuple) and len(data) == 2 and not isinstance(data[0], tuple):
        pair = data
    elif isinstance(data, list) and data and isinstance(data[0], (tuple, list)):
        pair = data[0]
    if pair is None:
        return None
    X, y = (np.asarray(getattr(a, "data", a)) for a in pair)
    return X[:500], y[:500]


def _colour(v: float) -> str:
    v = float(np.clip(v, -1, 1)) if np.isfinite(v) else 0.0
    c = MID + (POS - MID) * v if v >= 0 else MID + (NEG - MID) * -v
    return "#%02x%02x%02x" % tuple(int(round(x)) for x in c)


def _scores(model: Any, X: np.ndarray) -> np.ndarray:
    """Model outputs on the Playground's -1..1 scale: probabilities 2p - 1, logits tanh, classes
    of a K-way output by argmax (first class -1)."""
    from autograd import no_grad
    was = getattr(model, "training", None)
    if was is not None:
        model.eval()
    try:
        with no_grad():
            out = model(X.astype(np.float32))
    finally:
        if was:
            model.train()
    out = np.asarray(getattr(out, "data", out), dtype=np.float64)
    if out.ndim == 2 and out.shape[1] > 1:
        return np.where(out.argmax(axis=1) == 0, -1.0, 1.0)
    out = out.reshape(len(X))
    return 2 * out - 1 if out.min() >= 0 and out.max() <= 1 else np.tanh(out)


def boundary_svg(model: Any, X: np.ndarray, y: np.ndarray, cells: int = 30, size: int = 260) -> str:
    """The model's output over the data's square (cells x cells rectangles) with the points."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = (hi - lo).max() * 0.08 + 1e-9
    lo, hi = lo - pad, hi + pad
    side = float((hi - lo).max())
    centre = (lo + hi) / 2
    ticks = (np.arange(cells) + 0.5) / cells - 0.5
    gx, gy = np.meshgrid(centre[0] + ticks * side, centre[1] - ticks * side)
    scores = _scores(model, np.stack([gx.ravel(), gy.ravel()], axis=1)).reshape(cells, cells)
    step = size / cells
    rects = "".join(f'<rect x="{j * step:.1f}" y="{i * step:.1f}" width="{step + 0.5:.1f}" '
                    f'height="{step + 0.5:.1f}" fill="{_colour(scores[i, j])}"/>'
                    for i in range(cells) for j in range(cells))
    labels = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    labels = labels.argmax(axis=1) if labels.shape[1] > 1 else labels[:, 0]
    signed = np.where(labels > (0 if labels.min() < 0 else 0.5), 1.0, -1.0)
    px = (X[:, 0] - centre[0]) / side * size + size / 2
    py = (centre[1] - X[:, 1]) / side * size + size / 2
    dots = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.6" fill="{_colour(s)}" '
                   f'stroke="white" stroke-width="0.8"/>' for a, b, s in zip(px, py, signed))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
            f'viewBox="0 0 {size} {size}">{rects}{dots}</svg>')


def loss_curve_svg(history: Mapping, width: int = 300, height: int = 160) -> str:
    """Every series whose name holds 'loss', as polylines on a shared linear scale."""
    return curves_svg({k: v for k, v in history.items() if "loss" in k and len(v)}, None,
                      width, height)


def curves_svg(series: Mapping, x: Any = None, width: int = 300, height: int = 160) -> str:
    """Series (name -> values, over ``x`` or their index) as polylines on one shared scale."""
    series = {k: np.asarray(v, dtype=np.float64) for k, v in series.items()}
    finite = [v[np.isfinite(v)] for v in series.values()]
    top = max((float(v.max()) for v in finite if v.size), default=1.0)
    low = min((float(v.min()) for v in finite if v.size), default=0.0)
    low = min(low, 0.0)
    span = (top - low) or 1.0
    colours = ["#222", "#0877bd", "#f59322", "#16a34a", "#9333ea", "#dc2626", "#0d9488",
               "#a16207", "#db2777"]
    body, legend = [], []
    for n, (name, v) in enumerate(series.items()):
        c = colours[n % len(colours)]
        if x is None:
            xs = np.linspace(4, width - 4, len(v)) if len(v) > 1 else np.array([width / 2])
        else:
            xa = np.asarray(x, dtype=np.float64)
            xs = 4 + (xa - xa.min()) / ((xa.max() - xa.min()) or 1.0) * (width - 8)
        vals = np.nan_to_num(v, nan=low, posinf=top, neginf=low)
        ys = height - 16 - (vals - low) / span * (height - 30)
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys))
        body.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.6"/>')
        legend.append(f'<tspan fill="{c}">{_html.escape(str(name))} {v[-1]:.4g}  </tspan>')
    zero = height - 16 - (0 - low) / span * (height - 30)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
            f'<rect width="{width}" height="{height}" fill="white" stroke="#ddd"/>'
            f'<line x1="0" x2="{width}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#eee"/>'
            f'<text x="6" y="12" font-size="10" fill="#666">{low:.3g} to {top:.3g}</text>'
            f'{"".join(body)}<text x="6" y="{height - 3}" font-size="10">{"".join(legend)}'
            f'</text></svg>')


def _figure(caption: str, body: str) -> str:
    return (f'<figure style="margin:0"><figcaption style="font:12px sans-serif;color:#555">'
            f'{_html.escape(caption)}</figcaption>{body}</figure>')
