"""Tensor: an ndarray plus what reverse mode needs (grad, requires_grad, the node that made it).

Operators and methods are one-line delegates to the ops in ``autograd/ops``; the engine records.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np

from .methods import TensorMethods
from . import spelling as _sp
from .spelling import check_device as _check_device

__all__ = ["Tensor", "tensor", "GraphMutationError"]


def _check_grad_dtype(dtype: np.dtype, what: str) -> None:
    if dtype.kind != "f":
        raise TypeError(f"{what}: only floating-point tensors can require grad, got dtype {dtype}")


def _as_dtype(dtype, what: str):
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"{what}: {err}") from None


def _to_array(data: Any, dtype) -> np.ndarray:
    """NumPy's own inference (lists, scalars), sharing ndarrays; refuse what has no numeric dtype."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        arr = data if dtype is None or data.dtype == dtype else data.astype(dtype)
    else:
        try:
            arr = np.asarray(data, dtype=dtype)
        except ValueError as err:
            raise ValueError(f"Tensor: cannot build a tensor from this {type(data).__name__}: {err}") \
                from None
    if arr.dtype.kind == "c":
        raise TypeError(f"Tensor: complex numbers are not supported (dtype {arr.dtype}); graphgrad "
                        "tensors hold bool, integer or floating-point data")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"Tensor: unsupported dtype {arr.dtype} (only bool, integer and floating "
                        f"point data; got a {type(data).__name__})")
    return arr


class GraphMutationError(RuntimeError, TypeError):
    """An in-place change that would corrupt a graph or drop a gradient.  A RuntimeError, as in
    PyTorch; also a TypeError, as NumPy-autodiff libraries (HIPS autograd) raise for assignment
    into a traced array."""


class _HookHandle:
    __slots__ = ("_hooks", "_fn")

    def __init__(self, hooks: list, fn: Callable) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


class _RetainGrad:
    """The hook retain_grad() installs: stores the (final) gradient in the tensor's .grad.  It
    holds the tensor weakly, so the node does not keep its own output alive."""
    __slots__ = ("ref",)

    def __init__(self, tensor: "Tensor") -> None:
        self.ref = weakref.ref(tensor)

    def __call__(self, grad) -> None:
        t = self.ref()
        if t is not None:
            g = grad.data if isinstance(grad, Tensor) else grad
            t.grad = np.array(g, dtype=t.dtype) if t.grad is None else t.grad + g


class Tensor(TensorMethods):
    """An n-dimensional array that can record the operations applied to it."""

    __slots__ = ("data", "grad", "requires_grad", "_node", "_hooks", "__weakref__")
    __array_priority__ = 1000.0

    def __init__(self, data: Any, requires_grad: bool = False, dtype=None, device=None) -> None:
        if device is not None:
            _check_device(device, "Tensor")
        self.data = _to_array(data, _as_dtype(dtype, "Tensor"))
        self.grad = None
        self._node = None
        self._hooks = None
        self.requires_grad = False
        if requires_grad:
            _check_grad_dtype(self.data.dtype, "Tensor")
            self.requires_grad = True

    @classmethod
    def _make(cls, data: np.ndarray, node) -> "Tensor":
        """Fast constructor used by the engine: no checks, no copies."""
        t = object.__new__(Tensor)
        t.data = data
        t.grad = None
        t._node = node
        t._hooks = None
        t.requires_grad = node is not None
        return t

    # ---- array-like attributes -----------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: _sp.Size(self.data.size),
                    doc="NumPy's element count (PyTorch's x.size(0) is x.shape[0]).")
    is_leaf = property(lambda self: self._node is None, doc="True unless made by a recorded op.")
    grad_fn = property(lambda self: self._node, doc="The node that made this tensor, or None.")

    def __len__(self) -> int:
        if not self.data.ndim:
            raise TypeError("len: a 0-d tensor has no length")
        return len(self.data)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def numpy(self) -> np.ndarray:
        return self.data

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if self.requires_grad:
            raise TypeError(
                f"np.asarray/np.array: converting a Tensor that requires grad (shape {self.shape}, "
                f"{self.dtype}) to an ndarray would silently lose its gradient. Use t.detach(), "
                "t.data or t.numpy() for the values, or ag.stack/ag.concatenate to build one "
                "Tensor from several")
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            if copy is False:
                raise ValueError(f"__array__: a {self.dtype} tensor cannot become {np.dtype(dtype)} "
                                 "without a copy (copy=False)")
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item: only a tensor of one element converts to a Python scalar, "
                             f"this one has shape {self.shape}")
        return self.data.item()

    def tolist(self):
        """The values as (nested) Python numbers: like item(), a sanctioned way out of the graph."""
        return self.data.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(f"bool: the truth value of a tensor of shape {self.shape} is ambiguous; "
                             "use .any() or .all() on .data")
        return bool(self.data)

    __hash__ = object.__hash__   # identity; == is elementwise

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = ""
        if self.data.dtype not in (np.float64, np.int64, np.bool_):
            extra += f", dtype={self.data.dtype}"
        if self._node is not None:
            extra += f", grad_fn=<{self._node.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"

    # ---- autograd ------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Accumulate this tensor's gradient into every leaf that requires grad."""
        _reverse.backward(self, gradient, retain_graph)

    def detach(self) -> "Tensor":
        return Tensor._make(self.data, None)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self._node is not None:
            raise RuntimeError("requires_grad_: only leaf tensors can change requires_grad; "
                               "use .detach() to get a leaf from a computed tensor")
        if requires_grad:
            _check_grad_dtype(self.data.dtype, "requires_grad_")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep .grad of this non-leaf tensor in the next backward (leaves always keep it)."""
        node = self._node
        if node is not None and node.retained is None:
            node.retained = weakref.ref(self)
            if node.hooks is None:
                node.hooks = []
            node.hooks.append(_RetainGrad(self))   # kept last: it sees what other hooks returned

    def register_hook(self, fn: Callable) -> _HookHandle:
        """``fn(grad) -> grad or None`` runs when this tensor's gradient has been computed."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: the tensor does not require grad")
        if self._node is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self._node.hooks is None:
                self._node.hooks = []
            hooks = self._node.hooks
        last = len(hooks)
        while last and isinstance(hooks[last - 1], _RetainGrad):
            last -= 1
        hooks.insert(last, fn)
        return _HookHandle(hooks, fn)

    def __getattr__(self, name: str):
        # Only called for names that do not exist: a PyTorch habit gets graphgrad's spelling.
        hint = _sp.HINTS.get(name)
        if hint is not None:
            raise AttributeError(f"'Tensor' object has no attribute {name!r}; graphgrad spells it "
                                 f"{hint}")
        raise AttributeError(f"'Tensor' object has no attribute {name!r}")

    # ---- in place ------------------------------------------------------------------------------
    def _inplace(self, fn, other, name: str) -> "Tensor":
        """``fn(data, other, out=data)``: allowed on a Tensor that does not require grad, or under
        no_grad (``w -= lr * w.grad``).  The version bump makes a graph that saved the old values
        raise at backward instead of returning a wrong gradient."""
        if self.requires_grad and _STATE.enabled:
            what = (f"a leaf Tensor that requires grad (shape {self.shape}, {self.dtype})"
                    if self._node is None else
                    f"a Tensor that requires grad, computed by {self._node.name} (shape "
                    f"{self.shape}, {self.dtype})")
            fix = ("update it under `with ag.no_grad():`, as optimizers do" if self._node is None
                   else "use the out-of-place form (x = x + y rather than x += y)")
            raise GraphMutationError(f"{name}: {what} cannot be changed in place: it would corrupt the "
                               f"graph; {fix}")
        if isinstance(other, Tensor):
            if other.requires_grad and _STATE.enabled:
                raise GraphMutationError(
                    f"{name}: writing a Tensor that requires grad (shape {other.shape}) into one "
                    f"that does not (shape {self.shape}) would drop its gradient; use the "
                    "out-of-place form (x = x + y)")
            other = other.data
        try:
            fn(self.data, other, out=self.data)
        except (TypeError, ValueError) as err:
            kind = TypeError if isinstance(err, TypeError) else ValueError
            described = f"shape {np.shape(other)} {np.result_type(other)}" if other is not None \
                else "no operand"
            raise kind(f"{name}: {err} (tensor shape {self.shape} {self.dtype}, other "
                       f"{described})") from None
        _engine.note_mutation(self.data)
        return self

    def __iadd__(self, other): return self._inplace(np.add, other, "+=")
    def __isub__(self, other): return self._inplace(np.subtract, other, "-=")
    def __imul__(self, other): return self._inplace(np.multiply, other, "*=")
    def __itruediv__(self, other): return self._inplace(np.divide, other, "/=")

    # ---- operators -----------------------------------------------------------------------------
    def __add__(self, other): return _apply2(_E.Add, self, other)
    def __radd__(self, other): return _apply2(_E.Add, other, self)
    def __sub__(self, other): return _apply2(_E.Sub, self, other)
    def __rsub__(self, other): return _apply2(_E.Sub, other, self)
    def __mul__(self, other): return _apply2(_E.Mul, self, other)
    def __rmul__(self, other): return _apply2(_E.Mul, other, self)
    def __truediv__(self, other): return _apply2(_E.Div, self, other)
    def __rtruediv__(self, other): return _apply2(_E.Div, other, self)
    def __pow__(self, other): return _apply2(_E.Pow, self, other)
    def __rpow__(self, other): return _apply2(_E.Pow, other, self)
    def __mod__(self, other): return _ops.remainder(self, other)
    def __rmod__(self, other): return _ops.remainder(other, self)
    def __floordiv__(self, other): return _ops.floor_divide(self, other)
    def __rfloordiv__(self, other): return _ops.floor_divide(other, self)
    def __matmul__(self, other): return _apply2(_L.MatMul, self, other)
    def __rmatmul__(self, other): return _apply2(_L.MatMul, other, self)
    def __neg__(self): return _apply1(_E.Neg, self)
    def __pos__(self): return self
    def __abs__(self): return _apply1(_E.Abs, self)

    def _compare(self, other, fn) -> "Tensor":
        other = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor._make(np.asarray(fn(self.data, other)), None)
        except (TypeError, ValueError) as err:
            kind = TypeError if isinstance(err, TypeError) else ValueError
            raise kind(f"{fn.__name__}: {err} (shapes {self.shape} {self.dtype} and "
                       f"{np.shape(other) if not isinstance(other, str) else 'str'})") from None

    def __lt__(self, other): return self._compare(other, np.less)
    def __le__(self, other): return self._compare(other, np.less_equal)
    def __gt__(self, other): return self._compare(other, np.greater)
    def __ge__(self, other): return self._compare(other, np.greater_equal)
    def __eq__(self, other): return self._compare(other, np.equal)
    def __ne__(self, other): return self._compare(other, np.not_equal)

    def __getitem__(self, index): return _I.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        """``t[index] = value`` in place, like NumPy, for tensors outside any graph (and for leaves
        under no_grad, as optimizers do).  The change bumps the memory's version, so a graph that
        saved this array for backward raises there instead of returning a wrong gradient."""
        if self._node is not None or (self.requires_grad and _STATE.enabled):
            raise GraphMutationError(
                f"setitem: in-place assignment into a tensor that requires grad (shape {self.shape}, "
                f"{self.dtype}) would corrupt its graph; build a new tensor with ag.where or "
                "concatenate, or assign under no_grad / into .detach()")
        if isinstance(value, Tensor):
            if value.requires_grad and _STATE.enabled:
                raise GraphMutationError(
                    f"setitem: assigning a tensor that requires grad (shape {value.shape}) into one "
                    f"that does not (shape {self.shape}) would drop its gradient; build the result "
                    "with ag.where, concatenate or stack instead")
            value = value.data
        try:
            self.data[_I.index_arrays(index)] = value
        except (ValueError, TypeError, IndexError) as err:
            kind = next(c for c in (ValueError, TypeError, IndexError) if isinstance(err, c))
            described = "str" if isinstance(value, str) else f"shape {np.shape(value)}"
            raise kind(f"setitem: {err} (tensor shape {self.shape} {self.dtype}, value "
                       f"{described})") from None
        _engine.note_mutation(self.data)

    @property
    def _version(self) -> int:
        """Version of this tensor's memory: 0 until changed in place through the API."""
        return _engine.version_of(self.data)

    # ---- NumPy interop: default deny (see autograd/ops/routing.py) ------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _routing.call_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return _routing.call_function(func, args, kwargs)


def tensor(data: Any, requires_grad: bool = False, dtype=None, device=None) -> Tensor:
    """Same as ``Tensor(data, requires_grad, dtype)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


# The ops import Tensor, so they are bound here, after the class exists.
from . import engine as _engine  # noqa: E402
from . import reverse as _reverse  # noqa: E402
from . import ops as _ops  # noqa: E402
from .engine import apply1 as _apply1, apply2 as _apply2  # noqa: E402
from .grad_mode import STATE as _STATE  # noqa: E402
from .ops import routing as _routing  # noqa: E402
from .ops import elementwise as _E, index as _I, linalg as _L  # noqa: E402
from .methods import bind_ops as _bind_methods  # noqa: E402

_bind_methods()
