"""Decompositions: cholesky, qr, eigh, eigvalsh, svd, svdvals.

Each output of a decomposition is its own op (one output array per op).  A backward rule that
needs the other factors recomputes them with the routed NumPy call (``np.linalg.eigh(a)``, ...) on
its saved input: on arrays that is NumPy (deterministic, so the same factors as the forward); under
``create_graph`` it records graphgrad ops, which makes the gradient differentiable again.

Conventions: cholesky, eigh and eigvalsh read one triangle of their input (NumPy ignores the
other), so their gradient is NumPy's own: zero on the triangle that is not read, and on the one
that is, the symmetric gradient S of PyTorch folded onto it (S_ij + S_ji below the diagonal,
S_ii on it).  For a symmetric input, moved symmetrically, both give the same derivative.  Where a gradient is undefined --
repeated eigenvalues for eigenvectors, repeated singular values for U and Vh, zero singular values
for U and Vh of a non-square matrix -- the formulas divide by zero unguarded, as PyTorch's do,
giving inf or nan.  Eigenvalues and singular values alone are differentiable everywhere they are
distinct, and their gradients stay finite at repeats.
"""

from __future__ import annotations

import numpy as np

from ...engine import Op, apply
from ..routing import implements
from .products import _mT, values
from .solve import _no_complex, lapack, onto_triangle

__all__ = ["cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals"]

try:   # NumPy's own named tuples
    from numpy.linalg._linalg import EighResult, QRResult, SVDResult
except ImportError:  # pragma: no cover - older layouts
    from collections import namedtuple
    EighResult = namedtuple("EighResult", "eigenvalues eigenvectors")
    QRResult = namedtuple("QRResult", "Q R")
    SVDResult = namedtuple("SVDResult", "U S Vh")


def _eye(n, dtype):
    return np.eye(n, dtype=dtype)


def _tril(n, dtype, k=0):
    return np.tril(np.ones((n, n), dtype=dtype), k)


def _diag_embed(v):
    """(..., n) -> (..., n, n) with v on the diagonals (works on Tensors)."""
    return v[..., None] * _eye(v.shape[-1], v.dtype)


# ---- cholesky -----------------------------------------------------------------------------------

class Cholesky(Op):
    """A = L L^T: dA = L^-T Phi(L^T G) L^-1 with Phi = tril, diagonal halved, symmetrised
    (PyTorch's symmetric gradient; for upper=True, L = U^T)"""
    save_output = True

    def forward(self, a, upper):
        self.upper = upper
        return lapack("cholesky", np.linalg.cholesky, a, upper=upper)

    def backward(self, g):
        low, g = (_mT(self.output), _mT(g)) if self.upper else (self.output, g)
        n = low.shape[-1]
        p = (_mT(low) @ g) * _tril(n, g.dtype)
        phi = 0.5 * (p + _mT(p * _tril(n, g.dtype, -1)))
        linv = np.linalg.inv(low)
        return onto_triangle(_mT(linv) @ phi @ linv, self.upper)


@implements(np.linalg.cholesky)
def cholesky(a, /, *, upper=False):
    """np.linalg.cholesky (reads the lower triangle, the upper for upper=True): the symmetric
    gradient S = L^-T Phi(L^T G) L^-1, Phi taking the lower triangle with its diagonal halved,
    folded onto the triangle read."""
    _no_complex("cholesky", a)
    return apply(Cholesky, a, upper=bool(upper))


# ---- eigh, eigvalsh -----------------------------------------------------------------------------

def _check_uplo(name, uplo):
    if uplo not in ("L", "U"):
        raise ValueError(f"{name}: UPLO must be 'L' or 'U', got {uplo!r}")


class EighValues(Op):
    """dA = V diag(G) V^T (finite also at repeated eigenvalues)"""
    save_inputs = True

    def forward(self, a, uplo, vectors):
        self.uplo = uplo
        if vectors:   # eigh's eigenvalues, bit for bit (eigvalsh may differ in the last bits)
            return lapack("eigh", np.linalg.eigh, a, UPLO=uplo)[0]
        return lapack("eigvalsh", np.linalg.eigvalsh, a, UPLO=uplo)

    def backward(self, g):
        v = np.linalg.eigh(self.inputs[0], UPLO=self.uplo)[1]
        return onto_triangle((v * g[..., None, :]) @ _mT(v), self.uplo == "U")


class EighVectors(Op):
    """dA = V (F o skew(V^T G)) V^T with F_ij = 1/(w_j - w_i): inf/nan at repeated eigenvalues
    (unguarded, as PyTorch)"""
    save_inputs = True

    def forward(self, a, uplo):
        self.uplo = uplo
        return lapack("eigh", np.linalg.eigh, a, UPLO=uplo)[1]

    def backward(self, g):
        w, v = np.linalg.eigh(self.inputs[0], UPLO=self.uplo)
        x = _mT(v) @ g
        gap = w[..., None, :] - w[..., :, None] + _eye(w.shape[-1], g.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):   # repeated eigenvalues: inf/nan
            inner = 0.5 * (x - _mT(x)) / gap
            return onto_triangle(v @ inner @ _mT(v), self.uplo == "U")


@implements(np.linalg.eigh)
def eigh(a, UPLO="L"):
    """np.linalg.eigh of symmetric matrices (reading the UPLO triangle): EighResult(eigenvalues,
    eigenvectors).  The symmetric gradient V (diag(G_w) + F o skew(V^T G_V)) V^T, folded onto the
    triangle read, with
    F_ij = 1/(w_j - w_i).  The eigenvectors' gradient is undefined at repeated eigenvalues, where
    it is inf/nan as PyTorch's; the eigenvalues' stays finite.  Eigenvectors are defined up to sign,
    so only functions invariant to those signs (v v^T, ...) have a meaningful gradient."""
    _no_complex("eigh", a)
    _check_uplo("eigh", UPLO)
    return EighResult(apply(EighValues, a, uplo=UPLO, vectors=True),
                      apply(EighVectors, a, uplo=UPLO))


@implements(np.linalg.eigvalsh)
def eigvalsh(a, UPLO="L"):
    """np.linalg.eigvalsh (reading the UPLO triangle): V diag(G) V^T folded onto that triangle."""
    _no_complex("eigvalsh", a)
    _check_uplo("eigvalsh", UPLO)
    return apply(EighValues, a, uplo=UPLO, vectors=False)


# ---- svd, svdvals -------------------------------------------------------------------------------

def _svd_adjoint(u, s, vh, gu, gs, gvh):
    """The adjoint of the thin SVD A = U diag(S) Vh (PyTorch's svd_backward, real case):
    U [(F o skew(U^T gU)) S + S (F o skew(V^T gV)) + diag(gS)] Vh plus, for non-square A, the
    projections (I - U U^T) gU S^-1 Vh and U S^-1 gV^T (I - V V^T); F_jk = 1/(s_k^2 - s_j^2)."""
    m, n = u.shape[-2], vh.shape[-1]
    k = s.shape[-1]
    dtype = s.dtype
    inner = None
    if gu is not None or gvh is not None:
        s2 = s * s
        gap = s2[..., None, :] - s2[..., :, None] + _eye(k, dtype)
        if gu is not None:
            x = _mT(u) @ gu
            inner = ((x - _mT(x)) * s[..., None, :]) / gap
        if gvh is not None:
            y = vh @ _mT(gvh)                       # V^T gV with V = Vh^T, gV = gVh^T
            term = (s[..., :, None] * (y - _mT(y))) / gap
            inner = term if inner is None else inner + term
    if gs is not None:
        inner = _diag_embed(gs) if inner is None else inner + _diag_embed(gs)
    if m > k and gu is not None:                     # tall: U does not span R^m
        gus = gu / s[..., None, :]
        out = gus - u @ (_mT(u) @ gus)
        out = out if inner is None else out + u @ inner
        return out @ vh
    if n > k and gvh is not None:                    # wide: V does not span R^n
        sgvh = gvh / s[..., :, None]                 # S^-1 gV^T
        out = sgvh - (sgvh @ _mT(vh)) @ vh
        out = out if inner is None else out + inner @ vh
        return u @ out
    return u @ inner @ vh


class SvdFactor(Op):
    """One factor of the thin SVD (which = 0: U, 1: S, 2: Vh); the gradient is _svd_adjoint's"""
    save_inputs = True

    def forward(self, a, which, values_only=False):
        self.which = which
        if values_only:   # svd(compute_uv=False) / svdvals: NumPy's values-only driver
            return lapack("svd", np.linalg.svd, a, compute_uv=False)
        return lapack("svd", np.linalg.svd, a, full_matrices=False)[which]

    def backward(self, g):
        u, s, vh = np.linalg.svd(self.inputs[0], full_matrices=False)
        grads = [None, None, None]
        grads[self.which] = g
        with np.errstate(divide="ignore", invalid="ignore"):   # repeated or zero values: inf/nan
            return _svd_adjoint(u, s, vh, *grads)


@implements(np.linalg.svd)
def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """np.linalg.svd: SVDResult(U, S, Vh) of the thin SVD (full_matrices=False; True is accepted
    for square matrices, where it is the same), or S alone for compute_uv=False.  Gradient by
    PyTorch's svd_backward; U and Vh are defined up to the signs of their paired columns/rows, so
    only functions invariant to them (U diag(c) Vh, U U^T, ...) have a meaningful gradient, and it
    is undefined (inf/nan, unguarded as PyTorch's) at repeated singular values and, for non-square
    a, at zero ones.  S's gradient, U diag(G) Vh, is finite everywhere."""
    _no_complex("svd", a)
    shape = np.shape(values(a))
    if hermitian:
        raise TypeError("np.linalg.svd: hermitian=True is not supported on Tensors (its factors "
                        "come from eigh, with other signs); use hermitian=False")
    if len(shape) < 2:
        raise np.linalg.LinAlgError(f"svd: expected (..., m, n) matrices, got shape {shape}")
    if not compute_uv:
        return apply(SvdFactor, a, which=1, values_only=True)
    if full_matrices and shape[-1] != shape[-2]:
        raise ValueError(f"np.linalg.svd: full_matrices=True on non-square matrices (shape "
                         f"{shape}) is not supported on Tensors: the extra columns of U (or rows "
                         f"of Vh) are not determined by a and have no gradient; pass "
                         f"full_matrices=False")
    return SVDResult(*(apply(SvdFactor, a, which=i) for i in range(3)))


@implements(np.linalg.svdvals)
def svdvals(x, /):
    """np.linalg.svdvals: the singular values, dA = U diag(G) Vh (finite also at repeats)."""
    _no_complex("svdvals", x)
    return apply(SvdFactor, x, which=1, values_only=True)


# ---- qr -----------------------------------------------------------------------------------------

def _qr_adjoint_tall(q, r, gq, gr):
    """m >= n: dA = (gQ + Q copyltu(M)) R^-T with M = R gR^T - gQ^T Q (gR upper triangular)."""
    n = r.shape[-1]
    gr = None if gr is None else gr * _tril(n, gr.dtype).T          # triu(gR)
    m = None if gr is None else r @ _mT(gr)
    if gq is not None:
        m = -(_mT(gq) @ q) if m is None else m - _mT(gq) @ q
    low = _tril(n, m.dtype)
    copyltu = m * low + _mT(m * _tril(n, m.dtype, -1))
    b = q @ copyltu if gq is None else gq + q @ copyltu
    return _mT(np.linalg.solve(r, _mT(b)))


class QrFactor(Op):
    """One factor of A = QR (which = 0: Q, 1: R); the gradient is _qr_adjoint's"""
    save_inputs = True

    def forward(self, a, which, mode):
        self.which = which
        if mode == "r":
            return lapack("qr", np.linalg.qr, a, mode="r")
        return lapack("qr", np.linalg.qr, a, mode=mode)[which]

    def backward(self, g):
        a = self.inputs[0]
        q, r = np.linalg.qr(a)
        gq, gr = (g, None) if self.which == 0 else (None, g)
        m, n = a.shape[-2], a.shape[-1]
        if m >= n:
            return _qr_adjoint_tall(q, r, gq, gr)
        # wide: A = Q [X | Y] with X square; Y = Q^T A_Y only moves with Q
        ay = a[..., :, m:]
        gx = None if gr is None else gr[..., :, :m]
        gy = None if gr is None else gr[..., :, m:]
        if gy is not None:
            gq = ay @ _mT(gy) if gq is None else gq + ay @ _mT(gy)
        gax = _qr_adjoint_tall(q, r[..., :, :m], gq, gx)
        gay = q @ gy if gy is not None else ay * 0.0
        return np.concatenate([gax, gay], axis=-1)


@implements(np.linalg.qr)
def qr(a, mode="reduced"):
    """np.linalg.qr: QRResult(Q, R) for mode='reduced' (and 'complete' when m <= n, where it is the
    same), R alone for mode='r'.  Gradient by Walter/Seeger's formula, dA = (gQ + Q copyltu(M))
    R^-T with M = R gR^T - gQ^T Q (wide matrices through their square left block).  Q and R are
    defined up to the signs of Q's columns / R's rows, so only functions invariant to them (QR,
    Q diag(c) Q^T, R^T diag(c) R) have a meaningful gradient.  Where R is singular (rank-deficient
    a) it is undefined and backward raises LinAlgError (its solve with R fails)."""
    _no_complex("qr", a)
    shape = np.shape(values(a))
    if mode == "raw":
        raise TypeError("np.linalg.qr: mode='raw' (LAPACK's Householder reflectors) is not "
                        "supported on Tensors; use mode='reduced'")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: unrecognized mode {mode!r}")
    if len(shape) < 2:
        raise np.linalg.LinAlgError(f"qr: expected (..., m, n) matrices, got shape {shape}")
    if mode == "complete" and shape[-2] > shape[-1]:
        raise ValueError(f"np.linalg.qr: mode='complete' on matrices with more rows than columns "
                         f"(shape {shape}) is not supported on Tensors: the extra columns of Q "
                         f"are not determined by a and have no gradient; use mode='reduced'")
    if mode == "r":
        return apply(QrFactor, a, which=1, mode="r")
    return QRResult(apply(QrFactor, a, which=0, mode=mode), apply(QrFactor, a, which=1, mode=mode))
