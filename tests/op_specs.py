"""The op table: one row per public op (and per operator), driving tests/test_op_grads.py.

A row says how to build the op from Tensors (``fn(*tensors, **params)``), how many inputs it takes,
where its inputs may lie (domains, kinks to stay away from, whether ties must be avoided), whether
its inputs broadcast, whether it is differentiable, and which extra parameters Hypothesis draws for
it (axis/keepdims variants, shapes, indices, ...).  Variants of one op are extra rows named
``op[variant]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
import autograd.testing as agt

Shapes = tuple[tuple[int, ...], ...]


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


# ---- parameter strategies -----------------------------------------------------------------------

def one_shape(**kwargs) -> st.SearchStrategy:
    return agt.shapes(**kwargs).map(lambda s: (s,))


def reduction_params(shapes: Shapes, **extra) -> st.SearchStrategy:
    """axis (None, int, negative int, tuple), keepdims, and method vs function spelling."""
    return st.fixed_dictionaries({"axis": agt.axes(len(shapes[0])), "keepdims": st.booleans(),
                                  "method": st.booleans(), **extra})


def single_axis(shapes: Shapes, allow_none: bool = True) -> st.SearchStrategy:
    return agt.axes(len(shapes[0]), allow_tuple=False, allow_none=allow_none)


@st.composite
def var_params(draw, shapes: Shapes):
    params = draw(reduction_params(shapes))
    axes = range(len(shapes[0])) if params["axis"] is None else np.atleast_1d(params["axis"])
    count = math.prod(shapes[0][a] for a in axes)
    params["ddof"] = draw(st.sampled_from([0, 1] if count > 1 else [0]))
    return params


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def reshape_params(draw, shapes: Shapes):
    """A target shape with the same size: a random factorisation, maybe with one -1."""
    n = math.prod(shapes[0])
    ndim = draw(st.integers(0 if n == 1 else 1, 3))
    target, rest = [], n
    for _ in range(ndim - 1):
        d = draw(st.sampled_from(divisors(rest)))
        target.append(d)
        rest //= d
    if ndim:
        target.append(rest)
        target = draw(st.permutations(target))
        if draw(st.booleans()):
            target[draw(st.integers(0, ndim - 1))] = -1
    return {"shape": tuple(target), "spelling": draw(st.sampled_from(["tuple", "ints", "fn"]))}


def reshape_fn(x, shape, spelling):
    if spelling == "ints":
        return x.reshape(*shape)
    if spelling == "tuple":
        return x.reshape(shape)
    return ag.reshape(x, shape)


@st.composite
def transpose_params(draw, shapes: Shapes):
    ndim = len(shapes[0])
    form = draw(st.sampled_from(["T", "none", "tuple", "ints", "fn"]))
    perm = [int(a) - (ndim if draw(st.booleans()) else 0)
            for a in draw(st.permutations(range(ndim)))]
    return {"form": form, "axes": tuple(perm)}


def transpose_fn(x, form, axes):
    if form == "T":
        return x.T
    if form == "none":
        return x.transpose()
    if form == "tuple":
        return x.transpose(axes)
    if form == "ints":
        return x.transpose(*axes)
    return ag.transpose(x, axes)


@st.composite
def squeeze_params(draw, shapes: Shapes):
    ones = [i for i, n in enumerate(shapes[0]) if n == 1]
    ndim = len(shapes[0])
    choice = draw(st.sampled_from(["none", "int", "tuple"] if ones else ["none"]))
    if choice == "none":
        axis = None
    elif choice == "int":
        axis = draw(st.sampled_from(ones)) - (ndim if draw(st.booleans()) else 0)
    else:
        axis = tuple(draw(st.lists(st.sampled_from(ones), min_size=1, unique=True)))
    return {"axis": axis, "method": draw(st.booleans())}


@st.composite
def broadcast_to_params(draw, shapes: Shapes):
    other = draw(hnp.broadcastable_shapes(shapes[0], min_dims=0, max_dims=3, max_side=3))
    return {"shape": np.broadcast_shapes(shapes[0], other)}


@st.composite
def pad_params(draw, shapes: Shapes):
    ndim = len(shapes[0])
    width = st.integers(0, 2)
    # NumPy has no per-axis form for a 0-d array (its pad_width would be empty).
    form = draw(st.sampled_from(["int", "pair", "per-axis"] if ndim else ["int", "pair"]))
    if form == "int":
        pad_width = draw(width)
    elif form == "pair":
        pad_width = (draw(width), draw(width))
    else:
        pad_width = tuple((draw(width), draw(width)) for _ in range(ndim))
    return {"pad_width": pad_width, "constant_values": draw(st.sampled_from([0, 1.5, -2.0]))}


@st.composite
def concatenate_cases(draw):
    base = list(draw(agt.shapes(min_dims=1)))
    axis = draw(st.integers(-len(base), len(base) - 1))
    count = draw(st.integers(1, 3))
    shapes = []
    for _ in range(count):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        shapes.append(tuple(s))
    return tuple(shapes), {"axis": axis}


@st.composite
def stack_cases(draw):
    base = draw(agt.shapes(max_dims=2))
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(base) - 1, len(base)))
    return (base,) * count, {"axis": axis}


@st.composite
def split_params(draw, shapes: Shapes):
    ndim = len(shapes[0])
    axis = draw(st.integers(-ndim, ndim - 1))
    n = shapes[0][axis]
    if draw(st.booleans()):
        sections = draw(st.sampled_from(divisors(n)))
    else:
        sections = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    return {"indices_or_sections": sections, "axis": axis}


def split_fn(x, indices_or_sections, axis):
    # Each piece is weighted differently, so a gradient routed to the wrong piece is caught.
    pieces = ag.split(x, indices_or_sections, axis=axis)
    return ag.concatenate([p.reshape(-1) * (i + 1.0) for i, p in enumerate(pieces)])


@st.composite
def advanced_index(draw, shapes: Shapes):
    """A tuple of ints, slices and integer arrays (lists or ndarrays, repeats and negative
    entries included), with at least one array."""
    shape = shapes[0]
    length = draw(st.integers(1, 4))
    items = []
    for n in shape[:draw(st.integers(1, len(shape)))]:
        kind = draw(st.sampled_from(["array", "array", "slice", "int"]))
        if kind == "slice":
            items.append(draw(st.slices(n)))
        elif kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        else:
            values = draw(st.lists(st.integers(-n, n - 1), min_size=length, max_size=length))
            items.append(values if draw(st.booleans()) else np.array(values))
    if not any(isinstance(i, (list, np.ndarray)) for i in items):
        items[0] = [draw(st.integers(-shape[0], shape[0] - 1)) for _ in range(length)]
    return {"index": tuple(items) if len(items) > 1 or draw(st.booleans()) else items[0]}


@st.composite
def boolean_index(draw, shapes: Shapes):
    """A boolean mask over the leading axes, alone or followed by a slice or an int."""
    shape = shapes[0]
    k = draw(st.integers(1, len(shape)))
    mask = draw(hnp.arrays(np.bool_, shape[:k]))
    if k < len(shape) and draw(st.booleans()):
        n = shape[k]
        rest = draw(st.one_of(st.slices(n), st.integers(-n, n - 1)))
        return {"index": (mask, rest)}
    return {"index": mask}


def basic_index(shapes: Shapes) -> st.SearchStrategy:
    return st.fixed_dictionaries({"index": hnp.basic_indices(
        shapes[0], allow_newaxis=True, allow_ellipsis=True, max_dims=3)})


EINSUM_SUBSCRIPTS = [
    "ij,jk->ik", "ij->ji", "ii->i", "ii->", "ij->", "i,i->", "i,j->ij", "ij,j->i",
    "bij,bjk->bik", "ij,jk", "ba", "ij,ij->ij", "iij->ij", "ij,jk,kl->il", "i->i",
    "...ij,...jk->...ik", "i...->...", "...i,...i", "ij...,j->i...",
]


@st.composite
def einsum_cases(draw):
    subscripts = draw(st.sampled_from(EINSUM_SUBSCRIPTS))
    terms = subscripts.split("->")[0].split(",")
    letters = sorted(set(subscripts) - set(".,->"))
    size = dict(zip(letters, draw(st.lists(st.integers(1, 3), min_size=len(letters),
                                           max_size=len(letters)))))
    # '...' parts broadcast against each other, size-1 axes and missing axes included (one
    # axis at most, so no operand has more than 3).
    ellipses = draw(agt.broadcastable_shapes(len(terms), max_dims=1, max_side=3))
    shapes = []
    for term, ell in zip(terms, ellipses):
        core = [size[c] for c in term.replace("...", "")]
        if "..." in term:
            before = term.index("...")
            core = core[:before] + list(ell) + core[before:]
        shapes.append(tuple(core))
    return tuple(shapes), {"subscripts": subscripts}


@st.composite
def where_params(draw, shapes: Shapes):
    out = np.broadcast_shapes(*shapes)
    cond_shape = draw(hnp.broadcastable_shapes(out, max_dims=3, max_side=4))
    return {"cond": draw(hnp.arrays(np.bool_, cond_shape)),
            "as_tensor": draw(st.booleans())}


def where_fn(a, b, cond, as_tensor):
    return ag.where(ag.tensor(cond) if as_tensor else cond, a, b)


def clip_params(shapes: Shapes) -> st.SearchStrategy:
    bounds = st.sampled_from([(-0.5, 0.5), (None, 0.5), (-0.5, None), (0, 0.5)])
    return st.fixed_dictionaries({"bounds": bounds, "spelling": st.sampled_from(
        ["function", "method", "array bounds"])})


def clip_fn(x, bounds, spelling):
    lo, hi = bounds
    if spelling == "method":
        return x.clip(lo, hi)
    if spelling == "array bounds":   # of x's dtype, so float32 stays float32 (as in NumPy)
        lo, hi = (None if b is None else np.full(x.shape[-1:], b, dtype=x.dtype) for b in bounds)
    return ag.clip(x, lo, hi)


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
