"""Default deny, checked over all of NumPy: every callable in np.__all__ and np.linalg.__all__
called with a Tensor that requires grad either records a graphgrad op (its result keeps the
gradient), answers an inspection (no-grad result, by the one table), or raises TypeError naming
the function.  None hands back an ndarray computed from the Tensor's data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import autograd as ag
from autograd.ops import routing

# Callables that are not functions of an array (configuration, printing, test runners, classes'
# factories): never called here.
NOT_ARRAY_FUNCTIONS = {
    "test", "show_config", "show_runtime", "info", "get_include", "setbufsize", "getbufsize",
    "seterr", "geterr", "seterrcall", "geterrcall", "set_printoptions", "get_printoptions",
    "printoptions", "load", "loadtxt", "genfromtxt", "fromregex", "fromfile", "fromstring",
    "frompyfunc", "nested_iters", "datetime_data", "typename", "mintypecode", "binary_repr",
    "base_repr", "format_float_scientific", "format_float_positional", "isdtype", "issubdtype",
    "promote_types", "fromfunction", "fromiter", "broadcast_shapes", "identity", "indices",
    "diag_indices", "tri", "tril_indices", "triu_indices", "mask_indices", "hamming", "hanning",
    "kaiser", "blackman", "bartlett", "zeros", "ones", "empty", "full", "eye", "arange",
    "iterable", "isscalar", "bmat", "from_dlpack", "frombuffer",
}

# NumPy's conversions that do not dispatch: they read the Tensor through __array__, which refuses
# a Tensor that requires grad.
CONVERSIONS = ["asarray", "asanyarray", "array", "ascontiguousarray", "asfortranarray",
               "asarray_chkfinite", "require", "asmatrix", "isfortran"]


NOT_ARRAY_FUNCTIONS |= {"fftfreq", "rfftfreq"}   # np.fft's: of a length, not an array


def numpy_callables():
    found = []
    for module, names in ((np, np.__all__), (np.linalg, np.linalg.__all__),
                          (np.fft, np.fft.__all__)):
        for name in names:
            f = getattr(module, name, None)
            if name in NOT_ARRAY_FUNCTIONS or name in CONVERSIONS or not callable(f):
                continue
            if isinstance(f, np.ufunc) or type(f).__name__ == "_ArrayFunctionDispatcher":
                found.append(pytest.param(f, id=routing.numpy_name(f)))
    return found


def leaf(a):
    return ag.Tensor(np.array(a, dtype=np.float64), requires_grad=True)


def argument_forms(f):
    """Simple valid calls, tried in order: the first that NumPy's rules accept decides."""
    vector = leaf([0.3, 0.5, 0.7])
    matrix = leaf([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.2]])   # SPD, distinct values
    if isinstance(f, np.ufunc):
        return [(vector,) * f.nin]
    return [(vector,), (matrix,), (vector, vector), (matrix, matrix), ([vector, vector],),
            (vector, 1), (matrix, 1), ("i,i", vector, vector), (matrix, 0, 1),
            (matrix, np.zeros((1, 3), dtype=int), matrix, 0)]


def leaves_of(result):
    if isinstance(result, (tuple, list)):
        for r in result:
            yield from leaves_of(r)
    else:
        yield result


def refused(err: TypeError, f) -> bool:
    return str(err).startswith(routing.numpy_name(f) if not isinstance(f, np.ufunc)
                               else f"np.{f.__name__}") and "graphgrad" in str(err)


def test_complex_valued_functions_are_refused_as_complex():
    t = leaf([[2.0, 1.0], [0.5, 3.0]])
    for f in routing.COMPLEX_RESULTS:
        with pytest.raises(TypeError, match="complex"):
            f(t)


@pytest.mark.parametrize("f", numpy_callables())
def test_numpy_never_drops_the_gradient(f):
    routed = f in routing.FUNCTIONS or f in routing.UFUNCS
    inspected = f in routing.INSPECTION
    errors = []
    for args in argument_forms(f):
        try:
            with np.errstate(all="ignore"):
                result = f(*args)
        except TypeError as err:
            if refused(err, f):
                assert not routed and not inspected, f"{f.__name__} is routed but refused: {err}"
                return
            errors.append(f"TypeError: {err}")
            continue
        except (ValueError, IndexError, np.linalg.LinAlgError, AttributeError) as err:
            errors.append(f"{type(err).__name__}: {err}")
            continue
        assert routed or inspected, f"{f.__name__} ran without a table entry: {result!r}"
        outputs = list(leaves_of(result))
        for out in outputs:
            assert not isinstance(out, np.ndarray), \
                f"{f.__name__} returned an ndarray: the gradient was dropped"
        if inspected:
            assert not any(isinstance(o, ag.Tensor) and o.requires_grad for o in outputs)
        return
    # No simple form fits: only a routed function may end up here (it checks its arguments).
    assert routed or inspected, f"{f.__name__} neither refused nor ran: {errors}"


@pytest.mark.parametrize("name", CONVERSIONS)
def test_conversions_of_a_tensor_that_requires_grad_raise(name):
    t = leaf([1.0, 2.0])
    with pytest.raises((TypeError, AttributeError)) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)   # np.matrix's own notice
        getattr(np, name)(t)
    if info.type is TypeError:
        message = str(info.value)
        assert "gradient" in message and "t.detach()" in message, message


def test_every_routed_function_is_a_public_op_with_a_row():
    """Each handler is a public op (whose row test_op_grads requires) or its np.* adapter."""
    names = set(ag.OPS)
    for table in (routing.FUNCTIONS, routing.UFUNCS):
        for f, handler in table.items():
            name = handler.__name__.removeprefix("_np_")
            assert name in names, f"{routing.numpy_name(f)} routes to {handler.__name__}, " \
                                  f"which is no public op"


def test_inspection_and_routing_tables_do_not_overlap():
    assert not set(routing.INSPECTION) & (set(routing.FUNCTIONS) | set(routing.UFUNCS))
