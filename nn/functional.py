"""nn.functional: every layer and loss as a function of Tensors (``import nn.functional as F``).

The implementations live beside their modules (nn/layers/*.py, nn/losses.py); this is the one
place that gathers them.
"""

from .layers.activation import (identity, binary_step, sigmoid, tanh, arctan, relu, prelu, elu,
                                softplus, leaky_relu, gelu, silu, softmax, log_softmax, erf)
from .layers.attention import scaled_dot_product_attention
from .layers.conv import conv1d, conv2d, unfold, fold
from .layers.conv_transpose import conv_transpose2d
from .layers.group_norm import group_norm, dropout2d
from .layers.dropout import dropout
from .layers.embedding import embedding
from .layers.linear import linear, flatten, unflatten
from .layers.norm import batch_norm, layer_norm
from .layers.pool import max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d
from .layers.recurrent import rnn_cell, lstm_cell, gru_cell
from .losses import (mse_loss, l1_loss, huber_loss, binary_cross_entropy,
                     binary_cross_entropy_with_logits, cross_entropy, nll_loss, smooth_l1_loss,
                     kl_div, l2_penalty)
from .tensor_functions import one_hot, pad, normalize, cosine_similarity

__all__ = ["identity", "binary_step", "sigmoid", "tanh", "arctan", "relu", "prelu", "elu",
           "softplus", "leaky_relu", "gelu", "silu", "softmax", "log_softmax", "erf", "conv2d",
           "unfold", "fold", "dropout", "embedding", "linear", "flatten", "batch_norm",
           "layer_norm", "max_pool2d", "avg_pool2d", "rnn_cell", "lstm_cell", "gru_cell",
           "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "smooth_l1_loss",
           "kl_div", "l2_penalty", "scaled_dot_product_attention", "conv1d", "conv_transpose2d",
           "group_norm", "dropout2d", "unflatten", "adaptive_avg_pool2d", "adaptive_max_pool2d", "one_hot", "pad", "normalize", "cosine_similarity"]
