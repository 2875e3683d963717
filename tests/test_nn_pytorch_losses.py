"""The losses and tensor functions with PyTorch's signatures: values against hand-written NumPy
formulas (PyTorch's documented definitions), float64 gradchecks, stability at +-1e4."""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

RNG = np.random.default_rng(7)


def t64(*shape, grad=True, scale=1.0):
    return ag.tensor(RNG.standard_normal(shape) * scale, requires_grad=grad)


def np_log_softmax(x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def np_cross_entropy(x, t, w, ignore, eps):
    """PyTorch's documented formula for (N, C) logits and class targets."""
    n, c = x.shape
    logp = np_log_softmax(x, 1)
    keep = t != ignore
    tt = np.where(keep, t, 0)
    wt = w[tt] * keep
    nll = -logp[np.arange(n), tt] * wt
    smooth = -(logp * w).sum(1) * keep
    loss = (1 - eps) * nll + eps / c * smooth
    return loss, wt


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_weight_ignore_index_and_label_smoothing(reduction):
    x = t64(6, 4)
    t = np.array([0, 3, -100, 1, 2, 3])
    w = np.array([0.5, 1.0, 2.0, 1.5])
    for weight, eps in ((None, 0.0), (w, 0.0), (None, 0.2), (w, 0.1)):
        loss, wt = np_cross_entropy(x.data, t, np.ones(4) if weight is None else weight,
                                    -100, eps)
        expected = {"mean": loss.sum() / wt.sum(), "sum": loss.sum(), "none": loss}[reduction]
        got = F.cross_entropy(x, t, weight, reduction=reduction, label_smoothing=eps)
        np.testing.assert_allclose(got.data, expected, rtol=1e-12)
        assert ag.gradcheck(lambda a: F.cross_entropy(a, t, weight, reduction=reduction,
                                                      label_smoothing=eps), [x])
    module = nn.CrossEntropyLoss(w, ignore_index=3, reduction=reduction, label_smoothing=0.1)
    loss, wt = np_cross_entropy(x.data, t.clip(0), w, 3, 0.1)
    expected = {"mean": loss.sum() / wt.sum(), "sum": loss.sum(), "none": loss}[reduction]
    np.testing.assert_allclose(module(x, t.clip(0)).data, expected, rtol=1e-12)


def test_cross_entropy_k_dimensional_and_probability_targets():
    x = t64(3, 4, 5)                                   # (N, C, d)
    t = RNG.integers(0, 4, (3, 5))
    t[0, 0] = -100
    w = np.array([1.0, 2.0, 0.5, 1.0])
    logp = np_log_softmax(x.data, 1)
    keep = t != -100
    tt = np.where(keep, t, 0)
    picked = -np.take_along_axis(logp, tt[:, None], 1)[:, 0] * w[tt] * keep
    np.testing.assert_allclose(F.cross_entropy(x, t, w).data,
                               picked.sum() / (w[tt] * keep).sum(), rtol=1e-12)
    assert ag.gradcheck(lambda a: F.cross_entropy(a, t, w), [x])
    probs = RNG.dirichlet(np.ones(4), (3, 5)).transpose(0, 2, 1)
    smoothed = probs * 0.8 + 0.2 / 4
    expected = -(smoothed * logp * w[None, :, None]).sum(1).mean()   # mean over the N*d samples
    got = F.cross_entropy(x, probs, weight=w, label_smoothing=0.2)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12)
    assert ag.gradcheck(lambda a: F.cross_entropy(a, probs, weight=w, label_smoothing=0.2), [x])


def test_cross_entropy_general_path_is_stable_at_large_logits():
    x = ag.tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]]), requires_grad=True)
    with np.errstate(all="raise"):
        loss = F.cross_entropy(x, np.array([0, 2]), weight=np.array([1.0, 1.0, 2.0]),
                               label_smoothing=0.1)
        loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(x.grad))


def test_nll_loss_weight_and_ignore_index():
    logp = ag.tensor(np_log_softmax(RNG.standard_normal((5, 3)), 1), requires_grad=True)
    t = np.array([2, 0, 1, 1, 0])
    w = np.array([0.2, 1.0, 3.0])
    keep = t != 1
    expected = -(logp.data[np.arange(5), t] * w[t] * keep).sum() / (w[t] * keep).sum()
    np.testing.assert_allclose(F.nll_loss(logp, t, w, ignore_index=1).data, expected)
    assert ag.gradcheck(lambda a: F.nll_loss(a, t, w, ignore_index=1), [logp])
    none = nn.NLLLoss(weight=w, reduction="none")(logp, t)
    np.testing.assert_allclose(none.data, -logp.data[np.arange(5), t] * w[t])


def test_old_positional_reduction_and_deprecated_arguments_are_refused_with_the_fix():
    x, t = t64(2, 3), np.array([0, 1])
    with pytest.raises(TypeError, match="reduction='sum' by keyword"):
        F.cross_entropy(x, t, "sum")
    with pytest.raises(TypeError, match="size_average"):
        F.nll_loss(x, t, size_average=True)
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(3,\)"):
        F.cross_entropy(x, t, np.ones(2))


def test_binary_cross_entropy_weight_and_pos_weight():
    p = ag.tensor(RNG.uniform(0.05, 0.95, (4, 3)), requires_grad=True)
    t = RNG.uniform(0, 1, (4, 3))
    w = RNG.uniform(0.5, 2, (3,))
    bce = -(t * np.log(p.data) + (1 - t) * np.log(1 - p.data))
    np.testing.assert_allclose(F.binary_cross_entropy(p, t, w).data, (bce * w).mean())
    assert ag.gradcheck(lambda a: F.binary_cross_entropy(a, t, w, reduction="sum"), [p])
    x = t64(4, 3, scale=3)
    pw = np.array([1.0, 3.0, 0.25])
    s = 1 / (1 + np.exp(-x.data))
    expected = -(pw * t * np.log(s) + (1 - t) * np.log(1 - s)) * w
    got = F.binary_cross_entropy_with_logits(x, t, w, reduction="none", pos_weight=pw)
    np.testing.assert_allclose(got.data, expected, rtol=1e-10)
    target = ag.tensor(t, requires_grad=True)
    assert ag.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, w, pos_weight=pw),
                        [x, target])
    module = nn.BCEWithLogitsLoss(pos_weight=pw)
    np.testing.assert_allclose(module(x, t).data, (expected / w).mean(), rtol=1e-10)
    big = ag.tensor(np.array([1e4, -1e4, 0.0]), requires_grad=True)
    with np.errstate(all="raise"):
        loss = F.binary_cross_entropy_with_logits(big, np.array([0.0, 1.0, 1.0]),
                                                  pos_weight=np.array(2.0), reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [1e4, 2e4, 2 * np.log(2)])
    np.testing.assert_allclose(big.grad, [1.0, -2.0, -1.0])


def test_smooth_l1_loss():
    x, t = t64(5, 2, scale=2), RNG.standard_normal((5, 2))
    d = np.abs(x.data - t)
    for beta in (0.5, 1.0, 2.0):
        expected = np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta)
        np.testing.assert_allclose(F.smooth_l1_loss(x, t, beta=beta).data, expected.mean())
        assert ag.gradcheck(lambda a: F.smooth_l1_loss(a, t, reduction="sum", beta=beta), [x])
    np.testing.assert_allclose(nn.SmoothL1Loss(reduction="sum", beta=0.0)(x, t).data, d.sum())


def test_kl_div_reductions_and_log_target():
    logq = ag.tensor(np_log_softmax(RNG.standard_normal((4, 3)), 1), requires_grad=True)
    p = RNG.dirichlet(np.ones(3), 4)
    p[0, 1] = 0.0                                      # t = 0 contributes 0, not nan
    with np.errstate(divide="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0) - p * logq.data
    np.testing.assert_allclose(F.kl_div(logq, p).data, terms.mean())
    np.testing.assert_allclose(F.kl_div(logq, p, reduction="batchmean").data, terms.sum() / 4)
    assert ag.gradcheck(lambda a: F.kl_div(a, p, reduction="batchmean"), [logq])
    logp = ag.tensor(np_log_softmax(RNG.standard_normal((4, 3)), 1), requires_grad=True)
    expected = (np.exp(logp.data) * (logp.data - logq.data)).sum()
    np.testing.assert_allclose(nn.KLDivLoss(reduction="sum", log_target=True)(logq, logp).data,
                               expected)
    assert ag.gradcheck(lambda a, b: F.kl_div(a, b, reduction="sum", log_target=True),
                        [logq, logp])


def test_cosine_similarity_and_normalize():
    a, b = t64(4, 5), t64(1, 5)
    an = np.linalg.norm(a.data, axis=1)
    bn = np.linalg.norm(b.data, axis=1)
    expected = (a.data * b.data).sum(1) / (an * bn)
    np.testing.assert_allclose(F.cosine_similarity(a, b).data, expected)
    assert ag.gradcheck(lambda x, y: F.cosine_similarity(x, y, dim=1), [a, b])
    zero = F.cosine_similarity(np.zeros((2, 3)), np.ones((2, 3)))
    np.testing.assert_array_equal(zero.data, [0.0, 0.0])      # eps keeps 0/0 away
    np.testing.assert_allclose(F.normalize(a).data, a.data / an[:, None])
    np.testing.assert_allclose(F.normalize(a, p=1, dim=0).data,
                               a.data / np.abs(a.data).sum(0, keepdims=True))
    assert ag.gradcheck(lambda x: F.normalize(x, dim=1), [a])


def test_one_hot():
    out = F.one_hot(np.array([[0, 2], [1, 2]]))
    assert out.dtype == np.int64 and out.shape == (2, 2, 3) and not out.requires_grad
    np.testing.assert_array_equal(out.data[1, 0], [0, 1, 0])
    assert F.one_hot(ag.tensor(np.array([1])), num_classes=4).shape == (1, 4)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        F.one_hot(np.array([2]), num_classes=2)
    with pytest.raises(TypeError, match="integer"):
        F.one_hot(np.array([1.0]))


def test_pad_modes():
    x = ag.tensor(np.arange(12.0).reshape(1, 3, 4), requires_grad=True)
    row = np.arange(4.0)
    np.testing.assert_array_equal(F.pad(x, (2, 1), value=-1).data[0, 0],
                                  [-1, -1, 0, 1, 2, 3, -1])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="reflect").data[0, 0],
                                  [2, 1, 0, 1, 2, 3, 2])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="replicate").data[0, 0],
                                  [0, 0, 0, 1, 2, 3, 3])
    np.testing.assert_array_equal(F.pad(x, (2, 1), mode="circular").data[0, 0],
                                  [2, 3, 0, 1, 2, 3, 0])
    both = F.pad(x, (1, 0, 0, 2), mode="replicate")            # last axis, then the one before
    assert both.shape == (1, 5, 5)
    np.testing.assert_array_equal(both.data[0, :, 0], [0, 4, 8, 8, 8])
    assert row.size == 4
    for mode in ("constant", "reflect", "replicate", "circular"):
        assert ag.gradcheck(lambda a: F.pad(a, (2, 1, 1, 1), mode=mode), [x])
    with pytest.raises(ValueError, match="reflect padding"):
        F.pad(x, (4, 0), mode="reflect")
