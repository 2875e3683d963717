"""Statistics and running reductions beyond reduce.py (nan-aware reductions, median, average, ptp,
cov, diff, gradient, cumprod, ...), each with NumPy's routing declared beside it."""

from __future__ import annotations

__all__: list[str] = []
