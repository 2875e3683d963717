"""Adagrad: per-coordinate learning rates that shrink with the sum of past squared gradients."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """``s <- s + g^2``; ``p <- p - clr * g / (sqrt(s) + eps)`` with
    ``clr = lr / (1 + (t - 1) * lr_decay)``; ``maximize`` negates the gradient first.  Defaults
    are PyTorch's."""

    non_negative = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params: Iterable, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=bool(maximize)))

    def _state_names(self, group: dict) -> tuple[str, ...]:
        return ("step", "sum")

    def _update(self) -> None:
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            decay, maximize = group["weight_decay"], group["maximize"]
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if maximize:
                    g = -g
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {
                        "step": 0,
                        "sum": np.full_like(p.data, group["initial_accumulator_value"])}
                state["step"] = t = state["step"] + 1
                if decay:
                    g = g + decay * p.data
                total = state["sum"]
                total += g * g
                std = np.sqrt(total)
                std += eps
                np.divide(g, std, out=std)
                std *= lr / (1.0 + (t - 1) * lr_decay)
                p.data -= std
