"""The op table: one row per public op (and per operator), driving tests/test_op_grads.py.

A row says how to build the op from Tensors (``fn(*tensors, **params)``), how many inputs it takes,
where its inputs may lie (domains, kinks to stay away from, whether ties must be avoided), whether
its inputs broadcast, whether it is differentiable, and which extra parameters Hypothesis draws for
it (axis/keepdims variants, shapes, indices, ...).  Variants of one op are extra rows named
``op[variant]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st

import autograd as ag
import autograd.testing as agt

from op_params import (
    Shapes, advanced_index, basic_index, boolean_index, broadcast_to_params, clip_fn, clip_params,
    concatenate_cases, einsum_cases, one_shape, pad_params, reduction_params, reshape_fn,
    reshape_params, single_axis, split_fn, split_params, squeeze_params, stack_cases,
    transpose_fn, transpose_params, var_params, where_fn, where_params)


@dataclass(frozen=True)
class Domain:
    """Inputs lie in [low, high], at least ``margin`` away from each point of ``avoid``."""
    low: float = -3.0
    high: float = 3.0
    avoid: tuple[float, ...] = ()
    margin: float = agt.DEFAULT_MARGIN


FULL = Domain()
POSITIVE = Domain(0.1, 3.0)
NONZERO = Domain(avoid=(0.0,))


@dataclass(frozen=True)
class OpSpec:
    name: str                                   # "op" or "op[variant]"; op is the public name
    fn: Callable[..., ag.Tensor]                # fn(*tensors, **params) -> Tensor
    arity: int | None = 1                       # number of float inputs; None: drawn per example
    domains: tuple[Domain, ...] = (FULL,)       # one per input, or one for all
    broadcast: bool = False                     # inputs have mutually broadcastable shapes
    distinct: bool = False                      # no ties (or equal |x|) anywhere across the inputs
    zeros: bool = False                         # exact zeros drawn often
    differentiable: bool = True                 # False: integer result, no graph
    keeps_dtype: bool = True                    # float32 in -> float32 out
    shapes: st.SearchStrategy | None = None     # strategy of a tuple of input shapes
    params: Callable[[Shapes], st.SearchStrategy] | None = None   # shapes -> strategy of a dict
    cases: st.SearchStrategy | None = None      # strategy of (shapes, params), when intertwined
    reference: Callable | str | None = None     # NumPy forward on ndarrays, same params (or SAME)

    @property
    def op(self) -> str:
        return self.name.split("[")[0]

    def expected(self, arrays, params) -> np.ndarray:
        """The forward value NumPy computes for these inputs."""
        fn = self.fn if self.reference == SAME else self.reference
        return np.asarray(fn(*arrays, **params))

    def domain(self, i: int) -> Domain:
        return self.domains[i] if len(self.domains) > 1 else self.domains[0]

    def case_strategy(self) -> st.SearchStrategy:
        """(input shapes, params) for one example."""
        if self.cases is not None:
            return self.cases
        shapes = self.shapes
        if shapes is None:
            shapes = (agt.broadcastable_shapes(self.arity) if self.broadcast
                      else st.tuples(*[agt.shapes()] * self.arity))
        if self.params is None:
            return shapes.map(lambda s: (s, {}))
        return shapes.flatmap(lambda s: self.params(s).map(lambda p: (s, p)))

    def input_strategy(self, shapes: Shapes) -> st.SearchStrategy:
        """float64 input arrays of the given shapes, inside the row's domains."""
        if self.distinct:
            d = self.domain(0)
            return agt.distinct_arrays(shapes, np.float64, d.low, d.high, avoid=d.avoid,
                                       margin=d.margin)
        return st.tuples(*[
            agt.arrays(s, np.float64, self.domain(i).low, self.domain(i).high,
                       avoid=self.domain(i).avoid, margin=self.domain(i).margin, zeros=self.zeros)
            for i, s in enumerate(shapes)])


def method_or_function(name: str):
    """``x.name(**kw)`` or ``ag.name(x, **kw)``, chosen by the ``method`` param."""
    def build(x, method, **kw):
        return getattr(x, name)(**kw) if method else getattr(ag, name)(x, **kw)
    build.__name__ = name
    return build


TENSOR_METHODS = {"exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu"}


def unary(name: str, domain: Domain = FULL, *, reference: Callable, **kw) -> OpSpec:
    """An elementwise op of one input, spelled ``ag.name(x)`` or (where it exists) ``x.name()``."""
    if name not in TENSOR_METHODS:
        return OpSpec(name, getattr(ag, name), 1, (domain,), reference=reference, **kw)
    return OpSpec(name, method_or_function(name), 1, (domain,),
                  params=lambda s: st.fixed_dictionaries({"method": st.booleans()}),
                  reference=lambda x, method: reference(x), **kw)


def binary(name: str, fn, domains=(FULL,), **kw) -> OpSpec:
    return OpSpec(name, fn, 2, tuple(domains), broadcast=True, **kw)


def like(x, value):
    """A constant of x's dtype, so float32 runs stay float32."""
    return np.full(x.shape[-1:], value, dtype=x.dtype)


# ---- the table ----------------------------------------------------------------------------------

def numpy_reduction(name: str):
    """NumPy's reduction with the row's params (``method`` only picks the graphgrad spelling)."""
    return lambda x, method, **kw: getattr(np, name)(x, **kw)


def numpy_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def numpy_transpose(x, form, axes):
    return x.T if form in ("T", "none") else np.transpose(x, axes)


def numpy_split(x, indices_or_sections, axis):
    pieces = np.split(x, indices_or_sections, axis=axis)
    return np.concatenate([p.reshape(-1) * (i + 1.0) for i, p in enumerate(pieces)])


SAME = "fn works on ndarrays too"   # reference: the row's own fn applied to the ndarrays

SPECS: list[OpSpec] = [
    # elementwise, unary
    unary("exp", reference=np.exp),
    unary("log", POSITIVE, reference=np.log),
    unary("log1p", Domain(-0.9, 3.0), reference=np.log1p),
    unary("expm1", reference=np.expm1),
    unary("sqrt", POSITIVE, reference=np.sqrt),
    unary("abs", NONZERO, reference=np.abs),
    unary("sin", reference=np.sin),
    unary("cos", reference=np.cos),
    unary("tanh", reference=np.tanh),
    unary("sigmoid", Domain(-6.0, 6.0), reference=lambda x: 1 / (1 + np.exp(-x))),
    unary("relu", NONZERO, reference=lambda x: np.maximum(x, 0)),
    unary("arctan", reference=np.arctan),
    unary("sign", NONZERO, reference=np.sign),
    unary("negative", reference=np.negative),
    OpSpec("positive", np.positive, reference=SAME),
    OpSpec("copy", np.copy, reference=SAME),
    OpSpec("copy[method, F order]", lambda x: x.T.contiguous(), reference=lambda x: x.T.copy()),
    OpSpec("astype", lambda x: ag.astype(x, np.float64), keeps_dtype=False,
           reference=lambda x: x.astype(np.float64)),
    OpSpec("astype[method]", lambda x: x.astype(np.float64), keeps_dtype=False, reference=SAME),
    OpSpec("clip", clip_fn, domains=(Domain(avoid=(-0.5, 0.0, 0.5)),), params=clip_params,
           reference=lambda x, bounds, spelling: np.clip(x, *bounds)),
    # Tensor bounds get the gradient where they bind (lo > hi included: NumPy gives hi there).
    OpSpec("clip[tensor bounds]", lambda x, lo, hi: np.clip(x, lo, hi), arity=3, broadcast=True,
           distinct=True, reference=SAME),
    OpSpec("**[zero exponent]", lambda x: x ** 0.0, zeros=True, reference=SAME),
    # elementwise, binary (broadcasting)
    binary("add", ag.add, reference=np.add),
    binary("subtract", ag.subtract, reference=np.subtract),
    binary("multiply", ag.multiply, reference=np.multiply),
    binary("divide", ag.divide, (FULL, Domain(avoid=(0.0,), margin=0.3)), reference=np.divide),
    binary("power", ag.power, (POSITIVE, Domain(-2.0, 2.0)), reference=np.power),
    binary("maximum", ag.maximum, distinct=True, reference=np.maximum),
    binary("minimum", ag.minimum, distinct=True, reference=np.minimum),
    binary("where", where_fn, params=where_params,
           reference=lambda a, b, cond, as_tensor: np.where(cond, a, b)),
    # operators
    binary("+", lambda a, b: a + b, reference=SAME),
    binary("-", lambda a, b: a - b, reference=SAME),
    binary("*", lambda a, b: a * b, reference=SAME),
    binary("/", lambda a, b: a / b, (FULL, Domain(avoid=(0.0,), margin=0.3)), reference=SAME),
    binary("**", lambda a, b: a ** b, (POSITIVE, Domain(-2.0, 2.0)), reference=SAME),
    OpSpec("unary -", lambda x: -x, reference=SAME),
    OpSpec("+[scalar left]", lambda x: 1.5 + x, reference=SAME),
    OpSpec("-[scalar left]", lambda x: 1.5 - x, reference=SAME),
    OpSpec("*[ndarray left]", lambda x: like(x, 2.5) * x, reference=SAME),
    OpSpec("/[scalar left]", lambda x: 2.0 / x, domains=(Domain(avoid=(0.0,), margin=0.3),),
           reference=SAME),
    OpSpec("**[scalar exponent]", lambda x: x ** 3, reference=SAME),
    OpSpec("**[scalar base]", lambda x: 2.0 ** x, reference=SAME),
    OpSpec("-[ndarray right]", lambda x: x - like(x, 0.5), reference=SAME),
    # reductions
    OpSpec("sum", method_or_function("sum"), params=reduction_params,
           reference=numpy_reduction("sum")),
    OpSpec("mean", method_or_function("mean"), params=reduction_params,
           reference=numpy_reduction("mean")),
    OpSpec("max", method_or_function("max"), params=reduction_params, distinct=True,
           reference=numpy_reduction("max")),
    OpSpec("min", method_or_function("min"), params=reduction_params, distinct=True,
           reference=numpy_reduction("min")),
    # prod's gradient divides the product by each entry where no entry is 0 (as PyTorch does),
    # so entries are kept away from underflow; exact zeros have their own row.
    OpSpec("prod", method_or_function("prod"), domains=(Domain(-2.0, 2.0, avoid=(0.0,)),),
           params=reduction_params, reference=numpy_reduction("prod")),
    OpSpec("prod[zeros]", method_or_function("prod"),
           domains=(Domain(-2.0, 2.0, avoid=(0.0,)),), params=reduction_params, zeros=True,
           reference=numpy_reduction("prod")),
    OpSpec("var", method_or_function("var"), params=var_params, reference=numpy_reduction("var")),
    OpSpec("std", method_or_function("std"), params=var_params, distinct=True,
           reference=numpy_reduction("std")),
    OpSpec("logsumexp", lambda x, method, **kw: ag.logsumexp(x, **kw), params=reduction_params,
           reference=lambda x, method, axis, keepdims:
           np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
    # norm (np.linalg.norm's meaning: every ord, axis and keepdims form): tests/op_rows_reduce.py
    OpSpec("cumsum", ag.cumsum, params=lambda s: st.fixed_dictionaries({"axis": single_axis(s)}),
           reference=np.cumsum),
    OpSpec("argmax", method_or_function("argmax"), differentiable=False,
           params=lambda s: st.fixed_dictionaries({"axis": single_axis(s),
                                                   "method": st.booleans()}),
           reference=numpy_reduction("argmax")),
    OpSpec("argmin", method_or_function("argmin"), differentiable=False,
           params=lambda s: st.fixed_dictionaries({"axis": single_axis(s),
                                                   "method": st.booleans()}),
           reference=numpy_reduction("argmin")),
    # normalisers
    OpSpec("softmax", ag.softmax, shapes=one_shape(min_dims=1), domains=(Domain(-5.0, 5.0),),
           params=lambda s: st.fixed_dictionaries({"axis": single_axis(s, allow_none=False)}),
           reference=numpy_softmax),
    OpSpec("log_softmax", ag.log_softmax, shapes=one_shape(min_dims=1),
           domains=(Domain(-5.0, 5.0),),
           params=lambda s: st.fixed_dictionaries({"axis": single_axis(s, allow_none=False)}),
           reference=lambda x, axis: np.log(numpy_softmax(x, axis))),
    # shape
    OpSpec("reshape", reshape_fn, params=reshape_params,
           reference=lambda x, shape, spelling: np.reshape(x, shape)),
    OpSpec("transpose", transpose_fn, params=transpose_params, reference=numpy_transpose),
    OpSpec("squeeze", method_or_function("squeeze"), params=squeeze_params,
           reference=numpy_reduction("squeeze")),
    OpSpec("expand_dims", ag.expand_dims, shapes=one_shape(max_dims=2), params=lambda s:
           st.fixed_dictionaries({"axis": st.integers(-len(s[0]) - 1, len(s[0]))}),
           reference=np.expand_dims),
    OpSpec("broadcast_to", ag.broadcast_to, params=broadcast_to_params,
           reference=np.broadcast_to),
    OpSpec("flatten", method_or_function("flatten"),
           params=lambda s: st.fixed_dictionaries({"method": st.booleans()}),
           reference=lambda x, method: x.flatten()),
    OpSpec("pad", ag.pad, params=pad_params, reference=np.pad),
    # joining
    OpSpec("concatenate", lambda *xs, axis: ag.concatenate(xs, axis=axis), arity=None,
           cases=concatenate_cases(), reference=lambda *xs, axis: np.concatenate(xs, axis)),
    OpSpec("stack", lambda *xs, axis: ag.stack(xs, axis=axis), arity=None, cases=stack_cases(),
           reference=lambda *xs, axis: np.stack(xs, axis)),
    OpSpec("split", split_fn, shapes=one_shape(min_dims=1), params=split_params,
           reference=numpy_split),
    # indexing
    OpSpec("getitem[basic]", lambda x, index: x[index], params=basic_index, reference=SAME),
    OpSpec("getitem[advanced]", lambda x, index: x[index], shapes=one_shape(min_dims=1),
           params=advanced_index, reference=SAME),
    OpSpec("getitem[boolean]", lambda x, index: x[index], shapes=one_shape(min_dims=1),
           params=boolean_index, reference=SAME),
    OpSpec("getitem[function]", lambda x, index: ag.getitem(x, index), params=basic_index,
           reference=lambda x, index: x[index]),
    # linear algebra
    binary("matmul", ag.matmul, shapes=agt.broadcastable_shapes(
        signature=np.matmul.signature, max_dims=1), reference=np.matmul),
    binary("@", lambda a, b: a @ b, shapes=agt.broadcastable_shapes(
        signature=np.matmul.signature, max_dims=1), reference=SAME),
    OpSpec("einsum", lambda *xs, subscripts: ag.einsum(subscripts, *xs), arity=None,
           cases=einsum_cases(), reference=lambda *xs, subscripts: np.einsum(subscripts, *xs)),
]

# The NumPy-coverage families keep their rows beside this file, one module per family; they are
# part of this one table (imported last: they build their rows with the helpers above).
from op_rows_elementwise import ROWS as _ELEMENTWISE  # noqa: E402
from op_rows_linalg import ROWS as _LINALG  # noqa: E402
from op_rows_reduce import ROWS as _REDUCE  # noqa: E402
from op_rows_shape import ROWS as _SHAPE  # noqa: E402

SPECS += _ELEMENTWISE + _REDUCE + _SHAPE + _LINALG

SPECS_BY_NAME = {spec.name: spec for spec in SPECS}
assert len(SPECS_BY_NAME) == len(SPECS), "duplicate row names in the op table"
