"""Custom operations: subclass Function with static forward/backward on ndarrays."""

from __future__ import annotations

import numpy as np

from .engine import Op, apply

__all__ = ["Function"]


class _Context:
    """What a custom Function's forward leaves for its backward."""

    __slots__ = ("saved_arrays", "needs_input_grad", "__dict__")

    def __init__(self) -> None:
        self.saved_arrays = ()
        self.needs_input_grad = ()

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays for backward; an in-place change to one before backward is caught there."""
        self.saved_arrays = arrays

    @property
    def saved_tensors(self) -> tuple:
        """PyTorch's name for ``saved_arrays``."""
        return self.saved_arrays


class _FunctionNode(Op):
    """The graph node of a custom Function call; first-order only."""
    name = "function"
    higher_order = False
    lowering = None      # user code of unknown purity: ag.compile refuses it rather than guess

    def forward(self, *arrays, fn, kwargs):
        self.fn = fn
        self.name = fn.__name__
        self.ctx = _Context()
        self.in_shapes = [np.shape(a) for a in arrays]
        return fn.forward(self.ctx, *arrays, **kwargs)

    def saved(self) -> list:
        return [(f"save_for_backward array {i}", a)
                for i, a in enumerate(self.ctx.saved_arrays)]

    def backward(self, g):
        self.ctx.needs_input_grad = tuple(p is not None for p in self.parents)
        grads = self.fn.backward(self.ctx, g)
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(self.parents):
            raise RuntimeError(
                f"{self.name}.backward returned {len(grads)} gradients, but forward took "
                f"{len(self.parents)} inputs: return one gradient (or None) per input")
        checked = []
        for i, (gi, shape) in enumerate(zip(grads, self.in_shapes)):
            if gi is not None and self.parents[i] is not None:
                gi = np.asarray(gi)
                try:   # the engine sums broadcast axes away, so gi may be broadcast from shape
                    compatible = np.broadcast_shapes(gi.shape, shape) == gi.shape
                except ValueError:
                    compatible = False
                if not compatible:
                    raise RuntimeError(
                        f"{self.name}.backward returned a gradient of shape {gi.shape} for input "
                        f"{i} of shape {shape}")
            checked.append(gi)
        return tuple(checked)


class Function:
    """Base class for custom ops::

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3
            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_arrays
                return 3 * x ** 2 * grad

        y = Cube.apply(t)

    Custom Functions are first-order: ``grad(..., create_graph=True)`` through one raises.
    """

    @staticmethod
    def forward(ctx, *arrays, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **kwargs):
        return apply(_FunctionNode, *inputs, fn=cls, kwargs=kwargs)
