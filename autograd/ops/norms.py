"""Vector and matrix norms with np.linalg.norm's meaning: norm, vector_norm, matrix_norm.

``norm(x, ord=None, axis=None, keepdims=False)`` is ``np.linalg.norm``: with ``axis=None`` and
``ord=None`` the 2-norm of all entries (a vector's 2-norm, a matrix's Frobenius norm); an int axis
(or 1-tuple) takes vector norms (ord None/2, 1, inf, -inf, 0, any other number p, negative too); an
axis pair takes matrix norms (ord None/'fro', 'nuc', 2, -2, 1, -1, inf, -inf).  Norms at 0 take the
subgradient 0 (also the zero entries of p-norms with p < 1, where the derivative is infinite).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..engine import Op, apply
from .elementwise import abs as _abs, astype as _astype
from .reduce import _Reduction, max as _max, min as _min, sum as _sum
from .routing import implements

__all__ = ["norm", "vector_norm", "matrix_norm"]


class Norm2(_Reduction):
    """d/dx_i ||x||_2 = x_i / ||x||_2; taken as 0 at x = 0"""
    name = "norm"
    save_inputs = True
    save_output = True

    def forward(self, x, axis=None, keepdims=False):
        return np.sqrt(np.sum(x * x, axis=self.setup(x, axis, keepdims), keepdims=keepdims))

    def backward(self, g):
        x = self.inputs[0]
        out = self.keep(self.output)
        return self.keep(g) * x / np.where(np.asarray(out == 0), 1, out)


class PNorm(_Reduction):
    """d/dx_i ||x||_p = sign(x_i) (|x_i| / ||x||_p)^(p-1); taken as 0 where x_i = 0 or ||x|| = 0"""
    name = "norm"
    save_inputs = True
    save_output = True

    def forward(self, x, axis=None, keepdims=False, ord=3):
        self.ord = ord
        axes = self.setup(x, axis, keepdims)
        absx = np.abs(x) ** ord             # NumPy's own steps (and warnings: 0 ** -p is inf)
        out = np.sum(absx, axis=axes, keepdims=keepdims)
        return out ** np.reciprocal(ord, dtype=out.dtype)

    def backward(self, g):
        x = self.inputs[0]
        out = self.keep(self.output)
        dead = np.asarray(x == 0) | np.asarray(out == 0)
        ratio = np.abs(np.where(dead, 1, x)) / np.where(np.asarray(out == 0), 1, out)
        slope = np.sign(x) * ratio ** (self.ord - 1)
        return np.where(dead, 0, self.keep(g) * slope)


class CountNonzero(_Reduction):
    """ord=0 "norm", the number of non-zero entries: piecewise constant, gradient 0"""
    name = "norm"

    def forward(self, x, axis=None, keepdims=False):
        axes = self.setup(x, axis, keepdims)
        return np.sum((x != 0).astype(x.dtype), axis=axes, keepdims=keepdims)

    def backward(self, g): return self.expand(g) * 0


# ---- singular-value norms (matrix ord 2, -2, 'nuc') ---------------------------------------------
#
# With the reduced SVD X = U S V^T, each singular value has d s_k = u_k^T dX v_k, so a norm that is
# a weighted sum sum_k c_k s_k has the gradient U diag(c) V^T.  The weights: 'nuc' c_k = 1; 2 (the
# largest s) c_k = 1/t for the t singular values tied at the maximum, -2 likewise at the minimum --
# PyTorch's choice (svdvals, then amax/amin splitting ties evenly).  Where singular values tie the
# 2 and -2 norms are not differentiable; the even split is a subgradient.  Singular values 0 get
# weight 0 (the subgradient 0 of norms at 0; PyTorch's U V^T there depends on LAPACK's basis).


def _weights(s, kind):
    """c_k for singular values s (..., k), sorted in decreasing order."""
    live = s > 0
    if kind == "sum":
        return live.astype(s.dtype)
    tied = (s == (s[..., :1] if kind == "max" else s[..., -1:])) & live
    return tied / np.maximum(tied.sum(axis=-1, keepdims=True), 1).astype(s.dtype)


def _svd(y):
    u, s, vh = np.linalg.svd(y, full_matrices=False)
    return u, s, np.swapaxes(vh, -1, -2)


class SpectralNorm(Op):
    """d/dX sum_k c_k s_k(X) = U diag(c) V^T (the weights c of 'nuc', 2 and -2 above)"""
    name = "norm"
    save_inputs = True

    def forward(self, x, axes=(0, 1), kind="max", keepdims=False):
        self.axes, self.kind, self.keepdims = axes, kind, keepdims
        self.kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        u, s, v = _svd(np.moveaxis(x, axes, (-2, -1)))
        self.usv = u, s, v
        out = {"max": np.max, "min": np.min, "sum": np.sum}[kind](s, axis=-1)
        return out.reshape(self.kept) if keepdims else out

    def backward(self, g):
        x = self.inputs[0]
        g = g if self.keepdims else g.reshape(self.kept)
        if type(x) is np.ndarray:
            direction = _spectral_direction(*self.usv, self.kind, self.axes)
        else:   # create_graph: the direction as an op of x, so it is differentiated too
            direction = apply(SpectralDirection, x, axes=self.axes, kind=self.kind)
        return g * direction


def _spectral_direction(u, s, v, kind, axes):
    c = _weights(s, kind)
    return np.moveaxis((u * c[..., None, :]) @ np.swapaxes(v, -1, -2), (-2, -1), axes)


class SpectralDirection(Op):
    """X -> U diag(c) V^T; its derivative by the SVD's (Townsend 2016): with A = U^T H V,
    T_ij = (A_ij (c_j s_j - c_i s_i) + A_ji (s_i c_j - c_i s_j)) / (s_j^2 - s_i^2) (equal s_i = s_j
    carry equal weights, and the limit c (A_ij - A_ji) / (s_i + s_j) is finite),
    dX = U T V^T + (I - U U^T) H V D V^T + U D U^T H (I - V V^T), D = diag(c / s).
    Its own backward works on ndarrays only: a third derivative of these norms is refused."""
    name = "norm_gradient"

    def forward(self, x, axes=(0, 1), kind="max"):
        self.axes, self.kind = axes, kind
        self.usv = _svd(np.moveaxis(x, axes, (-2, -1)))
        return _spectral_direction(*self.usv, kind, axes)

    def backward(self, h):
        from ..tensor import Tensor
        if isinstance(h, Tensor):
            raise RuntimeError("norm: the third derivative of the matrix 2, -2 and 'nuc' norms "
                               "is not supported (create_graph=True through their second "
                               "derivative)")
        u, s, v = self.usv
        h = np.moveaxis(np.asarray(h), self.axes, (-2, -1))
        c = _weights(s, self.kind)
        mT = lambda m: np.swapaxes(m, -1, -2)  # noqa: E731
        a = mT(u) @ h @ v
        si, sj = s[..., :, None], s[..., None, :]
        ci, cj = c[..., :, None], c[..., None, :]
        gap = sj * sj - si * si
        same = gap == 0
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(same, 0, (a * (cj * sj - ci * si) + mT(a) * (si * cj - ci * sj))
                         / np.where(same, 1, gap))
            total = si + sj
            t = t + np.where(same & (total > 0), ci * (a - mT(a)) / np.where(total > 0, total, 1),
                             0)
        k = s.shape[-1]
        t = t * (1 - np.eye(k, dtype=s.dtype))
        d = np.where(s > 0, c / np.where(s > 0, s, 1), 0)[..., None, :]
        hv = h @ v
        uth = mT(u) @ h
        dx = (u @ t @ mT(v) + (hv - u @ (mT(u) @ hv)) * d @ mT(v)
              + (u * d) @ (uth - (uth @ v) @ mT(v)))
        return np.moveaxis(dx, (-2, -1), self.axes)


# ---- the public functions -----------------------------------------------------------------------

def _as_float(x):
    """x as a Tensor, integers and bools as float64 (NumPy's norm does the same)."""
    from ..tensor import Tensor
    if not isinstance(x, Tensor):
        x = Tensor._make(np.asarray(x), None)
    if x.dtype.kind == "c":
        raise TypeError("norm: complex numbers are not supported (graphgrad tensors hold real "
                        "data)")
    return x if x.dtype.kind == "f" else _astype(x, np.float64)


def _vector(x, ord, axes, keepdims):
    """Vector norm of order ``ord`` over ``axes`` (a tuple of axes, reduced as one vector)."""
    if ord is None or ord == 2:
        return apply(Norm2, x, axis=axes, keepdims=keepdims)
    if ord == np.inf:
        return _max(_abs(x), axes, keepdims)
    if ord == -np.inf:
        return _min(_abs(x), axes, keepdims)
    if ord == 0:
        return apply(CountNonzero, x, axis=axes, keepdims=keepdims)
    if ord == 1:
        return _sum(_abs(x), axes, keepdims)
    try:
        ord + 1
    except TypeError:
        raise ValueError(f"Invalid norm order '{ord}' for vectors") from None
    return apply(PNorm, x, axis=axes, keepdims=keepdims, ord=float(ord))


def _matrix(x, ord, row, col, keepdims):
    if row == col:
        raise ValueError("Duplicate axes given.")
    if ord in (2, -2, "nuc"):
        kind = {2: "max", -2: "min", "nuc": "sum"}[ord]
        return apply(SpectralNorm, x, axes=(row, col), kind=kind, keepdims=keepdims)
    if ord is None or ord in ("fro", "f"):
        return apply(Norm2, x, axis=(row, col), keepdims=keepdims)
    if ord in (1, -1, np.inf, -np.inf):
        # 1: the largest column sum of |x| (sum over rows, extreme over columns); inf: rows.
        inner, outer = (row, col) if ord in (1, -1) else (col, row)
        pick = _max if ord in (1, np.inf) else _min
        out = pick(_sum(_abs(x), inner, True), outer, True)
        return out if keepdims else out.reshape(
            tuple(n for i, n in enumerate(x.shape) if i not in (row, col)))
    raise ValueError("Invalid norm order for matrices.")


@implements(np.linalg.norm)
def norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm: vector norms over one axis, matrix norms over two; see the module notes"""
    x = _as_float(x)
    nd = x.ndim
    if axis is None:
        if ord is None:
            return apply(Norm2, x, axis=None, keepdims=keepdims)
        if nd not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = int(axis)
        except Exception as err:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from err
        axis = (axis,)
    if len(axis) == 1:
        return _vector(x, ord, (normalize_axis_index(axis[0], nd),), keepdims)
    if len(axis) == 2:
        row, col = (normalize_axis_index(a, nd) for a in axis)
        return _matrix(x, ord, row, col, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


@implements(np.linalg.vector_norm)
def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """np.linalg.vector_norm: the vector norm over ``axis`` (all entries when None, several axes
    taken together as one vector)"""
    x = _as_float(x)
    if axis is None:
        axes = tuple(range(x.ndim))
    elif isinstance(axis, tuple):
        axes = normalize_axis_tuple(axis, x.ndim)
    else:
        axes = (normalize_axis_index(axis, x.ndim),)
    return _vector(x, ord, axes, keepdims)


@implements(np.linalg.matrix_norm)
def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """np.linalg.matrix_norm: the matrix norm over the last two axes"""
    return norm(x, ord, (-2, -1), keepdims)
