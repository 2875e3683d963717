"""graphgrad's engine: Tensors that record operations, and reverse-mode differentiation.

    import autograd as ag
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()          # x.grad == [2., 4.]
"""

from .malloc import keep_freed_memory
from .tensor import Tensor, tensor
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, is_grad_enabled, detect_anomaly,
                        is_anomaly_enabled)
from .engine import Op, apply, unbroadcast
from .reverse import grad
from .function import Function
from .creation import (zeros, ones, full, zeros_like, ones_like, arange, randn, rand, manual_seed,
                       default_rng, empty, empty_like, full_like, rand_like, randn_like, randint,
                       eye, from_numpy, as_tensor)
from .dtypes import (float16, half, float32, float64, double, int8, int16, int32, int64, uint8,
                     long, bool_)
from . import dtypes as _dtypes
from .spelling import values_indices
from .gradcheck import gradcheck
from .compiler import compile, CompileError  # noqa: A001  (ag.compile, as torch.compile)
from . import ops
from .ops import *  # noqa: F401,F403  (every public op: exp, sum, matmul, ...)

inference_mode = no_grad   # PyTorch's name: graphgrad has one no-recording mode

# dim=/keepdim= are accepted wherever axis=/keepdims= are, and mean what PyTorch means.
from .spelling import accepts_dim as _accepts_dim  # noqa: E402
sum = _accepts_dim(sum)  # noqa: F405,A001
mean = _accepts_dim(mean)  # noqa: F405
prod = _accepts_dim(prod)  # noqa: F405
max = _accepts_dim(max)  # noqa: F405,A001
min = _accepts_dim(min)  # noqa: F405,A001
var = _accepts_dim(var)  # noqa: F405
std = _accepts_dim(std)  # noqa: F405
argmax = _accepts_dim(argmax)  # noqa: F405
argmin = _accepts_dim(argmin)  # noqa: F405
cumsum = _accepts_dim(cumsum)  # noqa: F405
logsumexp = _accepts_dim(logsumexp)  # noqa: F405
softmax = _accepts_dim(softmax)  # noqa: F405
log_softmax = _accepts_dim(log_softmax)  # noqa: F405
squeeze = _accepts_dim(squeeze)  # noqa: F405
concatenate = _accepts_dim(concatenate)  # noqa: F405
stack = _accepts_dim(stack)  # noqa: F405
sort = _accepts_dim(sort)  # noqa: F405
median = _accepts_dim(median)  # noqa: F405
from .spelling import accepts_diagonal as _accepts_diagonal, linspace_names as _linspace  # noqa: E402
tril = _accepts_diagonal(tril)  # noqa: F405
triu = _accepts_diagonal(triu)  # noqa: F405
linspace = _linspace(linspace)  # noqa: F405
float, int, bool = _dtypes.float, _dtypes.int, _dtypes.bool   # noqa: A001 - ag.float is float32


def cat(tensors, dim=0, *, axis=None):
    """PyTorch's name for concatenate (dim= or axis=)."""
    if axis is not None and dim != 0:
        raise TypeError("cat: pass dim= (PyTorch) or axis= (NumPy), not both")
    return concatenate(tensors, axis if axis is not None else dim)  # noqa: F405

# The public ops: each one has a row in tests/op_specs.py, which fails when one is missing.
OPS = tuple(ops.__all__)

__all__ = [
    "Tensor", "tensor", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "detect_anomaly", "is_anomaly_enabled", "grad", "Function", "gradcheck", "Op", "apply",
    "unbroadcast", "zeros", "ones", "full", "zeros_like", "ones_like", "arange", "randn", "rand",
    "manual_seed", "default_rng", "OPS", "empty", "empty_like", "full_like", "rand_like",
    "randn_like", "randint", "eye", "from_numpy", "as_tensor", "float16", "half", "float32",
    "float64", "double", "int8", "int16", "int32", "int64", "uint8", "long", "bool_",
    "values_indices", "inference_mode", "cat", "compile", "CompileError",
] + list(ops.__all__)

keep_freed_memory()   # see autograd/malloc.py: training steps stop faulting in fresh pages
