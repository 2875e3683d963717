"""NumPy's linear algebra on Tensors: argument forms (each against NumPy's value, or a TypeError /
ValueError naming what is refused), result structures (NumPy's named tuples, holding Tensors),
LAPACK errors, and the documented gradients where they are undefined or conventional.  The
gradients themselves are checked by the op table (tests/op_rows_linalg.py)."""

from __future__ import annotations

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor

RNG = np.random.default_rng(7)


def leaf(a):
    return Tensor(np.array(a, dtype=np.float64), requires_grad=True)


def close(out, expected):
    assert isinstance(out, Tensor), type(out)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert out.shape == np.shape(expected)


def rand(*shape):
    return RNG.uniform(-1, 1, shape)


def well(n, batch=()):
    return rand(*batch, n, n) + 4 * np.eye(n)


# ---- products -----------------------------------------------------------------------------------

@pytest.mark.parametrize("sa, sb", [((), (3,)), ((2, 3), ()), ((3,), (3,)), ((2, 3), (3,)),
                                    ((3,), (3, 2)), ((2, 3), (3, 4)), ((2, 2, 3), (4, 3, 2))])
def test_dot_cases(sa, sb):
    a, b = rand(*sa), rand(*sb)
    close(np.dot(leaf(a), b), np.dot(a, b))
    close(np.dot(a, leaf(b)), np.dot(a, b))
    close(ag.dot(a, b), np.dot(a, b))


def test_dot_refuses_out_and_misaligned_shapes():
    with pytest.raises(TypeError, match="out="):
        np.dot(leaf(rand(2)), rand(2), out=np.empty(()))
    with pytest.raises(ValueError, match=r"dot: shapes \(2, 3\) and \(2,\) not aligned"):
        np.dot(leaf(rand(2, 3)), rand(2))
    with pytest.raises(ValueError, match="not aligned"):     # einsum would broadcast the 1
        np.dot(leaf(rand(2, 1)), rand(3, 2))


def test_vdot_inner_outer():
    a, b = rand(2, 3), rand(3, 2)
    close(np.vdot(leaf(a), b), np.vdot(a, b))
    close(np.inner(leaf(a), b.T[0]), np.inner(a, b.T[0]))
    close(np.inner(leaf(a), b.T), np.inner(a, b.T))
    close(np.inner(leaf(a), 2.0), np.inner(a, 2.0))
    close(np.outer(leaf(a), b), np.outer(a, b))
    close(np.linalg.outer(leaf(a[0]), b[0]), np.linalg.outer(a[0], b[0]))
    with pytest.raises(ValueError, match="vdot"):
        np.vdot(leaf(a), rand(5))
    with pytest.raises(ValueError, match="one-dimensional"):
        np.linalg.outer(leaf(a), b[0])
    with pytest.raises(TypeError, match="out="):
        np.outer(leaf(a), b, out=np.empty((6, 6)))


@pytest.mark.parametrize("axes", [0, 1, 2, ([0], [1]), (1, 0), ([1, 0], [0, 1]), ([-1], [0]),
                                  ((0, 1), (1, 0))])
def test_tensordot_axes_forms(axes):
    a, b = rand(3, 3), rand(3, 3)
    close(np.tensordot(leaf(a), b, axes), np.tensordot(a, b, axes))
    close(np.linalg.tensordot(leaf(a), b, axes=axes), np.linalg.tensordot(a, b, axes=axes))


def test_tensordot_errors():
    with pytest.raises(ValueError, match="shape-mismatch"):
        np.tensordot(leaf(rand(2, 3)), rand(2, 3), 1)
    with pytest.raises(ValueError, match="tensordot"):
        np.tensordot(leaf(rand(2, 3)), rand(3), ([0, 1], [0]))
    with pytest.raises(TypeError, match="axes"):
        np.tensordot(leaf(rand(2, 3)), rand(3), "x")


@pytest.mark.parametrize("sa, sb", [((2,), (3,)), ((2, 3), (2, 2)), ((2,), (2, 3)), ((), (2,)),
                                    ((2, 1, 2), (3, 2))])
def test_kron(sa, sb):
    a, b = rand(*sa), rand(*sb)
    close(np.kron(leaf(a), b), np.kron(a, b))


def test_cross_forms():
    a, b = rand(2, 3), rand(3)
    close(np.cross(leaf(a), b), np.cross(a, b))
    close(np.cross(leaf(a.T), b, axisa=0), np.cross(a.T, b, axisa=0))
    close(np.cross(leaf(a.T), b, axisa=0, axisc=0), np.cross(a.T, b, axisa=0, axisc=0))
    close(np.cross(leaf(a.T), a.T, axis=0), np.cross(a.T, a.T, axis=0))
    close(np.linalg.cross(leaf(a), b), np.linalg.cross(a, b))
    with pytest.raises(ValueError, match="3-dimensional"):
        np.linalg.cross(leaf(rand(2)), rand(2))
    with pytest.raises(ValueError, match="dimension must be 2 or 3"):
        np.cross(leaf(rand(4)), rand(3))


@pytest.mark.parametrize("sa, sb", [((2,), (2,)), ((2,), (3,)), ((4, 3), (4, 2))])
def test_cross_of_2_vectors_warns_as_numpy(sa, sb):
    a, b = rand(*sa), rand(*sb)
    with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
        expected = np.cross(a, b)
    with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
        close(np.cross(leaf(a), b), expected)


def test_gufunc_products():
    m, v = rand(2, 3, 4), rand(4)
    close(np.matvec(leaf(m), v), np.matvec(m, v))
    close(np.vecmat(leaf(v[:3]), m), np.vecmat(v[:3], m))
    close(np.vecdot(leaf(m), v), np.vecdot(m, v))
    close(np.linalg.vecdot(leaf(m), v), np.linalg.vecdot(m, v))
    x, y = rand(3, 2), rand(3, 1)
    close(np.linalg.vecdot(leaf(x), y, axis=0), np.linalg.vecdot(x, y, axis=0))
    out = np.matvec(leaf(m).astype(np.float32), v, dtype=np.float64)
    assert out.dtype == np.float64
    with pytest.raises(TypeError, match="axes"):
        np.matvec(leaf(m), v, axes=[(-2, -1), (-1,), (-1,)])
    with pytest.raises(ValueError, match="matvec"):
        np.matvec(leaf(m), rand(3))
    with pytest.raises(ValueError, match="vecdot"):
        np.vecdot(leaf(rand(2, 3)), rand(4, 3))


def test_multi_dot():
    a, b, c, d = rand(3, 4), rand(4, 2), rand(2, 5), rand(5, 3)
    close(np.linalg.multi_dot([leaf(a), b, c, d]), np.linalg.multi_dot([a, b, c, d]))
    close(np.linalg.multi_dot([leaf(a[0]), b, c]), np.linalg.multi_dot([a[0], b, c]))
    close(np.linalg.multi_dot([a, leaf(b), c[:, 0]]), np.linalg.multi_dot([a, b, c[:, 0]]))
    close(np.linalg.multi_dot([leaf(a[0]), b, c[:, 0]]), np.linalg.multi_dot([a[0], b, c[:, 0]]))
    close(np.linalg.multi_dot([leaf(a), b]), np.linalg.multi_dot([a, b]))
    with pytest.raises(ValueError, match="at least two"):
        np.linalg.multi_dot([leaf(a)])
    with pytest.raises(np.linalg.LinAlgError, match="two-dimensional"):
        np.linalg.multi_dot([leaf(rand(2, 2, 2)), rand(2, 2), rand(2, 2)])
    with pytest.raises(TypeError, match="out="):
        np.linalg.multi_dot([leaf(a), b], out=np.empty((3, 2)))


def test_matrix_transpose_trace_diagonal_aliases():
    x = rand(2, 3, 4)
    close(np.matrix_transpose(leaf(x)), np.matrix_transpose(x))
    close(np.linalg.matrix_transpose(leaf(x)), np.linalg.matrix_transpose(x))
    close(np.linalg.trace(leaf(x), offset=1), np.linalg.trace(x, offset=1))
    close(np.linalg.diagonal(leaf(x), offset=-1), np.linalg.diagonal(x, offset=-1))
    close(np.linalg.matmul(leaf(x), x.swapaxes(1, 2)), np.linalg.matmul(x, x.swapaxes(1, 2)))
    with pytest.raises(ValueError, match="at least 2-dimensional"):
        np.matrix_transpose(leaf(rand(3)))


# ---- solvers ------------------------------------------------------------------------------------

def test_solve_follows_numpy_2_vector_rule():
    a = well(3, (2,))
    for b in (rand(3), rand(2, 3, 1), rand(3, 2), rand(1, 3, 4)):
        close(np.linalg.solve(leaf(a), b), np.linalg.solve(a, b))
    with pytest.raises(ValueError):
        np.linalg.solve(leaf(a), rand(2, 3))     # a 2x3 matrix (NumPy 2), not a stack of (3,)


def test_singular_matrices_raise_numpy_linalg_error():
    singular = leaf([[1.0, 2.0], [2.0, 4.0]])
    for f in (np.linalg.inv, lambda x: np.linalg.solve(x, np.ones(2))):
        with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
            f(singular)
    with pytest.raises(np.linalg.LinAlgError, match=r"inv: .*\(2, 3\)"):
        np.linalg.inv(leaf(rand(2, 3)))
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.cholesky(leaf([[1.0, 2.0], [2.0, 1.0]]))


def test_det_gradient_is_the_cofactor_matrix_also_at_singular_matrices():
    a, b, c, d = 1.0, 2.0, 2.0, 4.0                       # det = 0
    x = leaf([[a, b], [c, d]])
    (g,) = ag.grad(np.linalg.det(x), x)
    np.testing.assert_allclose(g.data, [[d, -c], [-b, a]], atol=1e-12)
    y = leaf(well(3))
    (g,) = ag.grad(np.linalg.det(y), y)
    np.testing.assert_allclose(g.data, np.linalg.det(y.data) * np.linalg.inv(y.data).T)


def test_slogdet_structure_and_singular_input():
    a = well(3, (2,)) * [-1.0, 1.0, 1.0]
    x = leaf(a)
    result = np.linalg.slogdet(x)
    expected = np.linalg.slogdet(a)
    assert type(result) is type(expected) and result._fields == ("sign", "logabsdet")
    sign, logabsdet = result
    close(sign, expected.sign)
    close(logabsdet, expected.logabsdet)
    assert not sign.requires_grad and logabsdet.requires_grad
    (g,) = ag.grad(logabsdet.sum(), x)
    np.testing.assert_allclose(g.data, np.swapaxes(np.linalg.inv(a), -1, -2))
    # Singular: NumPy's (0, -inf); the gradient (A^-T) does not exist: backward raises.
    s = leaf([[1.0, 2.0], [2.0, 4.0]])
    sign, logabsdet = np.linalg.slogdet(s)
    assert sign.item() == 0.0 and logabsdet.item() == -np.inf
    with pytest.raises(np.linalg.LinAlgError):
        ag.grad(logabsdet, s)


def test_matrix_power_forms():
    a = well(3)
    for n in (-3, -1, 0, 1, 2, 5, np.int64(2)):
        close(np.linalg.matrix_power(leaf(a), n), np.linalg.matrix_power(a, n))
    x = leaf(a)
    (g,) = ag.grad(np.linalg.matrix_power(x, 0).sum(), x)
    np.testing.assert_array_equal(g.data, np.zeros((3, 3)))
    with pytest.raises(TypeError, match="integer"):
        np.linalg.matrix_power(leaf(a), 2.0)


def test_pinv_keywords():
    a = rand(4, 3) + np.eye(4, 3) * 3
    close(np.linalg.pinv(leaf(a)), np.linalg.pinv(a))
    close(np.linalg.pinv(leaf(a), rcond=0.5), np.linalg.pinv(a, rcond=0.5))
    close(np.linalg.pinv(leaf(a), rtol=0.5), np.linalg.pinv(a, rtol=0.5))
    s = a.T @ a
    close(np.linalg.pinv(leaf(s), hermitian=True), np.linalg.pinv(s, hermitian=True))


@pytest.mark.parametrize("shape_a, shape_b", [((4, 2), (4,)), ((4, 2), (4, 3)), ((2, 3), (2,)),
                                              ((3, 3), (3, 2))])
def test_lstsq_structure(shape_a, shape_b):
    a, b = rand(*shape_a) + np.eye(*shape_a) * 3, rand(*shape_b)
    x, residuals, rank, s = np.linalg.lstsq(leaf(a), leaf(b))
    ex, eres, erank, es = np.linalg.lstsq(a, b)
    close(x, ex)
    np.testing.assert_allclose(residuals.data, eres, rtol=1e-10)
    assert residuals.shape == eres.shape and residuals.dtype == eres.dtype
    assert isinstance(rank, Tensor) and not rank.requires_grad and rank.item() == erank
    close(s, es)
    assert x.requires_grad and s.requires_grad


def test_lstsq_rank_deficient_has_no_residuals():
    a = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    x, residuals, rank, s = np.linalg.lstsq(leaf(a), np.ones(3))
    ex, eres, erank, es = np.linalg.lstsq(a, np.ones(3))
    close(x, ex)
    assert residuals.shape == (0,) and rank.item() == erank == 1


def test_complex_inputs_are_refused():
    z = np.eye(2) * (1 + 1j)
    for f in (ag.inv, ag.det, ag.slogdet, ag.eigh, ag.eigvalsh, ag.svd, ag.svdvals, ag.qr,
              ag.cholesky, ag.pinv, lambda m: ag.solve(m, np.ones(2)),
              lambda m: ag.dot(leaf(np.eye(2)), m), lambda m: np.matvec(leaf(np.eye(2)), m[0])):
        with pytest.raises(TypeError, match="complex"):
            f(z)


# ---- decompositions -----------------------------------------------------------------------------

def spd(n, batch=()):
    x = rand(*batch, n, n)
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def test_cholesky_forms_and_the_gradient_of_the_triangle_read():
    a = spd(3, (2,))
    close(np.linalg.cholesky(leaf(a)), np.linalg.cholesky(a))
    close(np.linalg.cholesky(leaf(a), upper=True), np.linalg.cholesky(a, upper=True))
    weights = rand(2, 3, 3)
    for upper in (False, True):
        x = leaf(a)
        (g,) = ag.grad((np.linalg.cholesky(x, upper=upper) * weights).sum(), x)
        # NumPy ignores the other triangle, so its entries get no gradient; the read ones get
        # the symmetric gradient folded onto them (checked against differences in test_op_grads).
        other = np.tril(np.ones((3, 3)), -1) if upper else np.triu(np.ones((3, 3)), 1)
        assert not np.any(g.data * other)
        assert np.all(np.abs(g.data * (1 - other)).sum(axis=(-1, -2)) > 0)
    # It reads one triangle, as NumPy's does: the other one's values do not matter.
    lower_only = np.tril(a) + np.triu(rand(2, 3, 3), 1)
    close(np.linalg.cholesky(leaf(lower_only)), np.linalg.cholesky(a))


def test_eigh_structure_and_uplo():
    a = rand(3, 3)                        # not symmetric: each UPLO reads its own triangle
    for uplo in ("L", "U"):
        result = np.linalg.eigh(leaf(a), UPLO=uplo)
        expected = np.linalg.eigh(a, UPLO=uplo)
        assert type(result) is type(expected)
        assert result._fields == ("eigenvalues", "eigenvectors")
        close(result.eigenvalues, expected.eigenvalues)
        close(result.eigenvectors, expected.eigenvectors)
        close(np.linalg.eigvalsh(leaf(a), UPLO=uplo), np.linalg.eigvalsh(a, UPLO=uplo))
    close(np.linalg.eigh(leaf(a), "U")[0], np.linalg.eigh(a, "U")[0])
    with pytest.raises(ValueError, match="UPLO"):
        np.linalg.eigh(leaf(a), UPLO="X")


def test_eigh_at_repeated_eigenvalues():
    """Documented: the eigenvectors' gradient divides by w_j - w_i unguarded (PyTorch's
    formula), so at a repeated eigenvalue it is not finite; the eigenvalues' stays finite and is
    V diag(G) V^T.  No warning is raised (PyTorch raises none either)."""
    x = leaf(np.eye(2))
    w, v = np.linalg.eigh(x)
    (gv,) = ag.grad((v * np.array([[1.0, 2.0], [3.0, 4.0]])).sum(), x)
    assert not np.isfinite(gv.data).any()
    x = leaf(np.eye(2))
    (gw,) = ag.grad((np.linalg.eigh(x).eigenvalues * np.array([1.0, 3.0])).sum(), x)
    vd = np.linalg.eigh(np.eye(2))[1]
    np.testing.assert_allclose(gw.data, vd @ np.diag([1.0, 3.0]) @ vd.T)


def test_svd_structure_and_refused_forms():
    a = rand(2, 4, 3)
    result = np.linalg.svd(leaf(a), full_matrices=False)
    expected = np.linalg.svd(a, full_matrices=False)
    assert type(result) is type(expected) and result._fields == ("U", "S", "Vh")
    for r, e in zip(result, expected):
        close(r, e)
    close(np.linalg.svd(leaf(a), compute_uv=False), np.linalg.svd(a, compute_uv=False))
    close(np.linalg.svdvals(leaf(a)), np.linalg.svdvals(a))
    square = rand(3, 3)
    for r, e in zip(np.linalg.svd(leaf(square)), np.linalg.svd(square)):    # full_matrices=True
        close(r, e)
    with pytest.raises(ValueError, match="full_matrices=True"):
        np.linalg.svd(leaf(a))
    with pytest.raises(TypeError, match="hermitian=True"):
        np.linalg.svd(leaf(square), hermitian=True)
    with pytest.raises(TypeError, match="keyword"):
        np.linalg.svd(leaf(square), full_matrice=False)


def test_svd_at_repeated_singular_values():
    """Documented: U's and Vh's gradients divide by s_k^2 - s_j^2 unguarded (PyTorch's
    svd_backward), so at repeated singular values they are not finite; S's gradient
    U diag(G) Vh stays finite."""
    x = leaf(np.diag([2.0, 2.0]))
    u, s, vh = np.linalg.svd(x)
    (gu,) = ag.grad((u * np.array([[1.0, 2.0], [3.0, 4.0]])).sum(), x)
    assert not np.isfinite(gu.data).all()
    x = leaf(np.diag([2.0, 2.0]))
    (gs,) = ag.grad((np.linalg.svdvals(x) * np.array([1.0, 3.0])).sum(), x)
    ud, _, vhd = np.linalg.svd(np.diag([2.0, 2.0]))
    np.testing.assert_allclose(gs.data, ud @ np.diag([1.0, 3.0]) @ vhd)


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 4), (2, 4, 2)])
def test_qr_modes(shape):
    a = rand(*shape)
    result = np.linalg.qr(leaf(a))
    expected = np.linalg.qr(a)
    assert type(result) is type(expected) and result._fields == ("Q", "R")
    close(result.Q, expected.Q)
    close(result.R, expected.R)
    r = np.linalg.qr(leaf(a), mode="r")
    assert isinstance(r, Tensor)
    close(r, np.linalg.qr(a, mode="r"))
    if shape[-2] <= shape[-1]:
        for x, e in zip(np.linalg.qr(leaf(a), mode="complete"), np.linalg.qr(a, mode="complete")):
            close(x, e)
    else:
        with pytest.raises(ValueError, match="mode='complete'"):
            np.linalg.qr(leaf(a), mode="complete")
    with pytest.raises(TypeError, match="mode='raw'"):
        np.linalg.qr(leaf(a), mode="raw")


def test_float32_stays_float32():
    a = spd(3).astype(np.float32)
    t = leaf(a).astype(np.float32)
    outs = [np.linalg.inv(t), np.linalg.det(t), np.linalg.slogdet(t).logabsdet,
            np.linalg.cholesky(t), *np.linalg.eigh(t), *np.linalg.svd(t), *np.linalg.qr(t),
            np.linalg.pinv(t), np.linalg.lstsq(t, t[:, 0])[0], np.linalg.solve(t, t[:, 0]),
            np.dot(t, t), np.linalg.matrix_power(t, -2)]
    for out in outs:
        assert out.dtype == np.float32, out


def test_second_order_of_logdet():
    """d^2 log det A [H] = -tr(A^-1 H A^-1 .), checked by gradcheck of the gradient."""
    a = leaf(spd(3))
    w = rand(3, 3)

    def weighted_gradient(x):
        with ag.enable_grad():
            (g,) = ag.grad(np.linalg.slogdet(x).logabsdet, x, create_graph=True)
            return (g * w).sum()
    assert ag.gradcheck(weighted_gradient, [a])


def test_matrix_rank_is_an_inspection():
    r = np.linalg.matrix_rank(leaf([[1.0, 2.0], [2.0, 4.0]]))
    assert isinstance(r, Tensor) and not r.requires_grad and r.item() == 1


def test_sign_rank_and_residuals_are_replayed_by_compile():
    """slogdet's sign and lstsq's rank have no gradient but are ops, so ag.compile replays them on
    new values instead of freezing the first call's."""
    x = Tensor(np.eye(2) * 2.0, requires_grad=True)

    def step():
        x.grad = None
        sign, logabsdet = np.linalg.slogdet(x)
        _, residuals, rank, _ = np.linalg.lstsq(x, np.ones(2))
        loss = sign * logabsdet + residuals.sum() + rank * 1.0
        loss.backward()
        return loss

    run = ag.compile(step)
    for values in ([[2.0, 0.0], [0.0, 2.0]], [[3.0, 1.0], [0.0, 2.0]], [[0.0, 2.0], [3.0, 0.0]],
                   [[1.0, 2.0], [2.0, 4.5]]):
        x.data[...] = values
        compiled, grad = run().item(), x.grad.copy()
        x.data[...] = values
        assert step().item() == compiled
        np.testing.assert_array_equal(x.grad, grad)


def test_svd_of_a_rank_deficient_tall_matrix():
    """Documented: U's gradient of a non-square matrix divides by the singular values (the
    (I - U U^T) gU S^-1 term), so at a zero singular value it is not finite; S's is finite."""
    a = np.array([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])     # singular values exactly 1 and 0
    x = leaf(a)
    (gu,) = ag.grad((np.linalg.svd(x, full_matrices=False).U * rand(3, 2)).sum(), x)
    assert not np.isfinite(gu.data).all()
    x = leaf(a)
    (gs,) = ag.grad(np.linalg.svdvals(x).sum(), x)
    assert np.isfinite(gs.data).all()


def test_qr_of_a_rank_deficient_matrix_has_no_gradient():
    """Documented: dA = (...) R^-T needs R invertible; backward raises LinAlgError otherwise."""
    x = leaf([[1.0, 0.0], [0.0, 0.0]])                       # R = diag(1, 0) exactly
    q, r = np.linalg.qr(x)
    with pytest.raises(np.linalg.LinAlgError):
        ag.grad((q * rand(2, 2)).sum(), x)


ONE_TRIANGLE = {
    "eigvalsh": lambda m, w: (np.linalg.eigvalsh(m) * w[0]).sum(),
    "eigvalsh[U]": lambda m, w: (np.linalg.eigvalsh(m, "U") * w[0]).sum(),
    "eigh[vectors]": lambda m, w: ((lambda v: (v @ (v.T * w[0][:, None])) * w)(
        np.linalg.eigh(m)[1])).sum(),
    "eigh[U, vectors]": lambda m, w: ((lambda v: (v * v) * w)(np.linalg.eigh(m, "U")[1])).sum(),
    "cholesky": lambda m, w: (np.linalg.cholesky(m) * w).sum(),
    "cholesky[upper]": lambda m, w: (np.linalg.cholesky(m, upper=True) * w).sum(),
    "pinv[hermitian]": lambda m, w: (np.linalg.pinv(m, hermitian=True) * w).sum(),
}


@pytest.mark.parametrize("name", sorted(ONE_TRIANGLE))
def test_functions_reading_one_triangle_have_numpys_gradient_on_any_input(name):
    """NumPy reads one triangle of the input: the gradient is that of NumPy's function of all
    entries (zero on the ignored triangle), also for a non-symmetric input (as HIPS checks)."""
    rng = np.random.default_rng(3)
    base = rng.standard_normal((4, 4))
    m = base @ base.T + 4 * np.eye(4) + np.triu(rng.standard_normal((4, 4)), 1)  # not symmetric
    w = rng.standard_normal((4, 4))
    f = ONE_TRIANGLE[name]
    assert ag.gradcheck(lambda t: f(t, w), [leaf(m)])


def test_a_cutoff_that_drops_nonzero_singular_values_refuses_the_gradient():
    a = np.array([[2.0, 0.3, 0.1], [0.2, 0.05, 0.4]])     # singular values 2.04 and 0.387
    x = leaf(a)
    np.testing.assert_allclose(np.linalg.pinv(x, rcond=0.5).data, np.linalg.pinv(a, rcond=0.5))
    with pytest.raises(ValueError, match="pinv: no gradient where the cutoff drops"):
        ag.grad(np.linalg.pinv(x, rcond=0.5).sum(), x)
    with pytest.raises(ValueError, match="lstsq: no gradient"):
        ag.grad(np.linalg.lstsq(leaf(a.T), np.ones(3), rcond=0.5)[0].sum(), x)
    # a cutoff below every singular value keeps the exact gradient
    assert ag.gradcheck(lambda t: np.linalg.pinv(t, rcond=0.01), [leaf(a)])
