"""Learning-rate schedules that set each param group's "lr" (PyTorch semantics).

Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``.  Constructing a scheduler
records each group's ``initial_lr`` and sets epoch 0.  The rules are PyTorch's chainable ones:
each step multiplies the group's *current* lr, so schedulers compose and respect manual changes;
``step(epoch)`` jumps to an epoch with the closed form where a schedule has one (as PyTorch's,
which SequentialLR relies on).  Every scheduler's ``state_dict`` is flat name -> array, as
``nn.save`` stores.  OneCycleLR, CosineAnnealingWarmRestarts and ReduceLROnPlateau live in
lr_cycles.py, SequentialLR and ChainedScheduler in lr_combine.py; all are importable from here.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from typing import Callable

import numpy as np

from autograd.compiler.protocol import lowered

from .optimizer import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "MultiStepLR",
           "LambdaLR", "MultiplicativeLR", "ConstantLR", "LinearLR", "SequentialLR",
           "ChainedScheduler", "OneCycleLR", "CosineAnnealingWarmRestarts", "ReduceLROnPlateau"]


class LRScheduler:
    """Base class: ``last_epoch`` counts ``step()`` calls; subclasses give ``_next_lrs()`` (the
    chainable rule) and may give ``_closed_form_lrs()`` (the lr at ``last_epoch`` from
    ``base_lrs``).  ``state_attrs`` names further attributes that ``state_dict`` saves."""

    state_attrs: tuple[str, ...] = ()

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

    def _closed_form_lrs(self) -> list[float] | None:
        return None

    def _current(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def step(self, *args, **kwargs) -> None:
        """Advance one epoch (or jump to ``epoch``) and write the new lr into every group.  Inside
        a step compiled with ag.compile this is one step of the program: every replay advances
        the schedule again, as every eager call does."""
        lowered(self._advance, args, kwargs, name=f"{type(self).__name__}.step",
                state=self._compile_state)

    def _advance(self, args, kwargs) -> None:
        self._step(*args, **kwargs)

    def _compile_state(self) -> list:
        """What a step changes, for ag.compile's verification: the scheduler's numbers and lists
        of numbers, its schedulers' (SequentialLR, ChainedScheduler), every group's
        hyperparameters (lr, and OneCycleLR's momentum or betas).  The snapshot keeps a list as
        the object it is: the schedulers rebind their lists (_last_lr), never change one."""
        items = [(name, self, name) for name, value in vars(self).items()
                 if isinstance(value, (int, float)) or (
                     isinstance(value, list) and all(isinstance(x, (int, float)) for x in value))]
        for inner in getattr(self, "_schedulers", ()):
            items += inner._compile_state()
        return items + [(f"param group {i} {key}", group, key)
                        for i, group in enumerate(self.optimizer.param_groups)
                        for key in group if key != "params"]

    def _step(self, epoch: int | None = None) -> None:
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            lrs = self._next_lrs()
        else:
            self.last_epoch = epoch
            lrs = self._closed_form_lrs()
            if lrs is None:
                lrs = self._next_lrs()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = float(lr)
        self._last_lr = self._current()

    def get_last_lr(self) -> list[float]:
        return list(self._last_lr)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat name -> array: ``last_epoch``, ``base_lrs``, ``step_count``, ``last_lr`` and the
        schedule's own counters (``state_attrs``)."""
        out = {"last_epoch": np.array(self.last_epoch), "base_lrs": np.array(self.base_lrs),
               "step_count": np.array(self._step_count), "last_lr": np.array(self._last_lr)}
        for name in self.state_attrs:
            out[name] = np.array(getattr(self, name))
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what ``state_dict`` saved; checked first, so a mismatch changes nothing.
        (``last_lr`` may be absent: checkpoints written before it was saved.)"""
        name = type(self).__name__
        keys = {"last_epoch", "base_lrs", "step_count", *self.state_attrs}
        if not keys <= set(state_dict) <= keys | {"last_lr"}:
            raise ValueError(f"{name}.load_state_dict: expected keys "
                             f"{sorted(keys | {'last_lr'})}, got {sorted(state_dict)}")
        groups = len(self.base_lrs)
        lists = {}
        for key in ("base_lrs", "last_lr"):
            if key in state_dict:
                values = np.asarray(state_dict[key], dtype=float)
                if values.shape != (groups,):
                    raise ValueError(f"{name}.load_state_dict: {key} has shape {values.shape}, "
                                     f"the optimizer has {groups} groups")
                lists[key] = [float(x) for x in values]
        extras = {}
        for attr in self.state_attrs:
            value, current = np.asarray(state_dict[attr]), getattr(self, attr)
            if value.shape != np.shape(current):
                raise ValueError(f"{name}.load_state_dict: {attr} has shape {value.shape}, "
                                 f"expected {np.shape(current)}")
            extras[attr] = (int(value) if isinstance(current, int) else
                            float(value) if value.shape == () else value.tolist())
        self.base_lrs = lists["base_lrs"]
        if "last_lr" in lists:
            self._last_lr = lists["last_lr"]
        self.last_epoch = int(state_dict["last_epoch"])
        self._step_count = int(state_dict["step_count"])
        for attr, value in extras.items():
            setattr(self, attr, value)


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

    def _closed_form_lrs(self) -> list[float]:
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


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

    def _closed_form_lrs(self) -> list[float]:
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


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

    def _closed_form_lrs(self) -> list[float]:
        return [self._closed_form(base, self.last_epoch) for base in self.base_lrs]

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


class MultiStepLR(LRScheduler):
    """Multiply lr by ``gamma`` at each milestone epoch (a milestone listed twice counts twice):
    ``lr = initial * gamma^(number of milestones <= epoch)``."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def _next_lrs(self) -> list[float]:
        hits = self.milestones.get(self.last_epoch, 0)
        return [lr * self.gamma ** hits for lr in self._current()]

    def _closed_form_lrs(self) -> list[float]:
        passed = bisect.bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [b * self.gamma ** passed for b in self.base_lrs]


def _per_group(name: str, fn, optimizer: Optimizer) -> list[Callable]:
    groups = len(optimizer.param_groups)
    if callable(fn):
        return [fn] * groups
    fns = list(fn)
    if len(fns) != groups or not all(callable(f) for f in fns):
        raise ValueError(f"{name}: expected one function or {groups} (one per param group), got "
                         f"{len(fns)}")
    return fns


class LambdaLR(LRScheduler):
    """``lr = initial * lr_lambda(epoch)`` (one function, or one per param group).  The functions
    are code, so state_dict does not hold them (as PyTorch for plain functions)."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        self.lr_lambdas = _per_group("LambdaLR", lr_lambda, optimizer)
        super().__init__(optimizer, last_epoch)

    def _next_lrs(self) -> list[float]:
        return [b * f(self.last_epoch) for b, f in zip(self.base_lrs, self.lr_lambdas)]


class MultiplicativeLR(LRScheduler):
    """``lr <- lr * lr_lambda(epoch)`` at every step after the first."""

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1) -> None:
        self.lr_lambdas = _per_group("MultiplicativeLR", lr_lambda, optimizer)
        super().__init__(optimizer, last_epoch)

    def _next_lrs(self) -> list[float]:
        if self.last_epoch <= 0:
            return self._current()
        return [lr * f(self.last_epoch) for lr, f in zip(self._current(), self.lr_lambdas)]


class ConstantLR(LRScheduler):
    """``lr = initial * factor`` for the first ``total_iters`` epochs, then ``initial``."""

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in [0, 1], got {factor}")
        self.factor, self.total_iters = factor, int(total_iters)
        super().__init__(optimizer, last_epoch)

    def _next_lrs(self) -> list[float]:
        lrs = self._current()
        if self.last_epoch == 0:
            return [lr * self.factor for lr in lrs]
        if self.last_epoch != self.total_iters:
            return lrs
        return [lr / self.factor for lr in lrs]

    def _closed_form_lrs(self) -> list[float]:
        on = self.last_epoch < self.total_iters
        return [b * (self.factor if on else 1.0) for b in self.base_lrs]


class LinearLR(LRScheduler):
    """lr moves linearly from ``initial * start_factor`` to ``initial * end_factor`` over
    ``total_iters`` epochs (the usual warm-up), then stays."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1] and end_factor in "
                             f"[0, 1], got {start_factor} and {end_factor}")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def _next_lrs(self) -> list[float]:
        lrs, epoch = self._current(), self.last_epoch
        if epoch == 0:
            return [lr * self.start_factor for lr in lrs]
        if epoch > self.total_iters:
            return lrs
        span = self.end_factor - self.start_factor
        ratio = 1.0 + span / (self.total_iters * self.start_factor + (epoch - 1) * span)
        return [lr * ratio for lr in lrs]

    def _closed_form_lrs(self) -> list[float]:
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * done
        return [b * factor for b in self.base_lrs]


from .lr_combine import SequentialLR, ChainedScheduler  # noqa: E402
from .lr_cycles import OneCycleLR, CosineAnnealingWarmRestarts, ReduceLROnPlateau  # noqa: E402
