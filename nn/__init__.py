"""graphgrad's neural-network library: modules, layers, losses, optimizers, data and checkpoints.

    import nn
    import nn.functional as F
"""

from .module import Module, Parameter
from .layers import *  # noqa: F401,F403  (every layer module: Linear, Conv2d, ReLU, ...)
from .layers import __all__ as _layer_names
from .losses import (MSELoss, L1Loss, HuberLoss, BCELoss, BCEWithLogitsLoss, CrossEntropyLoss,
                     NLLLoss, SmoothL1Loss, KLDivLoss)
from .serialization import save, load
from . import functional, init, losses, utils  # noqa: F401

from . import optim, data  # noqa: F401  (filled by the training side: optimizers, datasets)
from .fit import fit  # noqa: F401

__all__ = ["Module", "Parameter", "MSELoss", "L1Loss", "HuberLoss", "BCELoss",
           "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "SmoothL1Loss", "KLDivLoss", "save", "load", "functional",
           "init", "losses", "utils", "optim", "data", "fit"] + list(_layer_names)
