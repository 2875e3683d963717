"""Minibatches, the TensorFlow Playground datasets and an MNIST IDX loader."""
