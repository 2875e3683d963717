"""graphgrad's neural-network library: modules, layers, losses, optimizers, data and checkpoints."""
