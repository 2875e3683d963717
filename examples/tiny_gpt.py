"""A character-level GPT on 300 kB of Shakespeare (examples/data/shakespeare.txt), compared with
char_rnn.py's LSTM trained for the same wall-clock time on the same split.

    token + position embeddings -> 3 pre-norm blocks (causal self-attention, 4 heads; GELU MLP)
    -> LayerNorm -> head tied to the token embedding; context 64 characters, d_model 128
    AdamW (lr 6e-3, weight decay 0.1 on matrices), batches of 16 windows, linear warm-up then
    cosine decay over the time budget, gradient norm clipped at 1

The last 10 % of the text is held out; both models are scored on all of it (nats per character).
The budget counts each model's training steps only (evaluation is not timed), and the two train
in alternation, each step going to the one that has spent less, so on a shared machine both
see the same load.  Runs on 1 BLAS thread, as char_rnn.py.

    python examples/tiny_gpt.py [--budget 450] [--seed 0] [--no-lstm] [--graph docs/x.svg]

With the default 450 s per model (about 16 minutes in all, with evaluation) the GPT ended 0.155
nat/char below the LSTM on the held-out text; at 150 s each the LSTM is far ahead (see README).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

# The same setting as char_rnn.py, so the comparison is like for like (and polite on a shared
# machine).  Set before NumPy loads; an explicit setting in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
from nn.optim.lr_scheduler import LambdaLR  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = os.path.join(HERE, "data", "shakespeare.txt")
sys.path.insert(0, HERE)
import char_rnn  # noqa: E402  (the LSTM and its recipe, for the comparison)


def gelu_tanh(x):
    """GPT-2's GELU, the tanh approximation: vectorised (the exact form calls math.erf per
    element, which would dominate a step here)."""
    return F.gelu(x, approximate="tanh")


class TinyGPT(nn.Module):
    def __init__(self, vocab: int, block: int = 64, d_model: int = 128, heads: int = 4,
                 layers: int = 3) -> None:
        super().__init__()
        self.block = block
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(block, d_model)
        for table in (self.tok, self.pos):          # GPT-2's scale; N(0, 1) is too loud when tied
            nn.init.normal_(table.weight, std=0.02)
        self.blocks = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout=0.0,
                                       activation=gelu_tanh, batch_first=True, norm_first=True)
            for _ in range(layers)])
        self.norm = nn.LayerNorm(d_model)

    def forward(self, codes):
        """codes (N, T) integers, T <= block -> logits (N, T, vocab)."""
        t = codes.shape[1]
        x = self.tok(codes) + self.pos(np.arange(t))
        for layer in self.blocks:
            x = layer(x, is_causal=True)
        return F.linear(self.norm(x), self.tok.weight)   # weight-tied head


def split(text: str):
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    codes = np.array([index[c] for c in text], dtype=np.int64)
    cut = int(len(codes) * 0.9)
    return chars, index, codes[:cut], codes[cut:]


def gpt_loss(model: TinyGPT, codes: np.ndarray) -> float:
    """Mean next-character cross-entropy over ``codes`` (nats).  Windows of the context length
    overlap by half; the first is scored whole, every later one only on its second half, so each
    character is scored once and (past the first window) with at least half a context."""
    block, half = model.block, model.block // 2
    starts = np.arange(0, len(codes) - block, half)
    total, count = 0.0, 0
    with ag.no_grad():
        for i in range(0, len(starts), 64):
            batch = starts[i:i + 64]
            chunk = codes[batch[:, None] + np.arange(block + 1)]
            logits = model(chunk[:, :-1])
            per_char = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                       chunk[:, 1:].reshape(-1), reduction="none")
            per_char = per_char.data.reshape(len(batch), block)
            scored = np.zeros(per_char.shape, dtype=bool)
            scored[:, half:] = True
            scored[batch == 0] = True
            total += float(per_char[scored].sum())
            count += int(scored.sum())
    return total / count


class Trainer:
    """One model's training, one step at a time, with the seconds its steps took."""

    def __init__(self, name: str, step) -> None:
        self.name, self.step_fn = name, step
        self.spent, self.steps, self.curve = 0.0, 0, []

    def step(self) -> None:
        start = time.perf_counter()
        loss = self.step_fn()
        self.spent += time.perf_counter() - start
        self.steps += 1
        if self.steps % 25 == 0:
            self.curve.append((self.spent, loss))


def gpt_trainer(model: TinyGPT, train: np.ndarray, budget: float, seed: int, lr: float,
                batch: int) -> Trainer:
    rng = np.random.default_rng(seed)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = nn.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                          {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=(0.9, 0.99))
    trainer = None

    # Warm-up then cosine decay over the wall-clock budget rather than a step count, so the GPT
    # gets exactly the LSTM's time whatever the machine's speed: the factor is a function of the
    # fraction of the budget this model has spent.
    def factor(_epoch) -> float:
        progress = min(1.0, trainer.spent / budget) if trainer is not None else 0.0
        if progress < 0.05:
            return 0.05 + 0.95 * progress / 0.05
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (progress - 0.05) / 0.95))

    schedule = LambdaLR(opt, factor)

    def step() -> float:
        x, y = char_rnn.windows(train, batch, model.block, rng)
        loss = F.cross_entropy(model(x).reshape(-1, model.tok.num_embeddings), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        schedule.step()
        return loss.item()

    trainer = Trainer("GPT", step)
    return trainer


def lstm_trainer(model, chars, train: np.ndarray, seed: int) -> Trainer:
    """char_rnn.py's recipe: batches of 32 random 64-character windows, Adam 5e-3, clip 1."""
    rng = np.random.default_rng(seed)
    opt = nn.optim.Adam(model.parameters(), lr=5e-3)

    def step() -> float:
        x, y = char_rnn.windows(train, 32, 64, rng)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    return Trainer("LSTM", step)


def race(trainers: list, budget: float, log) -> None:
    """Train until each has spent ``budget`` seconds, always stepping the one that has spent the
    least: on a shared machine both then see the same load, so the budgets stay comparable."""
    reported = 0.0
    while True:
        active = [t for t in trainers if t.spent < budget]
        if not active:
            break
        min(active, key=lambda t: t.spent).step()
        done = min(t.spent for t in trainers)
        if done - reported >= 30:
            reported = done
            log("  " + ", ".join(f"{t.name} {t.steps} steps {t.spent:.0f} s loss "
                                 f"{t.curve[-1][1] if t.curve else float('nan'):.3f}"
                                 for t in trainers))


def sample(model: TinyGPT, chars, index, prime: str, length: int, temperature: float,
           rng: np.random.Generator) -> str:
    codes = [index[c] for c in prime]
    with ag.no_grad():
        for _ in range(length):
            logits = model(np.array([codes[-model.block:]]))
            z = logits.data[0, -1].astype(np.float64) / temperature
            p = np.exp(z - z.max())
            codes.append(int(rng.choice(len(chars), p=p / p.sum())))
    return "".join(chars[c] for c in codes)


def draw_block(model: TinyGPT, path: str) -> None:
    """One block's graph, grouped by module, as SVG."""
    import viz
    block = model.blocks[0]
    x = ag.randn(1, 6, model.tok.embedding_dim)
    out = block(x, is_causal=True)
    graph = viz.draw_graph(out.sum(), model=block, group_by_module=True,
                           title="tiny_gpt: one pre-norm Transformer block (T = 6)")
    with open(path, "wb") as f:
        f.write(graph.pipe(format="svg"))


def plot(curves: dict, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    for name, curve in curves.items():
        ax.plot([t for t, _ in curve], [v for _, v in curve], label=name)
    ax.set_xlabel("training seconds (each model's own)")
    ax.set_ylabel("batch loss (nats/char)")
    ax.set_title("tiny_gpt.py: GPT vs char_rnn.py's LSTM, same budget")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=450.0, help="training seconds per model")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-lstm", action="store_true", help="skip the LSTM comparison")
    parser.add_argument("--graph", default=None, help="write one block's graph (SVG) here")
    parser.add_argument("--plot", default=None, help="write the loss curves (PNG) here")
    parser.add_argument("--sample-length", type=int, default=300)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--block", type=int, default=64, help="context length")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=6e-3)
    parser.add_argument("--val-chars", type=int, default=None,
                        help="score only the first N held-out characters (quick checks)")
    args = parser.parse_args(argv)
    log = lambda msg: print(msg, flush=True)  # noqa: E731

    with open(TEXT, encoding="utf-8") as f:
        text = f.read()
    chars, index, train, val = split(text)
    val = val[:args.val_chars] if args.val_chars else val
    log(f"{os.path.relpath(TEXT)}: {len(text)} characters, vocabulary {len(chars)}; "
        f"{len(train)} for training, the last {len(val)} held out; uniform guess "
        f"{math.log(len(chars)):.2f} nats/char; budget {args.budget:.0f} s per model")

    ag.manual_seed(args.seed)
    model = TinyGPT(len(chars), args.block, args.d_model, args.heads, args.layers)
    trainers = [gpt_trainer(model, train, args.budget, args.seed, args.lr, args.batch)]
    log(f"GPT: {sum(p.size for p in model.parameters())} parameters; LSTM: char_rnn.CharLSTM")
    if not args.no_lstm:
        ag.manual_seed(args.seed)
        lstm = char_rnn.CharLSTM(len(chars))
        trainers.append(lstm_trainer(lstm, chars, train, args.seed))
    race(trainers, args.budget, log)
    for t in trainers:
        log(f"{t.name}: {t.steps} steps in {t.spent:.0f} s")
    result = {"gpt_val": gpt_loss(model, val), "gpt_steps": trainers[0].steps}
    log(f"GPT  validation loss {result['gpt_val']:.3f} nats/char")
    if not args.no_lstm:
        result["lstm_val"] = char_rnn.passage_loss(lstm, val)
        result["lstm_steps"] = trainers[1].steps
        log(f"LSTM validation loss {result['lstm_val']:.3f} nats/char")
        log(f"GPT - LSTM: {result['gpt_val'] - result['lstm_val']:+.3f} nats/char")
    curves = {t.name: t.curve for t in trainers}
    rng = np.random.default_rng(args.seed)
    result["sample"] = sample(model, chars, index, "ROMEO:\n", args.sample_length, 0.8, rng)
    log(f"\nsample (temperature 0.8):\n{result['sample']}")
    if args.graph:
        draw_block(model, args.graph)
        log(f"wrote {args.graph}")
    if args.plot:
        plot(curves, args.plot)
        log(f"wrote {args.plot}")
    return result


if __name__ == "__main__":
    main()
