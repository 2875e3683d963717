"""Joining, splitting and rearranging beyond shape.py (vstack/hstack/..., array_split, tile,
repeat, roll, flip, rot90, moveaxis, ...); each with NumPy's routing declared beside it."""

from __future__ import annotations

__all__: list[str] = []
