"""Optimizers: SGD, Adam, AdamW, NAdam, RAdam, RMSprop, Adagrad; schedulers in nn.optim.lr_scheduler.

    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt.zero_grad(); loss.backward(); opt.step()
"""

from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, AdamW
from .adam_variants import NAdam, RAdam
from .rmsprop import RMSprop
from .adagrad import Adagrad
from . import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "NAdam", "RAdam", "RMSprop", "Adagrad", "lr_scheduler"]
