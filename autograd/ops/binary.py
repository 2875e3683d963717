"""More elementwise functions of two inputs (hypot, arctan2, logaddexp, fmax/fmin, remainders,
...), each with NumPy's ufunc routing declared beside it."""

from __future__ import annotations

__all__: list[str] = []
