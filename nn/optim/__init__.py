"""Optimizers: SGD, Adam, AdamW, RMSprop, Adagrad; schedulers in nn.optim.lr_scheduler."""
