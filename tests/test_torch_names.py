"""Coming from PyTorch: the everyday Tensor names, the spelling rule (dim= means PyTorch's
meaning, axis= NumPy's), in-place updates and their rules, constructors, dtype aliases, devices."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag

X = np.array([[0.5, -1.0, 2.0, 0.1], [3.0, 0.25, -2.5, 1.5], [0.7, 0.8, -0.3, 0.9]])


def leaf(a=X):
    return ag.Tensor(np.array(a, dtype=np.float64), requires_grad=True)


# ---- the spelling picks the meaning ---------------------------------------------------------------

@pytest.mark.parametrize("name, pick", [("max", np.argmax), ("min", np.argmin)])
def test_max_min_with_dim_return_values_and_indices(name, pick):
    x = leaf()
    values, indices = getattr(x, name)(dim=1)
    np.testing.assert_array_equal(indices.data, pick(X, axis=1))
    np.testing.assert_array_equal(values.data, getattr(X, name)(axis=1))
    assert getattr(x, name)(dim=1).values is not None and not indices.requires_grad
    kept = getattr(x, name)(dim=0, keepdim=True)
    assert kept.values.shape == (1, 4) and kept.indices.shape == (1, 4)
    # NumPy's spelling gives values only
    assert isinstance(getattr(x, name)(1), ag.Tensor)
    np.testing.assert_array_equal(getattr(x, name)(axis=1, keepdims=True).data,
                                  getattr(X, name)(axis=1, keepdims=True))
    (g,) = ag.grad(values.sum(), x)     # the gradient goes to the returned index
    expected = np.zeros_like(X)
    expected[np.arange(3), pick(X, axis=1)] = 1
    np.testing.assert_array_equal(g.data, expected)


def test_var_std_with_dim_are_unbiased_unless_told():
    x = leaf()
    np.testing.assert_allclose(x.var(dim=1).data, X.var(axis=1, ddof=1))
    np.testing.assert_allclose(x.std(dim=0).data, X.std(axis=0, ddof=1))
    np.testing.assert_allclose(x.var(dim=1, unbiased=False).data, X.var(axis=1))
    np.testing.assert_allclose(x.var(dim=1, correction=0).data, X.var(axis=1))
    np.testing.assert_allclose(x.var(1).data, X.var(axis=1))          # NumPy's spelling: ddof 0
    np.testing.assert_allclose(x.std(axis=1, ddof=1).data, X.std(axis=1, ddof=1))
    with pytest.raises(TypeError, match="one of"):
        x.var(dim=1, ddof=1, unbiased=True)


def test_both_spellings_at_once_is_an_error():
    x = leaf()
    with pytest.raises(TypeError, match="not both"):
        x.sum(axis=0, dim=0)
    with pytest.raises(TypeError, match="not both"):
        x.mean(keepdims=True, keepdim=True)


def test_sum_mean_with_dim_and_keepdim():
    x = leaf()
    np.testing.assert_allclose(x.sum(dim=1, keepdim=True).data, X.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(x.mean(dim=(0, 1)).data, X.mean())
    np.testing.assert_allclose(x.sum(0).data, X.sum(0))


def test_squeeze_with_dim_of_a_non_one_axis_is_a_no_op():
    x = leaf(X[None])
    assert x.squeeze(dim=1).shape == (1, 3, 4)
    assert x.squeeze(dim=0).shape == (3, 4)
    with pytest.raises(ValueError):
        x.squeeze(axis=1)                 # NumPy's meaning: an error


def test_sort_and_median_with_dim():
    x = leaf()
    values, indices = x.sort(dim=1, descending=True)
    np.testing.assert_array_equal(values.data, -np.sort(-X, axis=1))
    np.testing.assert_array_equal(indices.data, np.argsort(-X, axis=1, kind="stable"))
    plain = ag.tensor(X.copy())
    assert plain.sort(axis=0) is None                     # NumPy's spelling: in place
    np.testing.assert_array_equal(plain.data, np.sort(X, axis=0))
    with pytest.raises(RuntimeError, match="np.sort"):
        x.sort()                                          # in place would corrupt x's graph
    med = x.median(dim=1)                # PyTorch: the lower middle value of an even count
    np.testing.assert_array_equal(med.values.data, np.sort(X, axis=1)[:, 1])
    np.testing.assert_array_equal(X[np.arange(3), med.indices.data], med.values.data)
    assert ag.gradcheck(lambda t: t.sort(dim=0).values * np.arange(12.0).reshape(3, 4), [leaf()])


# ---- methods ---------------------------------------------------------------------------------------

def test_shape_methods():
    x = leaf()
    assert x.view(4, 3).shape == (4, 3) and x.view_as(leaf(X.T)).shape == (4, 3)
    assert x.unsqueeze(1).shape == (3, 1, 4) and x.permute(1, 0).shape == (4, 3)
    assert x.mT.shape == (4, 3) and x.swapaxes(0, 1).shape == (4, 3)
    assert x[None].expand(2, -1, -1).shape == (2, 3, 4)
    assert leaf(np.ones((2, 3, 4))).flatten(1).shape == (2, 12)
    assert leaf(np.ones((2, 3, 4))).flatten(0, 1).shape == (6, 4)
    assert x.flatten().shape == (12,) and x.ravel().shape == (12,)
    assert [c.shape for c in x.chunk(3, dim=1)] == [(3, 2), (3, 2)]
    assert [c.shape for c in leaf(np.ones(7)).chunk(3)] == [(3,), (3,), (1,)]
    assert x.numel() == 12 and x.dim() == 2 and x.size == 12


def test_size_is_numpys_count_and_calling_it_says_so():
    x = leaf()
    assert x.size == 12
    with pytest.raises(TypeError, match=r"x\.shape\[0\]"):
        x.size(0)


def test_attribute_hints_name_graphgrads_spelling():
    x = leaf()
    with pytest.raises(AttributeError, match=r"x\.T"):
        x.t()
    with pytest.raises(AttributeError, match="CPU"):
        x.cuda()
    with pytest.raises(AttributeError, match="no attribute 'banana'$"):
        x.banana


def test_dtype_and_device_methods():
    x = leaf()
    assert x.float().dtype == np.float32 and x.double().dtype == np.float64
    assert x.half().dtype == np.float16 and x.long().dtype == np.int64
    assert x.int().dtype == np.int32 and x.bool().dtype == np.bool_
    assert x.type_as(ag.zeros(1)).dtype == np.float32
    assert x.to("cpu") is x and x.cpu() is x and x.device == "cpu"
    assert x.to(np.float32).dtype == np.float32 and x.to(device="cpu", dtype=ag.float16).dtype == ag.half
    with pytest.raises(ValueError, match="device"):
        x.to("cuda")
    (g,) = ag.grad(x.float().sum(), x)       # a float cast stays differentiable
    assert g.dtype == np.float64


def test_clone_and_contiguous_are_differentiable_copies():
    x = leaf()
    c = x.clone()
    assert not np.shares_memory(c.data, x.data) and c.requires_grad
    t = x.T.contiguous()
    assert t.data.flags.c_contiguous
    (g,) = ag.grad((t * 2).sum(), x)
    np.testing.assert_array_equal(g.data, np.full_like(X, 2.0))


def test_arithmetic_methods():
    x, y = leaf(), leaf(X + 5)
    np.testing.assert_allclose(x.add(y, alpha=2).data, X + 2 * (X + 5))
    np.testing.assert_allclose(x.sub(y).data, -5.0)
    np.testing.assert_allclose(x.mul(y).div(y).data, X)
    np.testing.assert_allclose(x.pow(2).data, X ** 2)
    np.testing.assert_allclose(x.mm(y.T).data, X @ (X + 5).T)
    np.testing.assert_allclose(x[None].bmm(y.T[None]).data, (X @ (X + 5).T)[None])
    with pytest.raises(ValueError, match="mm: both operands must be 2-D"):
        x.mm(y[0])
    np.testing.assert_allclose(x.clamp(min=0.0, max=1.0).data, np.clip(X, 0, 1))
    np.testing.assert_allclose(x.softmax(dim=1).data.sum(axis=1), 1.0)
    np.testing.assert_allclose(x.log_softmax(1).data, np.log(x.softmax(1).data))


def test_indexing_methods_match_pytorch_semantics_and_gradcheck():
    x = leaf()
    index = np.array([[0, 0], [3, 1], [2, 2]])
    np.testing.assert_array_equal(x.gather(1, index).data, np.take_along_axis(X, index, 1))
    np.testing.assert_array_equal(x.index_select(1, [3, 0]).data, X[:, [3, 0]])
    mask = X > 0.6
    np.testing.assert_array_equal(x.masked_fill(mask, -9.0).data, np.where(mask, -9.0, X))
    src = leaf(np.ones((1, 4)))
    out = x.scatter_add(0, np.array([[2, 0, 2, 1]]), src)
    expected = X.copy()
    np.add.at(expected, (np.array([[2, 0, 2, 1]]), np.arange(4)[None]), 1.0)
    np.testing.assert_array_equal(out.data, expected)
    assert ag.gradcheck(lambda t: t.gather(1, index) * np.arange(6.0).reshape(3, 2), [leaf()])
    assert ag.gradcheck(lambda t, s: t.scatter_add(1, np.array([[1, 1], [0, 3], [2, 2]]), s),
                        [leaf(), leaf(np.ones((3, 2)))])


# ---- in place -------------------------------------------------------------------------------------

def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad():
    w = leaf()
    for update in (lambda: w.__isub__(1.0), lambda: w.add_(1.0), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match="no_grad"):
            update()
    np.testing.assert_array_equal(w.data, X)          # unchanged


def test_in_place_on_a_computed_tensor_points_to_the_out_of_place_form():
    y = leaf() * 2
    with pytest.raises(RuntimeError, match=r"x = x \+ y"):
        y += 1


def test_manual_sgd_under_no_grad_changes_data_in_place_and_bumps_the_version():
    w = leaf()
    loss = (w * w).sum()
    loss.backward()
    data = w.data
    before = w._version
    with ag.no_grad():
        w -= 0.1 * w.grad
    assert w.data is data and w._version > before
    np.testing.assert_allclose(w.data, X - 0.1 * 2 * X)


def test_a_graph_that_saved_the_old_values_raises_at_backward():
    w = leaf()
    loss = (w * w).sum()
    with ag.no_grad():
        w.mul_(2.0)
    with pytest.raises(RuntimeError):
        loss.backward()


def test_in_place_methods_on_plain_tensors():
    t = ag.tensor(X.copy())
    t.add_(1.0).sub_(0.5).mul_(2.0).div_(4.0)
    np.testing.assert_allclose(t.data, (X + 0.5) * 2 / 4)
    t.clamp_(0.0, 1.0)
    assert t.data.min() >= 0 and t.data.max() <= 1
    t.fill_(3.0)
    assert np.all(t.data == 3.0)
    t.copy_(np.arange(4.0))
    np.testing.assert_array_equal(t.data[1], np.arange(4.0))
    t.zero_()
    assert not t.data.any()
    t *= 2
    with pytest.raises(ValueError, match=r"\+=.*shape"):
        t += np.ones(5)


def test_writing_a_tensor_that_requires_grad_into_a_plain_one_raises():
    t = ag.tensor(X.copy())
    with pytest.raises(RuntimeError, match="drop its gradient"):
        t += leaf()


# ---- constructors and aliases ----------------------------------------------------------------------

def test_constructors():
    assert ag.cat([ag.ones(2), ag.zeros(3)], dim=0).shape == (5,)
    a = np.arange(3.0)
    assert np.shares_memory(ag.from_numpy(a).data, a)
    assert ag.as_tensor(a).dtype == np.float64 and ag.as_tensor([1, 2], dtype=ag.float32).dtype == np.float32
    r = ag.randint(0, 10, (100,))
    assert r.dtype == np.int64 and r.data.min() >= 0 and r.data.max() < 10
    assert ag.randint(3, size=(4,)).data.max() < 3
    assert ag.rand_like(ag.zeros(2, 3)).shape == (2, 3) and ag.randn_like(ag.zeros(2)).dtype == np.float32
    np.testing.assert_array_equal(ag.full_like(ag.zeros(2), 7).data, [7, 7])
    np.testing.assert_array_equal(ag.eye(2).data, np.eye(2))
    assert ag.empty(2, 3).shape == (2, 3) and ag.empty_like(ag.zeros(4)).shape == (4,)
    assert ag.zeros(2, device="cpu").shape == (2,) and ag.tensor([1.0], device="cpu").shape == (1,)
    with pytest.raises(ValueError, match="device"):
        ag.ones(2, device="cuda:0")
    with ag.inference_mode():
        assert not (leaf() * 2).requires_grad


def test_dtype_aliases():
    assert ag.float32 == np.float32 and ag.float64 == ag.double == np.float64
    assert ag.long == ag.int64 == np.int64 and ag.half == np.float16
    assert ag.float == np.float32 and ag.int == np.int32 and ag.bool == np.bool_
    import builtins
    namespace = {}
    exec("from autograd import *", namespace)
    assert "float" not in namespace and "int" not in namespace and "bool" not in namespace
    assert builtins.float(1) == 1.0


def test_module_functions_take_dim_too_with_pytorchs_meaning():
    x = leaf()
    values, indices = ag.max(x, dim=1)
    np.testing.assert_array_equal(indices.data, X.argmax(axis=1))
    assert isinstance(ag.max(x, 1), ag.Tensor)                      # NumPy's spelling
    np.testing.assert_allclose(ag.var(x, dim=0).data, X.var(axis=0, ddof=1))
    np.testing.assert_allclose(ag.sum(x, dim=1, keepdim=True).data, X.sum(1, keepdims=True))
    assert ag.stack([x, x], dim=1).shape == (3, 2, 4) and ag.cat([x, x], dim=1).shape == (3, 8)
    np.testing.assert_allclose(ag.softmax(x, dim=0).data.sum(axis=0), 1.0)
    np.testing.assert_array_equal(ag.sort(x, dim=1).indices.data, np.argsort(X, axis=1))
    np.testing.assert_array_equal(ag.median(x, dim=1).values.data, np.sort(X, axis=1)[:, 1])
    np.testing.assert_allclose(ag.median(x, axis=1).data, np.median(X, axis=1))
    with pytest.raises(TypeError, match="not both"):
        ag.stack([x, x], 0, dim=1)


def test_tril_triu_diagonal_and_linspace_steps():
    m = leaf(np.arange(9.0).reshape(3, 3))
    np.testing.assert_array_equal(ag.tril(m, diagonal=-1).data, np.tril(m.data, -1))
    np.testing.assert_array_equal(ag.triu(m, k=1).data, np.triu(m.data, 1))
    np.testing.assert_allclose(ag.linspace(0.0, end=2.0, steps=5).data, np.linspace(0, 2, 5))
    np.testing.assert_allclose(ag.linspace(0.0, 1.0, 3).data, [0.0, 0.5, 1.0])
    assert ag.linspace(0.0, 1.0, steps=3, requires_grad=True).requires_grad


ELEMENTWISE_METHODS = {
    "square": np.square, "cbrt": np.cbrt, "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh,
    "log2": lambda a: np.log2(np.abs(a) + 1), "exp2": np.exp2, "fabs": np.fabs,
    "arcsinh": np.arcsinh, "sinc": np.sinc, "deg2rad": np.deg2rad, "rad2deg": np.rad2deg,
    "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "rint": np.rint, "round": np.round,
    "asin": lambda a: np.arcsin(a / 4), "atan": np.arctan, "asinh": np.arcsinh,
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE_METHODS))
def test_elementwise_ops_are_methods(name):
    x = leaf()
    arg = x if name not in ("log2", "asin") else (x.abs() + 1 if name == "log2" else x / 4)
    np.testing.assert_allclose(getattr(arg, name)().data, ELEMENTWISE_METHODS[name](X))


def test_binary_elementwise_methods():
    x, y = leaf(), leaf(X[::-1] + 3)
    for name, fn in [("hypot", np.hypot), ("arctan2", np.arctan2), ("logaddexp", np.logaddexp),
                     ("fmax", np.fmax), ("fmod", np.fmod), ("remainder", np.remainder),
                     ("atan2", np.arctan2), ("copysign", np.copysign)]:
        np.testing.assert_allclose(getattr(x, name)(y).data, fn(X, X[::-1] + 3), err_msg=name)
    np.testing.assert_allclose(leaf(X + 3).rsqrt().data, 1 / np.sqrt(X + 3))


def test_spelling_details_found_by_review():
    t = ag.Tensor(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_allclose(t.std(dim=None).data, np.std(t.data, ddof=1))   # dim=None is torch
    np.testing.assert_allclose(t.var(keepdim=True).data, [np.var(t.data, ddof=1)])
    np.testing.assert_allclose(t.var().data, np.var(t.data))                   # NumPy's default
    m = leaf()
    with pytest.raises(TypeError, match="not both"):
        m.softmax(axis=-1, dim=0)
    with pytest.raises(TypeError, match="not both"):
        m.cumsum(axis=-1, dim=0)


def test_ndarray_methods_with_numpys_meaning():
    x = leaf()
    np.testing.assert_array_equal(x.repeat(2, axis=0).data, X.repeat(2, axis=0))
    np.testing.assert_array_equal(x.take([0, 5]).data, X.take([0, 5]))
    np.testing.assert_array_equal(x.ptp(axis=1).data, np.ptp(X, axis=1))
    np.testing.assert_array_equal(x.argsort(axis=0).data, X.argsort(axis=0))
    assert [a.data.tolist() for a in x.nonzero()] == [a.tolist() for a in X.nonzero()]
    assert bool(x.any()) and not bool((x > 10).all())
    assert x.nbytes == X.nbytes and x.itemsize == 8 and x.strides == X.strides
    t = ag.tensor(np.zeros(3))
    assert t.fill(2.0) is None and np.all(t.data == 2.0)
    (g,) = ag.grad(x.repeat(2, axis=1).sum(), x)
    np.testing.assert_array_equal(g.data, np.full_like(X, 2.0))


def test_mT_and_swapaxes_check_their_axes():
    with pytest.raises(ValueError, match="swapaxes: axis -2 is out of bounds"):
        leaf(np.ones(3)).mT                # PyTorch's mT needs two dimensions
    assert leaf().mT.shape == (4, 3) and leaf().swapaxes(-1, 0).shape == (4, 3)


@pytest.mark.parametrize("call", [
    lambda x: x.max(dim=2), lambda x: x.min(dim=-3), lambda x: x.sort(dim=5),
    lambda x: x.median(dim=2), lambda x: x.gather(2, np.zeros((3, 4), dtype=int)),
    lambda x: x.index_select(2, [0]), lambda x: x.flatten(0, 4),
    lambda x: x.scatter_add(3, np.zeros((1, 1), dtype=int), np.ones((1, 1))),
])
def test_dim_out_of_range_raises_instead_of_wrapping(call):
    with pytest.raises(ValueError, match="out of bounds"):
        call(leaf())
