"""Adam (bias-corrected moment estimates) and AdamW (Adam with decoupled weight decay)."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from .optimizer import Optimizer

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``p <- p - lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)``.

    ``t`` counts the steps in which *this* parameter had a gradient.  ``weight_decay`` adds
    ``weight_decay * p`` to the gradient (L2 regularisation, as PyTorch's Adam does).
    ``amsgrad`` divides by the running maximum of ``v`` instead of ``v`` (Reddi et al.);
    ``maximize`` negates the gradient first.
    """

    decoupled = False
    non_negative = ("eps", "weight_decay")

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=bool(amsgrad),
                                      maximize=bool(maximize)))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        group["betas"] = tuple(float(b) for b in group["betas"])
        if len(group["betas"]) != 2 or not all(0.0 <= b < 1.0 for b in group["betas"]):
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1), "
                             f"got {group['betas']}")

    def _state_names(self, group: dict) -> tuple[str, ...]:
        names = ("step", "exp_avg", "exp_avg_sq")
        return names + ("max_exp_avg_sq",) if group.get("amsgrad") else names

    def _update(self) -> None:
        decoupled = self.decoupled
        for group in self.param_groups:
            lr, eps, decay = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            amsgrad, maximize = group["amsgrad"], group["maximize"]
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if maximize:
                    g = -g
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, "exp_avg": np.zeros_like(p.data),
                                             "exp_avg_sq": np.zeros_like(p.data)}
                    if amsgrad:
                        state["max_exp_avg_sq"] = np.zeros_like(p.data)
                state["step"] = t = state["step"] + 1
                if decay:
                    if decoupled:
                        p.data *= 1.0 - lr * decay   # shrink the previous weights, not the gradient
                    else:
                        g = g + decay * p.data
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m *= beta1
                m += (1.0 - beta1) * g
                v *= beta2
                v += (1.0 - beta2) * (g * g)
                if amsgrad:
                    v = state["max_exp_avg_sq"]
                    np.maximum(v, state["exp_avg_sq"], out=v)
                # denom = sqrt(v / bc2) + eps, computed in one scratch array
                denom = np.sqrt(v)
                denom *= 1.0 / math.sqrt(1.0 - beta2 ** t)
                denom += eps
                np.divide(m, denom, out=denom)
                denom *= lr / (1.0 - beta1 ** t)
                p.data -= denom


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p <- p * (1 - lr * weight_decay)`` before the Adam step,
    so the decay does not pass through the adaptive scaling (Loshchilov & Hutter)."""

    decoupled = True

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
