"""The op library, grouped by family, and the tables that route NumPy calls on Tensors to it."""

from __future__ import annotations

import numpy as np

from . import elementwise, index, linalg, normalize, reduce, shape
from . import shape as movement   # 'shape' is also an argument name below
from .elementwise import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .normalize import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403

__all__ = (elementwise.__all__ + reduce.__all__ + normalize.__all__ + shape.__all__
           + index.__all__ + linalg.__all__)


def _compare(ufunc):
    def compare(a, b):
        from ..tensor import Tensor
        a = a.data if isinstance(a, Tensor) else a
        b = b.data if isinstance(b, Tensor) else b
        return Tensor._make(np.asarray(ufunc(a, b)), None)
    return compare


def _constant_like(fill):
    def like(a, dtype=None, **_):
        from ..tensor import Tensor
        data = a.data if isinstance(a, Tensor) else np.asarray(a)
        return Tensor._make(np.full_like(data, fill, dtype=dtype), None)
    return like


# np.<ufunc>(tensor, ...) -> graphgrad op.  A ufunc missing here raises TypeError, as NumPy does
# for types that do not implement it.
UFUNCS = {
    np.add: elementwise.add, np.subtract: elementwise.subtract, np.multiply: elementwise.multiply,
    np.divide: elementwise.divide, np.power: elementwise.power, np.negative: elementwise.negative,
    np.positive: lambda x: x, np.exp: elementwise.exp, np.log: elementwise.log,
    np.log1p: elementwise.log1p, np.expm1: elementwise.expm1, np.sqrt: elementwise.sqrt,
    np.absolute: elementwise.abs, np.sin: elementwise.sin, np.cos: elementwise.cos,
    np.tanh: elementwise.tanh, np.arctan: elementwise.arctan, np.sign: elementwise.sign,
    np.maximum: elementwise.maximum, np.minimum: elementwise.minimum, np.matmul: linalg.matmul,
    np.less: _compare(np.less), np.less_equal: _compare(np.less_equal),
    np.greater: _compare(np.greater), np.greater_equal: _compare(np.greater_equal),
    np.equal: _compare(np.equal), np.not_equal: _compare(np.not_equal),
    np.logical_and: _compare(np.logical_and), np.logical_or: _compare(np.logical_or),
    np.isfinite: lambda x: _compare(lambda a, _: np.isfinite(a))(x, None),
}

# np.<function>(tensor, ...) -> graphgrad op, with NumPy's argument names.
FUNCTIONS = {
    np.sum: lambda a, axis=None, dtype=None, out=None, keepdims=False, **_:
        reduce.sum(a, axis, keepdims),
    np.mean: lambda a, axis=None, dtype=None, out=None, keepdims=False, **_:
        reduce.mean(a, axis, keepdims),
    np.max: lambda a, axis=None, out=None, keepdims=False, **_: reduce.max(a, axis, keepdims),
    np.min: lambda a, axis=None, out=None, keepdims=False, **_: reduce.min(a, axis, keepdims),
    np.prod: lambda a, axis=None, dtype=None, out=None, keepdims=False, **_:
        reduce.prod(a, axis, keepdims),
    np.var: lambda a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **_:
        reduce.var(a, axis, keepdims, ddof),
    np.std: lambda a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **_:
        reduce.std(a, axis, keepdims, ddof),
    np.cumsum: lambda a, axis=None, **_: reduce.cumsum(a, axis),
    np.argmax: lambda a, axis=None, **_: reduce.argmax(a, axis),
    np.argmin: lambda a, axis=None, **_: reduce.argmin(a, axis),
    np.reshape: lambda a, shape=None, **kw: movement.reshape(
        a, shape if shape is not None else kw["newshape"]),
    np.transpose: lambda a, axes=None: movement.transpose(a, axes),
    np.squeeze: lambda a, axis=None: movement.squeeze(a, axis),
    np.expand_dims: lambda a, axis: movement.expand_dims(a, axis),
    np.broadcast_to: lambda array, shape, subok=False: movement.broadcast_to(array, shape),
    np.pad: lambda array, pad_width, mode="constant", constant_values=0:
        movement.pad(array, pad_width, constant_values),
    np.concatenate: lambda arrays, axis=0, **_: movement.concatenate(arrays, axis),
    np.stack: lambda arrays, axis=0, **_: movement.stack(arrays, axis),
    np.split: lambda ary, indices_or_sections, axis=0: movement.split(ary, indices_or_sections, axis),
    np.where: lambda condition, x, y: elementwise.where(condition, x, y),
    np.clip: lambda a, a_min=None, a_max=None, **_: elementwise.clip(a, a_min, a_max),
    np.einsum: lambda subscripts, *operands, **_: linalg.einsum(subscripts, *operands),
    np.zeros_like: _constant_like(0),
    np.ones_like: _constant_like(1),
}


def strip_tensors(value):
    """Tensors (also inside lists, tuples and dicts) replaced by their arrays."""
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (list, tuple)):
        return type(value)(strip_tensors(v) for v in value)
    if isinstance(value, dict):
        return {k: strip_tensors(v) for k, v in value.items()}
    return value
