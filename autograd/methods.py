"""Tensor methods: explicit one-line delegates to the ops, kept visible to readers and type checkers.

``Tensor`` inherits them; the operators (``+``, ``@``, ...) stay in tensor.py.  The spelling picks
the meaning: a method named like an ndarray method keeps NumPy's meaning (``x.max(1)`` is values,
``x.repeat`` repeats entries, ``x.transpose()`` reverses all axes), and a call spelled with
PyTorch's ``dim=`` means what PyTorch means (``x.max(dim=1)`` is ``(values, indices)``,
``x.var(dim=0)`` is unbiased).  See ``spelling.py``.
"""

from __future__ import annotations

import numpy as np

from . import spelling as _sp

# The ops import Tensor, which inherits from this class: tensor.py binds them once both exist.
_E = _R = _S = _I = _L = _N = _U = _B = _Q = _T = _C = _J = _take = _diagonal = None


def bind_ops() -> None:
    global _E, _R, _S, _I, _L, _N, _U, _B, _Q, _T, _C, _J, _take, _diagonal
    from .ops import elementwise as _E, reduce as _R, shape as _S, index as _I  # noqa: F811
    from .ops import linalg as _L, normalize as _N, unary as _U, binary as _B  # noqa: F811
    from .ops import rounding as _Q, stats as _T, selection as _C  # noqa: F811
    from .ops import join as _J  # noqa: F811
    # ops.select the module is shadowed in ops by np.select's op, select: import its functions.
    from .ops.select import diagonal as _diagonal, take as _take  # noqa: F811


class TensorMethods:
    __slots__ = ()

    # ---- reductions: NumPy's spelling (axis=, keepdims=) or PyTorch's (dim=, keepdim=) ---------
    def sum(self, axis=None, keepdims=None, *, dim=None, keepdim=None, dtype=None):
        a, k, _ = _sp.axes("sum", axis, keepdims, dim, keepdim)
        return _R.sum(self, a, k, dtype=dtype)

    def mean(self, axis=None, keepdims=None, *, dim=None, keepdim=None, dtype=None):
        a, k, _ = _sp.axes("mean", axis, keepdims, dim, keepdim)
        return _R.mean(self, a, k, dtype=dtype)

    def prod(self, axis=None, keepdims=None, *, dim=None, keepdim=None, dtype=None):
        a, k, _ = _sp.axes("prod", axis, keepdims, dim, keepdim)
        return _R.prod(self, a, k, dtype=dtype)

    def max(self, axis=None, keepdims=None, *, dim=None, keepdim=None):
        return _sp.extreme(self, "max", axis, keepdims, dim, keepdim)

    def min(self, axis=None, keepdims=None, *, dim=None, keepdim=None):
        return _sp.extreme(self, "min", axis, keepdims, dim, keepdim)

    def var(self, axis=None, keepdims=None, ddof=None, *, dim=_sp.UNSET, keepdim=None,
            correction=None, unbiased=None):
        return _sp.spread(self, "var", axis, keepdims, ddof, dim, keepdim, correction, unbiased)

    def std(self, axis=None, keepdims=None, ddof=None, *, dim=_sp.UNSET, keepdim=None,
            correction=None, unbiased=None):
        return _sp.spread(self, "std", axis, keepdims, ddof, dim, keepdim, correction, unbiased)

    def argmax(self, axis=None, *, dim=None, keepdims=None, keepdim=None):
        return _sp.arg_extreme(self, np.argmax, "argmax", axis, keepdims, dim, keepdim)

    def argmin(self, axis=None, *, dim=None, keepdims=None, keepdim=None):
        return _sp.arg_extreme(self, np.argmin, "argmin", axis, keepdims, dim, keepdim)

    def cumsum(self, axis=None, *, dim=None, dtype=None):
        return _R.cumsum(self, _sp.one_axis("cumsum", axis, dim), dtype=dtype)

    def cumprod(self, axis=None, *, dim=None, dtype=None):
        return _T.cumprod(self, _sp.one_axis("cumprod", axis, dim), dtype=dtype)

    def trace(self, offset=0, axis1=0, axis2=1, *, dtype=None):
        return _T.trace(self, offset, axis1, axis2, dtype=dtype)

    def sort(self, axis=None, kind=None, order=None, *, dim=None, descending=False):
        if order is not None:
            raise TypeError("sort: order= (structured arrays) is not supported on Tensors")
        return _sp.sort(self, axis, kind, dim, descending)

    def median(self, axis=None, keepdims=None, *, dim=None, keepdim=None):
        return _sp.median(self, axis, keepdims, dim, keepdim)

    def logsumexp(self, axis=None, keepdims=None, *, dim=None, keepdim=None):
        a, k, _ = _sp.axes("logsumexp", axis, keepdims, dim, keepdim)
        return _R.logsumexp(self, a, k)

    def softmax(self, axis=None, *, dim=None):
        return _N.softmax(self, _sp.one_axis("softmax", axis, dim, -1))

    def log_softmax(self, axis=None, *, dim=None):
        return _N.log_softmax(self, _sp.one_axis("log_softmax", axis, dim, -1))

    # ---- shape ---------------------------------------------------------------------------------
    def reshape(self, *shape, order="C"): return _S.reshape(self, *shape, order=order)
    def view(self, *shape): return _S.reshape(self, *shape)
    def view_as(self, other): return _S.reshape(self, other.shape)
    def transpose(self, *axes): return _S.transpose(self, *axes)
    T = property(lambda self: _S.transpose(self))
    mT = property(lambda self: _S.swapaxes(self, -1, -2), doc="The last two axes swapped.")
    def swapaxes(self, axis1, axis2): return _S.swapaxes(self, axis1, axis2)
    def permute(self, *dims): return _S.transpose(self, *dims)
    def squeeze(self, axis=None, *, dim=None): return _sp.squeeze(self, axis, dim)
    def unsqueeze(self, dim): return _S.expand_dims(self, dim)
    def flatten(self, start_dim=0, end_dim=-1): return _sp.flatten(self, start_dim, end_dim)
    def ravel(self, order="C"): return _S.ravel(self, order)
    def expand(self, *sizes): return _sp.expand(self, sizes)
    def expand_as(self, other): return _S.broadcast_to(self, other.shape)
    def chunk(self, chunks, dim=0): return _sp.chunk(self, chunks, dim)
    def repeat(self, repeats, axis=None): return _J.repeat(self, repeats, axis)
    def take(self, indices, axis=None, mode="raise"):
        return _take(self, indices, axis, None, mode)
    def ptp(self, axis=None, keepdims=False): return _T.ptp(self, axis, keepdims)
    # Inspections: NumPy's own function, through the routing table's INSPECTION entries (no grad).
    def argsort(self, axis=-1, kind=None): return np.argsort(self, axis=axis, kind=kind)
    def argpartition(self, kth, axis=-1): return np.argpartition(self, kth, axis=axis)
    def nonzero(self): return np.nonzero(self)
    def searchsorted(self, v, side="left"): return np.searchsorted(self, v, side=side)
    def all(self, axis=None, keepdims=False): return np.all(self, axis=axis, keepdims=keepdims)
    def any(self, axis=None, keepdims=False): return np.any(self, axis=axis, keepdims=keepdims)
    def fill(self, value) -> None: self._inplace(_sp.fill_with, value, "fill")
    nbytes = property(lambda self: self.data.nbytes)
    itemsize = property(lambda self: self.data.itemsize)
    strides = property(lambda self: self.data.strides)
    def numel(self) -> int: return self.data.size
    def dim(self) -> int: return self.data.ndim
    def ndimension(self) -> int: return self.data.ndim

    # ---- indexing ------------------------------------------------------------------------------
    def masked_fill(self, mask, value): return _C.where(mask, value, self)
    def gather(self, dim, index): return _sp.gather(self, dim, index)
    def scatter_add(self, dim, index, src): return _sp.scatter_add(self, dim, index, src)
    def index_select(self, dim, index): return _sp.index_select(self, dim, index)

    # ---- dtype and device ----------------------------------------------------------------------
    def astype(self, dtype): return _E.astype(self, dtype)
    def float(self): return _E.astype(self, np.float32)
    def double(self): return _E.astype(self, np.float64)
    def half(self): return _E.astype(self, np.float16)
    def long(self): return _E.astype(self, np.int64)
    def int(self): return _E.astype(self, np.int32)
    def bool(self): return _E.astype(self, np.bool_)
    def type_as(self, other): return _E.astype(self, other.dtype)
    def to(self, *args, dtype=None, device=None, copy=False): return _sp.to(self, args, dtype, device, copy)
    def cpu(self): return self
    device = property(lambda self: "cpu", doc="Always 'cpu': graphgrad computes with NumPy.")
    is_cuda = property(lambda self: False)
    def clone(self): return _E.copy(self)
    def contiguous(self): return self if self.data.flags.c_contiguous else _E.copy(self, "C")
    def copy(self): return _E.copy(self)

    # ---- arithmetic spelled as methods ---------------------------------------------------------
    def add(self, other, *, alpha=1): return _E.add(self, other if alpha == 1 else other * alpha)
    def sub(self, other, *, alpha=1): return _E.subtract(self, other if alpha == 1 else other * alpha)
    def mul(self, other): return _E.multiply(self, other)
    def div(self, other): return _E.divide(self, other)
    def pow(self, exponent): return _E.power(self, exponent)
    def matmul(self, other): return _L.matmul(self, other)
    def mm(self, other): return _sp.mm(self, other)
    def bmm(self, other): return _sp.bmm(self, other)
    def dot(self, other): return _L.dot(self, other)
    def diagonal(self, offset=0, axis1=0, axis2=1): return _diagonal(self, offset, axis1, axis2)
    def clip(self, lo=None, hi=None, *, min=None, max=None): return _sp.clamp(self, lo, hi, min, max)  # noqa: A002
    def clamp(self, min=None, max=None): return _C.clip(self, min, max)  # noqa: A002

    # ---- elementwise functions -----------------------------------------------------------------
    def exp(self): return _E.exp(self)
    def log(self): return _E.log(self)
    def log1p(self): return _E.log1p(self)
    def expm1(self): return _E.expm1(self)
    def sqrt(self): return _E.sqrt(self)
    def abs(self): return _E.abs(self)
    def sin(self): return _E.sin(self)
    def cos(self): return _E.cos(self)
    def tanh(self): return _E.tanh(self)
    def sigmoid(self): return _E.sigmoid(self)
    def relu(self): return _E.relu(self)
    def arctan(self): return _E.arctan(self)
    def sign(self): return _E.sign(self)
    def negative(self): return _E.negative(self)
    def neg(self): return _E.negative(self)
    def maximum(self, other): return _C.maximum(self, other)
    def minimum(self, other): return _C.minimum(self, other)
    def square(self): return _U.square(self)
    def cbrt(self): return _U.cbrt(self)
    def reciprocal(self): return _U.reciprocal(self)
    def tan(self): return _U.tan(self)
    def arcsin(self): return _U.arcsin(self)
    def arccos(self): return _U.arccos(self)
    def arcsinh(self): return _U.arcsinh(self)
    def arccosh(self): return _U.arccosh(self)
    def arctanh(self): return _U.arctanh(self)
    def sinh(self): return _U.sinh(self)
    def cosh(self): return _U.cosh(self)
    def log2(self): return _U.log2(self)
    def log10(self): return _U.log10(self)
    def exp2(self): return _U.exp2(self)
    def fabs(self): return _U.fabs(self)
    def deg2rad(self): return _U.deg2rad(self)
    def rad2deg(self): return _U.rad2deg(self)
    def sinc(self): return _U.sinc(self)
    def floor(self): return _Q.floor(self)
    def ceil(self): return _Q.ceil(self)
    def trunc(self): return _Q.trunc(self)
    def rint(self): return _Q.rint(self)
    def fix(self): return _Q.fix(self)
    def round(self, decimals=0): return _Q.round(self, decimals)
    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _Q.nan_to_num(self, nan=nan, posinf=posinf, neginf=neginf)
    def hypot(self, other): return _B.hypot(self, other)
    def arctan2(self, other): return _B.arctan2(self, other)
    def logaddexp(self, other): return _B.logaddexp(self, other)
    def logaddexp2(self, other): return _B.logaddexp2(self, other)
    def fmax(self, other): return _B.fmax(self, other)
    def fmin(self, other): return _B.fmin(self, other)
    def copysign(self, other): return _B.copysign(self, other)
    def remainder(self, other): return _B.remainder(self, other)
    def fmod(self, other): return _B.fmod(self, other)
    def float_power(self, other): return _B.float_power(self, other)
    def heaviside(self, values): return _B.heaviside(self, values)
    def conj(self): return _U.conjugate(self)
    def conjugate(self): return _U.conjugate(self)
    real = property(lambda self: _U.real(self), doc="The values (graphgrad tensors are real).")
    imag = property(lambda self: _U.imag(self), doc="Zeros: graphgrad tensors are real.")
    # PyTorch's names where they differ from NumPy's
    def rsqrt(self): return _U.reciprocal(_E.sqrt(self))
    def asin(self): return _U.arcsin(self)
    def acos(self): return _U.arccos(self)
    def atan(self): return _E.arctan(self)
    def asinh(self): return _U.arcsinh(self)
    def acosh(self): return _U.arccosh(self)
    def atanh(self): return _U.arctanh(self)
    def atan2(self, other): return _B.arctan2(self, other)

    # ---- in place: the data changes and its version is bumped (see tensor.py's _inplace) ------
    def add_(self, other, *, alpha=1): return self._inplace(np.add, other * alpha if alpha != 1 else other, "add_")
    def sub_(self, other, *, alpha=1): return self._inplace(np.subtract, other * alpha if alpha != 1 else other, "sub_")
    def mul_(self, other): return self._inplace(np.multiply, other, "mul_")
    def div_(self, other): return self._inplace(np.divide, other, "div_")
    def zero_(self): return self._inplace(_sp.fill_with, 0, "zero_")
    def fill_(self, value): return self._inplace(_sp.fill_with, value, "fill_")
    def copy_(self, src): return self._inplace(_sp.fill_with, src, "copy_")
    def clamp_(self, min=None, max=None): return self._inplace(_sp.clip_into(min, max), None, "clamp_")  # noqa: A002
