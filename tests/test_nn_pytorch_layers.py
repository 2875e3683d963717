"""Conv1d/Conv2d (padding "same"/"valid", dilation, groups, padding_mode), ConvTranspose2d,
pooling (padding, ceil_mode, count_include_pad, adaptive), GroupNorm, Unflatten, Embedding
(from_pretrained, padding_idx), Dropout2d: against loops written from the definitions, and
float64 gradchecks."""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

RNG = np.random.default_rng(5)


def t64(*shape, grad=True):
    return ag.tensor(RNG.standard_normal(shape), requires_grad=grad)


def loop_conv2d(x, w, b, stride, pads, dilation, groups):
    """The definition: out[n, o, i, j] = sum over the group's channels and taps."""
    x = np.pad(x, ((0, 0), (0, 0)) + pads)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    dh, dw = dilation
    oh = (h - dh * (kh - 1) - 1) // stride[0] + 1
    ow = (wd - dw * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    per = o // groups
    for oc in range(o):
        g = oc // per
        for i in range(oh):
            for j in range(ow):
                patch = x[:, g * cg:(g + 1) * cg, i * stride[0]:i * stride[0] + dh * (kh - 1) + 1:dh,
                          j * stride[1]:j * stride[1] + dw * (kw - 1) + 1:dw]
                out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
    return out + (0 if b is None else b[None, :, None, None])


@pytest.mark.parametrize("stride,padding,dilation,groups", [
    (1, "same", 2, 1), (1, "valid", 1, 2), (2, 1, (2, 1), 4), (1, "same", 1, 2), (2, (0, 2), 1, 1)])
def test_conv2d_padding_dilation_groups(stride, padding, dilation, groups):
    conv = nn.Conv2d(4, 8, (3, 2) if padding == "same" and groups == 2 else 3, stride=stride,
                     padding=padding, dilation=dilation, groups=groups, dtype=np.float64)
    x = t64(2, 4, 7, 6)
    out = conv(x)
    k = conv.kernel_size
    d = conv.dilation
    if padding == "same":
        total = [dd * (kk - 1) for kk, dd in zip(k, d)]
        pads = tuple((t // 2, t - t // 2) for t in total)
        assert out.shape[2:] == x.shape[2:]
    else:
        pads = tuple((p, p) for p in ((0, 0) if padding == "valid" else conv.padding))
    ref = loop_conv2d(x.data, conv.weight.data, conv.bias.data, conv.stride, pads, d, groups)
    np.testing.assert_allclose(out.data, ref, rtol=1e-10, atol=1e-12)
    assert ag.gradcheck(lambda a, w: F.conv2d(a, w, None, stride, padding, dilation, groups),
                        [t64(1, 4, 5, 5), t64(8, 4 // groups, 3, 3)])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes(mode):
    conv = nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode, dtype=np.float64)
    x = t64(1, 2, 4, 5)
    padded = F.pad(x, (1, 1, 1, 1), mode=mode).data
    ref = loop_conv2d(padded, conv.weight.data, conv.bias.data, (1, 1), ((0, 0), (0, 0)),
                      (1, 1), 1)
    np.testing.assert_allclose(conv(x).data, ref, rtol=1e-10)
    assert ag.gradcheck(lambda a: conv(a), [x])
    assert f"padding_mode='{mode}'" in repr(conv)


def test_conv1d():
    conv = nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, dtype=np.float64)
    x = t64(2, 4, 9)
    ref = loop_conv2d(x.data[:, :, None], conv.weight.data[:, :, None], conv.bias.data,
                      (1, 2), ((0, 0), (1, 1)), (1, 2), 2)[:, :, 0]
    np.testing.assert_allclose(conv(x).data, ref, rtol=1e-10)
    same = nn.Conv1d(4, 2, 4, padding="same", padding_mode="replicate", dtype=np.float64)
    assert same(x).shape == (2, 2, 9)
    assert ag.gradcheck(lambda a: conv(a), [x])
    with pytest.raises(ValueError, match=r"\(N, C, L\) with C = 4"):
        conv(t64(2, 3, 9))
    with pytest.raises(ValueError, match="stride 1"):
        nn.Conv1d(4, 4, 3, stride=2, padding="same")


def loop_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, groups):
    n, c, h, wd = x.shape
    _, per, kh, kw = w.shape
    full = ((h - 1) * stride + dilation * (kh - 1) + 1 + output_padding,
            (wd - 1) * stride + dilation * (kw - 1) + 1 + output_padding)
    out = np.zeros((n, per * groups) + full)
    cg = c // groups
    for ci in range(c):
        g = ci // cg
        for i in range(h):
            for j in range(wd):
                for a in range(kh):
                    for bb in range(kw):
                        out[:, g * per:(g + 1) * per, i * stride + a * dilation,
                            j * stride + bb * dilation] += x[:, ci, i, j, None] * w[ci, :, a, bb]
    out = out[:, :, padding:full[0] - padding, padding:full[1] - padding]
    return out + b[None, :, None, None]


@pytest.mark.parametrize("stride,padding,output_padding,dilation,groups",
                         [(1, 0, 0, 1, 1), (2, 1, 1, 1, 1), (2, 0, 1, 2, 2), (3, 1, 0, 1, 1)])
def test_conv_transpose2d(stride, padding, output_padding, dilation, groups):
    layer = nn.ConvTranspose2d(4, 6, 3, stride=stride, padding=padding,
                               output_padding=output_padding, groups=groups, dilation=dilation,
                               dtype=np.float64)
    assert layer.weight.shape == (4, 6 // groups, 3, 3)
    x = t64(2, 4, 3, 4)
    out = layer(x)
    ref = loop_conv_transpose2d(x.data, layer.weight.data, layer.bias.data, stride, padding,
                                output_padding, dilation, groups)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out.data, ref, rtol=1e-10, atol=1e-12)
    assert ag.gradcheck(lambda a, w: F.conv_transpose2d(a, w, None, stride, padding,
                                                        output_padding, groups, dilation),
                        [t64(1, 4, 2, 3), t64(4, 6 // groups, 3, 3)])


def test_conv_transpose_is_the_adjoint_of_conv():
    x, y, w = t64(1, 3, 6, 6, grad=False), t64(1, 2, 3, 3, grad=False), t64(2, 3, 3, 3)
    lhs = (F.conv2d(x, w, stride=2, padding=1).data * y.data).sum()
    rhs = (x.data * F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=1).data).sum()
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_pooling_padding_ceil_mode_and_count_include_pad():
    x = t64(1, 2, 5, 5)
    out = F.max_pool2d(x, 2, ceil_mode=True)
    assert out.shape == (1, 2, 3, 3)
    np.testing.assert_allclose(out.data[..., 2, 2], x.data[..., 4, 4])   # the partial window
    np.testing.assert_allclose(out.data[..., 0, 2], x.data[..., 0:2, 4].max(-1))
    padded = np.pad(x.data, ((0, 0), (0, 0), (1, 1), (1, 1)))
    avg = F.avg_pool2d(x, 3, stride=2, padding=1)
    np.testing.assert_allclose(avg.data[..., 0, 0], padded[..., :3, :3].mean((-1, -2)))
    exclude = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)(x)
    np.testing.assert_allclose(exclude.data[..., 0, 0], x.data[..., :2, :2].mean((-1, -2)))
    ceil = F.avg_pool2d(x, 2, ceil_mode=True)
    np.testing.assert_allclose(ceil.data[..., 2, 2], x.data[..., 4, 4])  # divisor 1, not 4
    np.testing.assert_allclose(ceil.data[..., 0, 2], x.data[..., 0:2, 4].mean(-1))
    assert ag.gradcheck(lambda a: F.avg_pool2d(a, 3, 2, 1, True, False), [x])
    assert ag.gradcheck(lambda a: F.max_pool2d(a, 3, 2, 1, ceil_mode=True), [x])
    assert F.max_pool2d(t64(1, 1, 6, 6), 3, 2, ceil_mode=True).shape == (1, 1, 3, 3)


def test_adaptive_pools():
    x = t64(2, 3, 7, 5)
    out = nn.AdaptiveAvgPool2d((3, 2))(x)
    bins_h = [(0, 3), (2, 5), (4, 7)]
    bins_w = [(0, 3), (2, 5)]
    for i, (a, b) in enumerate(bins_h):
        for j, (c, d) in enumerate(bins_w):
            np.testing.assert_allclose(out.data[..., i, j], x.data[..., a:b, c:d].mean((-1, -2)))
    mx = nn.AdaptiveMaxPool2d((None, 2))(x)
    assert mx.shape == (2, 3, 7, 2)
    np.testing.assert_allclose(mx.data[..., 3, 1], x.data[..., 3, 2:5].max(-1))
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1).data[..., 0, 0],
                               x.data.mean((-1, -2)))
    assert ag.gradcheck(lambda a: F.adaptive_avg_pool2d(a, (3, 2)), [x])
    assert ag.gradcheck(lambda a: F.adaptive_max_pool2d(a, (2, 3)), [x])


def test_group_norm():
    gn = nn.GroupNorm(2, 4, dtype=np.float64)
    gn.weight.data[:] = [1.0, 2.0, 0.5, -1.0]
    gn.bias.data[:] = [0.0, 1.0, 0.0, 2.0]
    x = t64(3, 4, 2, 5)
    g = x.data.reshape(3, 2, -1)
    ref = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-5))
    ref = ref.reshape(x.shape) * gn.weight.data[:, None, None] + gn.bias.data[:, None, None]
    np.testing.assert_allclose(gn(x).data, ref, rtol=1e-10)
    assert ag.gradcheck(lambda a, w, b: F.group_norm(a, 2, w, b), [x, gn.weight, gn.bias])
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)


def test_unflatten_embedding_and_dropout2d():
    x = t64(2, 12)
    assert nn.Unflatten(1, (3, -1))(x).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="cannot be split"):
        F.unflatten(x, 1, (5, 3))
    table = RNG.standard_normal((5, 3))
    frozen = nn.Embedding.from_pretrained(table)
    assert not frozen.weight.requires_grad and frozen.weight.dtype == np.float64
    np.testing.assert_array_equal(frozen(np.array([4, 1])).data, table[[4, 1]])
    emb = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    out = emb(np.array([1, 2, 1]))
    np.testing.assert_array_equal(out.data, table[[1, 2, 1]])    # the padding row as stored
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad[1], 0)          # and it gets no gradient
    np.testing.assert_array_equal(emb.weight.grad[2], 1)
    ag.manual_seed(0)
    drop = nn.Dropout2d(0.5)
    y = drop(np.ones((4, 6, 3, 3)))
    per_channel = y.data.reshape(4, 6, -1)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))  # whole channels
    assert 0 < (per_channel == 0).all(-1).sum() < 24
    drop.eval()
    np.testing.assert_array_equal(drop(np.ones((6, 3, 3))).data, 1)
