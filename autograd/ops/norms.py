"""Vector and matrix norms with np.linalg.norm's meaning."""

from __future__ import annotations

__all__: list[str] = []
