"""Fused nn ops against the composed ops they replace: values, float64 gradchecks (first and
second order), and the LSTM layer's PyTorch conventions."""

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Tensor
from nn.layers.fused_lstm import lstm_sequence
from nn.layers.recurrent import lstm_cell

T, N, I, H = 3, 2, 3, 2


def _leaves(rng, *shapes):
    return [Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


def _lstm_inputs(seed=0, bias=True):
    rng = np.random.default_rng(seed)
    shapes = [(T, N, I), (N, H), (N, H), (4 * H, I), (4 * H, H)]
    return _leaves(rng, *(shapes + ([(4 * H,), (4 * H,)] if bias else [])))


def _composed(x, h0, c0, *weights):
    h, c, outs = h0, c0, []
    for t in range(x.shape[0]):
        h, c = lstm_cell(x[t], h, c, *weights)
        outs.append(h)
    return ag.stack(outs, axis=0), h, c


def _contract(results, seed=1):
    rng = np.random.default_rng(seed)
    return sum((r * rng.standard_normal(r.shape)).sum() for r in results)


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_sequence_matches_composed_cells(bias):
    inputs = _lstm_inputs(bias=bias)
    fused, composed = lstm_sequence(*inputs), _composed(*inputs)
    for a, b in zip(fused, composed):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-12)
    for a, b in zip(ag.grad(_contract(fused), inputs), ag.grad(_contract(composed), inputs)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_lstm_sequence_gradcheck(bias):
    assert ag.gradcheck(lambda *a: _contract(lstm_sequence(*a)), _lstm_inputs(bias=bias))


def test_lstm_sequence_second_order_gradcheck():
    def first(*a):
        with ag.enable_grad():
            return ag.grad(_contract(lstm_sequence(*a)), list(a), create_graph=True)
    inputs = _lstm_inputs(seed=2)
    assert ag.gradcheck(lambda *a: _contract(first(*a), seed=3), inputs)


def test_lstm_sequence_second_order_matches_composed():
    inputs = _lstm_inputs(seed=4)
    grads = []
    for fn in (lstm_sequence, _composed):
        g1 = ag.grad(_contract(fn(*inputs)), inputs, create_graph=True)
        grads.append(ag.grad(_contract(g1, seed=5), inputs))
    for a, b in zip(*grads):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("layers,bidirectional,batch_first",
                         [(1, False, False), (2, True, False), (2, False, True)])
def test_lstm_module_matches_stepped_cells(layers, bidirectional, batch_first):
    lstm = nn.LSTM(I, H, num_layers=layers, bidirectional=bidirectional,
                   batch_first=batch_first, dtype=np.float64)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((N, T, I) if batch_first else (T, N, I))
    out, (h_n, c_n) = lstm(x)
    seq = x.transpose(1, 0, 2) if batch_first else x
    dirs = 2 if bidirectional else 1
    finals_h, finals_c = [], []
    for layer in range(layers):
        outs = []
        for d, suffix in enumerate(("", "_reverse")[:dirs]):
            weights = [getattr(lstm, f"{k}_l{layer}{suffix}")
                       for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            xs = seq if d == 0 else seq[::-1]
            o, h, c = _composed(Tensor(xs), Tensor(np.zeros((N, H))), Tensor(np.zeros((N, H))),
                                *weights)
            outs.append(o.data if d == 0 else o.data[::-1])
            finals_h.append(h.data)
            finals_c.append(c.data)
        seq = np.concatenate(outs, axis=-1)
    expected = seq.transpose(1, 0, 2) if batch_first else seq
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h_n.data, np.stack(finals_h), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c_n.data, np.stack(finals_c), rtol=1e-12, atol=1e-12)


def test_conv2d_returns_contiguous_nchw_and_gradchecks():
    rng = np.random.default_rng(7)
    x, w, b = _leaves(rng, (2, 2, 5, 5), (3, 2, 3, 3), (3,))
    out = nn.functional.conv2d(x, w, b)
    assert out.data.flags.c_contiguous and out.shape == (2, 3, 3, 3)
    assert ag.gradcheck(lambda *a: _contract([nn.functional.conv2d(*a)]), [x, w, b])

    def first(*a):
        with ag.enable_grad():
            return ag.grad(_contract([nn.functional.conv2d(*a) ** 2]), list(a), create_graph=True)
    assert ag.gradcheck(lambda *a: _contract(first(*a), seed=8), [x, w, b])
