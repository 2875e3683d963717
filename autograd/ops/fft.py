"""np.fft on Tensors: the real-valued shifts differentiate; the transforms, whose values are
complex, are refused as complex numbers are (see routing.COMPLEX_RESULTS)."""

from __future__ import annotations

import numpy as np

from .elementwise import copy
from .join import roll
from .routing import implements

__all__ = ["fftshift", "ifftshift"]


def _shifts(x, axes, sign):
    shape = np.shape(getattr(x, "data", x))
    axes = tuple(range(len(shape))) if axes is None else (
        (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes))
    # fftshift moves the zero frequency to the centre: n // 2; ifftshift undoes it: -(n // 2).
    return [sign * (shape[a] // 2) for a in axes], axes


@implements(np.fft.fftshift)
def fftshift(x, axes=None):
    """np.fft.fftshift: a cyclic roll by n // 2 along axes; the gradient is rolled back"""
    shifts, axes = _shifts(x, axes, 1)
    return roll(x, shifts, axes) if axes else copy(x)


@implements(np.fft.ifftshift)
def ifftshift(x, axes=None):
    """np.fft.ifftshift: a cyclic roll by -(n // 2) along axes; the gradient is rolled back"""
    shifts, axes = _shifts(x, axes, -1)
    return roll(x, shifts, axes) if axes else copy(x)
