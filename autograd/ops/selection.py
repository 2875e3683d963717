"""Elementwise selection: maximum/minimum (ties split the gradient), where, clip (bounds that are
Tensors get their gradient); each with NumPy's routing declared beside it."""

from __future__ import annotations

import numpy as np

from ..engine import Op, apply, apply2
from .elementwise import _plain
from .routing import implements, inspected

__all__ = ["maximum", "minimum", "where", "clip"]


# ---- binary selection ---------------------------------------------------------------------------

def _split_ties(g, a, b):
    """Gradient of max(a, b) w.r.t. a: 1 where a wins, 1/2 where tied, 0 elsewhere."""
    # Masks multiply g directly (bool * float keeps g's dtype; a float64 0.5-mask would not).
    return g * (a > b) + g * (a == b) * 0.5


class Maximum(Op):
    """d max(a, b) = da where a > b, db where b > a, (da + db)/2 where tied"""
    save_inputs = True
    def forward(self, a, b): return np.maximum(a, b)

    def backward(self, g):
        a, b = self.inputs
        return _split_ties(g, a, b), _split_ties(g, b, a)


class Minimum(Op):
    """d min(a, b) = da where a < b, db where b < a, (da + db)/2 where tied"""
    save_inputs = True
    def forward(self, a, b): return np.minimum(a, b)

    def backward(self, g):
        a, b = self.inputs
        return _split_ties(g, b, a), _split_ties(g, a, b)


class Where(Op):
    """where(c, a, b): the gradient goes to a where c holds, to b elsewhere"""
    def forward(self, a, b, cond):
        self.cond = cond
        return np.where(cond, a, b)

    def backward(self, g):
        return np.where(self.cond, g, 0), np.where(self.cond, 0, g)


class Clip(Op):
    """d clip(x, lo, hi) = dx where lo <= x <= hi (boundaries included), dlo where x < lo,
    dhi where x > hi (and everywhere when lo > hi, where NumPy gives hi)"""
    save_inputs = True

    def forward(self, x, lo, hi):
        return np.clip(x, lo, hi)

    def backward(self, g):
        x, lo, hi = self.inputs
        inside = np.ones(np.shape(x), dtype=bool)
        below = np.zeros(np.shape(x), dtype=bool)
        if lo is not None:
            below = np.asarray(x < lo)
            inside = inside & np.asarray(x >= lo)
        if hi is not None:
            inside = inside & np.asarray(x <= hi)
            above = ~inside & ~below if lo is None else ~inside & ~(below & np.asarray(lo <= hi))
            below = ~inside & ~above
        else:
            above = None
        return (g * inside,
                None if lo is None or self.parents[1] is None else g * below,
                None if above is None or self.parents[2] is None else g * above)


@implements(np.maximum)
def maximum(a, b): return apply2(Maximum, a, b)


@implements(np.minimum)
def minimum(a, b): return apply2(Minimum, a, b)


@implements(np.where)
def where(condition, x=None, y=None, /):
    """np.where: elements of x where condition holds, else of y; with the condition alone, the
    indices where it holds (integer Tensors, no gradient)."""
    if x is None and y is None:
        from .routing import _wrap
        return _wrap(inspected(np.nonzero, condition))
    if x is None or y is None:
        raise TypeError("where: either both or neither of x and y should be given")
    cond = _plain(condition)
    if cond.dtype != bool:              # a cast that copies: recorded, replays cast anew
        cond = inspected(np.asarray, condition, bool)
    return apply(Where, x, y, cond=cond)


def _bound(value):
    """A clip bound as NumPy takes it: Python scalars stay Python scalars (weak promotion keeps
    float32 float32); Tensor bounds get their gradient where they bind."""
    from ..tensor import Tensor
    if value is None or isinstance(value, (int, float, Tensor)):
        return value
    return np.asarray(value)


_NO_BOUND = object()


def clip(x, lo=None, hi=None):
    """clip(x, lo, hi), as np.clip; a bound that is a Tensor gets the gradient where it binds"""
    if lo is None and hi is None:
        raise ValueError("clip: at least one of the bounds lo and hi must be given")
    return apply(Clip, x, _bound(lo), _bound(hi))


@implements(np.clip)
def _np_clip(a, a_min=_NO_BOUND, a_max=_NO_BOUND, out=None, *, min=_NO_BOUND,  # noqa: A002
             max=_NO_BOUND):  # noqa: A002
    from .routing import no_out
    no_out("clip", out)
    if a_min is not _NO_BOUND and min is not _NO_BOUND or a_max is not _NO_BOUND and max is not _NO_BOUND:
        raise TypeError("np.clip: pass each bound once (a_min or min, a_max or max)")
    lo = a_min if a_min is not _NO_BOUND else (None if min is _NO_BOUND else min)
    hi = a_max if a_max is not _NO_BOUND else (None if max is _NO_BOUND else max)
    return clip(a, lo, hi)
