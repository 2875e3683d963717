"""Layer modules, one family per file; their functional forms are re-exported by nn.functional."""

from .activation import (Identity, BinaryStep, Sigmoid, Tanh, ArcTan, ReLU, PReLU, ELU, Softplus,
                         LeakyReLU, GELU, SiLU, Softmax, LogSoftmax)
from .attention import MultiheadAttention
from .container import Sequential, ModuleList, ModuleDict
from .conv import Conv1d, Conv2d
from .conv_transpose import ConvTranspose2d
from .dropout import Dropout
from .embedding import Embedding
from .group_norm import GroupNorm, Dropout2d
from .linear import Linear, Flatten, Unflatten
from .norm import BatchNorm1d, BatchNorm2d, LayerNorm
from .pool import MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, AdaptiveMaxPool2d
from .recurrent import RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell
from .transformer import TransformerEncoderLayer, TransformerEncoder

__all__ = ["Identity", "BinaryStep", "Sigmoid", "Tanh", "ArcTan", "ReLU", "PReLU", "ELU",
           "Softplus", "LeakyReLU", "GELU", "SiLU", "Softmax", "LogSoftmax", "Sequential",
           "ModuleList", "ModuleDict", "Conv2d", "Dropout", "Embedding", "Linear", "Flatten",
           "BatchNorm1d", "BatchNorm2d", "LayerNorm", "MaxPool2d", "AvgPool2d", "RNN", "LSTM",
           "GRU", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention", "TransformerEncoderLayer",
           "TransformerEncoder", "Conv1d", "ConvTranspose2d", "GroupNorm", "Dropout2d", "Unflatten",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]
