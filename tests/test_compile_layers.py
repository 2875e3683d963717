"""ag.compile over nn's layers and losses: a training step through each replays bitwise equal to
eager (loss, parameters, .grad, optimizer state, buffers), step after step, or is refused where
the layer computes part of its result with NumPy on ``.data`` (a mask for ``ag.where``), which a
replay would freeze: never a replay that differs."""

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from test_compile import run_both

REFUSED = "computed outside graphgrad's ops"


def run_or_refused(make, batches) -> bool:
    """True when compiled and eager agree bitwise at every step; False when compile refuses."""
    try:
        run_both(make, batches)
    except ag.CompileError as err:
        assert REFUSED in str(err), str(err)
        return False
    return True

RNG = np.random.default_rng(5)


def _step(model, loss_of):
    opt = nn.optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        loss = loss_of(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step, model, opt


def _image_batches(shape, classes=3, n=4):
    return [(RNG.standard_normal(shape).astype(np.float32), RNG.integers(0, classes, shape[0]))
            for _ in range(n)]


class _Attend(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, dropout=0.1, batch_first=True)
        self.norm = nn.LayerNorm(8)
        self.out = nn.Linear(8, 3)

    def forward(self, x):
        h, _ = self.attn(x, x, x)
        return self.out(self.norm(h + x).mean(axis=1))


class _Embed(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 6)
        self.out = nn.Linear(6, 3)

    def forward(self, tokens):
        return self.out(F.gelu(self.embed(tokens)).mean(axis=1))


# Masks are Tensor comparisons (`x > 0`, `size < beta`), which a replay recomputes on new values;
# Dropout2d's channels are drawn through `lowered`, afresh at every replay.

CASES = {
    "conv1d_groupnorm_silu": (lambda: nn.Sequential(
        nn.Conv1d(2, 4, 3, padding="same"), nn.GroupNorm(2, 4), nn.SiLU(), nn.Flatten(),
        nn.Linear(4 * 8, 3)),
        lambda: _image_batches((5, 2, 8))),
    "conv_transpose_batchnorm2d_maxpool": (lambda: nn.Sequential(
        nn.ConvTranspose2d(1, 3, 2, stride=2), nn.BatchNorm2d(3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3 * 4 * 4, 3)),
        lambda: _image_batches((4, 1, 4, 4))),
    "attention_layernorm_dropout": (_Attend, lambda: _image_batches((3, 5, 8))),
    "embedding_gelu": (_Embed, lambda: [(RNG.integers(0, 10, (4, 7)), RNG.integers(0, 3, 4))
                                        for _ in range(4)]),
    "mlp_leaky_relu": (lambda: nn.Sequential(nn.Linear(6, 5), nn.LeakyReLU(0.1), nn.Linear(5, 3)),
                       lambda: _image_batches((4, 6))),
    "mlp_elu_softplus": (lambda: nn.Sequential(nn.Linear(6, 5), nn.ELU(), nn.Softplus(),
                                               nn.Linear(5, 3)),
                         lambda: _image_batches((4, 6))),
    "mlp_prelu": (lambda: nn.Sequential(nn.Linear(6, 5), nn.PReLU(), nn.Linear(5, 3)),
                  lambda: _image_batches((4, 6))),
    "conv_dropout2d": (lambda: nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Dropout2d(0.5),
                                             nn.Flatten(), nn.Linear(3 * 4 * 4, 3)),
                       lambda: _image_batches((4, 1, 4, 4))),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layers_replay_bitwise(name):
    build, data = CASES[name]
    batches = data()

    def make():
        ag.manual_seed(0)
        return _step(build(), F.cross_entropy)
    assert run_or_refused(make, batches), f"{name} was refused by ag.compile"


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "binary_cross_entropy_with_logits", "kl_div"])
def test_losses_replay_bitwise(loss):
    fn = getattr(F, loss)
    batches = [(RNG.standard_normal((6, 4)).astype(np.float32),
                (RNG.random((6, 2)) > 0.5).astype(np.float32)) for _ in range(4)]

    def make():
        ag.manual_seed(0)
        return _step(nn.Sequential(nn.Linear(4, 2)), fn)
    assert run_or_refused(make, batches), f"{loss} was refused by ag.compile"


class _PaddedEmbed(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(6, 4, padding_idx=0)
        self.out = nn.Linear(4, 3)

    def forward(self, tokens):
        return self.out(self.embed(tokens).mean(axis=1))


def test_embedding_padding_rows_replay_when_they_first_appear_after_capture():
    """The padding row gets no gradient at every call: it is absent at capture and verification
    and present later (the mask was once a NumPy branch the replay never re-took)."""
    batches = [(np.array([[1, 2, 3], [4, 5, 1]]), np.array([0, 2])),
               (np.array([[2, 3, 4], [5, 1, 2]]), np.array([1, 0])),
               (np.array([[0, 1, 0], [3, 0, 5]]), np.array([2, 1])),
               (np.array([[4, 4, 0], [-6, 2, 1]]), np.array([0, 0]))]   # -6: row 0 as well

    def make():
        ag.manual_seed(0)
        return _step(_PaddedEmbed(), F.cross_entropy)
    run_both(make, batches)
    step, model, _ = make()
    compiled = ag.compile(step)
    for x, y in batches:
        compiled(x, y)
        assert not model.embed.weight.grad[0].any()


@pytest.mark.parametrize("loss_of,name", [
    (F.cross_entropy, "cross_entropy"),
    (lambda x, y: F.cross_entropy(x, y, reduction="none").sum(), "cross_entropy"),
    (lambda x, y: F.nll_loss(F.log_softmax(x, 1), y), "nll_loss")],
    ids=["mean", "none", "nll"])
@pytest.mark.parametrize("bad", [3, -1, -100])
def test_a_class_target_out_of_range_raises_at_replay_too(loss_of, name, bad):
    """Eager refuses a target outside [0, C); a replay runs the op on the new targets, and
    without the op's own check it would pick from a neighbouring row (or wrap around)."""
    step, model, opt = _step(nn.Linear(4, 3), loss_of)
    compiled = ag.compile(step)
    x = RNG.standard_normal((5, 4)).astype(np.float32)
    for _ in range(3):
        compiled(x, RNG.integers(0, 3, 5))
    if bad == -100:           # the default ignore_index: ignored, but not by this program
        expected = pytest.raises(ag.CompileError, match=f"{name}: class target -100 is the "
                                                        f"ignore_index, and this compiled step")
    else:
        expected = pytest.raises(ValueError, match=f"{name}: class target {bad} is out of range "
                                                   f"for 3 classes")
    with expected:
        compiled(x, np.array([0, 1, bad, 2, 0]))
    loss = compiled(x, np.array([0, 1, 2, 2, 0]))          # the program still replays
    assert np.isfinite(loss.item())
