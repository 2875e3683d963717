"""Schedules with cycles or feedback, PyTorch's rules: OneCycleLR (per batch), CosineAnnealing-
WarmRestarts (SGDR), ReduceLROnPlateau (driven by a validation metric).  Import them from
nn.optim.lr_scheduler."""

from __future__ import annotations

import math

import numpy as np

from .lr_scheduler import LRScheduler
from .optimizer import Optimizer

__all__ = ["OneCycleLR", "CosineAnnealingWarmRestarts", "ReduceLROnPlateau"]


def _per_group_values(name: str, value, optimizer: Optimizer, what: str) -> list[float]:
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(f"{name}: expected {groups} values of {what} (one per param group), "
                             f"got {len(value)}")
        return [float(v) for v in value]
    return [float(value)] * groups


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith): lr rises from ``max_lr / div_factor`` to ``max_lr`` over the
    first ``pct_start`` of ``total_steps``, then anneals to ``initial / final_div_factor``
    (``three_phase`` comes back to the initial lr first); momentum (or Adam's beta1) moves the
    opposite way between ``max_momentum`` and ``base_momentum``.  Step it once per batch."""

    state_attrs = ()

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1) -> None:
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
            total_steps = int(epochs) * int(steps_per_epoch)
        if int(total_steps) < 1:
            raise ValueError(f"OneCycleLR: total_steps must be positive, got {total_steps}")
        if not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: pct_start must be in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self.total_steps = int(total_steps)
        self.anneal_strategy = anneal_strategy
        steps = self.total_steps
        if three_phase:
            ends = [pct_start * steps - 1, 2 * pct_start * steps - 2, steps - 1]
            lr_path, momentum_path = [("initial", "max"), ("max", "initial"), ("initial", "min")], \
                [("max", "base"), ("base", "max"), ("max", "max")]
        else:
            ends = [pct_start * steps - 1, steps - 1]
            lr_path, momentum_path = [("initial", "max"), ("max", "min")], \
                [("max", "base"), ("base", "max")]
        self.phases = [(float(e), lr, m) for e, lr, m in zip(ends, lr_path, momentum_path)]
        max_lrs = _per_group_values("OneCycleLR", max_lr, optimizer, "max_lr")
        self.lr_points = [{"initial": m / div_factor, "max": m,
                           "min": m / div_factor / final_div_factor} for m in max_lrs]
        self.use_beta1 = "betas" in optimizer.defaults
        self.cycle_momentum = cycle_momentum
        if cycle_momentum and not self.use_beta1 and "momentum" not in optimizer.defaults:
            raise ValueError("OneCycleLR: the optimizer must have momentum or betas when "
                             "cycle_momentum is on (pass cycle_momentum=False)")
        base_m = _per_group_values("OneCycleLR", base_momentum, optimizer, "base_momentum")
        max_m = _per_group_values("OneCycleLR", max_momentum, optimizer, "max_momentum")
        self.momentum_points = [{"base": b, "max": m} for b, m in zip(base_m, max_m)]
        if last_epoch == -1:
            for group, points in zip(optimizer.param_groups, self.lr_points):
                group["initial_lr"] = points["initial"]
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _next_lrs(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, more than total_steps = "
                             f"{self.total_steps}")
        lrs = []
        for group, points, momenta in zip(self.optimizer.param_groups, self.lr_points,
                                          self.momentum_points):
            start = 0.0
            for i, (end, (lr_from, lr_to), (m_from, m_to)) in enumerate(self.phases):
                if step <= end or i == len(self.phases) - 1:
                    pct = (step - start) / (end - start) if end != start else 1.0
                    lrs.append(self._anneal(points[lr_from], points[lr_to], pct))
                    momentum = self._anneal(momenta[m_from], momenta[m_to], pct)
                    break
                start = end
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (momentum, group["betas"][1])
                else:
                    group["momentum"] = momentum
        return lrs


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: cosine from ``initial`` to ``eta_min`` over ``T_0`` epochs, then restart; each
    period is ``T_mult`` times the last.  ``step(epoch)`` accepts fractional epochs (per batch)."""

    state_attrs = ("T_i", "T_cur")

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if int(T_0) != T_0 or T_0 < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive integer, got "
                             f"{T_0}")
        if int(T_mult) != T_mult or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_mult must be an integer >= 1, got "
                             f"{T_mult}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = int(T_0), int(T_0), int(T_mult), eta_min
        self.T_cur = float(last_epoch)
        super().__init__(optimizer, last_epoch)

    def _next_lrs(self) -> list[float]:
        cosine = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (b - self.eta_min) * cosine for b in self.base_lrs]

    def _step(self, epoch: float | None = None) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: epoch must be >= 0, got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i, self.T_cur = self.T_0, epoch
        self.T_cur = float(self.T_cur)
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self._next_lrs()):
            group["lr"] = float(lr)
        self._last_lr = self._current()


class ReduceLROnPlateau(LRScheduler):
    """Multiply lr by ``factor`` once the metric given to ``step(metric)`` has not improved for
    more than ``patience`` epochs (improved: by ``threshold``, relative or absolute), then wait
    ``cooldown`` epochs; never below ``min_lr``, and changes smaller than ``eps`` are skipped."""

    state_attrs = ("best", "num_bad_epochs", "cooldown_counter")

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0.0, eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected an Optimizer, got "
                            f"{type(optimizer).__name__}")
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1.0, got {factor}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min'/'max' and threshold_mode "
                             f"'rel'/'abs', got {mode!r} and {threshold_mode!r}")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, float(factor), int(patience)
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = int(cooldown), eps
        self.min_lrs = _per_group_values("ReduceLROnPlateau", min_lr, optimizer, "min_lr")
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs, self.cooldown_counter = 0, 0
        self.last_epoch, self._step_count = 0, 0
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]
        self._last_lr = self._current()

    def _better(self, value: float) -> bool:
        sign = 1.0 if self.mode == "min" else -1.0
        if self.threshold_mode == "rel":
            bound = self.best * (1 - sign * self.threshold)
        else:
            bound = self.best - sign * self.threshold
        return value < bound if self.mode == "min" else value > bound

    def _step(self, metrics=None, epoch: int | None = None) -> None:
        """Record this epoch's metric (a number or 0-d Tensor) and reduce the lr if it is time."""
        if metrics is None:
            raise TypeError("ReduceLROnPlateau.step: needs the metric, e.g. step(val_loss)")
        value = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        self._step_count += 1
        if self._better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, floor in zip(self.optimizer.param_groups, self.min_lrs):
                old = group["lr"]
                new = max(old * self.factor, floor)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current()

    def state_dict(self) -> dict[str, np.ndarray]:
        out = super().state_dict()
        out["best"] = np.array(float(self.best))
        return out
