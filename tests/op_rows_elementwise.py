"""Rows of the op table (tests/op_specs.py) for the NumPy-coverage ops of this family: the
elementwise functions of autograd/ops/unary.py and autograd/ops/binary.py.

Each row's ``fn`` is NumPy's own spelling applied to Tensors (so it tests the routing and the op
together) and, on ndarrays, is its own reference.  Domains keep inputs away from singularities and
from the jumps of piecewise-constant functions, where central differences are meaningless.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from op_specs import FULL, NONZERO, POSITIVE, SAME, Domain, OpSpec, binary

INTEGERS = Domain(avoid=(-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0))          # floor, ceil, trunc, fix
HALVES = Domain(avoid=(-2.5, -1.5, -0.5, 0.5, 1.5, 2.5))                  # rint, round
TENTHS_HALVES = Domain(-1.0, 1.0, avoid=tuple(k / 10 + 0.05 for k in range(-10, 10)))
# remainder/fmod/floor_divide jump where a/b is an integer: with b near +-2 and |a| <= 3 that is
# only a near 0 and +-b.
DIVIDEND = Domain(avoid=(-2.0, 0.0, 2.0), margin=0.15)
DIVISOR = Domain(1.9, 2.1)
NEGATIVE_DIVISOR = Domain(-2.1, -1.9)


def unary_row(name, domain=FULL, fn=None, **kw):
    return OpSpec(name, fn if fn is not None else getattr(np, name), 1, (domain,),
                  reference=SAME, **kw)


def binary_row(name, domains=(FULL,), fn=None, **kw):
    return binary(name, fn if fn is not None else getattr(np, name), domains, reference=SAME,
                  **kw)


def decimals_params(shapes):
    return st.fixed_dictionaries({"decimals": st.just(1)})


@st.composite
def nan_to_num_params(draw, shapes):
    """Where (and with what) to put NaN/+inf/-inf into the input, and the replacement values."""
    specials = draw(hnp.arrays(np.float64, shapes[0], elements=st.sampled_from(
        [0.0, 0.0, np.nan, np.inf, -np.inf])))
    return {"specials": specials, "nan": draw(st.sampled_from([0.0, 1.5])),
            "posinf": draw(st.sampled_from([10.0, 2.5])),
            "neginf": draw(st.sampled_from([-10.0, -0.5]))}


def nan_to_num_fn(x, specials, **kw):
    # np.where keeps x's dtype (specials cast to it); x's entries under a special get gradient 0
    # from where, and nan_to_num must then give 0 there too and 1 elsewhere.
    special = specials.astype(x.dtype)
    return np.nan_to_num(np.where(specials == 0, x, special), **kw)


def angle_params(shapes):
    return st.fixed_dictionaries({"deg": st.booleans()})


def ldexp_params(shapes):
    """An integer exponent: a Python int or an array broadcasting against x."""
    array = hnp.arrays(np.int64, st.sampled_from([shapes[0], shapes[0][-1:], ()]),
                       elements=st.integers(-3, 3))
    return st.fixed_dictionaries({"n": st.one_of(st.integers(-3, 3), array)})


def heaviside_params(shapes):
    """x1 (a constant) with exact zeros, where the gradient goes to x2."""
    return st.fixed_dictionaries({"x1": hnp.arrays(np.float64, shapes[0], elements=st.sampled_from(
        [-1.0, 0.0, 2.0]))})


ROWS: list[OpSpec] = [
    # powers and roots
    unary_row("square"),
    unary_row("cbrt", Domain(avoid=(0.0,), margin=0.1)),
    unary_row("reciprocal", Domain(avoid=(0.0,), margin=0.3)),
    unary_row("fabs", NONZERO),
    # trigonometric and hyperbolic
    unary_row("tan", Domain(-1.2, 1.2)),
    unary_row("arcsin", Domain(-0.9, 0.9)),
    unary_row("arccos", Domain(-0.9, 0.9)),
    unary_row("arcsinh"),
    unary_row("arccosh", Domain(1.1, 3.0)),
    unary_row("arctanh", Domain(-0.9, 0.9)),
    unary_row("sinh"),
    unary_row("cosh"),
    unary_row("deg2rad"),
    unary_row("deg2rad[radians]", fn=np.radians),
    unary_row("rad2deg"),
    unary_row("rad2deg[degrees]", fn=np.degrees),
    unary_row("sinc"),
    unary_row("sinc[near 0]", Domain(-0.6, 0.6), zeros=True, fn=np.sinc),
    # parts of a real number
    unary_row("conjugate"),
    unary_row("real"),
    unary_row("imag"),
    unary_row("real_if_close"),
    OpSpec("angle", np.angle, domains=(NONZERO,), params=angle_params, reference=SAME),
    # other bases
    unary_row("log2", POSITIVE),
    unary_row("log10", POSITIVE),
    unary_row("exp2"),
    # rounding: gradient 0
    unary_row("floor", INTEGERS),
    unary_row("ceil", INTEGERS),
    unary_row("trunc", INTEGERS),
    unary_row("fix", INTEGERS),
    unary_row("rint", HALVES),
    unary_row("round", HALVES),
    OpSpec("round[decimals]", np.round, domains=(TENTHS_HALVES,), params=decimals_params,
           reference=SAME),
    OpSpec("round[around]", np.around, domains=(TENTHS_HALVES,), params=decimals_params,
           reference=SAME),
    OpSpec("modf", lambda x: np.modf(x)[0], domains=(INTEGERS,), reference=SAME),
    # The mantissa jumps at powers of 2.
    OpSpec("frexp", lambda x: np.frexp(x)[0], domains=(Domain(0.55, 3.0, avoid=(1.0, 2.0)),),
           reference=SAME),
    OpSpec("nan_to_num", nan_to_num_fn, params=nan_to_num_params, reference=SAME),
    # binary (broadcasting)
    binary_row("hypot", (NONZERO,)),
    binary_row("arctan2", (NONZERO,)),
    binary_row("logaddexp"),
    binary_row("logaddexp2"),
    binary_row("fmax", distinct=True),
    binary_row("fmin", distinct=True),
    binary_row("copysign", (NONZERO,)),
    binary_row("remainder", (DIVIDEND, DIVISOR)),
    binary_row("remainder[%]", (DIVIDEND, NEGATIVE_DIVISOR), fn=lambda a, b: a % b),
    OpSpec("remainder[% scalar left]", lambda x: 2.5 % x, domains=(Domain(0.9, 1.1),),
           reference=SAME),
    binary_row("fmod", (DIVIDEND, DIVISOR)),
    binary_row("fmod[negative divisor]", (DIVIDEND, NEGATIVE_DIVISOR), fn=np.fmod),
    binary_row("floor_divide", (DIVIDEND, DIVISOR)),
    binary_row("floor_divide[//]", (DIVIDEND, NEGATIVE_DIVISOR), fn=lambda a, b: a // b),
    # divmod's quotient is floor_divide's (gradient 0; tests/test_numpy_elementwise.py)
    binary_row("divmod", (DIVIDEND, NEGATIVE_DIVISOR), fn=lambda a, b: np.divmod(a, b)[1]),
    OpSpec("ldexp", lambda x, n: np.ldexp(x, n), params=ldexp_params, reference=SAME),
    binary_row("float_power", (POSITIVE, Domain(-2.0, 2.0)), keeps_dtype=False),
    binary_row("heaviside", (NONZERO, FULL)),
    OpSpec("heaviside[at 0]", lambda h, x1: np.heaviside(x1.astype(h.dtype), h),
           params=heaviside_params, reference=SAME),
]
