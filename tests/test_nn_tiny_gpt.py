"""examples/tiny_gpt.py: the shipped text, the model's structure (weight tying, causal masking)
and a seconds-long run of the whole script, GPT and LSTM racing on the same split."""

import os
import sys

import numpy as np

import autograd as ag

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples"))
import tiny_gpt  # noqa: E402


def test_the_text_is_shipped_and_split_90_10():
    with open(tiny_gpt.TEXT, encoding="utf-8") as f:
        text = f.read()
    assert len(text.encode("utf-8")) >= 200_000 and text.startswith("First Citizen:")
    chars, index, train, val = tiny_gpt.split(text)
    assert len(train) + len(val) == len(text) and len(val) == len(text) - int(len(text) * 0.9)
    assert "".join(chars[c] for c in val[:20]) == text[len(train):len(train) + 20]


def test_head_is_tied_and_attention_is_causal():
    ag.manual_seed(0)
    model = tiny_gpt.TinyGPT(10, block=8, d_model=16, heads=2, layers=2)
    names = [n for n, _ in model.named_parameters()]
    assert not any("head" in n for n in names)                 # the head is tok.weight
    codes = np.array([[1, 2, 3, 4, 5, 6]])
    changed = codes.copy()
    changed[0, 4:] = 9
    a, b = model(codes).data, model(changed).data
    np.testing.assert_allclose(a[0, :4], b[0, :4], rtol=1e-6)   # the future is not seen
    assert not np.allclose(a[0, 4:], b[0, 4:])
    out = model(codes)
    out.sum().backward()
    assert model.tok.weight.grad is not None and model.pos.weight.grad.shape == (8, 16)


def test_a_short_race(tmp_path, capsys):
    result = tiny_gpt.main(["--budget", "1.5", "--sample-length", "12", "--d-model", "32",
                            "--layers", "1", "--val-chars", "2000",
                            "--graph", str(tmp_path / "block.svg")])
    assert result["gpt_steps"] > 0 and result["lstm_steps"] > 0
    assert np.isfinite(result["gpt_val"]) and np.isfinite(result["lstm_val"])
    assert result["sample"].startswith("ROMEO:\n") and len(result["sample"]) == 7 + 12
    svg = (tmp_path / "block.svg").read_text()
    assert "<svg" in svg and "self_attn" in svg                  # grouped by module
    assert "GPT - LSTM:" in capsys.readouterr().out
