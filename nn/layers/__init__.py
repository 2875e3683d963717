"""Layer modules, one family per file; their functional forms are re-exported by nn.functional."""

from .activation import (Identity, BinaryStep, Sigmoid, Tanh, ArcTan, ReLU, PReLU, ELU, Softplus,
                         LeakyReLU, GELU, SiLU, Softmax, LogSoftmax)
from .container import Sequential, ModuleList, ModuleDict
from .linear import Linear, Flatten

__all__ = ["Identity", "BinaryStep", "Sigmoid", "Tanh", "ArcTan", "ReLU", "PReLU", "ELU",
           "Softplus", "LeakyReLU", "GELU", "SiLU", "Softmax", "LogSoftmax", "Sequential",
           "ModuleList", "ModuleDict", "Linear", "Flatten"]
