"""Inverses and solvers: inv, solve, det, slogdet, matrix_power, pinv, lstsq.

Every backward rule is written with NumPy calls (np.linalg.inv, np.linalg.solve, np.linalg.pinv,
matmul, ...) that are themselves routed graphgrad ops when they meet Tensors, so the gradients
these rules build under ``create_graph`` are differentiable again.  LAPACK's errors keep NumPy's
type (``np.linalg.LinAlgError``, a ValueError) and name the function and the shapes.
"""

from __future__ import annotations

import numpy as np

from ...engine import Op, apply
from ...grad_mode import no_grad
from ..routing import implements
from .products import _mT, _operand, values

__all__ = ["inv", "solve", "det", "slogdet", "matrix_power", "pinv", "lstsq"]

try:   # NumPy's own named tuples, so results unpack and print as NumPy's do
    from numpy.linalg._linalg import SlogdetResult
except ImportError:  # pragma: no cover - older layouts
    from collections import namedtuple
    SlogdetResult = namedtuple("SlogdetResult", "sign logabsdet")


class LinAlgError(np.linalg.LinAlgError):
    """np.linalg.LinAlgError raised by a graphgrad op (the message names the op and the shapes)."""


def lapack(name: str, fn, *arrays, **kw):
    """fn(*arrays, **kw), LAPACK's complaints re-raised naming the op and the input shapes."""
    try:
        return fn(*arrays, **kw)
    except np.linalg.LinAlgError as err:
        shapes = ", ".join(str(np.shape(a)) for a in arrays)
        raise LinAlgError(f"{name}: {err} (input shapes {shapes})") from None


def _no_complex(name, *xs):
    for x in xs:
        if np.iscomplexobj(values(x)):
            raise TypeError(f"{name}: complex numbers are not supported")


def _square(name, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise LinAlgError(f"{name}: expected (..., n, n) square matrices, got shape {a.shape}")


# ---- inv, solve ---------------------------------------------------------------------------------

class Inv(Op):
    """d(A^-1) = -A^-1 dA A^-1, so dA = -A^-T G A^-T"""
    save_output = True

    def forward(self, a):
        return lapack("inv", np.linalg.inv, a)

    def backward(self, g):
        y = _mT(self.output)
        return -(y @ g @ y)


@implements(np.linalg.inv)
def inv(a):
    """np.linalg.inv (stacks of square matrices): dA = -A^-T G A^-T."""
    _no_complex("inv", a)
    return apply(Inv, a)


class Solve(Op):
    """x = A^-1 b: db = A^-T G and dA = -db x^T (b a vector when 1-d, as in NumPy 2)"""
    save_inputs = True
    save_output = True

    def forward(self, a, b):
        self.vector = np.ndim(b) == 1
        return lapack("solve", np.linalg.solve, a, b)

    def backward(self, g):
        a, _ = self.inputs
        x = self.output
        if self.vector:
            gb = np.linalg.solve(_mT(a), g[..., None])
            ga = -(gb @ x[..., None, :]) if self.needs_grad(0) else None
            return ga, gb[..., 0]
        gb = np.linalg.solve(_mT(a), g)
        return (-(gb @ _mT(x)) if self.needs_grad(0) else None), gb


@implements(np.linalg.solve)
def solve(a, b):
    """np.linalg.solve: x with a x = b, b (n,) or (..., n, k); db = a^-T G, da = -db x^T."""
    _no_complex("solve", a, b)
    return apply(Solve, a, b)


# ---- det, slogdet -------------------------------------------------------------------------------

def _cofactor(a):
    """det(a) a^-T, also where a is singular: from a = U S Vh it is det(U) det(Vh) U diag(prod of
    the other singular values) Vh, exactly (PyTorch approximates it there by nudging its LU
    factors' zero pivots by eps)."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    u_, vh_ = values(u), values(vh)      # det(U) det(Vh) = +-1
    signs = np.asarray(np.linalg.det(u_) * np.linalg.det(vh_))
    n = s.shape[-1]
    others = []
    for i in range(n):
        p = None
        for k in range(n):
            if k != i:
                p = s[..., k] if p is None else p * s[..., k]
        others.append(p if p is not None else s[..., i] * 0.0 + 1.0)
    gamma = np.stack(others, axis=-1) * signs[..., None].astype(s.dtype)
    return (u * gamma[..., None, :]) @ vh


class Det(Op):
    """d det(A) = det(A) tr(A^-1 dA), so dA = G det(A) A^-T (the cofactors, also if singular)"""
    save_inputs = True
    save_output = True

    def forward(self, a):
        return lapack("det", np.linalg.det, a)

    def backward(self, g):
        (a,), d = self.inputs, self.output
        if np.any(values(d) == 0):
            return g[..., None, None] * _cofactor(a)
        return (g * d)[..., None, None] * _mT(np.linalg.inv(a))


@implements(np.linalg.det)
def det(a):
    """np.linalg.det: dA = G det(A) A^-T (the cofactor matrix, computed by SVD where det is 0)."""
    _no_complex("det", a)
    return apply(Det, a)


class LogAbsDet(Op):
    """d log|det A| = tr(A^-1 dA), so dA = G A^-T"""
    save_inputs = True

    def forward(self, a):
        return lapack("slogdet", np.linalg.slogdet, a)[1]

    def backward(self, g):
        return g[..., None, None] * _mT(np.linalg.inv(self.inputs[0]))


class SlogdetSign(Op):
    """The sign of det(A), piecewise constant: recorded without grad (an op all the same, so that
    ag.compile replays it on new values)"""
    def forward(self, a):
        return lapack("slogdet", np.linalg.slogdet, a)[0]

    def backward(self, g):  # pragma: no cover - never recorded for gradients
        return None


def no_grad_op(op_cls, *inputs, **params):
    """An op's result as a Tensor without grad (sign, rank), still recorded for ag.compile."""
    with no_grad():
        return apply(op_cls, *inputs, **params)


@implements(np.linalg.slogdet)
def slogdet(a):
    """np.linalg.slogdet: (sign, logabsdet) with d logabsdet / dA = A^-T; the sign, piecewise
    constant, has no gradient.  At a singular A (logabsdet = -inf) the gradient is undefined and
    its backward raises LinAlgError (A^-T does not exist)."""
    _no_complex("slogdet", a)
    return SlogdetResult(no_grad_op(SlogdetSign, a), apply(LogAbsDet, a))


# ---- matrix_power -------------------------------------------------------------------------------

def _power_adjoint(mt, g, n):
    """sum_k mt^k g mt^(n-1-k): the adjoint of X -> X^n at X, given mt = X^T."""
    powers = [None]                     # mt^0 = I, kept implicit
    for _ in range(n - 1):
        powers.append(mt if powers[-1] is None else powers[-1] @ mt)
    total = None
    for k in range(n):
        left, right = powers[k], powers[n - 1 - k]
        term = g if left is None else left @ g
        term = term if right is None else term @ right
        total = term if total is None else total + term
    return total


class MatrixPower(Op):
    """d(A^n) = sum_k A^k dA A^(n-1-k), so dA = sum_k (A^T)^k G (A^T)^(n-1-k); for n < 0 through
    A^-1 (dA = -A^-T dB A^-T); for n = 0 the gradient is 0"""
    save_inputs = True

    def forward(self, a, n):
        self.n = n
        return lapack("matrix_power", np.linalg.matrix_power, a, n)

    def backward(self, g):
        (a,), n = self.inputs, self.n
        if n == 0:
            return g * 0.0
        if n > 0:
            return _power_adjoint(_mT(a), g, n)
        bt = _mT(np.linalg.inv(a))
        return -(bt @ _power_adjoint(bt, g, -n) @ bt)


@implements(np.linalg.matrix_power)
def matrix_power(a, n):
    """np.linalg.matrix_power for an integer n (negative through the inverse; 0 gives the identity
    with gradient 0): dA = sum_k (A^T)^k G (A^T)^(n-1-k)."""
    _no_complex("matrix_power", a)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: exponent must be an integer, got {n!r}")
    return apply(MatrixPower, a, n=int(n))


# ---- pinv, lstsq --------------------------------------------------------------------------------

def _pinv_adjoint(a, p, g):
    """The adjoint of the Moore-Penrose inverse P = A+ for A of constant rank:
    dA = -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)."""
    pt, gt = _mT(p), _mT(g)
    out = -(pt @ g @ pt)
    x = gt @ (p @ pt)
    out = out + x - a @ (p @ x)
    y = (pt @ p) @ gt
    return out + y - (y @ p) @ a


def onto_triangle(sym, upper: bool):
    """The gradient with respect to the entries NumPy reads (one triangle), from the symmetric
    gradient: an entry off the diagonal stands for both S_ij and S_ji (works on Tensors)."""
    n = sym.shape[-1]
    below = np.tril(np.ones((n, n), dtype=sym.dtype), -1)
    if upper:
        below = below.T
    return (sym + _mT(sym)) * below + sym * np.eye(n, dtype=sym.dtype)


def _refuse_cut_off(name: str, a, cutoff_rel) -> None:
    """The constant-rank gradient is exact where the singular values a cutoff drops are zeros
    (numerically: below max(m, n) eps s_max); a cutoff that drops nonzero ones makes the result a
    truncated SVD's, whose gradient that formula does not give: refuse instead of being wrong."""
    if cutoff_rel is None:
        return
    data = np.asarray(getattr(a, "data", a))
    s = np.linalg.svd(data, compute_uv=False)
    top = s[..., :1]
    zero = max(data.shape[-2:]) * np.finfo(data.dtype).eps * top
    dropped = (s <= np.asarray(cutoff_rel)[..., None] * top) & (s > zero)
    if np.any(dropped):
        raise ValueError(f"{name}: no gradient where the cutoff drops nonzero singular values "
                         f"(s = {s[dropped][:3].tolist()} of a {data.shape} input): the result "
                         "is then a truncated SVD's; lower rcond/rtol or take the gradient "
                         "with the default cutoff")


class Pinv(Op):
    """Moore-Penrose inverse (constant rank): dA = -P^T G P^T + (I - AP) G^T P P^T
    + P^T P G^T (I - PA); for hermitian=True (NumPy reads the lower triangle) symmetrised and
    folded onto it"""
    save_inputs = True
    save_output = True

    def forward(self, a, kw):
        self.kw = kw
        return lapack("pinv", np.linalg.pinv, a, **kw)

    def backward(self, g):
        a = self.inputs[0]
        cut = self.kw.get("rtol", self.kw.get("rcond"))
        _refuse_cut_off("pinv", a, cut)
        if self.kw.get("hermitian"):   # the matrix NumPy used: the lower triangle, mirrored
            n = a.shape[-1]
            a = a * np.tril(np.ones((n, n), dtype=a.dtype)) + _mT(
                a * np.tril(np.ones((n, n), dtype=a.dtype), -1))
        ga = _pinv_adjoint(a, self.output, g)
        if self.kw.get("hermitian"):
            return onto_triangle(0.5 * (ga + _mT(ga)), upper=False)
        return ga


@implements(np.linalg.pinv)
def pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    """np.linalg.pinv: the gradient of the Moore-Penrose inverse where the rank is constant (the
    singular values the cutoff drops are zeros; a cutoff that drops nonzero ones makes backward
    raise, since the result is then a truncated SVD's); hermitian=True reads the lower
    triangle, and the gradient is the symmetric one folded onto it."""
    _no_complex("pinv", a)
    kw = {"hermitian": bool(hermitian)}
    if rcond is not None:
        kw["rcond"] = rcond
    if rtol is not np._NoValue:
        kw["rtol"] = rtol
    return apply(Pinv, a, kw=kw)


class LstsqRank(Op):
    """The numerical rank of a (an integer, no gradient)"""
    def forward(self, a, b, rcond):
        return np.asarray(lapack("lstsq", np.linalg.lstsq, a, b, rcond)[2])

    def backward(self, g):  # pragma: no cover - never recorded for gradients
        return None


class LstsqResiduals(Op):
    """r = |b - A x*|^2 per column at the minimiser x* (NumPy's values; empty unless A has full
    column rank and more rows than columns): by the envelope theorem db = 2 (b - A x*) G and
    dA = -2 (b - A x*) G x*^T"""
    save_inputs = True

    def forward(self, a, b, rcond):
        self.rcond = rcond
        return lapack("lstsq", np.linalg.lstsq, a, b, rcond)[1]

    def backward(self, g):
        a, b = self.inputs
        if g.shape[-1] == 0:
            return a * 0.0, b * 0.0
        x = np.linalg.pinv(a, rcond=self.rcond) @ b
        r = b - a @ x
        if b.ndim == 1:
            gb = 2.0 * r * g[0]
            return -(gb[:, None] * x[None, :]), gb
        gb = 2.0 * r * g
        return -(gb @ _mT(x)), gb


class LstsqSolution(Op):
    """x = A+ b (minimum-norm least squares): db = A+^T G, dA = the pinv adjoint of G b^T"""
    save_inputs = True

    def forward(self, a, b, rcond):
        self.rcond = rcond
        return lapack("lstsq", np.linalg.lstsq, a, b, rcond)[0]

    def backward(self, g):
        a, b = self.inputs
        _refuse_cut_off("lstsq", a, self.rcond if self.rcond is not None and self.rcond > 0
                        else None)
        p = np.linalg.pinv(a, rcond=self.rcond)
        vector = b.ndim == 1
        g2, b2 = (g[:, None], b[:, None]) if vector else (g, b)
        gb = _mT(p) @ g2
        ga = _pinv_adjoint(a, p, g2 @ _mT(b2)) if self.needs_grad(0) else None
        return ga, (gb[:, 0] if vector else gb)


@implements(np.linalg.lstsq)
def lstsq(a, b, rcond=None):
    """np.linalg.lstsq: (x, residuals, rank, s).  x = a+ b has the pseudo-inverse's gradient (a of
    constant rank); residuals = |b - a x|^2 per column (empty unless a has full column rank and
    more rows than columns) and s = the singular values of a are differentiable too; rank is an
    integer Tensor without grad."""
    from .decompositions import svdvals
    _no_complex("lstsq", a, b)
    a, b = _operand(a), _operand(b)
    if a.ndim != 2 or b.ndim not in (1, 2):
        raise LinAlgError(f"lstsq: a must be 2-d and b 1-d or 2-d, got shapes {a.shape} and "
                          f"{b.shape}")
    if a.shape[0] != b.shape[0]:
        raise LinAlgError(f"lstsq: incompatible dimensions: a has {a.shape[0]} rows, b "
                          f"{b.shape[0]}")
    if rcond is None:
        rcond = np.finfo(np.float64).eps * max(a.shape)
    return (apply(LstsqSolution, a, b, rcond=rcond), apply(LstsqResiduals, a, b, rcond=rcond),
            no_grad_op(LstsqRank, a, b, rcond=rcond), svdvals(a))
