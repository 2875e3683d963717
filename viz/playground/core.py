"""The Playground's network and training step, in plain graphgrad.

This module is self-contained on purpose (numpy, autograd and nn only): the exported Python script
is built from its source text, so the script trains exactly the network the page trains, with the
same initialisation, batching order and loss.
"""

import numpy as np

import autograd as ag
import nn
import nn.functional as F

FEATURES = {   # name -> function of the two coordinates, as the TensorFlow Playground's inputs
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1sq": lambda a, b: a * a,
    "x2sq": lambda a, b: b * b,
    "x1x2": lambda a, b: a * b,
    "sinx1": lambda a, b: np.sin(a),
    "sinx2": lambda a, b: np.sin(b),
}

ACTIVATIONS = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity,
    "binary_step": nn.BinaryStep, "arctan": nn.ArcTan, "prelu": None, "elu": nn.ELU,
    "softplus": nn.Softplus,
}


def features(points, names):
    """(n, 2) coordinates -> (n, len(names)) float32 input features."""
    a, b = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    return np.stack([FEATURES[n](a, b) for n in names], axis=1).astype(np.float32)


def make_activation(name, width):
    if name == "prelu":
        return nn.PReLU(width)   # one learnable slope per neuron
    return ACTIVATIONS[name]()


class Layer(nn.Module):
    """One column of neurons: a Linear map and its activation (one cluster in the graph view)."""

    def __init__(self, n_in, n_out, activation):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.activation = make_activation(activation, n_out)

    def forward(self, x):
        return self.activation(self.linear(x))


class Network(nn.Module):
    """hidden1 ... hiddenK, then output: tanh for classification with half squared error (the
    Playground's), a bare logit for cross-entropy, linear for regression."""

    def __init__(self, n_inputs, layers, activation, problem, loss):
        super().__init__()
        self.depth = len(layers)
        width = n_inputs
        for i, n in enumerate(layers):
            setattr(self, f"hidden{i + 1}", Layer(width, n, activation))
            width = n
        out_act = "tanh" if problem == "classification" and loss == "half_sse" else "linear"
        self.output = Layer(width, 1, out_act)

    def layers(self):
        return [getattr(self, f"hidden{i + 1}") for i in range(self.depth)] + [self.output]

    def forward(self, x):
        for layer in self.layers():
            x = layer(x)
        return x


def build(settings, seed):
    """The network for the settings, initialised as the Playground does: weights uniform in
    [-0.5, 0.5], biases 0.1, drawn from one generator seeded with ``seed``."""
    model = Network(len(settings["features"]), settings["layers"], settings["activation"],
                    settings["problem"], settings["loss"])
    rng = np.random.default_rng(seed)
    for layer in model.layers():
        w, b = layer.linear.weight, layer.linear.bias
        w.data[...] = rng.uniform(-0.5, 0.5, w.shape).astype(np.float32)
        b.data[...] = 0.1
    return model


def make_optimizer(settings, model):
    lr = settings["learning-rate"]
    if settings["optimizer"] == "adam":
        return nn.optim.Adam(model.parameters(), lr=lr)
    momentum = 0.9 if settings["optimizer"] == "momentum" else 0.0
    return nn.optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def data_loss(settings, output, target):
    """Mean of 1/2 (output - target)^2 with labels +-1, or binary cross-entropy of the logit."""
    if settings["loss"] == "cross_entropy":
        return F.binary_cross_entropy_with_logits(output, (target + 1) * 0.5)
    return ((output - target) ** 2).mean() * 0.5


def penalty(settings, model):
    """The regulariser on weights (not biases): rate * sum |w| or rate * 1/2 sum w^2."""
    kind, rate = settings["regularization"], settings["regularization-rate"]
    if kind == "none" or rate == 0:
        return None
    weights = [layer.linear.weight for layer in model.layers()]
    if kind == "l1":
        total = weights[0].abs().sum()
        for w in weights[1:]:
            total = total + w.abs().sum()
        return total * rate
    return F.l2_penalty(weights) * rate


def update(settings, model, optimizer, x, t):
    """One optimizer step on a batch; returns the batch's data loss."""
    optimizer.zero_grad()
    loss = data_loss(settings, model(ag.Tensor(x)), ag.Tensor(t))
    reg = penalty(settings, model)
    (loss if reg is None else loss + reg).backward()
    optimizer.step()
    return loss.item()


def evaluate(settings, model, x, t):
    """The data loss over a whole set (NaN for an empty set)."""
    if len(x) == 0:
        return float("nan")
    with ag.no_grad():
        return data_loss(settings, model(ag.Tensor(x)), ag.Tensor(t)).item()


def predict(settings, model, x):
    """Outputs on the Playground's scale: in [-1, 1] for classification (a logit z shows as
    tanh(z / 2) = 2 sigmoid(z) - 1), the value itself for regression."""
    with ag.no_grad():
        out = model(ag.Tensor(x)).data[:, 0]
    if settings["loss"] == "cross_entropy":
        out = np.tanh(out * 0.5)
    return out


def epoch_order(rng, n):
    """The shuffled order of one epoch (one permutation per epoch from the run's generator)."""
    return rng.permutation(n)
