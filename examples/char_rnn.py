"""A character-level LSTM trained on a short public-domain passage (the opening of Alice's
Adventures in Wonderland, examples/data/alice.txt), until its per-character cross-entropy on the
passage is below 1.0 nat; then it writes a sample.

    Embedding(vocab, 32) -> LSTM(32, 192) -> Linear(192, vocab), next-character cross-entropy
    batches of 32 random windows of 64 characters, Adam lr 5e-3, gradient norm clipped at 1

    python examples/char_rnn.py [--target 1.0] [--max-steps 3000] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import time

# The matrices here are small (32 x 192): a multi-threaded BLAS spends more time waking threads
# than multiplying, and on a busy machine far more (10x measured on 2 shared cores).  Set before
# NumPy loads; an explicit setting in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import autograd as ag  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402

PASSAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "alice.txt")


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, embed: int = 32, hidden: int = 192) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, codes, state=None):
        """codes (N, T) integers -> logits (N, T, vocab), and the LSTM's (h, c)."""
        out, state = self.lstm(self.embed(codes), state)
        return self.head(out), state


def windows(codes: np.ndarray, batch: int, length: int, rng: np.random.Generator):
    """``batch`` random windows: inputs (batch, length) and the next characters as targets."""
    starts = rng.integers(0, len(codes) - length - 1, batch)
    idx = starts[:, None] + np.arange(length + 1)
    chunk = codes[idx]
    return chunk[:, :-1], chunk[:, 1:]


def passage_loss(model, codes: np.ndarray, length: int = 128) -> float:
    """Mean next-character cross-entropy (nats) over the whole passage, carrying the LSTM state
    from one chunk to the next, without recording a graph."""
    total, count, state = 0.0, 0, None
    with ag.no_grad():
        for start in range(0, len(codes) - 1, length):
            x = codes[start:start + length][None, :]
            y = codes[start + 1:start + length + 1]
            x = x[:, :len(y)]
            logits, state = model(x, state)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y,
                                     reduction="sum").item()
            count += len(y)
    return total / count


def sample(model, chars: list[str], index: dict, prime: str, length: int,
           temperature: float, rng: np.random.Generator) -> str:
    """Feed ``prime``, then draw ``length`` characters one at a time from softmax(logits / T)."""
    out = list(prime)
    with ag.no_grad():
        logits, state = model(np.array([[index[c] for c in prime]]))
        for _ in range(length):
            z = logits.data[0, -1].astype(np.float64) / temperature
            p = np.exp(z - z.max())
            code = rng.choice(len(chars), p=p / p.sum())
            out.append(chars[code])
            logits, state = model(np.array([[code]]), state)
    return "".join(out)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=1.0, help="stop below this loss (nats)")
    parser.add_argument("--max-steps", type=int, default=3000)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--sample-length", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    with open(PASSAGE, encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    codes = np.array([index[c] for c in text], dtype=np.int64)
    print(f"{os.path.relpath(PASSAGE)}: {len(text)} characters, vocabulary of {len(chars)}; "
          f"a uniform guess costs {np.log(len(chars)):.2f} nats per character")

    ag.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = CharLSTM(len(chars))
    opt = nn.optim.Adam(model.parameters(), lr=5e-3)
    start = time.perf_counter()
    loss = float("nan")
    step = 0
    for step in range(1, args.max_steps + 1):
        x, y = windows(codes, 32, 64, rng)
        logits, _ = model(x)
        batch_loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        batch_loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)   # the lecture's exploding gradients
        opt.step()
        if step % args.eval_every == 0 or step == args.max_steps:
            loss = passage_loss(model, codes)
            print(f"step {step:5d}  batch loss {batch_loss.item():.3f}  passage loss {loss:.3f} "
                  f"nats/char  ({time.perf_counter() - start:.0f} s)", flush=True)
            if loss < args.target:
                break
    seconds = time.perf_counter() - start
    reached = "reached" if loss < args.target else "did NOT reach"
    print(f"\n{reached} {args.target} nat/char: passage loss {loss:.3f} after {step} steps, "
          f"{seconds:.0f} s")
    text_out = sample(model, chars, index, "Alice ", args.sample_length, 0.7, rng)
    print(f"\nsample (temperature 0.7):\n{text_out}")
    return {"loss": loss, "steps": step, "seconds": seconds, "sample": text_out}


if __name__ == "__main__":
    main()
