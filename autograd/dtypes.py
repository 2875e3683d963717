"""dtype aliases under PyTorch's names: ag.float32, ag.long, ... (they are NumPy dtypes)."""

from __future__ import annotations

import numpy as np

float16 = half = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8 = np.dtype(np.uint8)
long = int64
bool_ = np.dtype(np.bool_)

# Exported by name only (ag.float, ag.int, ag.bool): a star import must not shadow the builtins.
float = float32  # noqa: A001 - PyTorch's torch.float is float32
int = int32  # noqa: A001 - PyTorch's torch.int is int32
bool = bool_  # noqa: A001

__all__ = ["float16", "half", "float32", "float64", "double", "int8", "int16", "int32", "int64",
           "uint8", "long", "bool_"]
