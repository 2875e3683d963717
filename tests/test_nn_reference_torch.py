"""The new nn pieces against PyTorch itself, with copied weights: run only where torch imports
(the benchmark venv has it; the main venv does not), marked ``reference``."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
from nn.optim import lr_scheduler as S  # noqa: E402

pytestmark = pytest.mark.reference
TF = torch.nn.functional
RNG = np.random.default_rng(11)


def both(*shape, scale=1.0):
    a = RNG.standard_normal(shape) * scale
    return ag.tensor(a.copy(), requires_grad=True), torch.tensor(a, requires_grad=True)


def close(ours, theirs, tol=1e-6):
    np.testing.assert_allclose(ours.data if isinstance(ours, ag.Tensor) else ours,
                               theirs.detach().numpy(), rtol=tol, atol=tol)


def check(fn_ours, fn_theirs, *shapes, tol=1e-6):
    """Values and input gradients (through a random upstream gradient) agree."""
    pairs = [both(*s) for s in shapes]
    out, ref = fn_ours(*[p[0] for p in pairs]), fn_theirs(*[p[1] for p in pairs])
    close(out, ref, tol)
    g = RNG.standard_normal(ref.shape)
    (out * ag.tensor(g)).sum().backward()
    (ref * torch.tensor(g)).sum().backward()
    for a, b in pairs:
        close(a.grad, b.grad, tol)


def test_classification_losses():
    t = np.array([0, 3, -100, 1, 2])
    w = np.array([0.5, 1.0, 2.0, 1.5])
    for kw in ({}, {"label_smoothing": 0.2}, {"reduction": "sum"}, {"reduction": "none"}):
        check(lambda x: F.cross_entropy(x, t, w, **kw),
              lambda x: TF.cross_entropy(x, torch.tensor(t), torch.tensor(w), **kw), (5, 4))
    tk = RNG.integers(0, 4, (2, 3))
    check(lambda x: F.cross_entropy(x, tk, label_smoothing=0.1),
          lambda x: TF.cross_entropy(x, torch.tensor(tk), label_smoothing=0.1), (2, 4, 3))
    probs = RNG.dirichlet(np.ones(4), 5)
    check(lambda x: F.cross_entropy(x, probs, w, label_smoothing=0.1),
          lambda x: TF.cross_entropy(x, torch.tensor(probs), torch.tensor(w),
                                     label_smoothing=0.1), (5, 4))
    tt = np.clip(t, 0, None)
    check(lambda x: F.nll_loss(x, tt, w, ignore_index=3),
          lambda x: TF.nll_loss(x, torch.tensor(tt), torch.tensor(w), ignore_index=3), (5, 4))


def test_binary_and_regression_losses():
    t = RNG.uniform(0, 1, (4, 3))
    w, pw = RNG.uniform(0.5, 2, 3), np.array([1.0, 3.0, 0.25])
    check(lambda x: F.binary_cross_entropy_with_logits(x, t, w, pos_weight=pw),
          lambda x: TF.binary_cross_entropy_with_logits(x, torch.tensor(t), torch.tensor(w),
                                                        pos_weight=torch.tensor(pw)), (4, 3))
    check(lambda x: F.binary_cross_entropy(F.sigmoid(x), t, w),
          lambda x: TF.binary_cross_entropy(torch.sigmoid(x), torch.tensor(t), torch.tensor(w)),
          (4, 3))
    check(lambda x: F.smooth_l1_loss(x, t, beta=0.5),
          lambda x: TF.smooth_l1_loss(x, torch.tensor(t), beta=0.5), (4, 3))
    for log_target in (False, True):
        target = np.log(t) if log_target else t
        check(lambda x: F.kl_div(F.log_softmax(x, 1), target, reduction="batchmean",
                                 log_target=log_target),
              lambda x: TF.kl_div(TF.log_softmax(x, 1), torch.tensor(target),
                                  reduction="batchmean", log_target=log_target), (4, 3))
    check(lambda a, b: F.cosine_similarity(a, b), lambda a, b: TF.cosine_similarity(a, b),
          (4, 5), (4, 5))
    check(lambda a: F.normalize(a, p=3, dim=0), lambda a: TF.normalize(a, p=3, dim=0), (4, 5))
    for mode in ("reflect", "replicate", "circular"):
        check(lambda a: F.pad(a, (2, 1, 1, 2), mode=mode),
              lambda a: TF.pad(a, (2, 1, 1, 2), mode=mode), (1, 2, 4, 5))


def test_convolutions_and_pooling():
    check(lambda x, w: F.conv2d(x, w, None, 1, "same", 2, 2),
          lambda x, w: TF.conv2d(x, w, None, 1, "same", 2, 2), (2, 4, 7, 6), (6, 2, 3, 2))
    check(lambda x, w: F.conv1d(x, w, None, 2, 1, 2, 2),
          lambda x, w: TF.conv1d(x, w, None, 2, 1, 2, 2), (2, 4, 9), (6, 2, 3))
    check(lambda x, w: F.conv_transpose2d(x, w, None, 2, 1, 1, 2, 2),
          lambda x, w: TF.conv_transpose2d(x, w, None, 2, 1, 1, 2, 2), (2, 4, 3, 4), (4, 3, 3, 3))
    check(lambda x: F.avg_pool2d(x, 3, 2, 1, True, False),
          lambda x: TF.avg_pool2d(x, 3, 2, 1, True, False), (1, 2, 6, 7))
    check(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
          lambda x: TF.max_pool2d(x, 3, 2, 1, ceil_mode=True), (1, 2, 6, 7))
    check(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), lambda x: TF.adaptive_avg_pool2d(x, (3, 2)),
          (2, 3, 7, 5))
    check(lambda x: F.adaptive_max_pool2d(x, (3, 2)), lambda x: TF.adaptive_max_pool2d(x, (3, 2)),
          (2, 3, 7, 5))
    check(lambda x: F.group_norm(x, 2), lambda x: TF.group_norm(x, 2), (3, 4, 2, 5))


def copy_into(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def test_attention_modules_with_copied_weights():
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    ours = nn.MultiheadAttention(8, 2, batch_first=True, dtype=np.float64)
    copy_into(ours, mha)
    mask = ~torch.tril(torch.ones(5, 5, dtype=torch.bool))
    x, xt = both(2, 5, 8)
    out, w = ours(x, x, x, attn_mask=mask.numpy())
    ref, ref_w = mha(xt, xt, xt, attn_mask=mask)
    close(out, ref)
    close(w, ref_w)
    q, qt = both(2, 3, 4, 6)
    close(F.scaled_dot_product_attention(q, q, q, is_causal=True),
          TF.scaled_dot_product_attention(qt, qt, qt, is_causal=True))
    for norm_first in (False, True):
        for act in ("relu", "gelu"):
            layer = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=act,
                                                     batch_first=True,
                                                     norm_first=norm_first).double()
            mine = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=act,
                                              batch_first=True, norm_first=norm_first,
                                              dtype=np.float64)
            copy_into(mine, layer)
            close(mine(x), layer(xt), 1e-6)


def trajectory(make_ours, make_theirs, steps=12):
    a, b = both(3)
    opt_a, opt_b = make_ours([a]), make_theirs([b])
    for i in range(steps):
        g = np.sin(np.arange(3) + i) * 3
        a.grad = g.copy()
        b.grad = torch.tensor(g)
        opt_a.step()
        opt_b.step()
        close(a, b, 1e-9)


def test_optimizers_match_step_by_step():
    trajectory(lambda p: nn.optim.Adam(p, lr=0.1, amsgrad=True, maximize=True),
               lambda p: torch.optim.Adam(p, lr=0.1, amsgrad=True, maximize=True))
    trajectory(lambda p: nn.optim.AdamW(p, lr=0.1, amsgrad=True),
               lambda p: torch.optim.AdamW(p, lr=0.1, amsgrad=True))
    trajectory(lambda p: nn.optim.NAdam(p, lr=0.05, weight_decay=0.1),
               lambda p: torch.optim.NAdam(p, lr=0.05, weight_decay=0.1))
    trajectory(lambda p: nn.optim.NAdam(p, lr=0.05, weight_decay=0.1,
                                        decoupled_weight_decay=True),
               lambda p: torch.optim.NAdam(p, lr=0.05, weight_decay=0.1,
                                           decoupled_weight_decay=True))
    trajectory(lambda p: nn.optim.RAdam(p, lr=0.05, weight_decay=0.1),
               lambda p: torch.optim.RAdam(p, lr=0.05, weight_decay=0.1))
    trajectory(lambda p: nn.optim.SGD(p, lr=0.05, momentum=0.9, maximize=True),
               lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, maximize=True))


def lr_sequence(opt, sched, steps, metrics=None):
    out = []
    for i in range(steps):
        opt.step()
        sched.step() if metrics is None else sched.step(metrics[i])
        out.append(opt.param_groups[0]["lr"])
    return out


@pytest.mark.parametrize("name", ["multistep", "linear", "constant", "onecycle", "warm",
                                  "sequential", "chained", "plateau", "multiplicative"])
def test_schedulers_match(name):
    def build(lib, opt):
        s = lib if lib is S else torch.optim.lr_scheduler
        return {
            "multistep": lambda: s.MultiStepLR(opt, [2, 5, 5], 0.5),
            "linear": lambda: s.LinearLR(opt, 0.2, 0.9, 6),
            "constant": lambda: s.ConstantLR(opt, 0.4, 3),
            "onecycle": lambda: s.OneCycleLR(opt, 1.0, total_steps=15, three_phase=True),
            "warm": lambda: s.CosineAnnealingWarmRestarts(opt, 3, 2, 0.01),
            "sequential": lambda: s.SequentialLR(opt, [s.LinearLR(opt, 0.1, total_iters=3),
                                                       s.ExponentialLR(opt, 0.8)], [3]),
            "chained": lambda: s.ChainedScheduler([s.ConstantLR(opt, 0.5, 4),
                                                   s.ExponentialLR(opt, 0.9)]),
            "plateau": lambda: s.ReduceLROnPlateau(opt, factor=0.5, patience=1, cooldown=1),
            "multiplicative": lambda: s.MultiplicativeLR(opt, lambda e: 0.95),
        }[name]()
    ours_opt = nn.optim.SGD([ag.tensor(np.zeros(1), requires_grad=True)], lr=0.5, momentum=0.9)
    torch_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5, momentum=0.9)
    metrics = [5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3] if name == "plateau" else None
    ours = lr_sequence(ours_opt, build(S, ours_opt), 14, metrics)
    theirs = lr_sequence(torch_opt, build(torch, torch_opt), 14, metrics)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert math.isfinite(ours[-1])


def test_clip_grad_norm_matches_on_finite_and_infinite_norms():
    for g in (np.array([3.0, 4.0]), np.array([np.inf, 1.0])):
        a, b = both(2)
        a.grad, b.grad = g.copy(), torch.tensor(g)
        total = nn.utils.clip_grad_norm_([a], 1.0)
        ref = torch.nn.utils.clip_grad_norm_([b], 1.0)
        np.testing.assert_array_equal(total.item(), ref.item())
        np.testing.assert_allclose(a.grad, b.grad.numpy())
