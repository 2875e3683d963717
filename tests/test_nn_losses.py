"""Losses: values against NumPy, float64 gradchecks for every reduction, stability at logits of
+-1e4 with every NumPy floating-point warning raised, and clear errors that change nothing."""

import math

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F

RNG = np.random.default_rng(1)
REDUCTIONS = ["mean", "sum", "none"]


def t64(*shape, grad=True):
    return ag.tensor(RNG.standard_normal(shape), requires_grad=grad)


def reduce(values, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](values)


def log_softmax(x, axis):
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


# ---- values and gradients -----------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction):
    x, t = t64(4, 3), t64(4, 3, grad=False)
    d = x.data - t.data
    np.testing.assert_allclose(F.mse_loss(x, t, reduction).data, reduce(d * d, reduction))
    np.testing.assert_allclose(F.l1_loss(x, t, reduction).data, reduce(np.abs(d), reduction))
    huber = np.where(np.abs(d) < 0.5, 0.5 * d * d, 0.5 * (np.abs(d) - 0.25))
    np.testing.assert_allclose(F.huber_loss(x, t, reduction, delta=0.5).data,
                               reduce(huber, reduction))
    for fn in (F.mse_loss, F.l1_loss, lambda a, b, r: F.huber_loss(a, b, r, 0.5)):
        assert ag.gradcheck(lambda a: fn(a, t, reduction), [x])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropies(reduction):
    p = ag.tensor(RNG.uniform(0.05, 0.95, (4, 3)), requires_grad=True)
    t = ag.tensor(RNG.uniform(0, 1, (4, 3)), requires_grad=True)
    expected = -(t.data * np.log(p.data) + (1 - t.data) * np.log(1 - p.data))
    np.testing.assert_allclose(F.binary_cross_entropy(p, t, reduction=reduction).data,
                               reduce(expected, reduction))
    assert ag.gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), [p, t])
    x = t64(4, 3)
    q = 1 / (1 + np.exp(-x.data))
    expected = -(t.data * np.log(q) + (1 - t.data) * np.log(1 - q))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(x, t, reduction=reduction).data,
                               reduce(expected, reduction))
    assert ag.gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction), [x, t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_and_nll(reduction):
    x = t64(5, 4)
    target = np.array([0, 3, 1, 1, 2])
    lsm = log_softmax(x.data, 1)
    expected = -lsm[np.arange(5), target]
    np.testing.assert_allclose(F.cross_entropy(x, target, reduction=reduction).data,
                               reduce(expected, reduction))
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(x, 1), target, reduction=reduction).data,
                               reduce(expected, reduction))
    assert ag.gradcheck(lambda a: F.cross_entropy(a, target, reduction=reduction), [x])
    assert ag.gradcheck(lambda a: F.nll_loss(a, target, reduction=reduction), [x])


def test_cross_entropy_shapes_soft_targets_and_second_order():
    x = t64(2, 3, 4)                                       # (N, C, d): class axis 1
    target = np.array([[0, 2, 1, 2], [1, 1, 0, 0]])
    expected = -np.take_along_axis(log_softmax(x.data, 1), target[:, None], 1)[:, 0]
    np.testing.assert_allclose(F.cross_entropy(x, target, reduction="none").data, expected)
    assert ag.gradcheck(lambda a: F.cross_entropy(a, target), [x])
    single = t64(3)                                        # unbatched (C,)
    np.testing.assert_allclose(F.cross_entropy(single, np.array(2)).data,
                               -log_softmax(single.data, 0)[2])
    logits = t64(4, 3)
    probs = RNG.dirichlet(np.ones(3), size=4)
    soft = F.cross_entropy(logits, probs)
    np.testing.assert_allclose(soft.data, -(probs * log_softmax(logits.data, 1)).sum(1).mean())
    hard = np.array([2, 0, 1, 1])
    np.testing.assert_allclose(F.cross_entropy(logits, np.eye(3)[hard]).data,
                               F.cross_entropy(logits, hard).data)

    assert ag.gradcheck(input_grad(lambda a: F.cross_entropy(a, hard)), [logits])


def input_grad(loss_fn):
    """a -> d loss_fn(a) / da, recorded (create_graph) so gradcheck can differentiate it again."""
    def grad_of(a):
        with ag.enable_grad():
            leaf = a if a.requires_grad else a.detach().requires_grad_()
            return ag.grad(loss_fn(leaf), [leaf], create_graph=True)[0]
    return grad_of


def test_second_derivatives_of_the_other_fused_losses():
    x = t64(3, 4)
    t = RNG.uniform(0, 1, (3, 4))
    p = ag.tensor(RNG.uniform(0.1, 0.9, (3, 4)), requires_grad=True)
    target = np.array([3, 0, 2])
    assert ag.gradcheck(input_grad(lambda a: F.binary_cross_entropy_with_logits(a, t)), [x])
    assert ag.gradcheck(input_grad(lambda a: F.binary_cross_entropy(a, t)), [p])
    assert ag.gradcheck(input_grad(lambda a: F.nll_loss(a, target, reduction="sum") * (a * a).sum()), [x])
    assert ag.gradcheck(input_grad(lambda a: F.softplus(a).sum()), [x])


def test_loss_modules_match_functions():
    x, t = t64(3, 2), t64(3, 2, grad=False)
    p = ag.tensor(RNG.uniform(0.1, 0.9, (3, 2)))
    target = np.array([1, 0, 1])
    assert nn.MSELoss("sum")(x, t).item() == pytest.approx(F.mse_loss(x, t, "sum").item())
    assert nn.L1Loss()(x, t).item() == pytest.approx(F.l1_loss(x, t).item())
    assert nn.HuberLoss(delta=0.3)(x, t).item() == pytest.approx(
        F.huber_loss(x, t, delta=0.3).item())
    assert nn.BCELoss()(p, t.data > 0).item() == pytest.approx(
        F.binary_cross_entropy(p, (t.data > 0).astype(float)).item())
    assert nn.BCEWithLogitsLoss()(x, p).item() == pytest.approx(
        F.binary_cross_entropy_with_logits(x, p).item())
    assert nn.CrossEntropyLoss()(x, target).item() == pytest.approx(
        F.cross_entropy(x, target).item())
    assert nn.NLLLoss(reduction="none")(x, target).shape == (3,)
    assert "reduction='sum'" in repr(nn.MSELoss("sum"))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss("average")


def test_l2_penalty_is_half_the_sum_of_squares():
    a, b = nn.Parameter(RNG.standard_normal((2, 3))), nn.Parameter(RNG.standard_normal(4))
    penalty = F.l2_penalty([a, b])
    assert penalty.item() == pytest.approx(0.5 * ((a.data ** 2).sum() + (b.data ** 2).sum()))
    assert ag.gradcheck(lambda u, v: F.l2_penalty([u, v]), [a, b])
    assert F.l2_penalty([]).item() == 0.0


# ---- stability ----------------------------------------------------------------------------------

def test_cross_entropy_is_finite_and_exact_at_large_logits():
    x = ag.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    with np.errstate(all="raise"):
        loss = F.cross_entropy(x, np.array([1, 1]))
        loss.backward()
    assert loss.item() == pytest.approx(1e4)
    np.testing.assert_allclose(x.grad, [[0.5, -0.5, 0.0], [0.0, 0.0, 0.0]])
    x32 = ag.tensor(np.array([[1e4, -1e4]], np.float32), requires_grad=True)
    with np.errstate(all="raise"):
        loss32 = F.cross_entropy(x32, np.array([0]))
        loss32.backward()
    assert loss32.dtype == np.float32 and loss32.item() == 0.0
    np.testing.assert_array_equal(x32.grad, [[0.0, 0.0]])


def test_bce_with_logits_is_finite_at_large_logits():
    x = ag.tensor([1e4, -1e4, 1e4, -1e4], requires_grad=True)
    t = np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(all="raise"):
        loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 1e4, 1e4])
    np.testing.assert_allclose(x.grad, [0.0, 0.0, 1.0, -1.0])


def test_bce_on_probabilities_is_finite_at_zero_and_one():
    p = ag.tensor([0.0, 1.0, 0.0, 1.0], requires_grad=True)
    t = np.array([0.0, 1.0, 1.0, 0.0])
    with np.errstate(all="raise"):
        loss = F.binary_cross_entropy(p, t, reduction="none")
        loss.sum().backward()
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 100.0, 100.0])   # log clamped at -100
    assert np.all(np.isfinite(p.grad))


# ---- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, words", [
    (lambda x: F.cross_entropy(x, np.array([0, 3, 1])), ["cross_entropy", "3", "(3, 3)"]),
    (lambda x: F.cross_entropy(x, np.array([0, -1, 1])), ["cross_entropy", "-1"]),
    (lambda x: F.cross_entropy(x, np.array([0, 1])), ["cross_entropy", "(3, 3)", "(2,)"]),
    (lambda x: F.cross_entropy(x, np.array([0.0, 1.0, 2.0])), ["cross_entropy", "integers"]),
    (lambda x: F.nll_loss(x, np.array([0, 1, 5])), ["nll_loss", "5", "(3, 3)"]),
    (lambda x: F.mse_loss(x, np.zeros((3, 1))), ["mse_loss", "(3, 3)", "(3, 1)"]),
    (lambda x: F.l1_loss(x, np.zeros(3)), ["l1_loss", "(3, 3)", "(3,)"]),
    (lambda x: F.huber_loss(x, np.zeros((1, 3))), ["huber_loss", "(1, 3)"]),
    (lambda x: F.binary_cross_entropy_with_logits(x, np.zeros(9)),
     ["binary_cross_entropy_with_logits", "(9,)"]),
    (lambda x: F.binary_cross_entropy(x, np.zeros((3, 3))), ["binary_cross_entropy", "[0, 1]"]),
    (lambda x: F.mse_loss(x, np.zeros((3, 3)), "avg"), ["mse_loss", "reduction"]),
])
def test_bad_targets_raise_value_errors_that_change_nothing(call, words):
    model = nn.Linear(3, 3, dtype=np.float64)
    model(np.ones((3, 3))).sum().backward()
    before = [(p.data.copy(), p.grad.copy()) for p in model.parameters()]
    logits = model(RNG.standard_normal((3, 3)) * 3)
    with pytest.raises(ValueError) as info:
        call(logits)
    for word in words:
        assert word in str(info.value)
    for p, (data, grad) in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, data)
        np.testing.assert_array_equal(p.grad, grad)


def test_cross_entropy_loss_trains_a_linear_classifier():
    ag.manual_seed(0)
    x = RNG.standard_normal((60, 2))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    model = nn.Linear(2, 2, dtype=np.float64)
    first = None
    for _ in range(50):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        first = loss.item() if first is None else first
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * p.grad
    assert loss.item() < 0.5 * first
    assert math.isfinite(loss.item())
def test_cross_entropy_2d_mean_and_sum_fold_the_reduction_into_one_node():
    """(N, C) cross_entropy with mean/sum is one fused node; value, gradient and create_graph
    agree with the per-sample op reduced separately."""
    import autograd as ag
    from autograd import Tensor
    from autograd.engine import apply
    from nn.losses import CrossEntropyOp
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5)) * 4
    t = np.array([0, 4, 1, 2, 3, 4])
    for reduction in ("mean", "sum"):
        a = Tensor(x.copy(), requires_grad=True)
        loss = F.cross_entropy(a, t, reduction=reduction)
        assert loss._node is not None and loss._node.parents[0] is a   # no separate mean node
        loss.backward()
        b = Tensor(x.copy(), requires_grad=True)
        per = apply(CrossEntropyOp, b, target=t, axis=1)
        ref = per.mean() if reduction == "mean" else per.sum()
        ref.backward()
        np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-15)
        # second order through the fused node: d/dx sum(dL/dx * v)
        c = Tensor(x.copy(), requires_grad=True)
        (gc,) = ag.grad(F.cross_entropy(c, t, reduction=reduction), c, create_graph=True)
        (h,) = ag.grad((gc * Tensor(x)).sum(), c)
        d = Tensor(x.copy(), requires_grad=True)
        per = apply(CrossEntropyOp, d, target=t, axis=1)
        (gd,) = ag.grad(per.mean() if reduction == "mean" else per.sum(), d, create_graph=True)
        (hd,) = ag.grad((gd * Tensor(x)).sum(), d)
        np.testing.assert_allclose(h.data, hd.data, rtol=1e-10, atol=1e-12)
