"""Exports: the trained weights as ``.npz`` (``nn.save``) and a stand-alone Python script that
rebuilds the same network with graphgrad and trains it on the same data.

The script carries ``core.py``'s source verbatim, so its network, initialisation, batch order and
loss are the page's own; only the data and the settings are written out as literals.
"""

from __future__ import annotations

import inspect
import io
import os
import tempfile

import numpy as np

import nn

from . import core

SCRIPT_MAIN = '''

# ---- the session's settings and data --------------------------------------------------------
SETTINGS = {settings!r}
RUN_SEED = {run_seed!r}
EPOCHS = {epochs!r}   # how far the page had trained when this script was exported
X_TRAIN = np.array({x_train!r}, dtype=np.float32)
Y_TRAIN = np.array({y_train!r}, dtype=np.float32).reshape(-1, 1)
X_TEST = np.array({x_test!r}, dtype=np.float32).reshape(-1, 2)
Y_TEST = np.array({y_test!r}, dtype=np.float32).reshape(-1, 1)


def train(epochs):
    """The page's training loop: per epoch one shuffled pass in batches of batch-size."""
    model = build(SETTINGS, RUN_SEED)
    optimizer = make_optimizer(SETTINGS, model)
    rng = np.random.default_rng([RUN_SEED, 1])
    f_train = features(X_TRAIN, SETTINGS["features"])
    size = SETTINGS["batch-size"]
    for _ in range(epochs):
        order = epoch_order(rng, len(f_train))
        for i in range(0, len(order), size):
            batch = order[i:i + size]
            update(SETTINGS, model, optimizer, f_train[batch], Y_TRAIN[batch])
    return model


def report(model):
    f_train = features(X_TRAIN, SETTINGS["features"])
    f_test = features(X_TEST, SETTINGS["features"])
    train_loss = evaluate(SETTINGS, model, f_train, Y_TRAIN)
    test_loss = evaluate(SETTINGS, model, f_test, Y_TEST)
    print(f"train loss {{train_loss:.6f}}  test loss {{test_loss:.6f}}")
    return train_loss, test_loss


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description="Rebuild and train the Playground's network")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--weights", help="evaluate the weights exported as .npz instead")
    args = parser.parse_args()
    if args.weights:
        net = build(SETTINGS, RUN_SEED)
        net.load_state_dict(nn.load(args.weights))
    else:
        net = train(args.epochs)
    print(net)
    report(net)
'''


def script(session) -> str:
    """Python source that retrains the session's network from scratch."""
    source = inspect.getsource(core)
    head = (f'"""graphgrad Playground export: {_describe(session)}.\n\n'
            f'    python this_file.py [--epochs N] [--weights model.npz]\n\n'
            f'Trains the same network on the same data as the page did (same initialisation and\n'
            f'batch order), and prints the train and test loss.  Needs graphgrad installed.\n"""\n')
    body = source.split('"""', 2)[2].lstrip("\n")   # core.py without its own docstring
    return head + "\n" + body + SCRIPT_MAIN.format(
        settings=session.settings, run_seed=session.run_seed, epochs=session.epoch,
        x_train=_rows(session.X_train), y_train=_rows(session.y_train[:, 0]),
        x_test=_rows(session.X_test), y_test=_rows(session.y_test[:, 0]))


def model_npz(session) -> bytes:
    """The state dict as ``nn.save`` writes it (it takes a path, so through a temporary file)."""
    fd, path = tempfile.mkstemp(suffix=".npz")
    os.close(fd)
    try:
        nn.save(session.model.state_dict(), path)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def _describe(session) -> str:
    s = session.settings
    data = session.custom["name"] if session.custom else s["dataset"]
    shape = "-".join(str(n) for n in [len(s["features"]), *s["layers"], 1])
    return (f"{data}, network {shape} {s['activation']}, {s['optimizer']} lr "
            f"{s['learning-rate']:g}, {s['loss']}")


def _rows(a: np.ndarray) -> list:
    """Exact float32 values as short decimal text (repr of float32 round-trips)."""
    return [[float(np.format_float_positional(v, unique=True)) for v in row] if np.ndim(row)
            else float(np.format_float_positional(row, unique=True)) for row in a]


def check_npz(raw: bytes) -> list[str]:
    """The array names in an exported file (for tests and the page's confirmation)."""
    with np.load(io.BytesIO(raw), allow_pickle=False) as z:
        return sorted(z.files)
