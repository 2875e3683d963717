"""RMSprop: divide the gradient by a running root-mean-square of its recent magnitudes."""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .optimizer import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """``s <- alpha s + (1-alpha) g^2``; ``p <- p - lr * g / (sqrt(s) + eps)``.

    ``centered`` subtracts the square of a running mean of g from s (a variance estimate);
    ``momentum`` keeps ``b <- momentum b + g / (sqrt(s) + eps)`` and steps by ``lr * b``.
    ``maximize`` negates the gradient first.  Defaults and order of operations are PyTorch's.
    """

    non_negative = ("alpha", "eps", "weight_decay", "momentum")

    def __init__(self, params: Iterable, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      maximize=bool(maximize)))

    def _state_names(self, group: dict) -> tuple[str, ...]:
        names = ("step", "square_avg")
        if group["momentum"] > 0:
            names += ("momentum_buffer",)
        if group["centered"]:
            names += ("grad_avg",)
        return names

    def _update(self) -> None:
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            decay, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
            maximize = group["maximize"]
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if maximize:
                    g = -g
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, "square_avg": np.zeros_like(p.data)}
                    if momentum > 0:
                        state["momentum_buffer"] = np.zeros_like(p.data)
                    if centered:
                        state["grad_avg"] = np.zeros_like(p.data)
                state["step"] += 1
                if decay:
                    g = g + decay * p.data
                square_avg = state["square_avg"]
                square_avg *= alpha
                square_avg += (1.0 - alpha) * (g * g)
                if centered:
                    grad_avg = state["grad_avg"]
                    grad_avg *= alpha
                    grad_avg += (1.0 - alpha) * g
                    avg = square_avg - grad_avg * grad_avg
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += g / avg
                    p.data -= lr * buf
                else:
                    np.divide(g, avg, out=avg)
                    avg *= lr
                    p.data -= avg
