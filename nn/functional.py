"""nn.functional: every layer and loss as a plain function of Tensors (``import nn.functional as F``).

The implementations live beside their modules (nn/layers/*.py, nn/losses.py); this is the one
place that gathers them.
"""

from .layers.activation import (identity, binary_step, sigmoid, tanh, arctan, relu, prelu, elu,
                                softplus, leaky_relu, gelu, silu, softmax, log_softmax, erf)
from .layers.linear import linear, flatten
from .losses import (mse_loss, l1_loss, huber_loss, binary_cross_entropy,
                     binary_cross_entropy_with_logits, cross_entropy, nll_loss, l2_penalty)

__all__ = ["identity", "binary_step", "sigmoid", "tanh", "arctan", "relu", "prelu", "elu",
           "softplus", "leaky_relu", "gelu", "silu", "softmax", "log_softmax", "erf", "linear",
           "flatten", "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "l2_penalty"]
