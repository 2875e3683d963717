"""Rows of the op table (tests/op_specs.py) for the NumPy-coverage ops of this family."""

from __future__ import annotations

from op_specs import OpSpec  # noqa: F401

ROWS: list[OpSpec] = []
