"""Learning-rate schedules that set each param group's "lr" (PyTorch semantics).

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``.  Constructing a scheduler
records each group's ``initial_lr`` and sets epoch 0.  The rules are PyTorch's chainable ones:
each step multiplies the group's *current* lr, so schedulers compose and respect manual changes.
"""

from __future__ import annotations

import math

import numpy as np

from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR"]


class LRScheduler:
    """Base class: ``last_epoch`` counts ``step()`` calls; subclasses give ``_next_lrs()``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param group {i} has no 'initial_lr', "
                                   "needed to resume at last_epoch != -1")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def _next_lrs(self) -> list[float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and write the new lr into every param group."""
        self._step_count += 1
        self.last_epoch += 1
        lrs = self._next_lrs()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = float(lr)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat name -> array (``last_epoch``, ``base_lrs``), as nn.save stores."""
        return {"last_epoch": np.array(self.last_epoch), "base_lrs": np.array(self.base_lrs),
                "step_count": np.array(self._step_count)}

    def load_state_dict(self, state_dict: dict) -> None:
        keys = {"last_epoch", "base_lrs", "step_count"}
        if set(state_dict) != keys:
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected keys "
                             f"{sorted(keys)}, got {sorted(state_dict)}")
        base_lrs = np.asarray(state_dict["base_lrs"], dtype=float)
        if base_lrs.shape != (len(self.base_lrs),):
            raise ValueError(f"{type(self).__name__}.load_state_dict: base_lrs has shape "
                             f"{base_lrs.shape}, the optimizer has {len(self.base_lrs)} groups")
        self.base_lrs = [float(x) for x in base_lrs]
        self.last_epoch = int(state_dict["last_epoch"])
        self._step_count = int(state_dict["step_count"])


class StepLR(LRScheduler):
    """Multiply lr by ``gamma`` every ``step_size`` epochs:
    ``lr = initial * gamma^(epoch // step_size)``."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        if int(step_size) < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def _next_lrs(self) -> list[float]:
        lrs = [g["lr"] for g in self.optimizer.param_groups]
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return lrs
        return [lr * self.gamma for lr in lrs]


class ExponentialLR(LRScheduler):
    """Multiply lr by ``gamma`` every epoch: ``lr = initial * gamma^epoch``."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _next_lrs(self) -> list[float]:
        lrs = [g["lr"] for g in self.optimizer.param_groups]
        if self.last_epoch == 0:
            return lrs
        return [lr * self.gamma for lr in lrs]


class CosineAnnealingLR(LRScheduler):
    """``lr = eta_min + (initial - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``, written as
    PyTorch's recursive update (so it composes with other schedulers); past ``T_max`` it rises
    again, as PyTorch's does."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        if int(T_max) < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max}")
        self.T_max, self.eta_min = int(T_max), eta_min
        super().__init__(optimizer, last_epoch)

    def _closed_form(self, base: float, epoch: int) -> float:
        cosine = math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (base - self.eta_min) * (1 + cosine) / 2

    def _next_lrs(self) -> list[float]:
        groups, epoch, T = self.optimizer.param_groups, self.last_epoch, self.T_max
        if epoch == 0:
            return [g["lr"] for g in groups]
        if self._step_count == 1:   # resuming from last_epoch > 0: no previous lr to scale
            return [self._closed_form(base, epoch) for base in self.base_lrs]
        if (epoch - 1 - T) % (2 * T) == 0:
            # At the trough the ratio below is 0/0; step up from eta_min instead.
            return [g["lr"] + (base - self.eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for g, base in zip(groups, self.base_lrs)]
        ratio = (1 + math.cos(math.pi * epoch / T)) / (1 + math.cos(math.pi * (epoch - 1) / T))
        return [self.eta_min + ratio * (g["lr"] - self.eta_min) for g in groups]
