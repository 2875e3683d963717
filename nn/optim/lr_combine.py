"""Schedulers made of schedulers, PyTorch's rules: SequentialLR (one after another, switching at
milestones) and ChainedScheduler (all at once, effects multiplied).  Import them from
nn.optim.lr_scheduler."""

from __future__ import annotations

import bisect

import numpy as np

from .lr_scheduler import LRScheduler
from .optimizer import Optimizer

__all__ = ["SequentialLR", "ChainedScheduler"]


def _nested_state(schedulers) -> dict[str, np.ndarray]:
    return {f"schedulers.{i}.{k}": v for i, s in enumerate(schedulers)
            for k, v in s.state_dict().items()}


def _load_nested(name: str, schedulers, state_dict: dict) -> None:
    parts: list[dict] = [{} for _ in schedulers]
    for key, value in state_dict.items():
        if key in ("last_epoch", "last_lr"):
            continue
        head, _, rest = key.partition(".")
        index, _, inner = rest.partition(".")
        if head != "schedulers" or not index.isdigit() or int(index) >= len(schedulers):
            raise ValueError(f"{name}.load_state_dict: unexpected key {key!r} (this one holds "
                             f"{len(schedulers)} schedulers)")
        parts[int(index)][inner] = value
    for scheduler, part in zip(schedulers, parts):
        scheduler.load_state_dict(part)


class SequentialLR(LRScheduler):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted at its
    epoch 0), ... e.g. a LinearLR warm-up followed by a CosineAnnealingLR, as PyTorch's."""

    def __init__(self, optimizer: Optimizer, schedulers, milestones, last_epoch: int = -1) -> None:
        self._schedulers, self._milestones = list(schedulers), [int(m) for m in milestones]
        if len(self._milestones) != len(self._schedulers) - 1:
            raise ValueError(f"SequentialLR: {len(self._schedulers)} schedulers need "
                             f"{len(self._schedulers) - 1} milestones, got {len(milestones)}")
        for s in self._schedulers:
            if getattr(s, "optimizer", None) is not optimizer:
                raise ValueError("SequentialLR: every scheduler must drive the optimizer given")
        self.optimizer = optimizer
        self.last_epoch = last_epoch + 1
        self._step_count = 0
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        for group in optimizer.param_groups:      # undo what constructing the others did
            group["lr"] = group["initial_lr"]
        for s in self._schedulers:
            s.last_epoch -= 1
        first = self._schedulers[0]
        first._step_count -= 1
        first.step()
        self._last_lr = first.get_last_lr()

    def _step(self, epoch: int | None = None) -> None:
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler.step(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"last_epoch": np.array(self.last_epoch), "last_lr": np.array(self._last_lr),
                **_nested_state(self._schedulers)}

    def load_state_dict(self, state_dict: dict) -> None:
        if "last_epoch" not in state_dict:
            raise ValueError("SequentialLR.load_state_dict: missing 'last_epoch'")
        _load_nested("SequentialLR", self._schedulers, state_dict)
        self.last_epoch = int(state_dict["last_epoch"])
        self._last_lr = [float(x) for x in state_dict.get("last_lr", self._current())]


class ChainedScheduler(LRScheduler):
    """Step every scheduler at each ``step()``; their (multiplicative) effects compose."""

    def __init__(self, schedulers, optimizer: Optimizer | None = None) -> None:
        self._schedulers = list(schedulers)
        if not self._schedulers:
            raise ValueError("ChainedScheduler: needs at least one scheduler")
        self.optimizer = optimizer if optimizer is not None else self._schedulers[0].optimizer
        for s in self._schedulers:
            if s.optimizer is not self.optimizer:
                raise ValueError("ChainedScheduler: every scheduler must drive the same optimizer")
        self.base_lrs = [g.get("initial_lr", g["lr"]) for g in self.optimizer.param_groups]
        self.last_epoch, self._step_count = 0, 0
        self._last_lr = self._current()

    def _step(self, epoch: int | None = None) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self.last_epoch += 1
        self._last_lr = self._current()

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"last_epoch": np.array(self.last_epoch), "last_lr": np.array(self._last_lr),
                **_nested_state(self._schedulers)}

    def load_state_dict(self, state_dict: dict) -> None:
        if "last_epoch" not in state_dict:
            raise ValueError("ChainedScheduler.load_state_dict: missing 'last_epoch'")
        _load_nested("ChainedScheduler", self._schedulers, state_dict)
        self.last_epoch = int(state_dict["last_epoch"])
        self._last_lr = [float(x) for x in state_dict.get("last_lr", self._current())]
