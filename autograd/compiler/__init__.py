"""ag.compile: capture a training step once, replay it as a flat program (see step.py)."""

from .protocol import CompileError, lowered, is_capturing
from .step import compile, CompiledStep

__all__ = ["compile", "CompileError", "CompiledStep", "lowered", "is_capturing"]
