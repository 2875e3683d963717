"""Custom operations: subclass Function with static forward/backward on ndarrays."""

from __future__ import annotations

from .engine import Op, apply

__all__ = ["Function"]


class _Context:
    """What a custom Function's forward leaves for its backward."""

    def __init__(self) -> None:
        self.saved_arrays = ()
        self.needs_input_grad = ()

    def save_for_backward(self, *arrays) -> None:
        self.saved_arrays = arrays


class _FunctionNode(Op):
    """The graph node of a custom Function call; first-order only."""
    name = "function"
    higher_order = False

    def forward(self, *arrays, fn, kwargs):
        self.fn = fn
        self.name = fn.__name__
        self.ctx = _Context()
        return fn.forward(self.ctx, *arrays, **kwargs)

    def backward(self, g):
        self.ctx.needs_input_grad = tuple(p is not None for p in self.parents)
        grads = self.fn.backward(self.ctx, g)
        return grads if isinstance(grads, tuple) else (grads,)


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
