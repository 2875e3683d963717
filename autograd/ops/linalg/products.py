"""Products: matmul (an op of its own, the hot path) and NumPy's other products -- dot, vdot, inner,
outer, tensordot, kron, cross, matvec, vecmat, vecdot, multi_dot -- each written as the einsum
(or matmul, or elementwise arithmetic) that defines it, so their gradients and higher derivatives
are einsum's.  Shapes are checked here, with NumPy's rules: einsum would broadcast a size-1 axis
where NumPy's products refuse it."""

from __future__ import annotations

import string
import warnings

import numpy as np

from ...engine import Op, apply
from ..routing import implements, no_out
from ..shape import as_tensor, moveaxis, reshape, stack
from .einsum import einsum

__all__ = ["matmul", "dot", "vdot", "inner", "outer", "tensordot", "kron", "cross", "matvec",
           "vecmat", "vecdot", "multi_dot"]

_LETTERS = string.ascii_letters


def _mT(x):
    """Swap the last two axes (works on ndarrays and Tensors)."""
    axes = list(range(x.ndim))
    axes[-2], axes[-1] = axes[-1], axes[-2]
    return x.transpose(tuple(axes))


class MatMul(Op):
    """d(AB) = dA B + A dB, so dA = G B^T and dB = A^T G (batch axes summed by the engine)"""
    save_inputs = True

    def forward(self, a, b):
        sa, sb = np.shape(a), np.shape(b)
        if not sa or not sb:
            raise ValueError(f"matmul: operands must have at least one dimension (shapes {sa} "
                             f"and {sb})")
        k = sb[-2] if len(sb) > 1 else sb[0]
        if sa[-1] != k:
            raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: the first's last "
                             f"axis has {sa[-1]} entries, the second's contracted axis {k}")
        return np.matmul(a, b)

    def backward(self, g):
        a, b = self.inputs
        if a.ndim == 1 and b.ndim == 1:             # inner product
            return g * b, g * a
        if a.ndim == 1:                             # (k) @ (..., k, m) -> (..., m)
            g2 = g.reshape(g.shape[:-1] + (1, g.shape[-1]))
            ga = (g2 @ _mT(b)) if self.needs_grad(0) else None
            gb = (a.reshape((-1, 1)) @ g2) if self.needs_grad(1) else None
            return ga, gb
        if b.ndim == 1:                             # (..., n, k) @ (k) -> (..., n)
            g2 = g.reshape(g.shape + (1,))
            ga = (g2 @ b.reshape((1, -1))) if self.needs_grad(0) else None
            gb = (_mT(a) @ g2).reshape(g.shape[:-1] + (b.shape[0],)) if self.needs_grad(1) else None
            return ga, gb
        ga = (g @ _mT(b)) if self.needs_grad(0) else None
        gb = (_mT(a) @ g) if self.needs_grad(1) else None
        return ga, gb


@implements(np.matmul)
def matmul(a, b): return apply(MatMul, a, b)


# ---- helpers ------------------------------------------------------------------------------------

def _operand(x):
    """A Tensor stays itself; anything else becomes an ndarray (lists, scalars)."""
    return x if hasattr(x, "requires_grad") else np.asarray(x)


def values(x) -> np.ndarray:
    """The array of a Tensor, or x as an array (not ``getattr(x, "data")``: an ndarray's .data is
    its buffer)."""
    return x.data if hasattr(x, "requires_grad") else np.asarray(x)


def _letters(n: int, start: int = 0) -> str:
    return _LETTERS[start:start + n]


def _aligned(name, sa, sb, ka, kb):
    if sa[ka] != sb[kb]:
        raise ValueError(f"{name}: shapes {sa} and {sb} not aligned: {sa[ka]} (axis "
                         f"{ka % len(sa)}) != {sb[kb]} (axis {kb % len(sb)})")


# ---- dot, vdot, inner, outer, tensordot, kron ---------------------------------------------------

def dot(a, b):
    """np.dot: products of 0-d, inner products of 1-d, matmul of 2-d and sum over a's last and b's
    second-to-last axis otherwise; the gradient of each operand is that einsum's."""
    a, b = _operand(a), _operand(b)
    na, nb = a.ndim, b.ndim
    if na == 0 or nb == 0:
        return einsum(f"{_letters(na)},{_letters(nb, na)}->{_letters(na + nb)}", a, b)
    _aligned("dot", a.shape, b.shape, -1, -2 if nb > 1 else 0)
    if nb == 1:
        return einsum(f"{_letters(na - 1)}z,z->{_letters(na - 1)}", a, b)
    front, back = _letters(na - 1), _letters(nb - 2, na - 1)
    last = _LETTERS[na + nb - 3]
    return einsum(f"{front}z,{back}z{last}->{front}{back}{last}", a, b)


@implements(np.dot)
def _np_dot(a, b, out=None):
    no_out("dot", out)
    return dot(a, b)


@implements(np.vdot)
def vdot(a, b, /):
    """np.vdot (real inputs): the inner product of the flattened operands; d/da = g b."""
    a, b = _operand(a), _operand(b)
    if a.size != b.size:
        raise ValueError(f"vdot: the operands must have the same number of entries (shapes "
                         f"{a.shape} and {b.shape})")
    return einsum("i,i->", reshape(a, -1), reshape(b, -1))


@implements(np.inner)
def inner(a, b, /):
    """np.inner: sum over the last axes of a and b (products for 0-d); einsum's gradient."""
    a, b = _operand(a), _operand(b)
    na, nb = a.ndim, b.ndim
    if na == 0 or nb == 0:
        return dot(a, b)
    _aligned("inner", a.shape, b.shape, -1, -1)
    front, back = _letters(na - 1), _letters(nb - 1, na - 1)
    return einsum(f"{front}z,{back}z->{front}{back}", a, b)


def outer(a, b):
    """np.outer: out[i, j] = a.flat[i] * b.flat[j]; d/da = (G b) reshaped, d/db = (G^T a)."""
    return einsum("i,j->ij", reshape(_operand(a), -1), reshape(_operand(b), -1))


@implements(np.outer)
def _np_outer(a, b, out=None):
    no_out("outer", out)
    return outer(a, b)


def _tensordot_axes(axes, na, nb):
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if n < 0 or n > min(na, nb):
            raise ValueError(f"tensordot: axes={n} does not fit operands with {na} and {nb} "
                             f"dimensions")
        return list(range(na - n, na)), list(range(n))
    try:
        axes_a, axes_b = axes
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: axes must be an int or a pair of axis sequences, got "
                        f"{axes!r}") from None
    axes_a = [axes_a] if isinstance(axes_a, (int, np.integer)) else list(axes_a)
    axes_b = [axes_b] if isinstance(axes_b, (int, np.integer)) else list(axes_b)
    if len(axes_a) != len(axes_b):
        raise ValueError(f"tensordot: shape-mismatch for sum ({len(axes_a)} axes of the first "
                         f"operand against {len(axes_b)} of the second)")
    for axes_x, n, which in ((axes_a, na, "first"), (axes_b, nb, "second")):
        for ax in axes_x:
            if not -n <= ax < n:
                raise ValueError(f"tensordot: axis {ax} is out of bounds for the {which} operand "
                                 f"with {n} dimensions")
    return [int(x) % na for x in axes_a], [int(x) % nb for x in axes_b]


@implements(np.tensordot)
def tensordot(a, b, axes=2):
    """np.tensordot: sum over the paired axes; the gradient of each operand is that einsum's."""
    a, b = _operand(a), _operand(b)
    axes_a, axes_b = _tensordot_axes(axes, a.ndim, b.ndim)
    if len(set(axes_a)) != len(axes_a) or len(set(axes_b)) != len(axes_b):
        raise ValueError(f"tensordot: repeated axis in axes={axes!r}")
    la = list(_letters(a.ndim))
    lb = list(_letters(b.ndim, a.ndim))
    for i, j in zip(axes_a, axes_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: shape-mismatch for sum: axis {i} of {a.shape} has "
                             f"{a.shape[i]} entries, axis {j} of {b.shape} has {b.shape[j]}")
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in axes_a] + \
          [c for j, c in enumerate(lb) if j not in axes_b]
    return einsum(f"{''.join(la)},{''.join(lb)}->{''.join(out)}", a, b)


@implements(np.kron)
def kron(a, b):
    """np.kron: blocks a[i] * b, the shorter shape padded with leading 1s; einsum's gradient."""
    a, b = _operand(a), _operand(b)
    nd = max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + a.shape
    sb = (1,) * (nd - b.ndim) + b.shape
    la, lb = _letters(nd), _letters(nd, nd)
    pairs = "".join(x + y for x, y in zip(la, lb))
    product = einsum(f"{la},{lb}->{pairs}", reshape(a, sa), reshape(b, sb))
    return reshape(product, tuple(x * y for x, y in zip(sa, sb)))


# ---- cross --------------------------------------------------------------------------------------

def _component(v, i):
    return v[..., i] if i < v.shape[-1] else None


def _term(x, y):
    return None if x is None or y is None else x * y


def _minus(p, q):
    if p is None:
        return None if q is None else -q
    return p if q is None else p - q


@implements(np.cross)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross of 3- (or deprecated 2-) vectors: products of components, so d(a x b) = da x b +
    a x db; 2-vectors have a zero third component, and two of them give the scalar z-component."""
    if axis is not None:
        axisa, axisb, axisc = (axis,) * 3
    a, b = _operand(a), _operand(b)
    if a.ndim < 1 or b.ndim < 1:
        raise ValueError("cross: at least one array has zero dimension")
    for ax, x, label in ((axisa, a, "axisa"), (axisb, b, "axisb")):
        if not -x.ndim <= ax < x.ndim:
            raise ValueError(f"cross: {label}={ax} is out of bounds for an array with {x.ndim} "
                             f"dimensions")
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError(f"cross: incompatible dimensions for cross product (dimension must be 2 "
                         f"or 3; got {a.shape[-1]} and {b.shape[-1]})")
    if a.shape[-1] == 2 or b.shape[-1] == 2:
        warnings.warn("Arrays of 2-dimensional vectors are deprecated. Use arrays of "
                      "3-dimensional vectors instead. (deprecated in NumPy 2.0)",
                      DeprecationWarning, stacklevel=2)
    batch = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    a0, a1, a2 = (_component(a, i) for i in range(3))
    b0, b1, b2 = (_component(b, i) for i in range(3))
    z = _minus(_term(a0, b1), _term(a1, b0))
    if a2 is None and b2 is None:
        return as_tensor(z)
    if not -(len(batch) + 1) <= axisc < len(batch) + 1:
        raise ValueError(f"cross: axisc={axisc} is out of bounds for a result with "
                         f"{len(batch) + 1} dimensions")
    x = _minus(_term(a1, b2), _term(a2, b1))
    y = _minus(_term(a2, b0), _term(a0, b2))
    out = stack([np.broadcast_to(as_tensor(c), batch) for c in (x, y, z)], axis=-1)
    return moveaxis(out, -1, axisc)


# ---- the gufuncs: matvec, vecmat, vecdot --------------------------------------------------------

def _gufunc_shapes(name, x1, x2, core1, core2, k1, k2):
    x1, x2 = _operand(x1), _operand(x2)
    if x1.ndim < core1 or x2.ndim < core2:
        raise ValueError(f"{name}: the operands need at least {core1} and {core2} dimensions "
                         f"(shapes {x1.shape} and {x2.shape})")
    _aligned(name, x1.shape, x2.shape, k1, k2)
    try:
        np.broadcast_shapes(x1.shape[:x1.ndim - core1], x2.shape[:x2.ndim - core2])
    except ValueError:
        raise ValueError(f"{name}: the batch dimensions of shapes {x1.shape} and {x2.shape} do "
                         f"not broadcast") from None
    return x1, x2


@implements(np.matvec)
def matvec(x1, x2):
    """np.matvec: (..., m, n) times (..., n) -> (..., m); einsum's gradient."""
    x1, x2 = _gufunc_shapes("matvec", x1, x2, 2, 1, -1, -1)
    return einsum("...mn,...n->...m", x1, x2)


@implements(np.vecmat)
def vecmat(x1, x2):
    """np.vecmat (real inputs): (..., n) times (..., n, m) -> (..., m); einsum's gradient."""
    x1, x2 = _gufunc_shapes("vecmat", x1, x2, 1, 2, -1, -2)
    return einsum("...n,...nm->...m", x1, x2)


@implements(np.vecdot)
def vecdot(x1, x2):
    """np.vecdot (real inputs): sum of products over the last axis, batch axes broadcast;
    d/dx1 = g x2, d/dx2 = g x1."""
    x1, x2 = _gufunc_shapes("vecdot", x1, x2, 1, 1, -1, -1)
    return einsum("...n,...n->...", x1, x2)


# ---- multi_dot ----------------------------------------------------------------------------------

def _chain_order(shapes):
    """NumPy's matrix-chain order: split[i][j] is where the cheapest product of i..j splits."""
    n = len(shapes)
    dims = [shapes[0][0]] + [s[1] for s in shapes]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(arrays, split, i, j):
    if i == j:
        return arrays[i]
    k = split[i][j]
    return matmul(_chain(arrays, split, i, k), _chain(arrays, split, k + 1, j))


def multi_dot(arrays):
    """np.linalg.multi_dot: the chain of dots in the cheapest order (NumPy's); matmul's gradients.
    The first array may be 1-d (a row), the last 1-d (a column)."""
    arrays = [_operand(x) for x in arrays]
    n = len(arrays)
    if n < 2:
        raise ValueError("multi_dot: expecting at least two arrays")
    if n == 2:
        return dot(arrays[0], arrays[1])
    first, last = arrays[0].ndim == 1, arrays[-1].ndim == 1
    if first:
        arrays[0] = reshape(arrays[0], (1, -1))
    if last:
        arrays[-1] = reshape(arrays[-1], (-1, 1))
    for i, x in enumerate(arrays):
        if x.ndim != 2:
            raise np.linalg.LinAlgError(f"multi_dot: array {i} has {x.ndim} dimensions (shape "
                                        f"{x.shape}); it must be two-dimensional")
    for i in range(n - 1):
        _aligned("multi_dot", arrays[i].shape, arrays[i + 1].shape, -1, 0)
    if n == 3:
        (a0, a1b0), (b1c0, c1) = arrays[0].shape, arrays[2].shape
        split = [[0, 0, 0], [0, 0, 1], [0, 0, 0]]
        split[0][2] = 1 if a0 * b1c0 * (a1b0 + c1) < a1b0 * c1 * (a0 + b1c0) else 0
    else:
        split = _chain_order([x.shape for x in arrays])
    result = _chain(arrays, split, 0, n - 1)
    if first and last:
        return result[0, 0]
    if first:
        return result[0]
    return result[:, 0] if last else result


@implements(np.linalg.multi_dot)
def _np_multi_dot(arrays, *, out=None):
    no_out("linalg.multi_dot", out)
    return multi_dot(arrays)
