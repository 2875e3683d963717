"""How NumPy calls on Tensors reach graphgrad ops: default deny, never silent.

Each op declares the NumPy functions and ufuncs it answers to where it is defined::

    @implements(np.exp)
    def exp(x): return apply1(Exp, x)

so the routing tables below fill themselves as the op families are imported.  A NumPy function or
ufunc called with a Tensor that no op declared raises ``TypeError`` naming it and what to use
instead -- also one a future NumPy adds.  A handler takes NumPy's own argument names and has no
``**kwargs``: a keyword it does not implement is an error, never ignored.

The inspection table (``INSPECTION``) lists the NumPy functions that only look at values --
comparisons, predicates, index finders, shape queries -- and run on the Tensors' arrays: their
results are NumPy's, as Tensors without grad where NumPy returns arrays.
"""

from __future__ import annotations

import inspect

import numpy as np

__all__ = ["implements", "UFUNCS", "FUNCTIONS", "INSPECTION", "COMPLEX_RESULTS", "call_ufunc",
           "call_function", "constant_argument", "inspected", "no_out", "strip_tensors"]

UFUNCS: dict = {}       # np.<ufunc> -> graphgrad function taking the ufunc's inputs
FUNCTIONS: dict = {}    # np.<function> -> graphgrad function with NumPy's signature


def implements(*numpy_callables):
    """Declare that the decorated graphgrad function answers these NumPy functions/ufuncs."""
    def register(fn):
        for f in numpy_callables:
            table = UFUNCS if isinstance(f, np.ufunc) else FUNCTIONS
            if f in table or f in INSPECTION:
                raise RuntimeError(f"np.{f.__name__} is routed twice ({table.get(f)} and {fn})")
            table[f] = fn
        return fn
    return register


def no_out(name: str, out) -> None:
    """NumPy's ``out=`` writes into an existing array, which a graph cannot record."""
    if out is not None:
        raise TypeError(f"np.{name}: out= is not supported on Tensors (a result is a new Tensor; "
                        "assign it instead, or call NumPy on t.data)")


def constant_argument(value, what: str):
    """An argument graphgrad takes as a constant (np.gradient's spacing, a quantile's q): a Tensor
    gives its values, unless it requires grad -- its gradient would be dropped, so TypeError."""
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise TypeError(f"{what} is not differentiable here; pass its values (.detach() or "
                            ".data)")
        return value.data
    return value


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


def inspected(fn, *args, **kwargs):
    """``fn`` on the arrays of its arguments, recorded while ag.compile captures a step (see
    autograd.compiler.protocol.inspected; imported on use, the compiler imports the ops)."""
    from ..compiler.protocol import inspected as recorded
    return recorded(fn, *args, **kwargs)


def _wrap(result):
    """NumPy's result of an inspection, with arrays as Tensors that never require grad."""
    from ..tensor import Tensor
    if isinstance(result, np.ndarray):
        return Tensor._make(result, None)
    if isinstance(result, np.generic):     # NumPy's 0-d results (np.argmax of a whole array)
        return Tensor._make(np.asarray(result), None)
    if isinstance(result, tuple) and result and all(isinstance(r, np.ndarray) for r in result):
        return tuple(Tensor._make(r, None) for r in result)
    if isinstance(result, list) and result and all(isinstance(r, np.ndarray) for r in result):
        return [Tensor._make(r, None) for r in result]
    return result


_TENSOR, _PLAIN = "tensor", "plain"

# Functions that only inspect values: run by NumPy on the arrays.  _TENSOR: array results come back
# as Tensors without grad; _PLAIN: NumPy's result as it is (Python values, bools, tuples of ints).
INSPECTION: dict = {
    **{f: _TENSOR for f in (
        np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
        np.isnan, np.isinf, np.isfinite, np.isposinf, np.isneginf, np.signbit,
        np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
        np.isclose, np.argmax, np.argmin, np.argsort, np.argpartition, np.nonzero,
        np.flatnonzero, np.count_nonzero, np.searchsorted, np.argwhere, np.any, np.all,
        np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.isreal, np.iscomplex,
        np.linalg.matrix_rank)},
    **{f: _PLAIN for f in (
        np.shape, np.ndim, np.size, np.allclose, np.array_equal, np.array_equiv,
        np.iscomplexobj, np.isrealobj, np.result_type, np.min_scalar_type, np.may_share_memory,
        np.shares_memory, np.isscalar)},
}

# Of the _PLAIN ones, those whose Python result depends on the values (not only shapes): under
# ag.compile, refused on computed tensors as bool() is.
_VALUE_READS = frozenset([np.allclose, np.array_equal, np.array_equiv])

# NumPy functions whose values are complex (in general): refused as complex numbers are, with a
# message that says so rather than "no op".
COMPLEX_RESULTS = frozenset([
    np.fft.fft, np.fft.ifft, np.fft.rfft, np.fft.irfft, np.fft.hfft, np.fft.ihfft, np.fft.fft2,
    np.fft.ifft2, np.fft.fftn, np.fft.ifftn, np.fft.rfft2, np.fft.irfft2, np.fft.rfftn,
    np.fft.irfftn, np.linalg.eig, np.linalg.eigvals, np.roots])

_UFUNC_DEFAULTS = {"casting": "same_kind", "order": "K", "subok": True}


def numpy_name(func) -> str:
    """How a NumPy callable is spelled by users: np.sum, np.linalg.inv, np.fft.fft."""
    module = getattr(func, "__module__", None) or "numpy"
    parts = [p for p in module.split(".")[1:] if not p.startswith("_")]
    return ".".join(["np"] + parts + [func.__name__])


def _refused(name: str, what: str = "function") -> TypeError:
    return TypeError(
        f"{name}: graphgrad has no differentiable op for this NumPy {what}, and running it on "
        f"the raw data would silently drop the gradient. Use t.data (or t.numpy() / t.detach()) "
        f"to call plain NumPy on the values, or a graphgrad op (ag.matmul for np.dot, "
        f"ag.concatenate/ag.stack to join, ...)")


def call_ufunc(ufunc, method: str, inputs, kwargs):
    """``Tensor.__array_ufunc__``: the declared op, an inspection, or TypeError."""
    name = ufunc.__name__
    if method != "__call__":
        raise TypeError(f"np.{name}.{method}: ufunc methods are not supported on Tensors; use "
                        f"the graphgrad reduction (ag.sum, ag.prod, ag.max, ag.cumsum, ...) or "
                        f"call NumPy on t.data")
    no_out(name, kwargs.pop("out", None))
    if ufunc in INSPECTION:
        return _wrap(inspected(ufunc, *inputs, **kwargs))
    handler = UFUNCS.get(ufunc)
    if handler is None:
        raise _refused(f"np.{name}", "ufunc")
    dtype = kwargs.pop("dtype", None)
    where = kwargs.pop("where", True)
    if where is not True:
        raise TypeError(f"np.{name}: where= is not supported on Tensors (NumPy leaves the "
                        "masked entries uninitialised); use ag.where(mask, np.{name}(...), other)")
    for key, value in kwargs.items():
        if _UFUNC_DEFAULTS.get(key, object()) != value:
            raise TypeError(f"np.{name}: the keyword {key}={value!r} is not supported on Tensors")
    if dtype is None:
        return handler(*inputs)
    # NumPy casts the inputs to dtype (under casting="same_kind"), then computes in it.
    from .elementwise import astype
    from ..tensor import Tensor
    dtype = np.dtype(dtype)
    cast = []
    for x in inputs:
        data = x.data if isinstance(x, Tensor) else x
        # Python numbers stay weak (NumPy casts them to dtype); arrays, lists, NumPy scalars cast.
        source = None if type(data) in (int, float, bool) else np.asarray(data).dtype
        if source is not None and not np.can_cast(source, dtype, casting="same_kind"):
            raise TypeError(f"np.{name}: cannot cast an input from {source} to dtype={dtype} "
                            "under casting='same_kind' (NumPy's rule)")
        cast.append(astype(x, dtype) if source is not None else x)
    out = handler(*cast)
    if isinstance(out, Tensor) and out.dtype != dtype:
        raise TypeError(f"np.{name}: NumPy has no loop computing in dtype={dtype} for these "
                        f"inputs (graphgrad's result would be {out.dtype})")
    return out


def call_function(func, args, kwargs):
    """``Tensor.__array_function__``: the declared op, an inspection, or TypeError."""
    kind = INSPECTION.get(func)
    if kind is not None:
        no_out(func.__name__, kwargs.get("out"))
        if func is np.full_like:   # the one inspection whose result holds an argument's values
            fill = args[1] if len(args) > 1 else kwargs.get("fill_value")
            if getattr(fill, "requires_grad", False):
                raise TypeError("np.full_like: a fill value that requires grad would lose its "
                                "gradient; use ag.broadcast_to(fill, shape) (or fill * "
                                "ag.ones_like(a)) to keep it")
        if kind == _TENSOR:
            return _wrap(inspected(func, *args, **kwargs))
        if func in _VALUE_READS:
            from ..compiler.protocol import recording
            rec = recording()
            if rec is not None:
                rec.value_read(numpy_name(func), args)
        return func(*strip_tensors(args), **strip_tensors(kwargs))
    handler = FUNCTIONS.get(func)
    if handler is None:
        if func in COMPLEX_RESULTS:
            hint = ("np.linalg.eigh/eigvalsh for a symmetric matrix, or " if func in
                    (np.linalg.eig, np.linalg.eigvals) else "")
            raise TypeError(f"{numpy_name(func)}: its values are complex, and graphgrad refuses "
                            f"complex numbers (tensors hold real data); use {hint}NumPy on t.data")
        raise _refused(numpy_name(func))
    try:
        return handler(*args, **kwargs)
    except TypeError as err:
        try:   # only a call that does not fit the handler's NumPy signature is reworded
            inspect.signature(handler).bind(*args, **kwargs)
        except TypeError as bind_err:
            raise TypeError(f"{numpy_name(func)}: {bind_err} (graphgrad implements only the "
                            f"keywords {list(inspect.signature(handler).parameters)})") from None
        raise err
