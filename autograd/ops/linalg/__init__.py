"""Linear algebra, one module per concern: products (matmul, dot, tensordot, ...), einsum,
solving (inv, solve, det, ...), decompositions (cholesky, qr, eigh, svd) and np.linalg's array-API
aliases.  Importing the modules registers their NumPy routing."""

from __future__ import annotations

from . import aliases as _aliases, einsum as _einsum_module, products as _products
from .einsum import *  # noqa: F401,F403
from .einsum import _np_einsum  # noqa: F401  (np.einsum's adapter: the sublist form goes there)
from .products import *  # noqa: F401,F403
from .products import MatMul, _mT  # noqa: F401  (tensor.py's ``@``; nn and benchmarks)

__all__ = _products.__all__ + _einsum_module.__all__ + _aliases.__all__
