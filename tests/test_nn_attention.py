"""Attention against a NumPy transcription of the formulas (softmax(QK^T/sqrt(d) + mask) V,
heads split as PyTorch's layout), gradchecks, masks, stability at large logits, and the
Transformer encoder layer in both norm orders."""

import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

RNG = np.random.default_rng(3)


def t64(*shape, grad=True):
    return ag.tensor(RNG.standard_normal(shape), requires_grad=grad)


def np_softmax(x):
    z = x - x.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def np_attention(q, k, v, keep=None, bias=None):
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if bias is not None:
        s = s + bias
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    return np_softmax(s) @ v


def test_sdpa_values_masks_and_gradients():
    q, k, v = t64(2, 3, 4, 5), t64(2, 3, 6, 5), t64(2, 3, 6, 2)
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v).data,
                               np_attention(q.data, k.data, v.data), rtol=1e-12)
    keep = RNG.random((4, 6)) > 0.3
    keep[:, 0] = True
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=keep).data,
                               np_attention(q.data, k.data, v.data, keep=keep), rtol=1e-12)
    bias = RNG.standard_normal((4, 6))
    np.testing.assert_allclose(F.scaled_dot_product_attention(q, k, v, attn_mask=bias).data,
                               np_attention(q.data, k.data, v.data, bias=bias), rtol=1e-12)
    assert ag.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=keep),
                        [q, k, v])


def test_sdpa_causal_matches_the_explicit_mask_and_is_stable_at_large_logits():
    q, k, v = t64(2, 5, 4), t64(2, 5, 4), t64(2, 5, 3)
    causal = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    explicit = np.tril(np.ones((5, 5), bool))
    np.testing.assert_allclose(causal.data, np_attention(q.data, k.data, v.data, explicit),
                               rtol=1e-12)
    np.testing.assert_allclose(causal.data[:, 0], v.data[:, 0])     # the first sees only itself
    assert ag.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True),
                        [q, k, v])
    big = ag.tensor(RNG.standard_normal((1, 4, 4)) * 1e4, requires_grad=True)
    with np.errstate(all="raise"):
        out = F.scaled_dot_product_attention(big, big, v[:1, :4], is_causal=True)
        out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(big.grad))


def test_sdpa_dropout_and_errors():
    q = t64(1, 3, 4)
    ag.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, q, q, dropout_p=0.5)
    assert dropped.shape == (1, 3, 4)
    assert not np.allclose(dropped.data, F.scaled_dot_product_attention(q, q, q).data)
    with pytest.raises(ValueError, match=r"query \(1, 3, 4\), key \(1, 3, 2\)"):
        F.scaled_dot_product_attention(q, t64(1, 3, 2), q)
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)


def np_mha(m, query, key, value, keep=None):
    """PyTorch's multi_head_attention_forward, batch first, from the module's parameters."""
    w, b = m.in_proj_weight.data, m.in_proj_bias.data
    e, h = m.embed_dim, m.num_heads
    q, k, v = (x @ w[i * e:(i + 1) * e].T + b[i * e:(i + 1) * e]
               for i, x in enumerate((query, key, value)))
    split = lambda x: x.reshape(x.shape[0], x.shape[1], h, e // h).transpose(0, 2, 1, 3)
    s = split(q) @ np.swapaxes(split(k), -1, -2) / math.sqrt(e // h)
    if keep is not None:
        s = np.where(keep, s, -np.inf)
    a = np_softmax(s)
    out = (a @ split(v)).transpose(0, 2, 1, 3).reshape(query.shape[0], query.shape[1], e)
    return out @ m.out_proj.weight.data.T + m.out_proj.bias.data, a.mean(1)


def test_multihead_attention_layout_names_and_values():
    m = nn.MultiheadAttention(8, 2, dtype=np.float64)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert m.in_proj_weight.shape == (24, 8)
    m.in_proj_bias.data[:] = RNG.standard_normal(24)
    m.out_proj.bias.data[:] = RNG.standard_normal(8)
    x, mem = RNG.standard_normal((3, 4, 8)), RNG.standard_normal((3, 6, 8))   # (N, L, E)
    out, weights = m(x.transpose(1, 0, 2), mem.transpose(1, 0, 2), mem.transpose(1, 0, 2))
    ref, ref_w = np_mha(m, x, mem, mem)
    np.testing.assert_allclose(out.data.transpose(1, 0, 2), ref, rtol=1e-10)
    np.testing.assert_allclose(weights.data, ref_w, rtol=1e-10)
    first = nn.MultiheadAttention(8, 2, batch_first=True, dtype=np.float64)
    first.load_state_dict(m.state_dict())
    out_bf, _ = first(x, mem, mem, need_weights=False)
    np.testing.assert_allclose(out_bf.data, ref, rtol=1e-10)
    single, w1 = first(x[0], mem[0], mem[0])                 # unbatched (L, E)
    np.testing.assert_allclose(single.data, ref[0], rtol=1e-10)
    assert w1.shape == (4, 6)


def test_multihead_attention_masks_and_gradients():
    m = nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
    x = t64(2, 5, 4)
    padding = np.zeros((2, 5), bool)
    padding[1, 3:] = True                                     # True = ignore (PyTorch's MHA)
    causal = ~np.tril(np.ones((5, 5), bool))                  # True = masked out
    out, w = m(x, x, x, key_padding_mask=padding, attn_mask=causal)
    keep = (~causal)[None, None] & (~padding)[:, None, None, :]
    ref, ref_w = np_mha(m, x.data, x.data, x.data, keep)
    np.testing.assert_allclose(out.data, ref, rtol=1e-10)
    np.testing.assert_allclose(w.data, ref_w, rtol=1e-10)
    assert np.all(w.data[1, :, 3:] == 0)
    hinted, _ = m(x, x, x, is_causal=True)
    np.testing.assert_allclose(hinted.data, np_mha(m, x.data, x.data, x.data,
                                                   (~causal)[None, None])[0], rtol=1e-10)
    assert ag.gradcheck(lambda a, wq: F.linear(m(a, a, a, attn_mask=causal)[0], wq).sum(),
                        [x, t64(3, 4)])
    with pytest.raises(ValueError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match=r"\(N, L, E\) or \(L, E\) with E = 4"):
        m(t64(2, 5, 3), t64(2, 5, 3), t64(2, 5, 3))


def np_layer_norm(x, w, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_transformer_encoder_layer_matches_the_formula(norm_first, activation):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                       activation=activation, batch_first=True,
                                       norm_first=norm_first, dtype=np.float64)
    for p in layer.parameters():
        p.data[...] = RNG.standard_normal(p.shape) * 0.5
    x = RNG.standard_normal((2, 5, 8))
    sa = lambda y: np_mha(layer.self_attn, y, y, y)[0]
    act = (lambda y: np.maximum(y, 0)) if activation == "relu" else \
        (lambda y: 0.5 * y * (1 + np.vectorize(math.erf)(y / math.sqrt(2))))
    ff = lambda y: act(y @ layer.linear1.weight.data.T + layer.linear1.bias.data) \
        @ layer.linear2.weight.data.T + layer.linear2.bias.data
    n1 = lambda y: np_layer_norm(y, layer.norm1.weight.data, layer.norm1.bias.data)
    n2 = lambda y: np_layer_norm(y, layer.norm2.weight.data, layer.norm2.bias.data)
    if norm_first:
        h = x + sa(n1(x))
        ref = h + ff(n2(h))
    else:
        h = n1(x + sa(x))
        ref = n2(h + ff(h))
    np.testing.assert_allclose(layer(x).data, ref, rtol=1e-9, atol=1e-12)
    encoder = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(8, dtype=np.float64))
    names = [n for n, _ in encoder.named_parameters()]
    assert "layers.1.self_attn.in_proj_weight" in names and names[-1] == "norm.bias"
    assert encoder.layers[0].linear1.weight is not encoder.layers[1].linear1.weight
    xt = ag.tensor(x, requires_grad=True)
    encoder(xt, is_causal=True).sum().backward()
    assert xt.grad.shape == x.shape and np.all(np.isfinite(xt.grad))
