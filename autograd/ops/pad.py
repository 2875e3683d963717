"""np.pad in every mode but 'empty' and a callable, and np.linspace between Tensor endpoints.

np.pad pads one axis after the other (later axes see the earlier ones' padding, as in NumPy), each
from differentiable pieces: 'edge', 'wrap' and the even 'reflect'/'symmetric' modes pick entries
with an index array (NumPy's own mapping, np.pad of the positions), the odd reflections repeat
NumPy's ``2 * edge - reflection`` steps, 'linear_ramp' is a linspace from the end value to the
edge, and the statistics modes broadcast a max/min/mean/median of the first or last stat_length
entries.  NumPy checks every argument first, so errors are NumPy's own.
"""

from __future__ import annotations

import operator

import numpy as np

from ..engine import Op, apply
from .elementwise import astype
from .selection import where
from .reduce import max as _max, mean as _mean, min as _min
from .routing import implements, inspected, strip_tensors
from .shape import as_tensor, broadcast_to, concatenate, moveaxis, pad as _pad_constant
from .shape import reshape, stack

__all__ = ["linspace"]


class _Unset:
    def __repr__(self) -> str: return "<not given>"


_UNSET = _Unset()


def _has_tensor(value) -> bool:
    from ..tensor import Tensor
    if isinstance(value, Tensor):
        return True
    return isinstance(value, (list, tuple)) and any(_has_tensor(v) for v in value)


def _nested_tensor(value):
    """A (nested) sequence holding Tensors as one Tensor, differentiable in each of them."""
    if isinstance(value, (list, tuple)):
        return stack([_nested_tensor(v) for v in value])
    return as_tensor(value)


def _pairs(value, ndim, as_index=False, dtype=None):
    """NumPy's (before, after) per axis from a scalar, a pair or per-axis pairs, typed as NumPy
    types them: NumPy scalars from a scalar or a pair, Python numbers from per-axis pairs (which
    promote weakly: 'linear_ramp' computes in float64 from the former, in the array's dtype from
    the latter).  When value holds Tensors the entries are 0-d Tensors, those of per-axis pairs
    cast to ``dtype``."""
    if value is None:
        return [(None, None)] * ndim
    if not _has_tensor(value):
        x = np.array(value)
        if as_index:
            x = np.round(x).astype(np.intp, copy=False)
        if x.size == 1:
            return [(x.ravel()[0], x.ravel()[0])] * ndim
        if x.size == 2 and x.shape != (2, 1):
            return [(x.ravel()[0], x.ravel()[1])] * ndim
        return [tuple(p) for p in np.broadcast_to(x, (ndim, 2)).tolist()]
    t = _nested_tensor(value)
    if t.size == 1:
        v = reshape(t, ())
        return [(v, v)] * ndim
    if t.size == 2 and t.shape != (2, 1):
        flat = reshape(t, 2)
        return [(flat[0], flat[1])] * ndim
    both = broadcast_to(t if dtype is None else astype(t, dtype), (ndim, 2))
    return [(both[i, 0], both[i, 1]) for i in range(ndim)]


def _pad_widths(pad_width, ndim):
    if isinstance(pad_width, dict):
        seq = [(0, 0)] * ndim
        for axis, width in pad_width.items():
            seq[axis] = (width, width) if isinstance(width, int) else tuple(width)
        pad_width = seq
    return _pairs(pad_width, ndim, as_index=True)


def _at(x, axis, index):
    return x[(slice(None),) * axis + (index,)]


def _block(value, x, axis, width):
    """value (a Python number or a 0-d/edge-shaped Tensor) filling a pad block of width entries."""
    shape = x.shape[:axis] + (width,) + x.shape[axis + 1:]
    if isinstance(value, (int, float, np.generic)):
        return np.full(shape, value, dtype=x.dtype)
    return broadcast_to(astype(value, x.dtype), shape)


def _join(left, x, right, axis):
    return concatenate([p for p in (left, x, right) if p is not None], axis)


def _gathered(x, axis, lo, hi, mode):
    """edge, wrap, even reflect/symmetric: entries picked by NumPy's own mapping of positions."""
    return _at(x, axis, np.pad(np.arange(x.shape[axis]), (lo, hi), mode=mode))


def _reflected_odd(x, axis, lo, hi, include_edge):
    """NumPy's odd reflections, 2 * edge - mirror image, repeated while the pad is wider than the
    array (each round mirrors what is there so far)."""
    period = x.shape[axis]
    if period == 1:    # NumPy's legacy rule: a singleton axis is extended by its edge
        return _gathered(x, axis, lo, hi, "edge")
    while lo > 0 or hi > 0:
        size = x.shape[axis]
        if include_edge:
            size, offset = size // period * period, 1
        else:
            size, offset = (size - 1) // (period - 1) * (period - 1), 0
        if lo > 0:
            n = min(size, lo)
            chunk = _at(x, axis, slice(n - offset, None if offset else 0, -1))
            x = concatenate([2 * _at(x, axis, slice(0, 1)) - chunk, x], axis)
            lo -= n
        if hi > 0:
            n = min(size, hi)
            chunk = _at(x, axis, slice(offset - 2, offset - 2 - n, -1))
            x = concatenate([x, 2 * _at(x, axis, slice(-1, None)) - chunk], axis)
            hi -= n
    return x


def _median(x, axis):
    """np.median over axis (keepdims): the mean of the middle one or two sorted entries; NaN
    wherever the lane holds a NaN"""
    from .select import sort
    s = sort(x, axis)
    n = x.shape[axis]
    middle = _at(s, axis, slice((n - 1) // 2, n // 2 + 1))
    return apply(NanWhereNan, _mean(middle, axis, True), _at(s, axis, slice(n - 1, n)))


class NanWhereNan(Op):
    """m where the lane's largest entry (NaNs sort last) is not NaN, else NaN (np.median's rule);
    the gradient passes where m is kept"""
    name = "median"

    def forward(self, m, last):
        self.kept = ~np.isnan(last)
        return np.where(self.kept, m, np.nan).astype(m.dtype, copy=False)

    def backward(self, g): return where(self.kept, g, 0.0), None


_STATS = {"maximum": lambda x, axis: _max(x, axis, True),
          "minimum": lambda x, axis: _min(x, axis, True),
          "mean": lambda x, axis: _mean(x, axis, True), "median": _median}


def _pad_axis(x, axis, lo, hi, mode, option):
    if mode in ("edge", "wrap") or mode in ("reflect", "symmetric") and option != "odd":
        return _gathered(x, axis, lo, hi, mode)
    if mode in ("reflect", "symmetric"):
        return _reflected_odd(x, axis, lo, hi, mode == "symmetric")
    if mode == "constant":
        left, right = option
        return _join(_block(left, x, axis, lo) if lo else None, x,
                     _block(right, x, axis, hi) if hi else None, axis)
    if mode == "linear_ramp":
        ends = []
        for end, width, edge in ((option[0], lo, slice(0, 1)), (option[1], hi, slice(-1, None))):
            edge_values = reshape(_at(x, axis, edge), x.shape[:axis] + x.shape[axis + 1:])
            ends.append(linspace(end, edge_values, width, endpoint=False, dtype=x.dtype,
                                 axis=axis) if width else None)
        right = None if ends[1] is None else _at(ends[1], axis, slice(None, None, -1))
        return _join(ends[0], x, right, axis)
    n = x.shape[axis]                     # the statistics modes
    stat = _STATS[mode]
    left_n, right_n = (n if k is None or k > n else k for k in option)
    left = stat(_at(x, axis, slice(0, left_n)), axis) if lo else None
    right = stat(_at(x, axis, slice(n - right_n, n)), axis) if hi else None
    return _join(None if left is None else _block(left, x, axis, lo), x,
                 None if right is None else _block(right, x, axis, hi), axis)


class NumpyPad(Op):
    """np.pad of integer or boolean data, which carries no gradient"""
    name = "pad"

    def forward(self, x, pad_width, mode, options):
        return np.pad(x, pad_width, mode, **options)

    def backward(self, g): return None


_KEYWORD = {"constant": "constant_values", "linear_ramp": "end_values", "maximum": "stat_length",
            "minimum": "stat_length", "mean": "stat_length", "median": "stat_length",
            "reflect": "reflect_type", "symmetric": "reflect_type"}
_DEFAULT = {"constant_values": 0, "end_values": 0, "stat_length": None, "reflect_type": "even"}


@implements(np.pad)
def _np_pad(array, pad_width, mode="constant", *, constant_values=_UNSET, end_values=_UNSET,
            stat_length=_UNSET, reflect_type=_UNSET):
    if callable(mode):
        raise TypeError("np.pad: a callable mode is not supported on Tensors (it writes into the "
                        "padded array in place, which a graph cannot record); use a named mode, "
                        "or call np.pad on t.data")
    if mode == "empty":
        raise TypeError("np.pad: mode='empty' is not supported on Tensors: it leaves the padded "
                        "entries undefined (garbage), and a gradient of garbage means nothing; "
                        "use mode='constant'")
    given = {k: v for k, v in (("constant_values", constant_values), ("end_values", end_values),
                               ("stat_length", stat_length), ("reflect_type", reflect_type))
             if v is not _UNSET}
    x = as_tensor(array)
    plain = strip_tensors(given)
    try:   # NumPy checks pad_width, the mode and the keywords each mode allows
        np.pad(x.data, strip_tensors(pad_width), mode, **plain)
    except (ValueError, TypeError, IndexError) as err:
        raise type(err)(f"np.pad: {err} (array shape {x.shape}, mode {mode!r})") from None
    if x.dtype.kind != "f":
        return apply(NumpyPad, x, pad_width=strip_tensors(pad_width), mode=mode, options=plain)
    key = _KEYWORD.get(mode)
    option = given.get(key, _DEFAULT.get(key))
    widths = _pad_widths(strip_tensors(pad_width), x.ndim)
    if not x.ndim:      # no axis to pad: np.pad returns a copy
        return _pad_constant(x, 0, 0)
    if mode == "constant" and not _has_tensor(option):
        return _pad_constant(x, widths, option)
    if x.size == 0 and mode != "constant":   # NumPy only grows the non-empty axes: no values
        return _pad_constant(x, widths, 0)
    if mode in ("constant", "linear_ramp"):
        options = _pairs(option, x.ndim, dtype=x.dtype)
    elif key == "stat_length":
        options = _pairs(strip_tensors(option), x.ndim, as_index=True)
    else:
        options = [option] * x.ndim
    for axis, ((lo, hi), opt) in enumerate(zip(widths, options)):
        if lo or hi:
            x = _pad_axis(x, axis, int(lo), int(hi), mode, opt)
    return x


# ---- np.linspace between Tensor endpoints --------------------------------------------------------

@implements(np.linspace)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *,
             device=None):
    """np.linspace, differentiable in start and stop: sample i is start + i (stop - start) / div,
    so d/dstart = 1 - i/div and d/dstop = i/div (the endpoint is stop itself)"""
    from ..tensor import Tensor
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"linspace: Number of samples, {num}, must be non-negative.")
    if device not in (None, "cpu"):
        raise ValueError(f"linspace: Device not understood. Only \"cpu\" is allowed, but "
                         f"received: {device}")
    div = (num - 1) if endpoint else num
    plain = [v.data if isinstance(v, Tensor) else v for v in (start, stop)]
    dt = np.result_type(*plain)
    if dt.kind not in "fc":
        dt = np.result_type(dt, 1.0)
    lo, hi = (astype(as_tensor(v), dt) for v in (start, stop))
    delta = hi - lo
    y = np.arange(0, num, dtype=dt).reshape((-1,) + (1,) * delta.ndim)
    if div > 0:
        step = delta / div
        y = (y / div) * delta if np.any(step.data == 0) else y * step
    else:
        step = np.nan
        y = y * delta
    # NumPy adds start into y, in y's dtype (a Python number promotes weakly, as there)
    y = astype(y + (start if type(start) in (int, float) else as_tensor(start)), dt)
    if endpoint and num > 1:
        last = reshape(broadcast_to(hi, y.shape[1:]), (1,) + y.shape[1:])
        y = concatenate([y[:-1], last], 0)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None and np.issubdtype(dtype, np.integer):
        y = Tensor._make(inspected(_floor_as, y, dtype), None)     # rounded down: no gradient
    elif dtype is not None:
        y = astype(y, dtype)
    return (y, step) if retstep else y


def _floor_as(y: np.ndarray, dtype) -> np.ndarray:
    return np.floor(y).astype(dtype)
