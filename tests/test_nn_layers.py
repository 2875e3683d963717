"""Layers and activations: gradients (float64 gradcheck), values against plain NumPy references,
train/eval behaviour, PyTorch's conventions (gate order, running statistics) and input errors."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd as ag
import nn
import nn.functional as F

RNG = np.random.default_rng(0)


def t64(*shape, grad=True, scale=1.0):
    return ag.tensor(RNG.standard_normal(shape) * scale, requires_grad=grad)


def params_of(module):
    return list(module.parameters())


def check_module(module, x, extra=()):
    """gradcheck a float64 module's output with respect to its input and every parameter."""
    params = params_of(module)

    def fn(inp, *ps):
        out = module(inp)
        return out[0] if isinstance(out, tuple) else out

    assert ag.gradcheck(fn, [x] + params)


# ---- activations --------------------------------------------------------------------------------

def _erf(v):
    return np.vectorize(math.erf)(v)


# name: (function, module factory, NumPy reference)
ACTIVATIONS = {
    "identity": (F.identity, nn.Identity, lambda x: x),
    "binary_step": (F.binary_step, nn.BinaryStep, lambda x: (x >= 0).astype(float)),
    "sigmoid": (F.sigmoid, nn.Sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (F.tanh, nn.Tanh, np.tanh),
    "arctan": (F.arctan, nn.ArcTan, np.arctan),
    "relu": (F.relu, nn.ReLU, lambda x: np.maximum(x, 0)),
    "elu": (lambda x: F.elu(x, 0.7), lambda: nn.ELU(0.7),
            lambda x: np.where(x > 0, x, 0.7 * (np.exp(x) - 1))),
    "softplus": (lambda x: F.softplus(x, 2.0), lambda: nn.Softplus(2.0),
                 lambda x: np.log1p(np.exp(2 * x)) / 2),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), lambda: nn.LeakyReLU(0.1),
                   lambda x: np.where(x > 0, x, 0.1 * x)),
    "gelu": (F.gelu, nn.GELU, lambda x: x * 0.5 * (1 + _erf(x / math.sqrt(2)))),
    "gelu_tanh": (lambda x: F.gelu(x, "tanh"), lambda: nn.GELU("tanh"),
                  lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi)
                                                   * (x + 0.044715 * x ** 3)))),
    "silu": (F.silu, nn.SiLU, lambda x: x / (1 + np.exp(-x))),
    "softmax": (lambda x: F.softmax(x, 0), lambda: nn.Softmax(0),
                lambda x: np.exp(x) / np.exp(x).sum(0)),
    "log_softmax": (lambda x: F.log_softmax(x, 0), lambda: nn.LogSoftmax(0),
                    lambda x: x - np.log(np.exp(x).sum(0))),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_gradients_and_module_form(name):
    fn, module_cls, reference = ACTIVATIONS[name]
    x = t64(4, 3)
    x.data[np.abs(x.data) < 1e-3] = 0.5                   # keep finite differences off the kinks
    np.testing.assert_allclose(fn(x).data, reference(x.data), rtol=1e-12, atol=1e-12)
    module = module_cls()
    np.testing.assert_array_equal(module(x).data, fn(x).data)
    if name == "identity":
        assert fn(x) is x
        return
    assert ag.gradcheck(fn, [x])
    small = ag.tensor(np.linspace(-2, 2, 7, dtype=np.float32), requires_grad=True)
    out = module(small)
    assert out.dtype == np.float32
    out.sum().backward()
    assert small.grad.dtype == np.float32


def test_derivatives_at_kinks_follow_the_conventions():
    x = ag.tensor([0.0, -1.0, 2.0], requires_grad=True)
    cases = {
        F.relu: [0.0, 0.0, 1.0],
        F.binary_step: [0.0, 0.0, 0.0],
        (lambda v: F.leaky_relu(v, 0.1)): [0.1, 0.1, 1.0],
        (lambda v: F.elu(v, 0.5)): [0.5, 0.5 * math.exp(-1), 1.0],
        F.softplus: [0.5, 1 / (1 + math.e), 1 / (1 + math.exp(-2))],
    }
    for fn, expected in cases.items():
        x.grad = None
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad, expected, rtol=1e-12)
    assert F.binary_step(x).data.tolist() == [1.0, 0.0, 1.0]


def test_prelu_learns_its_slope_per_channel():
    layer = nn.PReLU(3, init=0.2, dtype=np.float64)
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    x = t64(2, 3, 4)
    x.data[np.abs(x.data) < 1e-3] = 0.5
    out = layer(x).data
    expected = np.where(x.data > 0, x.data, 0.2 * x.data)
    np.testing.assert_allclose(out, expected)
    check_module(layer, x)
    shared = nn.PReLU(dtype=np.float64)
    check_module(shared, x)
    with pytest.raises(ValueError, match="PReLU"):
        layer(t64(2, 4))


def test_gelu_erf_is_accurate_and_twice_differentiable():
    points = np.array([-6.0, -1.5, -1e-3, 0.0, 0.3, 2.5, 6.0])
    np.testing.assert_allclose(F.erf(ag.tensor(points)).data,
                               [math.erf(p) for p in points], rtol=1e-15, atol=1e-16)
    assert F.erf(ag.tensor(points.astype(np.float32))).dtype == np.float32

    def gelu_grad(x):
        with ag.enable_grad():
            leaf = x if x.requires_grad else x.detach().requires_grad_()
            return ag.grad(F.gelu(leaf).sum(), [leaf], create_graph=True)[0]

    assert ag.gradcheck(gelu_grad, [t64(5)])
    assert ag.gradcheck(F.erf, [t64(6)])


def test_softplus_is_finite_at_large_logits():
    x = ag.tensor([1e4, -1e4, 0.0], requires_grad=True)
    with np.errstate(all="raise"):
        y = F.softplus(x)
        y.sum().backward()
    np.testing.assert_allclose(y.data, [1e4, 0.0, math.log(2)])
    np.testing.assert_allclose(x.grad, [1.0, 0.0, 0.5])


# ---- Linear, Flatten ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3,), (5, 3), (2, 4, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients_and_values(shape, bias):
    layer = nn.Linear(3, 2, bias=bias, dtype=np.float64)
    x = t64(*shape)
    expected = x.data @ layer.weight.data.T + (layer.bias.data if bias else 0)
    np.testing.assert_allclose(layer(x).data, expected)
    check_module(layer, x)


def test_linear_default_dtype_and_shapes():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert layer.weight.dtype == np.float32
    assert layer(np.ones((2, 4))).dtype == np.float32


@pytest.mark.parametrize("layer, good, bad", [
    (nn.Linear(3, 2), np.ones((2, 3)), np.ones((4, 5))),
    (nn.Conv2d(3, 2, 3), np.ones((1, 3, 5, 5)), np.ones((1, 2, 5, 5))),
    (nn.Conv2d(3, 2, 3), np.ones((1, 3, 5, 5)), np.ones((3, 5, 5))),
    (nn.Conv2d(3, 2, 3), np.ones((1, 3, 5, 5)), np.ones((1, 3, 2, 2))),
    (nn.BatchNorm2d(3), np.ones((2, 3, 2, 2)), np.ones((4, 2, 2, 2))),
    (nn.LSTM(3, 2), np.ones((2, 1, 3)), np.ones((4, 1, 5))),
    (nn.Embedding(4, 2), np.array([0, 1]), np.array([1, 4])),
    (nn.Embedding(4, 2), np.array([0, 1]), np.array([0.5])),
])
def test_bad_input_raises_clear_error_and_changes_nothing(layer, good, bad):
    out = layer(good)
    (out[0] if isinstance(out, tuple) else out).sum().backward()
    before = {n: (p.data.copy(), p.grad.copy()) for n, p in layer.named_parameters()}
    with pytest.raises(ValueError) as info:
        layer(bad)
    assert type(layer).__name__.lower() in str(info.value).lower()
    assert str(bad.shape) in str(info.value)
    for name, p in layer.named_parameters():
        np.testing.assert_array_equal(p.data, before[name][0])
        np.testing.assert_array_equal(p.grad, before[name][1])


def test_flatten_keeps_the_batch_axis():
    x = t64(2, 3, 4)
    assert nn.Flatten()(x).shape == (2, 12)
    assert F.flatten(x, 0, 1).shape == (6, 4)
    assert ag.gradcheck(lambda v: nn.Flatten()(v), [x])


# ---- convolution and pooling --------------------------------------------------------------------

def naive_conv(x, w, b, stride, padding):
    sh, sw = stride
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    n, _, h, wd = xp.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // sh + 1, (wd - kw) // sw + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out + (0 if b is None else b.reshape(1, -1, 1, 1))


@pytest.mark.parametrize("kernel, stride, padding",
                         [(3, 1, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 0))])
def test_conv2d_matches_loops_and_gradchecks(kernel, stride, padding):
    conv = nn.Conv2d(2, 3, kernel, stride=stride, padding=padding, dtype=np.float64)
    x = t64(2, 2, 5, 6)
    expected = naive_conv(x.data, conv.weight.data, conv.bias.data, conv.stride, conv.padding)
    np.testing.assert_allclose(conv(x).data, expected, rtol=1e-12, atol=1e-12)
    check_module(conv, x)


@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(3, 7), w=st.integers(3, 7),
       k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1))
def test_conv2d_matches_loops_on_random_shapes(n, c, h, w, k, s, p):
    rng = np.random.default_rng(n * 100 + h * 10 + w)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((2, c, k, k))
    out = F.conv2d(ag.tensor(x), ag.tensor(weight), None, s, p)
    np.testing.assert_allclose(out.data, naive_conv(x, weight, None, (s, s), (p, p)), atol=1e-12)


def test_conv2d_second_derivative():
    weight = t64(2, 1, 2, 2, grad=False)

    def input_grad(x):
        with ag.enable_grad():
            leaf = x if x.requires_grad else x.detach().requires_grad_()
            loss = (F.conv2d(leaf, weight, None, 1, 1) ** 3).sum()
            return ag.grad(loss, [leaf], create_graph=True)[0]

    assert ag.gradcheck(input_grad, [t64(1, 1, 3, 3)])


def test_max_pool_values_ties_and_gradients():
    x = t64(2, 3, 5, 6)
    out = nn.MaxPool2d(2)(x)
    expected = x.data[:, :, :4, :6].reshape(2, 3, 2, 2, 3, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(out.data, expected)
    for k, s, p in [(2, None, 0), (3, 1, 1), ((2, 3), (1, 2), 0)]:
        assert ag.gradcheck(lambda v: F.max_pool2d(v, k, s, p), [x])
    ties = ag.tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    F.max_pool2d(ties, 2).sum().backward()
    np.testing.assert_array_equal(ties.grad, np.full((1, 1, 2, 2), 0.25))


def test_avg_pool_values_and_gradients():
    x = t64(1, 2, 4, 4)
    out = nn.AvgPool2d(2)(x)
    np.testing.assert_allclose(out.data, x.data.reshape(1, 2, 2, 2, 2, 2).mean(axis=(3, 5)))
    assert ag.gradcheck(lambda v: F.avg_pool2d(v, 3, 1, 1), [x])
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"


# ---- normalisation and dropout ------------------------------------------------------------------

def test_batchnorm2d_training_statistics_and_eval():
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    bn.weight.data[:] = [1.0, 2.0, 0.5]
    bn.bias.data[:] = [0.0, -1.0, 3.0]
    x = t64(4, 3, 2, 2, scale=3.0)
    y = bn(x)
    mean = x.data.mean(axis=(0, 2, 3))
    var = x.data.var(axis=(0, 2, 3))
    normed = (x.data - mean.reshape(1, 3, 1, 1)) / np.sqrt(var.reshape(1, 3, 1, 1) + 1e-5)
    np.testing.assert_allclose(y.data, normed * bn.weight.data.reshape(1, 3, 1, 1)
                               + bn.bias.data.reshape(1, 3, 1, 1))
    # momentum 0.1, unbiased running variance (16 values per channel)
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * mean)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * var * 16 / 15)
    assert int(bn.num_batches_tracked.data) == 1
    bn.eval()
    frozen = bn.running_mean.data.copy()
    y_eval = bn(x)
    np.testing.assert_array_equal(bn.running_mean.data, frozen)
    expected = ((x.data - frozen.reshape(1, 3, 1, 1))
                / np.sqrt(bn.running_var.data.reshape(1, 3, 1, 1) + 1e-5))
    np.testing.assert_allclose(y_eval.data, expected * bn.weight.data.reshape(1, 3, 1, 1)
                               + bn.bias.data.reshape(1, 3, 1, 1))
    check_module(bn, x)                                    # eval: running stats are constants
    bn.train()
    check_module(bn, x)


def test_batchnorm1d_gradients_and_errors():
    bn = nn.BatchNorm1d(3, dtype=np.float64)
    check_module(bn, t64(5, 3))
    check_module(bn, t64(2, 3, 4))
    with pytest.raises(ValueError, match="more than 1 value"):
        bn(t64(1, 3))
    plain = nn.BatchNorm1d(3, affine=False, track_running_stats=False)
    assert list(plain.parameters()) == [] and plain.state_dict() == {}
    plain.eval()
    out = plain(np.array([[1.0, 2, 3], [3, 2, 1]]))       # no running stats: batch stats in eval
    np.testing.assert_allclose(out.data[:, 0], [-1, 1], atol=1e-4)


def test_layernorm_values_and_gradients():
    ln = nn.LayerNorm((3, 4), dtype=np.float64)
    ln.weight.data[...] = RNG.standard_normal((3, 4))
    x = t64(2, 3, 4)
    flat = x.data.reshape(2, -1)
    normed = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x).data, normed.reshape(2, 3, 4) * ln.weight.data)
    check_module(ln, x)
    with pytest.raises(ValueError, match="layer_norm"):
        ln(t64(2, 4, 3))


def test_dropout_train_and_eval():
    layer = nn.Dropout(0.25)
    x = ag.tensor(np.ones((200, 50), np.float32), requires_grad=True)
    ag.manual_seed(0)
    y = layer(x)
    kept = y.data != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y.data[kept], 1 / 0.75, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.75, rtol=1e-6)
    ag.manual_seed(0)
    np.testing.assert_array_equal(layer(x).data, y.data)  # the default generator is the source
    layer.eval()
    assert layer(x) is x
    assert np.all(F.dropout(x, 1.0).data == 0)
    with pytest.raises(ValueError):
        nn.Dropout(1.5)

    def fixed_mask(v):
        ag.manual_seed(3)
        return F.dropout(v, 0.5)

    assert ag.gradcheck(fixed_mask, [t64(4, 5)])


# ---- embedding ----------------------------------------------------------------------------------

def test_embedding_looks_up_rows_and_accumulates_repeats():
    emb = nn.Embedding(5, 3, dtype=np.float64)
    idx = np.array([[0, 2], [2, 4]])
    out = emb(idx)
    np.testing.assert_array_equal(out.data, emb.weight.data[idx])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[:, 0], [1, 0, 2, 0, 1])
    assert ag.gradcheck(lambda w: F.embedding(idx, w), [emb.weight])
    padded = nn.Embedding(4, 2, padding_idx=0)
    assert np.all(padded.weight.data[0] == 0)
    padded(np.array([0, 0, 1])).sum().backward()
    np.testing.assert_array_equal(padded.weight.grad[0], [0, 0])


# ---- recurrent layers ---------------------------------------------------------------------------

def _sig(v):
    return 1 / (1 + np.exp(-v))


def reference_rnn(mode, x, params, h0, c0=None):
    """PyTorch's documented equations, one layer, plain NumPy."""
    w_ih, w_hh, b_ih, b_hh = params
    h, c, outs = h0, c0, []
    for xt in x:
        gi = xt @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        if mode == "RNN":
            h = np.tanh(gi + gh)
        elif mode == "LSTM":
            i, f, g, o = np.split(gi + gh, 4, axis=-1)
            c = _sig(f) * c + _sig(i) * np.tanh(g)
            h = _sig(o) * np.tanh(c)
        else:
            ir, iz, in_ = np.split(gi, 3, axis=-1)
            hr, hz, hn = np.split(gh, 3, axis=-1)
            r, z = _sig(ir + hr), _sig(iz + hz)
            n = np.tanh(in_ + r * hn)
            h = (1 - z) * n + z * h
        outs.append(h)
    return np.stack(outs), h, c


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_follow_pytorch_equations_and_gradcheck(mode):
    layer = getattr(nn, mode)(3, 4, dtype=np.float64)
    names = [n for n, _ in layer.named_parameters()]
    assert names == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[mode]
    assert layer.weight_ih_l0.shape == (gates * 4, 3)
    assert np.abs(layer.weight_hh_l0.data).max() <= 0.5                  # U(-1/sqrt(H), ...)
    x = t64(5, 2, 3)
    h0 = RNG.standard_normal((1, 2, 4))
    c0 = RNG.standard_normal((1, 2, 4))
    hx = (h0, c0) if mode == "LSTM" else h0
    output, state = layer(x, hx)
    ref_out, ref_h, ref_c = reference_rnn(mode, x.data, [p.data for p in layer.parameters()],
                                          h0[0], c0[0])
    np.testing.assert_allclose(output.data, ref_out, rtol=1e-12)
    if mode == "LSTM":
        h_n, c_n = state
        np.testing.assert_allclose(c_n.data[0], ref_c, rtol=1e-12)
    else:
        h_n = state
    assert h_n.shape == (1, 2, 4)
    np.testing.assert_allclose(h_n.data[0], ref_h, rtol=1e-12)
    check_module(layer, t64(3, 2, 3))


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_recurrent_stacking_directions_batch_first_and_unbatched(mode):
    cls = getattr(nn, mode)
    deep = cls(3, 4, num_layers=2, bidirectional=True, dtype=np.float64)
    assert "weight_ih_l1_reverse" in dict(deep.named_parameters())
    assert deep.weight_ih_l1.shape[1] == 8
    x = t64(4, 2, 3)
    out, state = deep(x)
    h_n = state[0] if mode == "LSTM" else state
    assert out.shape == (4, 2, 8) and h_n.shape == (4, 2, 4)
    np.testing.assert_allclose(out.data[-1, :, :4], h_n.data[2])          # last layer, forward
    np.testing.assert_allclose(out.data[0, :, 4:], h_n.data[3])           # last layer, backward
    check_module(deep, t64(2, 1, 3))
    single = cls(3, 4, dtype=np.float64)
    seq_first, _ = single(x)
    batch_first = cls(3, 4, batch_first=True, dtype=np.float64)
    batch_first.load_state_dict(single.state_dict())
    out_bf, _ = batch_first(x.data.transpose(1, 0, 2))
    np.testing.assert_allclose(out_bf.data.transpose(1, 0, 2), seq_first.data)
    out_single, state_single = single(x.data[:, 0])
    np.testing.assert_allclose(out_single.data, seq_first.data[:, 0])
    h_single = state_single[0] if mode == "LSTM" else state_single
    assert h_single.shape == (1, 4)


def test_recurrent_dropout_only_between_layers_in_training():
    layer = nn.GRU(2, 3, num_layers=2, dropout=0.5)
    x = np.ones((4, 1, 2), np.float32)
    layer.eval()
    a, _ = layer(x)
    b, _ = layer(x)
    np.testing.assert_array_equal(a.data, b.data)
    layer.train()
    ag.manual_seed(0)
    c, _ = layer(x)
    assert not np.allclose(a.data, c.data)


@pytest.mark.parametrize("cell_cls, full_cls", [(nn.RNNCell, nn.RNN), (nn.LSTMCell, nn.LSTM),
                                                (nn.GRUCell, nn.GRU)])
def test_cells_match_one_step_of_the_sequence_layers(cell_cls, full_cls):
    full = full_cls(3, 2, dtype=np.float64)
    cell = cell_cls(3, 2, dtype=np.float64)
    for name, p in cell.named_parameters():
        p.data[...] = getattr(full, name + "_l0").data
    x = RNG.standard_normal((1, 5, 3))
    out, _ = full(x)
    step = cell(x[0])
    h = step[0] if isinstance(step, tuple) else step
    np.testing.assert_allclose(h.data, out.data[0])


def test_every_layer_defaults_to_float32_and_accepts_dtype():
    factories = [lambda d: nn.Linear(2, 2, dtype=d), lambda d: nn.Conv2d(1, 1, 1, dtype=d),
                 lambda d: nn.BatchNorm1d(2, dtype=d), lambda d: nn.BatchNorm2d(2, dtype=d),
                 lambda d: nn.LayerNorm(2, dtype=d), lambda d: nn.Embedding(2, 2, dtype=d),
                 lambda d: nn.RNN(2, 2, dtype=d), lambda d: nn.LSTM(2, 2, dtype=d),
                 lambda d: nn.GRU(2, 2, dtype=d), lambda d: nn.PReLU(dtype=d)]
    for make in factories:
        assert all(p.dtype == np.float32 for p in make(np.float32).parameters())
        assert all(p.dtype == np.float64 for p in make(np.float64).parameters())
    for cls in (nn.ReLU, nn.Sigmoid, nn.Flatten, nn.Identity, nn.GELU, nn.Softplus, nn.ELU,
                nn.LeakyReLU, nn.SiLU, nn.Tanh, nn.ArcTan, nn.BinaryStep, nn.Dropout,
                nn.Softmax, nn.LogSoftmax):
        assert isinstance(cls(dtype=np.float64), nn.Module)
    assert isinstance(nn.MaxPool2d(2, dtype=np.float64), nn.Module)


def test_recurrent_shape_error_says_the_batch_first_layout():
    for cls in (nn.RNN, nn.LSTM, nn.GRU):
        with pytest.raises(ValueError, match=r"batch_first=True\): expected an input \(N, T, 3\)"):
            cls(3, 4, batch_first=True)(np.zeros((2, 5, 2)))
        with pytest.raises(ValueError, match=r"expected an input \(T, N, 3\)"):
            cls(3, 4)(np.zeros((2, 5, 2)))
