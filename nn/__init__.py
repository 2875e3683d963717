"""graphgrad's neural-network library: modules, layers, losses, optimizers, data and checkpoints.

    import nn
    import nn.functional as F
"""

from . import optim, data  # noqa: F401  (filled by the training side: optimizers, datasets)
from .fit import fit  # noqa: F401
