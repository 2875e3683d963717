"""Module.apply, parameters(recurse=), named_parameters(prefix=, recurse=), the repr with
parameter counts, and the layer dtype rule (API.md: ndarray/list input is cast to the layer's
dtype; a Tensor of another float dtype raises TypeError naming both)."""

import numpy as np
import pytest

import autograd as ag
import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        self.head = nn.Linear(3, 1)
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))

    def forward(self, x):
        return self.head(self.body(x)) * self.scale


def test_apply_visits_children_before_parents_and_returns_self():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "ReLU", "Sequential", "Linear", "Net"]     # PyTorch's order

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
    net.apply(init)
    assert not net.head.weight.data.any() and not net.body[0].weight.data.any()


def test_parameters_recurse_and_prefix():
    net = Net()
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert len(list(net.parameters(recurse=False))) == 1
    names = [n for n, _ in net.named_parameters(prefix="model")]
    assert names == ["model.scale", "model.body.0.weight", "model.body.0.bias",
                     "model.head.weight", "model.head.bias"]
    assert len(list(net.parameters())) == 5


def test_repr_has_pytorch_layout_and_parameter_counts():
    net = Net()
    net.head.requires_grad_(False)
    lines = repr(net).splitlines()
    assert lines[0] == "Net("
    assert lines[1] == "  (body): Sequential("
    assert lines[2] == "    (0): Linear(in_features=2, out_features=3, bias=True)  # 9 parameters"
    assert lines[3] == "    (1): ReLU()"
    assert lines[4] == "  )  # 9 parameters"
    assert lines[5] == "  (head): Linear(in_features=3, out_features=1, bias=True)  # 4 parameters"
    assert lines[-1] == ")  # 14 parameters, 10 trainable"
    tied = nn.Sequential(nn.Linear(2, 2, bias=False))
    tied.append(tied[0])
    assert repr(tied).endswith(")  # 4 parameters")                # a tied weight counts once


def test_layer_dtype_rule():
    layer = nn.Linear(3, 2)                              # float32
    out = layer(np.ones((1, 3)))                         # float64 ndarray: cast
    assert out.dtype == np.float32
    assert layer([[1, 2, 3]]).dtype == np.float32        # a list too
    assert layer(ag.tensor(np.ones((1, 3), np.int64))).dtype == np.float32
    with pytest.raises(TypeError, match="Linear: input Tensor has dtype float64 but the layer's "
                                        "parameters are float32"):
        layer(ag.tensor(np.ones((1, 3))))
    with pytest.raises(TypeError, match="Conv2d.*float64.*float32"):
        nn.Conv2d(1, 1, 1)(ag.tensor(np.ones((1, 1, 2, 2))))
    assert layer.double()(ag.tensor(np.ones((1, 3)))).dtype == np.float64


def test_flatten_takes_pytorchs_keywords():
    x = np.zeros((2, 3, 4, 5), np.float32)
    assert nn.Flatten(start_dim=2)(x).shape == (2, 3, 20)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(start_axis=0, end_axis=1)(x).shape == (6, 4, 5)
