"""nn.save / nn.load: round trips, atomic writes, and refusal of anything that is not plain
numeric data (object arrays, pickles, truncated and foreign files)."""

import io
import os
import pickle
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

import autograd as ag
import nn
import nn.serialization


def small_model():
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(2 * 4 * 4, 3))


def test_model_round_trip(tmp_path):
    ag.manual_seed(0)
    model = small_model()
    model(np.random.default_rng(0).standard_normal((4, 1, 6, 6)))    # moves running stats
    path = tmp_path / "model.npz"
    nn.save(model.state_dict(), path)
    loaded = nn.load(path)
    assert list(loaded) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key], value)
    ag.manual_seed(1)
    other = small_model()
    other.load_state_dict(loaded)
    other.eval(), model.eval()
    x = np.ones((1, 1, 6, 6), np.float32)
    np.testing.assert_array_equal(other(x).data, model(x).data)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]                 # no temp files left


def test_values_of_every_numeric_kind_and_awkward_names(tmp_path):
    state = {
        "file": np.arange(3, dtype=np.int16),           # names np.savez would choke on
        "allow_pickle": np.array([True, False]),
        "state.3.exp_avg": ag.tensor(np.ones((2, 2), np.float32)),
        "step": 7,
        "lr": 0.5,
        "complex": np.array([1 + 2j]),
        "empty": np.zeros((0, 4)),
        "scalar": np.float64(2.5),
    }
    path = tmp_path / "mixed.npz"
    nn.save(state, str(path))
    loaded = nn.load(str(path))
    assert list(loaded) == list(state)
    assert loaded["step"] == 7 and type(loaded["step"]) is int and loaded["lr"] == 0.5
    assert type(loaded["scalar"]) is np.float64 and isinstance(loaded["state.3.exp_avg"],
                                                                 ag.Tensor)
    assert loaded["state.3.exp_avg"].dtype == np.float32
    assert loaded["empty"].shape == (0, 4)
    nn.save({}, path)
    assert nn.load(path) == {}


def test_optimizer_state_round_trip(tmp_path):
    model = nn.Linear(2, 1)
    opt = nn.optim.Adam(model.parameters(), lr=0.1)
    model(np.ones((3, 2))).sum().backward()
    opt.step()
    nn.save(opt.state_dict(), tmp_path / "opt.npz")
    loaded = nn.load(tmp_path / "opt.npz")
    for key, value in opt.state_dict().items():
        np.testing.assert_array_equal(loaded[key], value)


@pytest.mark.parametrize("bad", [
    {"w": np.array([object()], dtype=object)},
    {"w": np.array(["text"])},
    {"w": {"nested": {1, 2}}},
    {"w": [object()]},
    {3: np.zeros(1)},
    "a string at the top",
])
def test_non_numeric_values_are_refused_before_writing(tmp_path, bad):
    path = tmp_path / "model.npz"
    nn.save({"w": np.arange(3.0)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        nn.save(bad, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_failed_save_leaves_the_previous_file_byte_identical(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    nn.save({"w": np.arange(10.0)}, path)
    before = path.read_bytes()
    real_write = npy_format.write_array
    calls = []

    def write_then_fail(fp, array, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:                        # the second array: after real bytes went out
            fp.write(b"partial bytes of a half-written array")
            raise OSError("disk full")
        return real_write(fp, array, *args, **kwargs)

    monkeypatch.setattr(npy_format, "write_array", write_then_fail)
    with pytest.raises(OSError, match="disk full"):
        nn.save({"a": np.ones(1000), "b": np.zeros(1000)}, path)
    assert len(calls) == 2
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    monkeypatch.undo()
    np.testing.assert_array_equal(nn.load(path)["w"], np.arange(10.0))


def test_failed_rename_also_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    nn.save({"w": np.arange(4.0)}, path)
    before = path.read_bytes()

    def refuse(src, dst):
        raise PermissionError("read-only target")

    monkeypatch.setattr(nn.serialization.os, "replace", refuse)
    with pytest.raises(PermissionError):
        nn.save({"w": np.zeros(4)}, path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


class _Exploit:
    """Unpickling this calls os.mkdir(marker): loading must never get that far."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_object_array_inside_npz_is_refused_without_running_it(tmp_path):
    marker = str(tmp_path / "pwned")
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([_Exploit(marker)], dtype=object))   # pickles the object array
    with pytest.raises(ValueError, match="refusing"):
        nn.load(path)
    assert not os.path.exists(marker)


def test_pickle_files_are_refused_without_running_them(tmp_path):
    marker = str(tmp_path / "pwned")
    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps({"w": _Exploit(marker)}))
    with pytest.raises(ValueError, match="not a checkpoint"):
        nn.load(path)
    assert not os.path.exists(marker)
    # A pickle hidden as a zip member (not an .npy) is refused too.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("w.npy", pickle.dumps(_Exploit(marker)))
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError):
        nn.load(path)
    assert not os.path.exists(marker)


def test_truncated_and_foreign_files_give_clear_errors(tmp_path):
    path = tmp_path / "model.npz"
    nn.save({"w": np.arange(1000.0), "b": np.ones(10)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        nn.load(path)
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="not a checkpoint"):
        nn.load(path)
    text = tmp_path / "notes.txt"
    text.write_text("weights: 1 2 3\n")
    with pytest.raises(ValueError, match="not a checkpoint"):
        nn.load(text)
    single = tmp_path / "array.npy"
    np.save(single, np.arange(3))
    with pytest.raises(ValueError, match="not a checkpoint"):
        nn.load(single)
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "missing.npz")


def test_nested_checkpoint_round_trips_exactly(tmp_path):
    model = nn.Linear(3, 2)
    opt = nn.optim.Adam(model.parameters())
    sched = nn.optim.lr_scheduler.StepLR(opt, 2)
    model(np.ones((1, 3))).sum().backward()
    opt.step()
    ckpt = {"model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "epoch": 3, "best": float("inf"), "name": "run/1",
            "history": [0.5, 0.25, {"tag": None, "ok": True}], "pair": (1, 2.5),
            "a/b": np.arange(2), "#0": np.ones(1), "__graphgrad_structure__": "user's own key",
            "weird%2F": ag.tensor(np.float32(2))}
    path = tmp_path / "ckpt.npz"
    nn.save(ckpt, path)
    back = nn.load(path, map_location="cpu")
    assert back.keys() == ckpt.keys()
    assert back["epoch"] == 3 and type(back["epoch"]) is int and back["best"] == float("inf")
    assert back["name"] == "run/1" and back["history"][2] == {"tag": None, "ok": True}
    assert back["pair"] == (1, 2.5) and back["__graphgrad_structure__"] == "user's own key"
    np.testing.assert_array_equal(back["a/b"], [0, 1])
    assert isinstance(back["weird%2F"], ag.Tensor) and back["weird%2F"].item() == 2
    fresh = nn.Linear(3, 2)
    fresh.load_state_dict(back["model"])
    np.testing.assert_array_equal(fresh.weight.data, model.weight.data)
    again = nn.optim.Adam(fresh.parameters())
    again.load_state_dict(back["optimizer"])
    nn.optim.lr_scheduler.StepLR(again, 2).load_state_dict(back["scheduler"])
    import zipfile
    names = zipfile.ZipFile(path).namelist()
    assert "model/weight.npy" in names and "a%2Fb.npy" in names and "%230.npy" in names
    with pytest.raises(ValueError, match="map_location"):
        nn.load(path, map_location="cuda")


def test_checkpoints_in_the_flat_format_still_load(tmp_path):
    from nn.serialization import _write_archive
    path = tmp_path / "old.npz"
    with open(path, "wb") as f:                  # what nn.save wrote before nested checkpoints
        _write_archive(f, {"fc.weight": np.ones((2, 2)), "step": np.array(4)})
    back = nn.load(path)
    assert set(back) == {"fc.weight", "step"} and back["step"].item() == 4
    np.savez(tmp_path / "plain.npz", w=np.zeros(3))
    assert set(nn.load(tmp_path / "plain.npz")) == {"w"}
