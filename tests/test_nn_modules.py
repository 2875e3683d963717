"""nn.Module and friends: registration, traversal, modes, dtype, copying, checkpoints in memory,
initialisers and gradient clipping."""

import copy
import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd.grad_mode import STATE


class MLP(nn.Module):
    def __init__(self, dtype=np.float32):
        super().__init__()
        self.fc1 = nn.Linear(3, 4, dtype=dtype)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 2, dtype=dtype)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Tied(nn.Module):
    """An encoder and decoder sharing one weight, plus a shared sub-module used twice."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(3, 3, bias=False)
        self.decoder = nn.Linear(3, 3, bias=False)
        self.decoder.weight = self.encoder.weight
        self.block = nn.Linear(3, 3)
        self.again = self.block

    def forward(self, x):
        return self.decoder(self.again(self.block(self.encoder(x))))


# ---- Parameter ----------------------------------------------------------------------------------

def test_parameter_copies_requires_grad_and_refuses_integers():
    data = np.arange(3.0)
    p = nn.Parameter(data)
    assert isinstance(p, ag.Tensor) and p.requires_grad and p.is_leaf
    data[0] = 99
    assert p.data[0] == 0 and not np.shares_memory(p.data, data)
    q = nn.Parameter(p)
    assert not np.shares_memory(q.data, p.data)
    assert nn.Parameter(np.zeros(2, np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))
    assert "Parameter" in repr(p)


# ---- registration and traversal -----------------------------------------------------------------

def test_nested_registration_in_definition_order():
    model = MLP()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in model.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(model.children()) == [model.fc1, model.act, model.fc2]
    assert sum(p.size for p in model.parameters()) == 3 * 4 + 4 + 4 * 2 + 2


def test_tied_weights_and_shared_modules_appear_once():
    model = Tied()
    params = list(model.parameters())
    assert len(params) == 3                                 # tied weight, block weight and bias
    assert len({id(p) for p in params}) == 3
    assert [n for n, _ in model.named_parameters()] == ["encoder.weight", "block.weight",
                                                        "block.bias"]
    assert len(list(model.modules())) == 4
    # The state dict names every path (as PyTorch does), and loading writes the shared array.
    assert set(model.state_dict()) == {"encoder.weight", "decoder.weight", "block.weight",
                                       "block.bias", "again.weight", "again.bias"}
    out = model(np.ones((2, 3), np.float32))
    out.sum().backward()
    assert model.encoder.weight.grad is model.decoder.weight.grad


def test_unknown_attribute_raises_attribute_error():
    model = MLP()
    with pytest.raises(AttributeError, match="fc3"):
        model.fc3
    with pytest.raises(AttributeError):
        model.fc1.wieght
    assert not hasattr(model, "nothing_here")


def test_reassignment_routes_and_type_checks():
    model = MLP()
    with pytest.raises(TypeError, match="parameter"):
        model.fc1.weight = np.zeros((4, 3))
    with pytest.raises(TypeError, match="sub-module"):
        model.fc1 = "not a module"
    model.fc1.bias = None                                   # removing a parameter is allowed
    assert [n for n, _ in model.named_parameters()][:2] == ["fc1.weight", "fc2.weight"]
    model.extra = nn.Parameter(np.zeros(2))
    assert "extra" in dict(model.named_parameters())
    del model.extra
    assert "extra" not in dict(model.named_parameters())
    model.note = "plain attribute"
    assert model.note == "plain attribute" and "note" not in dict(model.named_parameters())


def test_forgetting_super_init_is_explained():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_buffers_are_registered_and_persistence_controls_state_dict():
    model = nn.Module()
    model.register_buffer("count", np.zeros(2))
    model.register_buffer("scratch", np.ones(3), persistent=False)
    assert isinstance(model.count, ag.Tensor) and not model.count.requires_grad
    assert [n for n, _ in model.named_buffers()] == ["count", "scratch"]
    assert list(model.state_dict()) == ["count"]
    model.count = np.full(2, 5.0)                            # assignment keeps it a buffer
    assert model.state_dict()["count"].tolist() == [5.0, 5.0]
    assert list(model.parameters()) == []


def test_train_eval_propagate_and_return_self():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_zero_grad_sets_none_and_requires_grad_freezes():
    model = MLP()
    model(np.ones((2, 3))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.fc1.requires_grad_(False)
    model(np.ones((2, 3))).sum().backward()
    assert model.fc1.weight.grad is None and model.fc2.weight.grad is not None
    assert model.requires_grad_(True) is model and model.fc1.weight.requires_grad


def test_call_pushes_module_scope_and_restores_it():
    model = MLP()
    x = ag.tensor(np.ones((2, 3), np.float32))
    out = model(x)
    assert STATE.scope is None
    assert out.grad_fn.scope == (model, model.fc2)
    tanh_node = out.grad_fn.parents[0]
    assert tanh_node.scope == (model, model.act)

    class Failing(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        Failing()(x)
    assert STATE.scope is None


def test_repr_shows_the_tree():
    text = repr(nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Dropout(0.25))))
    assert text.splitlines()[0] == "Sequential("
    assert "(0): Linear(in_features=2, out_features=3, bias=True)" in text
    assert "    (1): Dropout(p=0.25)" in text


# ---- containers ---------------------------------------------------------------------------------

def test_sequential_runs_in_order_and_indexes():
    seq = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    assert len(seq) == 3 and isinstance(seq[1], nn.ReLU)
    assert isinstance(seq[:2], nn.Sequential) and len(seq[:2]) == 2
    x = np.ones((5, 3), np.float32)
    expected = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(seq(x).data, expected.data)
    named = nn.Sequential({"first": nn.Linear(1, 1)})
    assert [n for n, _ in named.named_parameters()] == ["first.weight", "first.bias"]
    with pytest.raises(TypeError):
        nn.Sequential(nn.Linear(1, 1), "relu")


def test_module_list_and_dict_register_their_members():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.Linear(2, 1))
    assert len(layers) == 4 and len(list(layers.parameters())) == 8
    assert [n for n, _ in layers.named_parameters()][-1] == "3.bias"
    heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})
    heads["c"] = nn.Linear(2, 2)
    assert list(heads) == ["a", "b", "c"] and "b" in heads
    assert sorted(n for n, _ in heads.named_parameters())[0] == "a.bias"
    with pytest.raises(TypeError):
        heads["d"] = 3


# ---- dtype and copying --------------------------------------------------------------------------

def test_to_casts_in_place_keeping_parameter_identity():
    model = MLP()
    before = list(model.parameters())
    assert all(p.dtype == np.float32 for p in before)
    assert model(np.ones((1, 3))).dtype == np.float32          # ndarray input takes layer dtype
    model.double()
    assert [id(p) for p in model.parameters()] == [id(p) for p in before]
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model(np.ones((1, 3))).dtype == np.float64
    model.float()
    assert model.fc1.weight.dtype == np.float32
    with pytest.raises(TypeError):
        model.to(np.int32)
    bn = nn.BatchNorm1d(2).to(np.float64)
    assert bn.running_mean.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64


def test_deepcopy_is_independent_and_keeps_ties():
    model = Tied()
    model(np.ones((1, 3), np.float32)).sum().backward()
    clone = copy.deepcopy(model)
    assert clone.decoder.weight is clone.encoder.weight
    assert clone.again is clone.block
    assert clone.encoder.weight is not model.encoder.weight
    np.testing.assert_array_equal(clone.block.weight.grad, model.block.weight.grad)
    clone.block.weight.data[...] = 0
    assert not np.all(model.block.weight.data == 0)
    bn = nn.BatchNorm1d(3)
    bn_clone = copy.deepcopy(bn)
    bn_clone(np.random.default_rng(0).standard_normal((4, 3)))
    assert np.all(bn.running_mean.data == 0) and not np.all(bn_clone.running_mean.data == 0)


# ---- state dicts in memory ----------------------------------------------------------------------

def test_state_dict_round_trip_copies_into_existing_parameters():
    source, target = MLP(), MLP()
    weight = target.fc1.weight
    optimizer = nn.optim.SGD(target.parameters(), lr=0.1)
    sd = source.state_dict()
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["fc1.bias"][...] = 7                                  # a snapshot, not a view
    assert not np.any(source.fc1.bias.data == 7)
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.fc1.weight is weight
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(target(x).data, source(x).data)
    # The optimizer still holds the same Parameters, so a step moves the loaded values.
    target(x).sum().backward()
    optimizer.step()
    assert not np.array_equal(target.fc1.weight.data, source.fc1.weight.data)


def _snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def test_strict_loading_names_problems_and_leaves_model_unchanged():
    model = MLP()
    before = _snapshot(model)
    good = MLP().state_dict()
    bad = dict(good)
    del bad["fc2.bias"]
    bad["fc3.weight"] = np.zeros((1, 1))
    bad["fc1.weight"] = np.zeros((5, 3))
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert "fc2.bias" in message and "fc3.weight" in message
    assert "fc1.weight" in message and "(5, 3)" in message and "(4, 3)" in message
    for key, value in _snapshot(model).items():
        np.testing.assert_array_equal(value, before[key])
    # A shape mismatch alone also leaves every other entry untouched.
    only_shape = dict(good)
    only_shape["fc2.weight"] = np.zeros((3, 3))
    with pytest.raises(RuntimeError, match="size mismatch"):
        model.load_state_dict(only_shape)
    np.testing.assert_array_equal(model.fc1.weight.data, before["fc1.weight"])


def test_non_strict_loading_reports_and_loads_the_rest():
    model = MLP()
    partial = {"fc1.weight": np.full((4, 3), 2.0), "other": np.zeros(1)}
    result = model.load_state_dict(partial, strict=False)
    assert result.unexpected_keys == ["other"] and "fc2.bias" in result.missing_keys
    assert np.all(model.fc1.weight.data == 2) and model.fc1.weight.dtype == np.float32
    with pytest.raises(RuntimeError, match="not a real number"):
        model.load_state_dict({"fc1.weight": np.full((4, 3), "x")}, strict=False)


# ---- init and utils -----------------------------------------------------------------------------

def test_initialisers_follow_their_formulas_and_the_seed():
    w = nn.Parameter(np.zeros((200, 300)))
    ag.manual_seed(1)
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    first = w.data.copy()
    bound = math.sqrt(2.0) * math.sqrt(3.0 / 300)
    assert np.abs(first).max() <= bound and np.abs(first).max() > 0.95 * bound
    ag.manual_seed(1)
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    np.testing.assert_array_equal(w.data, first)
    nn.init.kaiming_normal_(w, nonlinearity="relu")
    assert abs(w.data.std() - math.sqrt(2.0 / 300)) < 0.05 * math.sqrt(2.0 / 300)
    nn.init.xavier_uniform_(w)
    assert np.abs(w.data).max() <= math.sqrt(6.0 / 500)
    nn.init.xavier_normal_(w)
    assert abs(w.data.std() - math.sqrt(2.0 / 500)) < 0.05 * math.sqrt(2.0 / 500)
    nn.init.zeros_(w)
    assert not w.data.any()
    nn.init.ones_(w)
    assert np.all(w.data == 1)
    with pytest.raises(ValueError):
        nn.init.xavier_uniform_(nn.Parameter(np.zeros(3)))


def test_default_layer_init_is_reproducible_from_manual_seed():
    ag.manual_seed(123)
    a = MLP().state_dict()
    ag.manual_seed(123)
    b = MLP().state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert np.abs(a["fc1.weight"]).max() <= 1 / math.sqrt(3)


def test_clip_grad_norm_scales_jointly_and_returns_the_norm():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(1))
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.shape == () and total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(np.concatenate([a.grad, b.grad]), [0.6, 0, 0.8], atol=1e-6)
    assert nn.utils.clip_grad_norm_([a, b], max_norm=10.0).item() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(a.grad, [0.6, 0], atol=1e-6)       # under the limit: unchanged
    a.grad = np.array([-3.0, 0.5])
    nn.utils.clip_grad_value_([a], 1.0)
    np.testing.assert_array_equal(a.grad, [-1.0, 0.5])
    assert nn.utils.clip_grad_norm_([nn.Parameter(np.zeros(1))], 1.0).item() == 0.0


def test_l2_penalty_of_a_module_is_half_the_sum_of_squares():
    model = MLP(dtype=np.float64)
    expected = 0.5 * sum(float((p.data ** 2).sum()) for p in model.parameters())
    penalty = F.l2_penalty(model)
    assert penalty.item() == pytest.approx(expected)
    penalty.backward()
    for p in model.parameters():
        np.testing.assert_allclose(p.grad, p.data)


def test_attribute_reads_and_registries_stay_in_step():
    """Parameters, modules and buffers are read as plain attributes; every way of changing them
    keeps what forward reads and what traversal sees the same."""
    m = nn.Linear(2, 3)
    new = nn.Parameter(np.zeros((3, 2), np.float32))
    m.weight = new
    assert m.weight is new and dict(m.named_parameters())["weight"] is new
    assert [k for k, _ in m.named_parameters()] == ["weight", "bias"]   # keeps its place
    m.bias = None
    assert m.bias is None and [k for k, _ in m.named_parameters()] == ["weight"]
    del m.weight
    with pytest.raises(AttributeError):
        m.weight
    assert list(m.named_parameters()) == []
    lst = nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 2)])
    replacement = nn.Linear(1, 3)
    lst[0] = replacement
    assert lst[0] is replacement and getattr(lst, "0") is replacement
    assert [k for k, _ in lst.named_modules()][1:] == ["0", "1"]
    md = nn.ModuleDict({"a": nn.Linear(1, 1)})
    del md["a"]
    assert "a" not in md and not hasattr(md, "a")
    bn = nn.BatchNorm1d(2)
    bn.running_mean = np.ones(2, np.float32)
    assert bn.running_mean is dict(bn.named_buffers())["running_mean"]
