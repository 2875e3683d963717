"""Property-based gradient checks for every row of tests/op_specs.py.

For each op: first-order gradients against float64 central differences with a random upstream
gradient; float32 runs against the float64 result; second-order gradients (double backward, with
respect to the inputs and the upstream gradient); inputs not mutated and gradients not aliased.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd as ag
import autograd.testing as agt
from autograd.gradcheck import numerical_grad
from op_specs import SPECS

# API.md's op table and operators, written out by hand: a name here without a row fails.
API_NAMES = [
    "exp", "log", "log1p", "expm1", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu",
    "arctan", "sign", "maximum", "minimum", "where", "clip",
    "sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "norm", "cumsum", "argmax",
    "argmin",
    "softmax", "log_softmax",
    "reshape", "transpose", "squeeze", "expand_dims", "broadcast_to", "flatten", "pad",
    "concatenate", "stack", "split",
    "getitem",
    "matmul", "einsum", "astype",
    "+", "-", "*", "/", "**", "@", "unary -",
]

DIFFERENTIABLE = [s for s in SPECS if s.differentiable]
EPS = 1e-6


def ids(specs):
    return [s.name for s in specs]


# ---- coverage -----------------------------------------------------------------------------------

def test_every_public_op_has_a_row():
    covered = {spec.op for spec in SPECS}
    missing = sorted(set(ag.ops.__all__) - covered)
    assert not missing, f"public ops without a row in tests/op_specs.py: {missing}"


def test_every_api_name_has_a_row():
    covered = {spec.op for spec in SPECS}
    missing = [name for name in API_NAMES if name not in covered]
    assert not missing, f"API.md names without a row in tests/op_specs.py: {missing}"


def test_every_row_has_a_numpy_reference():
    assert not [spec.name for spec in SPECS if spec.reference is None]


def test_every_row_names_a_known_op():
    known = set(ag.ops.__all__) | set(API_NAMES)
    unknown = sorted(spec.name for spec in SPECS if spec.op not in known)
    assert not unknown, f"rows for no public op (typo?): {unknown}"


# ---- helpers ------------------------------------------------------------------------------------

def run_examples(body, spec):
    """Run ``body(spec, data)`` as a Hypothesis property and check that the active profile's
    number of examples was really drawn (ci: 25 per op)."""
    calls = []

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def prop(data):
        calls.append(None)
        body(spec, data)

    prop()
    assert len(calls) >= settings().max_examples, (spec.name, len(calls))


def draw_example(spec, data):
    """(float64 input arrays, params, upstream seed) for one example of ``spec``."""
    shapes, params = data.draw(spec.case_strategy(), label="shapes, params")
    # Small inputs keep the whole file within about two minutes on two cores.
    assert all(len(s) <= 3 and all(n <= 4 for n in s) for s in shapes), (spec.name, shapes)
    arrays = data.draw(spec.input_strategy(shapes), label="inputs")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    return list(arrays), params, seed


def leaves(arrays, dtype=None):
    return [ag.Tensor(a if dtype is None else a.astype(dtype), requires_grad=True)
            for a in arrays]


def upstream_for(out, seed):
    return np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)


def as_array(g, like):
    """A gradient from ag.grad as an ndarray (None, for an input that was not used, is 0)."""
    return np.zeros(like.shape, like.dtype) if g is None else g.data


# ---- first order, float64 -----------------------------------------------------------------------

def first_order(spec, data):
    arrays, params, seed = draw_example(spec, data)
    xs = leaves(arrays)
    out = spec.fn(*xs, **params)
    assert isinstance(out, ag.Tensor)
    expected = spec.expected(arrays, params)
    assert out.shape == expected.shape, f"{spec.name}: shape {out.shape}, NumPy {expected.shape}"
    if not spec.differentiable:
        assert out.dtype.kind in "iu", f"{spec.name}: integer result expected, got {out.dtype}"
        assert not out.requires_grad and out.is_leaf
        np.testing.assert_array_equal(out.data, expected)
        return
    np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12,
                               err_msg=f"{spec.name}: forward value differs from NumPy's")
    assert out.requires_grad and out.dtype == np.float64
    upstream = upstream_for(out, seed)
    grads = ag.grad(out, xs, grad_outputs=upstream, allow_unused=True)

    def probe(*ts):
        return spec.fn(*ts, **params)

    for i, (x, g) in enumerate(zip(xs, grads)):
        analytical = as_array(g, x.data)
        assert analytical.shape == x.shape and analytical.dtype == np.float64
        numeric = numerical_grad(probe, xs, upstream, i, EPS)
        np.testing.assert_allclose(analytical, numeric, rtol=1e-4, atol=1e-5,
                                   err_msg=f"{spec.name}: gradient of input {i}")


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_first_order(spec):
    run_examples(first_order, spec)


# ---- float32 against float64 --------------------------------------------------------------------

def float32_run(spec, data):
    arrays, params, seed = draw_example(spec, data)
    # The same points in both precisions: float32 values, exactly widened to float64.
    x32 = leaves(arrays, np.float32)
    x64 = leaves([x.data for x in x32], np.float64)
    out32 = spec.fn(*x32, **params)
    out64 = spec.fn(*x64, **params)
    if spec.keeps_dtype and spec.differentiable:
        assert out32.dtype == np.float32, f"{spec.name}: float32 in, {out32.dtype} out"
    if not spec.differentiable:
        np.testing.assert_array_equal(out32.data, out64.data)
        return
    scale = 1.0 + np.max(np.abs(out64.data), initial=0.0)
    np.testing.assert_allclose(out32.data, out64.data, rtol=1e-4, atol=1e-5 * scale)
    upstream = upstream_for(out64, seed)
    if out32.grad_fn is not None and out32.dtype == np.float32:
        # The last op's own rule works in float32 too (no silent float64 detour that the
        # engine's cast back to the input dtype would hide).
        grads = out32.grad_fn.backward(upstream.astype(np.float32))
        for i, g in enumerate(grads if isinstance(grads, tuple) else (grads,)):
            assert g is None or np.asarray(g).dtype == np.float32, \
                f"{spec.name}: {out32.grad_fn.name}.backward gave {np.asarray(g).dtype} for input {i}"
    g32 = ag.grad(out32, x32, grad_outputs=upstream.astype(out32.dtype), allow_unused=True)
    g64 = ag.grad(out64, x64, grad_outputs=upstream, allow_unused=True)
    for i, (x, a, b) in enumerate(zip(x32, g32, g64)):
        a, b = as_array(a, x.data), as_array(b, x.data.astype(np.float64))
        assert a.dtype == np.float32 and a.shape == x.shape, (spec.name, i, a.dtype, a.shape)
        scale = 1.0 + np.max(np.abs(b), initial=0.0)
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4 * scale,
                                   err_msg=f"{spec.name}: float32 gradient of input {i}")


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_float32_matches_float64(spec):
    run_examples(float32_run, spec)


# ---- second order -------------------------------------------------------------------------------

def second_order(spec, data):
    arrays, params, seed = draw_example(spec, data)
    xs = leaves(arrays)
    with ag.no_grad():
        out_shape = spec.fn(*xs, **params).shape
    rng = np.random.default_rng(seed)
    upstream = ag.Tensor(rng.standard_normal(out_shape), requires_grad=True)
    weights = [rng.standard_normal(x.shape) for x in xs]

    def weighted_gradient(*args):
        """<w, d<u, f(x)>/dx>, a function of x and u, built with create_graph=True."""
        *ins, u = args
        with ag.enable_grad():
            out = spec.fn(*ins, **params)
            grads = ag.grad(out, ins, grad_outputs=u, create_graph=True, allow_unused=True)
            # 0 * u keeps the result a graph even when every gradient is a constant (sign).
            total = (u * 0.0).sum()
            for g, w in zip(grads, weights):
                if g is not None:
                    total = total + (g * w).sum()
        return total

    ag.gradcheck(weighted_gradient, xs + [upstream], eps=EPS, atol=1e-5, rtol=1e-3, seed=seed)


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=ids(DIFFERENTIABLE))
def test_second_order(spec):
    run_examples(second_order, spec)


# ---- no mutation, no aliasing -------------------------------------------------------------------

def mutation_and_aliasing(spec, data):
    arrays, params, seed = draw_example(spec, data)
    originals = [a.copy() for a in arrays]
    xs = leaves(arrays)                     # share memory with ``arrays``
    for a in arrays:
        a.flags.writeable = False           # writing into an input would raise
    out = spec.fn(*xs, **params)
    if not spec.differentiable:
        return
    upstream = upstream_for(out, seed)
    kept = upstream.copy()
    out.backward(upstream)
    for a, original in zip(arrays, originals):
        np.testing.assert_array_equal(a, original)
    np.testing.assert_array_equal(upstream, kept)
    others = arrays + [upstream, out.data]
    grads = []
    for i, x in enumerate(xs):
        assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == x.dtype
        assert x.grad.flags.writeable, f"{spec.name}: grad of input {i} is read-only"
        for j, other in enumerate(others + grads):
            assert not np.shares_memory(x.grad, other), \
                f"{spec.name}: grad of input {i} aliases array {j}"
        grads.append(x.grad)


@pytest.mark.parametrize("spec", SPECS, ids=ids(SPECS))
def test_inputs_not_mutated_and_grads_not_aliased(spec):
    run_examples(mutation_and_aliasing, spec)


# ---- autograd.testing, the strategies behind this file ------------------------------------------

@given(agt.broadcastable_shapes(3), agt.shapes(min_dims=1, max_dims=2, max_side=3))
def test_shape_strategies_stay_in_bounds(shape_tuple, shape):
    assert len(shape_tuple) == 3
    np.broadcast_shapes(*shape_tuple)                 # raises if they do not broadcast
    assert all(len(s) <= 3 and all(1 <= n <= 4 for n in s) for s in shape_tuple)
    assert 1 <= len(shape) <= 2 and all(1 <= n <= 3 for n in shape)


@given(agt.broadcastable_shapes(signature=np.matmul.signature, max_dims=1))
def test_signature_shapes_fit_matmul(shapes):
    a, b = shapes
    assert np.matmul(np.ones(a), np.ones(b)).ndim <= 3


@given(agt.arrays(agt.shapes(), np.float32, -2.0, 2.0, avoid=(0.0, 1.0), margin=0.1))
def test_arrays_respect_domain_and_kinks(x):
    assert x.dtype == np.float32
    assert np.all((x >= -2.0) & (x <= 2.0))
    assert np.all(np.abs(x) >= 0.1) and np.all(np.abs(x - 1.0) >= 0.1)


@given(agt.distinct_arrays([(3, 4), (4,), ()]))
def test_distinct_arrays_have_no_ties_across_arrays(arrays):
    assert [a.shape for a in arrays] == [(3, 4), (4,), ()]
    values = np.sort(np.abs(np.concatenate([a.reshape(-1) for a in arrays])))
    assert np.all(np.diff(values) > 1e-3)             # also no x == -y (ties of abs)


@given(agt.tensors((2, 3), low=0.1, high=1.0, zeros=True), agt.axis_and_keepdims(3))
def test_tensors_and_axes(t, params):
    assert isinstance(t, ag.Tensor) and t.requires_grad and t.shape == (2, 3)
    assert np.all((t.data == 0) | ((t.data >= 0.1) & (t.data <= 1.0)))
    np.sum(np.ones((2, 3, 4)), **params)              # a valid axis for NumPy


def test_missing_hypothesis_is_reported_clearly():
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "try:\n    import autograd.testing\n"
            "except ImportError as err:\n    print(err)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[1])
    assert "autograd.testing needs the 'hypothesis' package" in result.stdout
    assert "pip install" in result.stdout
