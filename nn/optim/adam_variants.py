"""Two Adam variants with PyTorch's update rules and defaults: NAdam (Nesterov momentum) and RAdam
(the variance of the adaptive rate rectified in early steps)."""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from .adam import Adam

__all__ = ["NAdam", "RAdam"]


class _AdamFamily(Adam):
    """Shared bookkeeping: betas, eps, weight decay (L2 or, when decoupled, AdamW's shrink) and
    the two moment estimates."""

    def _moments(self, p, group) -> tuple[np.ndarray, np.ndarray, dict, int, np.ndarray]:
        g = -p.grad if group["maximize"] else p.grad
        state = self.state.get(p)
        if state is None:
            state = self.state[p] = self._fresh_state(p)
        state["step"] = t = state["step"] + 1
        decay = group["weight_decay"]
        if decay:
            if group["decoupled_weight_decay"]:
                p.data *= 1.0 - group["lr"] * decay
            else:
                g = g + decay * p.data
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1.0 - beta1) * g
        v *= beta2
        v += (1.0 - beta2) * (g * g)
        return m, v, state, t, g

    def _fresh_state(self, p) -> dict:
        return {"step": 0, "exp_avg": np.zeros_like(p.data), "exp_avg_sq": np.zeros_like(p.data)}


class NAdam(_AdamFamily):
    """Adam with Nesterov momentum (Dozat), PyTorch's form: with
    ``mu_t = b1 (1 - 0.96^(t psi) / 2)`` (psi = momentum_decay) and ``P_t = prod mu_1..t``,
    ``p <- p - lr (1 - mu_t) / (1 - P_t) g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) m / d`` where
    ``d = sqrt(v / (1 - b2^t)) + eps``."""

    non_negative = ("eps", "weight_decay", "momentum_decay")
    scalar_state = ("step", "mu_product")

    def __init__(self, params: Iterable, lr: float = 2e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        super(Adam, self).__init__(params, dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=bool(decoupled_weight_decay),
            maximize=bool(maximize)))

    def _state_names(self, group: dict) -> tuple[str, ...]:
        return ("step", "mu_product", "exp_avg", "exp_avg_sq")

    def _fresh_state(self, p) -> dict:
        return {**super()._fresh_state(p), "mu_product": 1.0}

    def _update(self) -> None:
        for group in self.param_groups:
            lr, eps, psi = group["lr"], group["eps"], group["momentum_decay"]
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                m, v, state, t, g = self._moments(p, group)
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * psi))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
                state["mu_product"] = product = state["mu_product"] * mu
                denom = np.sqrt(v / (1.0 - beta2 ** t))
                denom += eps
                p.data -= (lr * (1.0 - mu) / (1.0 - product)) * (g / denom)
                p.data -= (lr * mu_next / (1.0 - product * mu_next)) * (m / denom)


class RAdam(_AdamFamily):
    """Rectified Adam (Liu et al.), PyTorch's form: with ``rho_inf = 2 / (1 - b2) - 1`` and
    ``rho_t = rho_inf - 2 t b2^t / (1 - b2^t)``, the step is ``lr m_hat r sqrt(1 - b2^t) /
    (sqrt(v) + eps)`` once ``rho_t > 5`` (r the rectification term), plain momentum
    ``lr m_hat`` before."""

    def __init__(self, params: Iterable, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        super(Adam, self).__init__(params, dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
            decoupled_weight_decay=bool(decoupled_weight_decay), maximize=bool(maximize)))

    def _state_names(self, group: dict) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq")

    def _update(self) -> None:
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            beta1, beta2 = group["betas"]
            rho_inf = 2.0 / (1.0 - beta2) - 1.0
            for p in group["params"]:
                if p.grad is None:
                    continue
                m, v, state, t, _ = self._moments(p, group)
                m_hat = m / (1.0 - beta1 ** t)
                correction2 = 1.0 - beta2 ** t
                rho = rho_inf - 2.0 * t * beta2 ** t / correction2
                if rho > 5.0:
                    rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf
                                     / ((rho_inf - 4) * (rho_inf - 2) * rho))
                    denom = np.sqrt(v)
                    denom += eps
                    p.data -= (lr * rect * math.sqrt(correction2)) * (m_hat / denom)
                else:
                    p.data -= lr * m_hat
