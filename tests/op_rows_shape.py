"""Rows of the op table (tests/op_specs.py) for the NumPy-coverage ops of the shape, joining and
selection families.  Each row's ``fn`` is NumPy's own spelling applied to Tensors (so the row tests
the routing and the op together) and, with ``reference=SAME``, the same call on ndarrays is the
value it must match.  Ops that return several arrays are joined into one by ``joined``, each piece
weighted differently so a gradient routed to the wrong piece is caught."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import autograd as ag
import autograd.testing as agt
from op_params import divisors, einsum_cases, one_shape, reshape_params, single_axis
from op_specs import SAME, OpSpec


UNSTACK = getattr(np, "unstack", ag.unstack)                 # np.unstack is NumPy >= 2.1
PAD_DICT = np.lib.NumpyVersion(np.__version__) >= "2.3.0"   # np.pad's dict pad_width too


def joined(pieces):
    """One array of the pieces (Tensors or ndarrays), piece i weighted by i + 1."""
    return np.concatenate([np.ravel(p) * (i + 1.0) for i, p in enumerate(pieces)])


def axis_of(shapes, allow_none=False):
    return single_axis(shapes, allow_none=allow_none)


def dims_at_least(n):
    return one_shape(min_dims=n)


# ---- strategies ----------------------------------------------------------------------------------

@st.composite
def moveaxis_params(draw, shapes):
    ndim = len(shapes[0])
    k = draw(st.integers(1, ndim))
    src = draw(st.permutations(range(ndim)))[:k]
    dst = draw(st.permutations(range(ndim)))[:k]
    neg = draw(st.booleans())
    src = [a - ndim if neg else a for a in src]
    if k == 1 and draw(st.booleans()):
        return {"source": src[0], "destination": dst[0]}
    return {"source": src, "destination": dst}


@st.composite
def repeat_params(draw, shapes):
    axis = draw(st.one_of(st.none(), axis_of(shapes)) if shapes[0] else st.none())
    n = int(np.prod(shapes[0])) if axis is None else shapes[0][axis]
    if draw(st.booleans()):
        repeats = draw(st.integers(0, 2))
    else:
        repeats = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    return {"repeats": repeats, "axis": axis}


@st.composite
def append_cases(draw):
    a = draw(agt.shapes(max_dims=2))
    if not a or draw(st.booleans()):
        return (a, draw(agt.shapes(max_dims=2))), {"axis": None}
    axis = draw(st.integers(-len(a), len(a) - 1))
    b = list(a)
    b[axis] = draw(st.integers(1, 3))
    return (a, tuple(b)), {"axis": axis}


@st.composite
def joined_cases(draw, join_axis_of_ndim, same_below):
    """Shapes for vstack/hstack/dstack/column_stack: equal except along the axis they join on."""
    ndim = draw(st.integers(0, 3))
    base = list(draw(agt.shapes(min_dims=ndim, max_dims=ndim, max_side=3)))
    count = draw(st.integers(1, 3))
    axis = join_axis_of_ndim(ndim)
    shapes = []
    for _ in range(count):
        s = list(base)
        if ndim >= same_below and axis is not None:
            s[axis] = draw(st.integers(1, 3))
        shapes.append(tuple(s))
    return tuple(shapes), {}


@st.composite
def column_stack_cases(draw):
    n = draw(st.integers(1, 3))
    count = draw(st.integers(1, 3))
    return tuple(draw(st.sampled_from([(n,), (n, 1), (n, 2)])) for _ in range(count)), {}


@st.composite
def array_split_params(draw, shapes):
    """Any number of sections (unequal ones too), or indices: unsorted, negative, past the end."""
    ndim = len(shapes[0])
    axis = draw(st.integers(-ndim, ndim - 1))
    n = shapes[0][axis]
    if draw(st.booleans()):
        sections = draw(st.integers(1, 5))
    else:
        sections = draw(st.lists(st.integers(-n, n + 1), max_size=3))
    return {"indices_or_sections": sections, "axis": axis}


@st.composite
def fixed_axis_split(draw, shapes, axis):
    n = shapes[0][axis]
    if draw(st.booleans()):
        return {"indices_or_sections": draw(st.sampled_from(divisors(n)))}
    return {"indices_or_sections": sorted(draw(st.lists(st.integers(0, n), max_size=3)))}


@st.composite
def roll_params(draw, shapes):
    ndim = len(shapes[0])
    form = draw(st.sampled_from(["none", "int", "tuple"] if ndim else ["none"]))
    if form == "none":
        return {"shift": draw(st.integers(-5, 5)), "axis": None}
    if form == "int":
        return {"shift": draw(st.integers(-5, 5)), "axis": draw(axis_of(shapes))}
    axes = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=3))   # repeats add
    return {"shift": tuple(draw(st.lists(st.integers(-5, 5), min_size=len(axes),
                                         max_size=len(axes)))), "axis": tuple(axes)}


@st.composite
def flip_params(draw, shapes):
    ndim = len(shapes[0])
    if not ndim or draw(st.booleans()):
        return {"axis": None}
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, unique=True))
    return {"axis": axes[0] if len(axes) == 1 else tuple(axes)}


@st.composite
def rot90_params(draw, shapes):
    ndim = len(shapes[0])
    a, b = draw(st.permutations(range(ndim)))[:2]
    if draw(st.booleans()):
        a -= ndim
    return {"k": draw(st.integers(-3, 5)), "axes": (a, b)}


# ---- the rows ------------------------------------------------------------------------------------

ROWS: list[OpSpec] = [
    # shape
    OpSpec("ravel", lambda x, order: np.ravel(x, order), reference=SAME,
           params=lambda s: st.fixed_dictionaries({"order": st.sampled_from("CFAK")})),
    OpSpec("ravel[method]", lambda x, order: x.ravel(order),
           reference=lambda x, order: np.ravel(x, order),
           params=lambda s: st.fixed_dictionaries({"order": st.sampled_from("CF")})),
    OpSpec("reshape[order=F]", lambda x, shape: np.reshape(x, shape, order="F"), reference=SAME,
           params=lambda s: reshape_params(s).map(lambda p: {"shape": p["shape"]})),
    OpSpec("swapaxes", lambda x, axis1, axis2: np.swapaxes(x, axis1, axis2), reference=SAME,
           shapes=dims_at_least(1), params=lambda s: st.fixed_dictionaries(
               {"axis1": axis_of(s), "axis2": axis_of(s)})),
    OpSpec("moveaxis", lambda x, source, destination: np.moveaxis(x, source, destination),
           shapes=dims_at_least(1), params=moveaxis_params, reference=SAME),
    OpSpec("rollaxis", lambda x, axis, start: np.rollaxis(x, axis, start), reference=SAME,
           shapes=dims_at_least(1), params=lambda s: st.fixed_dictionaries(
               {"axis": axis_of(s), "start": st.integers(-len(s[0]), len(s[0]))})),
    OpSpec("atleast_1d", lambda x: np.atleast_1d(x), reference=SAME),
    OpSpec("atleast_2d", lambda x: np.atleast_2d(x), reference=SAME),
    OpSpec("atleast_3d", lambda x: np.atleast_3d(x), reference=SAME),
    OpSpec("atleast_3d[several]", lambda a, b: joined(np.atleast_3d(a, b)), arity=2,
           reference=SAME),
    OpSpec("broadcast_arrays", lambda a, b: joined(np.broadcast_arrays(a, b)), arity=2,
           broadcast=True, reference=SAME),
    # joining and splitting
    OpSpec("vstack", lambda *xs: np.vstack(xs), arity=None, reference=SAME,
           cases=joined_cases(lambda nd: 0, 2)),
    OpSpec("hstack", lambda *xs: np.hstack(xs), arity=None, reference=SAME,
           cases=joined_cases(lambda nd: 0 if nd == 1 else 1 if nd else None, 1)),
    OpSpec("column_stack", lambda *xs: np.column_stack(xs), arity=None, reference=SAME,
           cases=column_stack_cases()),
    OpSpec("dstack", lambda *xs: np.dstack(xs), arity=None, reference=SAME,
           cases=joined_cases(lambda nd: 2, 3)),
    OpSpec("unstack", lambda x, axis: joined(UNSTACK(x, axis=axis)), reference=SAME,
           shapes=dims_at_least(1),
           params=lambda s: st.fixed_dictionaries({"axis": axis_of(s)})),
    OpSpec("append", lambda a, b, axis: np.append(a, b, axis), arity=2, reference=SAME,
           cases=append_cases()),
    OpSpec("array_split", lambda x, indices_or_sections, axis:
           joined(np.array_split(x, indices_or_sections, axis)), reference=SAME,
           shapes=dims_at_least(1), params=array_split_params),
    OpSpec("vsplit", lambda x, indices_or_sections: joined(np.vsplit(x, indices_or_sections)),
           shapes=dims_at_least(2), params=lambda s: fixed_axis_split(s, 0), reference=SAME),
    OpSpec("hsplit", lambda x, indices_or_sections: joined(np.hsplit(x, indices_or_sections)),
           shapes=dims_at_least(1), params=lambda s: fixed_axis_split(s, 1 if len(s[0]) > 1
                                                                      else 0), reference=SAME),
    OpSpec("dsplit", lambda x, indices_or_sections: joined(np.dsplit(x, indices_or_sections)),
           shapes=dims_at_least(3), params=lambda s: fixed_axis_split(s, 2), reference=SAME),
    # repeating and moving entries
    OpSpec("tile", lambda x, reps: np.tile(x, reps), reference=SAME, shapes=one_shape(max_side=3),
           params=lambda s: st.fixed_dictionaries({"reps": st.one_of(
               st.integers(0, 2), st.lists(st.integers(1, 2), max_size=3).map(tuple))})),
    OpSpec("repeat", lambda x, repeats, axis: np.repeat(x, repeats, axis), reference=SAME,
           params=repeat_params),
    OpSpec("roll", lambda x, shift, axis: np.roll(x, shift, axis), reference=SAME,
           params=roll_params),
    OpSpec("flip", lambda x, axis: np.flip(x, axis), reference=SAME, params=flip_params),
    OpSpec("flipud", lambda x: np.flipud(x), reference=SAME, shapes=dims_at_least(1)),
    OpSpec("fliplr", lambda x: np.fliplr(x), reference=SAME, shapes=dims_at_least(2)),
    OpSpec("rot90", lambda x, k, axes: np.rot90(x, k, axes), reference=SAME,
           shapes=dims_at_least(2), params=rot90_params),
]


# ---- sorting and selection -----------------------------------------------------------------------

@st.composite
def sort_params(draw, shapes):
    ndim = len(shapes[0])
    axis = draw(st.one_of(st.none(), axis_of(shapes))) if ndim else None
    return {"axis": axis, "kind": draw(st.sampled_from([None, "stable", "quicksort", "heapsort"]))}


@st.composite
def partition_params(draw, shapes):
    ndim = len(shapes[0])
    axis = draw(st.one_of(st.none(), axis_of(shapes))) if ndim else None
    n = int(np.prod(shapes[0])) if axis is None else shapes[0][axis]
    kth = draw(st.one_of(st.integers(-n, n - 1),
                         st.lists(st.integers(0, n - 1), min_size=1, max_size=2)))
    return {"kth": kth, "axis": axis}


@st.composite
def take_params(draw, shapes):
    ndim = len(shapes[0])
    axis = draw(st.one_of(st.none(), axis_of(shapes))) if ndim else None
    n = int(np.prod(shapes[0])) if axis is None else shapes[0][axis]
    mode = draw(st.sampled_from(["raise", "wrap", "clip"]))
    wide = 2 * n if mode != "raise" else 0
    entry = st.integers(-n - wide, n - 1 + wide)
    if draw(st.booleans()):
        indices = draw(entry)
    else:
        indices = np.array(draw(st.lists(st.lists(entry, min_size=2, max_size=2), min_size=1,
                                         max_size=2)))
    return {"indices": indices, "axis": axis, "mode": mode}


@st.composite
def take_along_axis_params(draw, shapes):
    shape = shapes[0]
    if draw(st.booleans()):
        n = int(np.prod(shape))
        return {"indices": np.array(draw(st.lists(st.integers(-n, n - 1), max_size=5)),
                                    dtype=np.intp),
                "axis": None}
    axis = draw(axis_of(shapes))
    target = list(shape)
    target[axis] = draw(st.integers(1, 3))
    for i in range(len(shape)):            # the other axes may broadcast from 1
        if i != axis and draw(st.booleans()):
            target[i] = 1
    values = draw(st.lists(st.integers(-shape[axis], shape[axis] - 1),
                           min_size=int(np.prod(target)), max_size=int(np.prod(target))))
    return {"indices": np.array(values, dtype=np.intp).reshape(target), "axis": axis}


@st.composite
def select_params(draw, shapes):
    out = np.broadcast_shapes(*shapes)
    conds = [draw(st.sampled_from([out, out[1:]])) for _ in range(2)]
    return {"condlist": [np.random.default_rng(draw(st.integers(0, 99))).random(c) < 0.5
                         for c in conds]}


@st.composite
def diagonal_params(draw, shapes):
    ndim = len(shapes[0])
    a, b = draw(st.permutations(range(ndim)))[:2]
    return {"offset": draw(st.integers(-4, 4)), "axis1": a, "axis2": b - ndim}


@st.composite
def linspace_params(draw, shapes, retstep=False):
    ndim = len(np.broadcast_shapes(*shapes))
    return {"num": draw(st.integers(2 if retstep else 0, 5)), "endpoint": draw(st.booleans()),
            "axis": draw(st.integers(-ndim - 1, ndim))}


def linspace_retstep(a, b, num, endpoint, axis):
    samples, step = np.linspace(a, b, num, endpoint, retstep=True, axis=axis)
    return joined([samples, step])


ROWS += [
    OpSpec("sort", lambda x, axis, kind: np.sort(x, axis, kind), distinct=True, reference=SAME,
           params=sort_params),
    OpSpec("partition", lambda x, kth, axis: np.partition(x, kth, axis), distinct=True,
           reference=SAME, params=partition_params),
    OpSpec("take", lambda x, indices, axis, mode: np.take(x, indices, axis, mode=mode),
           reference=SAME, params=take_params),
    OpSpec("take_along_axis", lambda x, indices, axis: np.take_along_axis(x, indices, axis),
           shapes=dims_at_least(1), params=take_along_axis_params, reference=SAME),
    OpSpec("select", lambda a, b, c, condlist: np.select(condlist, [a, b], c), arity=3,
           broadcast=True, shapes=agt.broadcastable_shapes(3, min_dims=1), params=select_params,
           reference=SAME),
    OpSpec("tril", lambda x, k: np.tril(x, k), reference=SAME, shapes=dims_at_least(1),
           params=lambda s: st.fixed_dictionaries({"k": st.integers(-3, 3)})),
    OpSpec("triu", lambda x, k: np.triu(x, k), reference=SAME, shapes=dims_at_least(1),
           params=lambda s: st.fixed_dictionaries({"k": st.integers(-3, 3)})),
    OpSpec("diag", lambda x, k: np.diag(x, k), reference=SAME,
           shapes=one_shape(min_dims=1, max_dims=2),
           params=lambda s: st.fixed_dictionaries({"k": st.integers(-4, 4)})),
    OpSpec("diagonal", lambda x, offset, axis1, axis2: np.diagonal(x, offset, axis1, axis2),
           reference=SAME, shapes=dims_at_least(2), params=diagonal_params),
    # creation between Tensor endpoints
    OpSpec("linspace", lambda a, b, num, endpoint, axis: np.linspace(a, b, num, endpoint,
                                                                     axis=axis),
           arity=2, broadcast=True, shapes=agt.broadcastable_shapes(2, max_dims=2),
           params=linspace_params, reference=SAME),
    OpSpec("linspace[retstep]", linspace_retstep, arity=2, broadcast=True,
           shapes=agt.broadcastable_shapes(2, max_dims=2),
           params=lambda s: linspace_params(s, retstep=True), reference=SAME),
    OpSpec("linspace[number start]", lambda b, num, endpoint, axis:
           np.linspace(0.5, b, num, endpoint, axis=axis), shapes=one_shape(max_dims=2),
           params=linspace_params, reference=SAME),
]


# ---- np.pad, every mode --------------------------------------------------------------------------

def pad_width_strategy(ndim, widest=3):
    width = st.integers(0, widest)
    forms = [width, st.tuples(width, width)]
    if ndim:
        forms.append(st.tuples(*[st.tuples(width, width)] * ndim))
        if PAD_DICT:
            forms.append(st.dictionaries(st.integers(0, ndim - 1), width))
    return st.one_of(*forms)


def pad_values_strategy(ndim):
    value = st.sampled_from([0.0, 1.5, -2.0])
    forms = [value, st.tuples(value, value)]
    if ndim:
        forms.append(st.tuples(*[st.tuples(value, value)] * ndim))
    return st.one_of(*forms)


def pad_row(mode, option=None, option_values=None, **kw):
    """A row for np.pad(x, pad_width, mode, **{option: drawn}) on small inputs (the output grows
    with the widths, and the second-order check probes every output entry)."""
    def params(shapes):
        ndim = len(shapes[0])
        fields = {"pad_width": pad_width_strategy(ndim)}
        if option is not None:
            fields["value"] = option_values(ndim)
        return st.fixed_dictionaries(fields)

    def fn(x, pad_width, value=None):
        extra = {} if option is None else {option: value}
        return np.pad(x, pad_width, mode, **extra)

    return OpSpec(f"pad[{mode}{', ' + option if option else ''}]", fn, reference=SAME,
                  shapes=one_shape(max_dims=2, max_side=3), params=params, **kw)


def stat_lengths(ndim):
    length = st.integers(1, 4)
    return st.one_of(st.none(), length, st.tuples(length, length))


def reflect_types(ndim):
    return st.sampled_from(["even", "odd"])


@st.composite
def pad_tensor_value_cases(draw):
    shape = draw(agt.shapes(min_dims=1, max_dims=2, max_side=2))
    value_shape = draw(st.sampled_from([(), (2,), (len(shape), 2)]))
    # Every value is used (each side of each axis is padded), so every input gets a gradient.
    width = st.integers(1, 2)
    return (shape, value_shape), {"pad_width": draw(st.one_of(width, st.tuples(width, width)))}


ROWS += [
    pad_row("constant", "constant_values", pad_values_strategy),
    pad_row("edge"),
    pad_row("wrap"),
    pad_row("linear_ramp", "end_values", pad_values_strategy),
    pad_row("maximum", "stat_length", stat_lengths, distinct=True),
    pad_row("minimum", "stat_length", stat_lengths, distinct=True),
    pad_row("mean", "stat_length", stat_lengths),
    pad_row("median", "stat_length", stat_lengths, distinct=True),
    pad_row("reflect", "reflect_type", reflect_types),
    pad_row("symmetric", "reflect_type", reflect_types),
    OpSpec("pad[constant, Tensor values]", lambda x, v, pad_width:
           np.pad(x, pad_width, constant_values=v), arity=2, cases=pad_tensor_value_cases(),
           reference=SAME),
    OpSpec("pad[linear_ramp, Tensor values]", lambda x, v, pad_width:
           np.pad(x, pad_width, "linear_ramp", end_values=v), arity=2,
           cases=pad_tensor_value_cases(), reference=SAME),
]


# ---- np.einsum's sublist form --------------------------------------------------------------------

def sublist_args(operands, subscripts):
    """np.einsum's sublist arguments (op0, [labels], op1, [labels], ..., [out]) for subscripts."""
    letters = sorted(set(subscripts) - set(".,->"))
    labels = {c: i + 20 for i, c in enumerate(letters)}     # upper- and lowercase NumPy labels

    def sublist(term):
        head, ell, tail = term.partition("...")
        return [labels[c] for c in head] + ([Ellipsis] if ell else []) + [labels[c] for c in tail]

    lhs, arrow, out = subscripts.partition("->")
    args = []
    for x, term in zip(operands, lhs.split(",")):
        args += [x, sublist(term)]
    return args + ([sublist(out)] if arrow else [])


ROWS += [
    OpSpec("einsum[sublist]", lambda *xs, subscripts: np.einsum(*sublist_args(xs, subscripts)),
           arity=None, cases=einsum_cases(), reference=SAME),
]


# np.fft's real-valued shifts (the transforms are complex: refused)
@st.composite
def _fftshift_params(draw, shapes):
    ndim = len(shapes[0])
    axes = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                          st.lists(st.integers(0, ndim - 1), min_size=1, unique=True).map(tuple)))
    return {"axes": axes}


ROWS += [
    # NumPy's own fftshift fails on 0-d arrays: at least one axis
    OpSpec("fftshift", lambda x, axes: np.fft.fftshift(x, axes), shapes=one_shape(min_dims=1),
           params=_fftshift_params, reference=SAME),
    OpSpec("ifftshift", lambda x, axes: np.fft.ifftshift(x, axes), shapes=one_shape(min_dims=1),
           params=_fftshift_params, reference=SAME),
]
