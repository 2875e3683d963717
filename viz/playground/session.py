"""One browser tab's Playground: its settings, data, network, optimizer and training progress.

Training advances only when the page asks (``advance`` trains for a time budget and returns), so a
closed tab costs nothing but memory until the idle sweep removes it.  Every public method is called
with ``lock`` held by the server.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from . import core, settings as S
from .data import extent, generate, parse_csv, split

BOUNDARY_CELLS, NEURON_CELLS = 50, 16
MAX_HISTORY = 1000   # loss-curve points kept; older ones are thinned out two to one


class Session:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.touched = time.monotonic()
        self.settings = S.defaults()
        self.data_seed = 0
        self.run_seed = 0
        self.custom: dict | None = None     # uploaded data: {"name", "X", "y"}
        self.error = ""
        self.data_version = 0
        self.version = 0      # bumped by the server at every accepted request
        self._new_data()

    # ---- building -------------------------------------------------------------------------------
    def _new_data(self) -> None:
        if self.custom is not None:
            X, y = self.custom["X"], self.custom["y"]
        else:
            X, y = generate(self.settings["dataset"], self.settings["noise"], self.data_seed)
        self.points, self.labels = X, y
        self.extent = extent(X)
        self.X_train, self.y_train, self.X_test, self.y_test = split(
            X, y, self.settings["train-ratio"])
        self.data_version += 1
        self._new_run()

    def _new_run(self) -> None:
        s = self.settings
        self.model = core.build(s, self.run_seed)
        self.optimizer = core.make_optimizer(s, self.model)
        self.rng = np.random.default_rng([self.run_seed, 1])
        self.F_train = core.features(self.X_train, s["features"])
        self.F_test = core.features(self.X_test, s["features"])
        ticks = (np.arange(BOUNDARY_CELLS) + 0.5) / BOUNDARY_CELLS * 2 - 1
        self.F_grid = core.features(_grid(ticks * self.extent), s["features"])
        small = (np.arange(NEURON_CELLS) + 0.5) / NEURON_CELLS * 2 - 1
        self.F_small = core.features(_grid(small * self.extent), s["features"])
        self.epoch, self.order, self.position = 0, None, 0
        self.playing, self.diverged, self.error = False, False, ""
        self.rising = 0      # consecutive epochs with the training loss well above its start
        self.history: list[tuple[int, float, float]] = []
        self.stride = 1
        self.loss_train, self.loss_test = self._losses()
        self.history.append((0, self.loss_train, self.loss_test))

    # ---- changes from the page ------------------------------------------------------------------
    def update(self, changes: dict) -> None:
        """Apply setting changes (all or nothing); SettingsError leaves everything as it was."""
        new = S.apply(self.settings, changes, custom=self.custom is not None)
        changed = {k for k in S.KEYS if new[k] != self.settings[k]}
        if not changed:
            return
        if self.custom is not None and changed & {"dataset", "problem"}:
            self.custom = None    # picking a built-in set drops the uploaded one
        self.settings = new
        if changed & {"dataset", "problem", "noise", "train-ratio"}:
            self._new_data()
        elif changed - set(S.LIVE):
            self._new_run()
        elif "learning-rate" in changed:
            for group in self.optimizer.param_groups:
                group["lr"] = new["learning-rate"]

    def action(self, name: str, layer=None) -> None:
        layers = list(self.settings["layers"])
        if name == "play":
            if not self.playing:
                self._refuse_if_diverged("play")
            self.playing = not self.playing
        elif name == "pause":
            self.playing = False
        elif name == "step":
            self._refuse_if_diverged("step")
            self.playing = False
            start = self.epoch
            while self.epoch == start and not self.diverged:
                self._update()
        elif name == "reset":
            self.run_seed += 1
            self._new_run()
        elif name == "regenerate":
            if self.custom is not None:
                raise S.SettingsError("regenerate: the data are an uploaded file; pick a dataset "
                                      "to generate one")
            self.data_seed += 1
            self._new_data()
        elif name == "layers-add":
            if len(layers) >= S.MAX_LAYERS:
                raise S.SettingsError(f"layers-add: at most {S.MAX_LAYERS} hidden layers")
            self.update({"layers": layers + [2]})
        elif name == "layers-remove":
            if not layers:
                raise S.SettingsError("layers-remove: there is no hidden layer left to remove")
            self.update({"layers": layers[:-1]})
        elif name in ("neurons-add", "neurons-remove"):
            i = _layer_index(name, layer, len(layers))
            n = layers[i - 1] + (1 if name == "neurons-add" else -1)
            if not 1 <= n <= S.MAX_NEURONS:
                raise S.SettingsError(f"{name}-{i}: a hidden layer has 1 to {S.MAX_NEURONS} "
                                      f"neurons")
            layers[i - 1] = n
            self.update({"layers": layers})
        else:
            raise S.SettingsError(f"unknown action {str(name)[:40]!r}")

    def upload(self, raw: bytes, name: str) -> None:
        X, y, problem = parse_csv(raw, name)   # raises before anything changes
        self.custom = {"name": name, "X": X, "y": y}
        self.settings = S.with_custom_problem(self.settings, problem)
        self._new_data()

    def _refuse_if_diverged(self, what: str) -> None:
        if self.diverged:
            raise S.SettingsError(f"{what}: training diverged; press reset to start again")

    # ---- training -------------------------------------------------------------------------------
    def advance(self, budget: float = 0.1, max_epochs: int = 500) -> None:
        """Train for about ``budget`` seconds while playing (at least one update)."""
        if not self.playing:
            return
        deadline, start = time.perf_counter() + budget, self.epoch
        while self.playing and self.epoch - start < max_epochs:
            self._update()
            if time.perf_counter() > deadline:
                break

    def _update(self) -> None:
        """One optimizer step on the next batch; at the end of an epoch, the losses."""
        n = len(self.F_train)
        if self.order is None:
            self.order, self.position = core.epoch_order(self.rng, n), 0
        batch = self.order[self.position:self.position + self.settings["batch-size"]]
        self.position += len(batch)
        with np.errstate(all="ignore"):   # a diverging run overflows; that is reported below
            loss = core.update(self.settings, self.model, self.optimizer, self.F_train[batch],
                               self.y_train[batch])
            if self.position >= n:
                self.order = None
                self.epoch += 1
                self.loss_train, self.loss_test = self._losses()
                self._record()
                self._watch_rise()
        if not (np.isfinite(loss) and np.isfinite(self.loss_train)) or not self._weights_finite():
            with np.errstate(all="ignore"):
                self.loss_train, self.loss_test = self._losses()
            self.diverged, self.playing = True, False
            lr = self.settings["learning-rate"]
            self.error = (f"training diverged at epoch {self.epoch}: the loss or the weights "
                          f"are no longer finite numbers (learning rate {lr:g} is too large?); "
                          f"press reset to start again")

    # The loss may also diverge without overflowing: with a learning rate too large the weights
    # jump past the minimum and the saturated units stop learning, the loss stuck above where it
    # started (the defaults at rate 10 sit at 0.68 from 0.51).  A training loss 25 % above its
    # starting value for 10 epochs in a row is called a divergence too (no run with a rate <= 1
    # on the built-in datasets does that; see tests/test_playground_training.py).
    RISE, RISE_EPOCHS = 1.25, 10

    def _watch_rise(self) -> None:
        start = self.history[0][1]
        self.rising = self.rising + 1 if self.loss_train > self.RISE * start else 0
        if self.rising >= self.RISE_EPOCHS:
            self.diverged, self.playing = True, False
            lr = self.settings["learning-rate"]
            self.error = (f"training diverged at epoch {self.epoch}: the training loss rose from "
                          f"{start:.3f} to {self.loss_train:.3f} and stayed there for "
                          f"{self.RISE_EPOCHS} epochs (learning rate {lr:g} is too large?); "
                          f"press reset to start again")

    def _weights_finite(self) -> bool:
        return all(np.isfinite(p.data).all() for p in self.model.parameters())

    def _losses(self) -> tuple[float, float]:
        s = self.settings
        return (core.evaluate(s, self.model, self.F_train, self.y_train),
                core.evaluate(s, self.model, self.F_test, self.y_test))

    def _record(self) -> None:
        if self.epoch % self.stride == 0:
            self.history.append((self.epoch, self.loss_train, self.loss_test))
            if len(self.history) > MAX_HISTORY:
                self.history = self.history[::2]
                self.stride *= 2

    # ---- what the page draws --------------------------------------------------------------------
    def state(self) -> dict:
        s = self.settings
        out = {"settings": s, "fragment": S.to_fragment(self.url_settings()),
               "epoch": self.epoch, "loss_train": _decimal(self.loss_train),
               "loss_test": _decimal(self.loss_test), "playing": self.playing,
               "diverged": self.diverged, "error": self.error, "extent": self.extent,
               "data_version": self.data_version, "version": self.version,
               "custom": None if self.custom is None else {"name": self.custom["name"],
                                                           "rows": len(self.custom["X"])},
               "history": [[e, _finite(a), _finite(b)] for e, a, b in self.history]}
        if not self.diverged:
            out.update(self._pictures())
        return out

    def url_settings(self) -> dict:
        """What the URL holds: with uploaded data, the dataset key's own problem and loss (the
        file itself is not part of the URL)."""
        if self.custom is None:
            return self.settings
        return S.apply(self.settings, {"problem": S.problem_of(self.settings["dataset"])},
                       custom=True)

    def points_json(self) -> dict:
        k = len(self.X_train)
        pts = np.concatenate([self.points[:k], self.points[k:]])
        return {"data_version": self.data_version, "n_train": k,
                "points": np.round(pts.astype(float), 3).tolist(),
                "labels": np.round(np.concatenate([self.y_train[:, 0], self.y_test[:, 0]]),
                                   3).tolist()}

    def _pictures(self) -> dict:
        boundary = core.predict(self.settings, self.model, self.F_grid)
        maps, x = [self.F_small.T], self.F_small
        from autograd import Tensor, no_grad
        with no_grad():
            h = Tensor(x)
            for layer in self.model.layers():
                h = layer(h)
                maps.append(h.data.T)
        weights = [{"w": np.round(layer.linear.weight.data, 4).tolist(),
                    "b": np.round(layer.linear.bias.data, 4).tolist()}
                   for layer in self.model.layers()]
        # huge (finite) regression outputs stay finite JSON; colours saturate at +-1 anyway
        boundary = np.clip(np.nan_to_num(boundary), -1e3, 1e3)
        return {"boundary": np.round(boundary, 3).tolist(), "boundary_cells": BOUNDARY_CELLS,
                "neuron_cells": NEURON_CELLS, "weights": weights,
                "neurons": [np.round(np.clip(np.nan_to_num(m), -1e3, 1e3), 2).tolist()
                            for m in maps]}


def _grid(ticks: np.ndarray) -> np.ndarray:
    """Cell centres, row by row from the top (y falls), x rising within a row."""
    xs, ys = np.meshgrid(ticks, ticks[::-1])
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


def _layer_index(name: str, layer, count: int) -> int:
    try:
        i = int(layer)
    except (TypeError, ValueError):
        raise S.SettingsError(f"{name}: layer must be a hidden layer's number, got "
                              f"{str(layer)[:20]!r}") from None
    if not 1 <= i <= count:
        raise S.SettingsError(f"{name}-{i}: there is no hidden layer {i} (the network has "
                              f"{count})")
    return i


def _decimal(v: float) -> str:
    """Plain decimal text for the read-outs ('NaN' once a run has diverged)."""
    return f"{v:.3f}" if np.isfinite(v) else "NaN"


def _finite(v: float):
    return float(v) if np.isfinite(v) else None
