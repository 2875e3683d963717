"""A small training loop with a progress bar: ``fit`` and ``evaluate``.

    loader = nn.data.DataLoader(X_train, y_train, batch_size=64, shuffle=True, seed=0)
    history = nn.fit(model, F.cross_entropy, opt, loader, epochs=10,
                     val_data=[(X_test, y_test)], metrics=["accuracy"])
    history["loss"], history["accuracy"], history["val_loss"], history["val_accuracy"]

Each epoch: for every ``(inputs, targets)`` batch, ``zero_grad``, forward, ``loss.backward()``,
``optimizer.step()``; then the validation pass under ``no_grad`` in eval mode; then
``scheduler.step()``.  What is reported per epoch is the mean over samples, batch-size weighted.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Iterable

import numpy as np
from tqdm import std as _tqdm_std

from autograd import Tensor, no_grad

__all__ = ["fit", "evaluate", "accuracy", "binary_accuracy", "METRICS"]


def accuracy(output, target) -> float:
    """Fraction of rows whose largest score (logit or probability) is at the target class."""
    out, tgt = np.asarray(output), np.asarray(target)
    if out.ndim != 2 or out.shape[1] < 2:
        raise ValueError(f"accuracy: expects class scores of shape (n, classes), got {out.shape}; "
                         "use binary_accuracy for one output per sample")
    return float(np.mean(out.argmax(axis=1) == tgt.reshape(-1)))


def binary_accuracy(output, target, threshold: float = 0.5) -> float:
    """Fraction of samples where ``output > threshold`` matches a 0/1 target (use threshold 0 for
    logits, 0.5 for probabilities)."""
    out, tgt = np.asarray(output).reshape(-1), np.asarray(target).reshape(-1)
    if out.shape != tgt.shape:
        raise ValueError(f"binary_accuracy: {out.size} outputs for {tgt.size} targets")
    return float(np.mean((out > threshold) == (tgt > 0.5)))


METRICS: dict[str, Callable] = {"accuracy": accuracy, "binary_accuracy": binary_accuracy}


def _metric_table(metrics) -> dict[str, Callable]:
    if metrics is None:
        return {}
    if isinstance(metrics, dict):
        return dict(metrics)
    table = {}
    for m in metrics:
        if isinstance(m, str):
            if m not in METRICS:
                raise ValueError(f"fit: unknown metric {m!r}; named metrics are {sorted(METRICS)}, "
                                 "or pass {name: fn(output, target)}")
            table[m] = METRICS[m]
        else:
            table[getattr(m, "__name__", f"metric{len(table)}")] = m
    return table


def _batches(data, what: str):
    if isinstance(data, Tensor) or isinstance(data, np.ndarray):
        raise TypeError(f"fit: {what} must be an iterable of (inputs, targets) batches, such as a "
                        "DataLoader or [(X, y)] for one full batch")
    return data


def _set_mode(model, training: bool) -> None:
    switch = getattr(model, "train" if training else "eval", None)
    if callable(switch):    # plain functions can be "models" too; they have no modes
        switch()


def _values(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _run_epoch(model, loss_fn, data, metrics, optimizer=None, bar=None) -> dict[str, float]:
    """One pass over ``data``; trains when ``optimizer`` is given.  Sample-weighted means."""
    totals = dict.fromkeys(["loss", *metrics], 0.0)
    seen = 0
    for batch in data:
        inputs, targets = batch
        if optimizer is not None:
            optimizer.zero_grad()
        output = model(inputs)
        loss = loss_fn(output, targets)
        if optimizer is not None:
            loss.backward()
            optimizer.step()
        n = len(targets)
        seen += n
        totals["loss"] += float(loss.item()) * n
        for name, fn in metrics.items():
            # Metrics see plain arrays: the outputs detached from the graph (values, no gradient).
            totals[name] += float(fn(_values(output), _values(targets))) * n
        if bar is not None:
            bar.update(1)
    if seen == 0:
        raise ValueError("fit: the data yielded no batches")
    return {k: v / seen for k, v in totals.items()}


def evaluate(model, loss_fn: Callable, data: Iterable, metrics=None) -> dict[str, float]:
    """Mean loss and metrics over ``data`` in eval mode without recording a graph."""
    table = _metric_table(metrics)
    was_training = getattr(model, "training", True)
    _set_mode(model, False)
    try:
        with no_grad():
            return _run_epoch(model, loss_fn, _batches(data, "data"), table)
    finally:
        if was_training:
            _set_mode(model, True)


def _in_jupyter() -> bool:
    """True inside a Jupyter kernel (IPython is imported only if the program already has it)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _on_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


def progress_bar(total, enabled: bool, **kwargs):
    """The progress bar ``fit`` draws: ``tqdm.auto``'s notebook widget in a Jupyter kernel that
    has ipywidgets, the text bar in a kernel without it (no IProgress warning) or on a terminal,
    and nothing when output goes to a file or pipe (a log gets no stream of redrawn bars)."""
    jupyter = _in_jupyter()
    if not enabled or not (jupyter or _on_terminal()):
        return _tqdm_std.tqdm(total=total, disable=True, **kwargs)
    if jupyter:
        try:
            import ipywidgets  # noqa: F401
            from tqdm.auto import tqdm as auto
            return auto(total=total, **kwargs)
        except ImportError:
            pass
    return _tqdm_std.tqdm(total=total, **kwargs)


def fit(model, loss_fn: Callable, optimizer, train_data: Iterable, epochs: int = 1,
        val_data: Iterable | None = None, metrics=None, scheduler: Any = None,
        progress: bool = True, live: Any = False) -> dict[str, list[float]]:
    """Train ``model`` for ``epochs`` passes over ``train_data`` and return the history: a dict of
    per-epoch lists, ``"loss"`` and each metric, and ``"val_loss"`` / ``"val_<metric>"`` when
    ``val_data`` is given.

    ``loss_fn(output, targets)`` returns a scalar Tensor.  ``metrics``: names from ``METRICS``
    ("accuracy", "binary_accuracy"), callables ``fn(output, targets) -> float`` on ndarrays, or a
    dict name -> callable.  ``scheduler.step()`` runs after each epoch.  ``progress`` shows a tqdm
    bar over batches whose postfix is the last epoch's loss and metrics, on a terminal or in
    Jupyter only (see ``progress_bar``).  ``live=True`` (in a
    notebook) redraws the loss curve, the decision boundary for 2-D inputs and the graph in the
    output cell after every epoch (``viz.live``); a view, ``viz.live(...)``, may be passed.
    """
    if int(epochs) != epochs or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs}")
    table = _metric_table(metrics)
    train_data = _batches(train_data, "train_data")
    history: dict[str, list[float]] = {name: [] for name in ["loss", *table]}
    if val_data is not None:
        _batches(val_data, "val_data")
        history.update({f"val_{name}": [] for name in ["loss", *table]})
    try:
        per_epoch = len(train_data)
    except TypeError:
        per_epoch = None
    total = None if per_epoch is None else per_epoch * int(epochs)
    view = live if hasattr(live, "update") else None   # any view: update(history), finish()
    if view is None and live not in (True, False, None):
        raise TypeError(f"fit: live must be True, False or a view with update(history), got "
                        f"{type(live).__name__}")
    if live is True:   # the one upward import, made only when asked for: viz draws, nn trains
        from viz.live import live as live_view
        view = live_view(model, loss_fn, train_data)
    with progress_bar(total, bool(progress), unit="batch", dynamic_ncols=True) as bar:
        for epoch in range(int(epochs)):
            bar.set_description(f"epoch {epoch + 1}/{int(epochs)}")
            _set_mode(model, True)
            results = _run_epoch(model, loss_fn, train_data, table, optimizer, bar)
            if val_data is not None:
                results.update({f"val_{k}": v
                                for k, v in evaluate(model, loss_fn, val_data, table).items()})
            for key, value in results.items():
                history[key].append(value)
            if scheduler is not None:
                scheduler.step()
            bar.set_postfix({k: f"{v:.4g}" for k, v in results.items()})
            if view is not None:
                view.update(history)
    if view is not None and hasattr(view, "finish"):
        view.finish()
    return history
