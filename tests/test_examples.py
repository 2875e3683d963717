"""The examples run as one command each.  perceptron, xor_nn and playground run in full; the digits,
CNN and char-rnn examples run with reduced epochs/steps (their full runs are in the README)."""

import importlib.util
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HAVE_SKLEARN = importlib.util.find_spec("sklearn") is not None


def run(name, *args, timeout=120):
    result = subprocess.run([sys.executable, os.path.join("examples", name), *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=timeout)
    return result


def ok(name, *args):
    result = run(name, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_perceptron_learns_and_and_or_and_fails_on_xor():
    out = ok("perceptron.py")
    assert re.search(r"AND: .*accuracy 100%, converged", out)
    assert re.search(r"OR : .*accuracy 100%, converged", out)
    assert re.search(r"XOR: .*did NOT converge", out)
    assert "accuracy 100.0%" in out                          # the two Gaussian clouds
    assert "dE/dw = [0. 0.]" in out and "dE/db = 0.0" in out  # no gradient through the step


def test_xor_network_learns_and_momentum_is_faster():
    out = ok("xor_nn.py")
    epochs = {(act, mom): int(n) for act, mom, n in
              re.findall(r"hidden (\w+)\s+momentum (\S+): E < 0.01 after\s+(\d+) epochs", out)}
    assert len(epochs) == 4, out
    for act in ("tanh", "sigmoid"):
        assert epochs[(act, "0.9")] < epochs[(act, "0.0")]
    for line in out.splitlines():
        if "outputs" in line:
            a, b, c, d = map(float, re.search(r"\[(.*)\]", line).group(1).split())
            assert a < 0.2 and b > 0.8 and c > 0.8 and d < 0.2, line


def test_playground_example():
    out = ok("playground.py", "--sets", "gaussians", "xor", "--steps", "150")
    accs = re.findall(r"test\s+([\d.]+)%", out)
    assert len(accs) == 4 and all(float(a) >= 90 for a in accs), out
    assert "#" in out and "...." in out                      # the ASCII decision map


def _sklearn_or_clear_message(name, *args):
    """With scikit-learn: run the example.  Without it: the example must say how to get it."""
    if HAVE_SKLEARN:
        return ok(name, *args)
    result = run(name, *args)
    assert result.returncode != 0 and "pip install scikit-learn" in result.stderr
    return None


def test_digits_mlp_smoke():
    out = _sklearn_or_clear_message("digits.py", "--epochs", "2", "--no-progress")
    if out is not None:
        acc = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
        assert acc > 85, out


def test_cnn_digits_smoke():
    out = _sklearn_or_clear_message("cnn_digits.py", "--epochs", "2", "--no-progress")
    if out is not None:
        acc = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
        assert acc > 70, out


def test_char_rnn_smoke():
    out = ok("char_rnn.py", "--max-steps", "4", "--eval-every", "4", "--sample-length", "40")
    loss = float(re.search(r"passage loss ([\d.]+) after 4 steps", out).group(1))
    assert loss < 4.03                                       # better than a uniform guess
    sample = out.split("sample (temperature 0.7):\n")[1]
    assert sample.startswith("Alice ") and len(sample.rstrip("\n")) == 46


def test_passage_is_shipped():
    with open(os.path.join(ROOT, "examples", "data", "alice.txt"), encoding="utf-8") as f:
        text = f.read()
    assert 3000 < len(text) < 20000 and text.startswith("Alice was beginning")


@pytest.mark.parametrize("name", ["perceptron.py", "xor_nn.py", "playground.py", "digits.py",
                                  "cnn_digits.py", "char_rnn.py"])
def test_every_example_documents_its_command(name):
    with open(os.path.join(ROOT, "examples", name), encoding="utf-8") as f:
        source = f.read()
    assert f"python examples/{name}" in source


def test_digits_without_scikit_learn_says_how_to_get_it():
    block = ("import sys, runpy; sys.modules['sklearn'] = None; sys.argv = ['digits.py']; "
             "runpy.run_path('examples/digits.py', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", block], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and "pip install scikit-learn" in result.stderr
