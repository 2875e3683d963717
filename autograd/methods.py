"""Tensor methods: explicit one-line delegates to the ops, kept visible to readers and type checkers.

``Tensor`` inherits them; the operators (``+``, ``@``, ...) stay in tensor.py.  A method named
like an ndarray method keeps NumPy's meaning.
"""

from __future__ import annotations

# The ops import Tensor, which inherits from this class: tensor.py binds them once both exist.
_E = _R = _S = None


def bind_ops() -> None:
    global _E, _R, _S
    from .ops import elementwise as _E, reduce as _R, shape as _S  # noqa: F811


class TensorMethods:
    __slots__ = ()

    def sum(self, axis=None, keepdims=False): return _R.sum(self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return _R.mean(self, axis, keepdims)
    def max(self, axis=None, keepdims=False): return _R.max(self, axis, keepdims)
    def min(self, axis=None, keepdims=False): return _R.min(self, axis, keepdims)
    def prod(self, axis=None, keepdims=False): return _R.prod(self, axis, keepdims)
    def var(self, axis=None, keepdims=False, ddof=0): return _R.var(self, axis, keepdims, ddof)
    def std(self, axis=None, keepdims=False, ddof=0): return _R.std(self, axis, keepdims, ddof)
    def argmax(self, axis=None): return _R.argmax(self, axis)
    def argmin(self, axis=None): return _R.argmin(self, axis)
    def reshape(self, *shape): return _S.reshape(self, *shape)
    def transpose(self, *axes): return _S.transpose(self, *axes)
    T = property(lambda self: _S.transpose(self))
    def squeeze(self, axis=None): return _S.squeeze(self, axis)
    def flatten(self): return _S.flatten(self)
    def exp(self): return _E.exp(self)
    def log(self): return _E.log(self)
    def sqrt(self): return _E.sqrt(self)
    def abs(self): return _E.abs(self)
    def tanh(self): return _E.tanh(self)
    def sigmoid(self): return _E.sigmoid(self)
    def relu(self): return _E.relu(self)
    def clip(self, lo=None, hi=None): return _E.clip(self, lo, hi)
    def astype(self, dtype): return _E.astype(self, dtype)


