"""Sorting and selection: sort, partition, take, take_along_axis, select, tril/triu, diag,
diagonal, ... ; each with NumPy's routing declared beside it."""

from __future__ import annotations

__all__: list[str] = []
