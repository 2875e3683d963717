"""Stochastic gradient descent, the lecture's rule W <- W - lr * dE/dW, with momentum."""

from __future__ import annotations

import functools
from typing import Iterable

import numpy as np

from .optimizer import Optimizer, subtract_scaled

__all__ = ["SGD"]


class SGD(Optimizer):
    """``p <- p - lr * d`` where ``d`` is the gradient (plus ``weight_decay * p``), or with
    ``momentum`` the buffer ``b <- momentum * b + (1 - dampening) * d`` (``b = d`` on a parameter's
    first step), and with ``nesterov`` the look-ahead ``d + momentum * b``.

    ``maximize`` ascends the objective (the gradient is negated first).  This is PyTorch's
    convention.  With a constant lr it is the lecture's momentum term,
    ``dW(t) = -lr * dE/dW + momentum * dW(t-1)``, because ``dW(t) = -lr * b(t)``.
    """

    non_negative = ("momentum", "weight_decay")

    def __init__(self, params: Iterable, lr: float, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0,
                 dampening: float = 0.0, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=bool(maximize)))

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov momentum needs momentum > 0 and dampening = 0")

    def _state_names(self, group: dict) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _update(self) -> None:
        for group in self.param_groups:
            if group["momentum"] or group["weight_decay"] or group["maximize"]:
                for p in group["params"]:
                    if p.grad is not None:
                        self._update_param(p, group)
                continue
            # Plain SGD, _update_param's last line alone: its lookups and branches were a third
            # of a small step's update (6 parameters of mlp_small: 14.7 -> 10.3 us).
            lr = group["lr"]
            for p in group["params"]:
                d = p.grad
                if d is not None:
                    subtract_scaled(p.data, lr, d)

    def _update_param(self, p, group: dict) -> None:
        lr, momentum, decay = group["lr"], group["momentum"], group["weight_decay"]
        d = p.grad
        if group["maximize"]:
            d = -d          # ascend: PyTorch negates the gradient before anything else
        if decay:
            d = d + decay * p.data
        if momentum:
            state = self.state.get(p)
            if state is None:
                buf = np.array(d, dtype=p.data.dtype)   # owned copy, never the grad
                self.state[p] = {"momentum_buffer": buf}
            else:
                buf = state["momentum_buffer"]
                buf *= momentum
                dampening = group["dampening"]
                buf += (1.0 - dampening) * d if dampening else d
            d = d + momentum * buf if group["nesterov"] else buf
        subtract_scaled(p.data, lr, d)

    def _numba_update(self) -> None:
        """``_update`` as one pass per parameter (sgd_kernels.py) for ag.compile's numba backend;
        a small parameter takes the NumPy update (there the kernel's call costs more than the
        NumPy update's second pass), and so does one the kernels do not take (not C-contiguous,
        not float32/float64, no momentum buffer yet)."""
        kernels = _kernels()
        for group in self.param_groups:
            plain = not (group["momentum"] or group["weight_decay"] or group["maximize"])
            large = []
            for p in group["params"]:
                d = p.grad
                if d is None:
                    continue
                if p.data.size >= kernels.SMALLEST:
                    large.append(p)
                elif plain:
                    subtract_scaled(p.data, group["lr"], d)    # _update's plain case
                else:
                    self._update_param(p, group)
            if large:
                self._numba_group(group, large, kernels)

    def _numba_group(self, group: dict, params: list, kernels) -> None:
        momentum, dampening, decay = group["momentum"], group["dampening"], group["weight_decay"]
        # Momentum alone has a kernel of its own (20-50 % faster than the general one).
        momentum_only = bool(momentum) and not (dampening or decay or group["nesterov"]
                                                or group["maximize"])
        # A NumPy scalar hyperparameter (np.float64(0.1)) makes NumPy compute in its dtype, not
        # the parameter's: such a group keeps the NumPy update.
        python_numbers = all(type(group[k]) in (int, float, bool) for k in _NUMBERS)
        for p in params:
            data, d = p.data, p.grad
            buf = self.state[p]["momentum_buffer"] if momentum and p in self.state else None
            if not python_numbers or not kernels.takes(data, d, buf, momentum):
                self._update_param(p, group)
                continue
            t = data.dtype.type                # NumPy casts a Python number to the array's dtype
            flat, g = data.reshape(-1), d.reshape(-1)
            if momentum_only:
                kernels.sgd_momentum(flat, g, buf.reshape(-1), t(group["lr"]), t(momentum))
            else:
                kernels.sgd_update(flat, g, flat if buf is None else buf.reshape(-1),
                                   t(group["lr"]), t(momentum), t(1.0 - dampening), t(decay),
                                   bool(momentum), bool(dampening), bool(decay),
                                   bool(group["nesterov"]), bool(group["maximize"]))


_NUMBERS = ("lr", "momentum", "dampening", "weight_decay")


@functools.cache
def _kernels():
    """sgd_kernels, imported on first use (numba is an optional dependency)."""
    from . import sgd_kernels
    return sgd_kernels
