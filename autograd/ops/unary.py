"""More elementwise functions of one input (trigonometric, hyperbolic, logarithms in other bases,
rounding, ...), each with NumPy's ufunc routing declared beside it."""

from __future__ import annotations

__all__: list[str] = []
