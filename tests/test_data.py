"""DataLoader, train_test_split, the Playground generators and the IDX loader."""

import gzip
import struct

import numpy as np
import pytest

import autograd as ag
from autograd import Tensor
from nn.data import (DataLoader, train_test_split, circle, xor, gaussians, spiral, PLAYGROUND,
                     load_idx, load_mnist)


# ---- DataLoader ---------------------------------------------------------------------------------

def _epoch(loader):
    xs, ys = zip(*[(xb.data, yb.data) for xb, yb in loader])
    return np.concatenate(xs), np.concatenate(ys)


def test_batches_cover_the_dataset_once_per_epoch():
    X = np.arange(23, dtype=np.float32).reshape(23, 1) * np.ones((1, 3), np.float32)
    y = np.arange(23)
    loader = DataLoader(X, y, batch_size=5, shuffle=True, seed=0)
    assert len(loader) == 5
    for _ in range(3):
        batches = list(loader)
        assert [len(b[0]) for b in batches] == [5, 5, 5, 5, 3]
        assert all(isinstance(xb, Tensor) and isinstance(yb, Tensor) for xb, yb in batches)
        xs, ys = _epoch(loader)
        assert sorted(ys.tolist()) == list(range(23))
        np.testing.assert_array_equal(xs[:, 0], ys)     # rows stay paired with their labels


def test_shuffling_is_reproducible_with_a_seed_and_differs_between_epochs():
    X, y = np.arange(50.0)[:, None], np.arange(50)
    a, b = DataLoader(X, y, 8, True, seed=3), DataLoader(X, y, 8, shuffle=True, seed=3)
    first_a, first_b = _epoch(a)[1], _epoch(b)[1]
    np.testing.assert_array_equal(first_a, first_b)
    second_a = _epoch(a)[1]
    assert not np.array_equal(first_a, second_a)         # a new order each epoch
    np.testing.assert_array_equal(second_a, _epoch(b)[1])
    assert not np.array_equal(first_a, np.arange(50))


def test_without_seed_manual_seed_makes_it_reproducible():
    X = np.arange(40.0)[:, None]
    ag.manual_seed(7)
    one = [xb.data.ravel().tolist() for xb in DataLoader(X, batch_size=10, shuffle=True)]
    ag.manual_seed(7)
    two = [xb.data.ravel().tolist() for xb in DataLoader(X, batch_size=10, shuffle=True)]
    assert one != [list(range(i, i + 10)) for i in range(0, 40, 10)]
    assert one == two


def test_no_shuffle_and_drop_last():
    X = np.arange(10.0)[:, None]
    loader = DataLoader(X, batch_size=4, shuffle=False, drop_last=True)
    assert len(loader) == 2
    assert [xb.data.ravel().tolist() for xb in loader] == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_dataloader_errors():
    with pytest.raises(ValueError, match=r"same first \(sample\) size, got shapes \[\(10, 2\), \(9,\)\]"):
        DataLoader(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(np.zeros((10, 2)), batch_size=0)


def test_train_test_split():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, seed=0)
    assert (len(X_tr), len(X_te)) == (7, 3)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(10))
    np.testing.assert_array_equal(X_te[:, 0], 2 * y_te)
    again = train_test_split(X, y, test_size=0.3, seed=0)
    np.testing.assert_array_equal(again[3], y_te)
    t_tr, t_te = train_test_split(Tensor(X), test_size=4, shuffle=False)
    assert isinstance(t_tr, Tensor) and t_te.shape == (4, 2)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, test_size=1.5)
    with pytest.raises(ValueError, match="different lengths"):
        train_test_split(X, y[:5])


# ---- Playground sets ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(PLAYGROUND))
def test_playground_shapes_labels_and_seed(name):
    make = PLAYGROUND[name]
    X, y = make(301, noise=0.2, seed=1)
    assert X.shape == (301, 2) and X.dtype == np.float32
    assert y.shape == (301,) and y.dtype.kind == "i" and set(np.unique(y)) == {0, 1}
    assert np.all(np.abs(X) < 12)
    X2, y2 = make(301, noise=0.2, seed=1)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make(301, noise=0.2, seed=2)[0], X)


def test_playground_geometry_without_noise():
    X, y = circle(400, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.all(r[y == 1] < 2.5) and np.all((r[y == 0] >= 3.5) & (r[y == 0] <= 5.0))
    X, y = xor(400, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] >= 0).astype(int))
    assert np.all(np.abs(X) >= 0.3 - 1e-6)
    X, y = gaussians(400, seed=0)
    assert np.all(X[y == 1].mean(0) > 1.5) and np.all(X[y == 0].mean(0) < -1.5)
    X, y = spiral(400, seed=0)
    np.testing.assert_allclose(X[y == 0].mean(0), -X[y == 1].mean(0), atol=0.1)   # point-symmetric


def test_noise_flips_labels_near_the_boundary():
    X, y = circle(2000, noise=0.3, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    wrong = np.mean((r < 2.5) != (y == 1))
    assert 0.01 < wrong < 0.3


# ---- IDX ----------------------------------------------------------------------------------------

def _idx_bytes(array, code):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype, code", [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B),
                                         (np.int32, 0x0C), (np.float32, 0x0D), (np.float64, 0x0E)])
def test_load_idx_plain_and_gzip(tmp_path, dtype, code):
    array = (np.arange(2 * 3 * 4) * 7 - 20).reshape(2, 3, 4).astype(dtype)
    plain, zipped = tmp_path / "a-idx3", tmp_path / "a-idx3.gz"
    plain.write_bytes(_idx_bytes(array, code))
    zipped.write_bytes(gzip.compress(_idx_bytes(array, code)))
    for path in (plain, zipped):
        loaded = load_idx(path)
        assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
        np.testing.assert_array_equal(loaded, array)
    loaded[0, 0, 0] = 1       # an ordinary writable array


def test_load_idx_truncated_and_foreign_files(tmp_path):
    data = _idx_bytes(np.arange(60, dtype=np.uint8).reshape(3, 4, 5), 0x08)
    cases = {
        "short.idx": (data[:-7], "truncated: shape \\(3, 4, 5\\) of uint8 needs 60 bytes"),
        "header.idx": (data[:9], "truncated header"),
        "long.idx": (data + b"\0", "trailing bytes"),
        "foreign.png": (b"\x89PNG\r\n\x1a\n" + bytes(40), "not an IDX file"),
        "empty.idx": (b"", "not an IDX file"),
        "short.gz": (gzip.compress(data)[:-12], "gzip stream is truncated or corrupt"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match=message):
            load_idx(path)


def test_load_mnist_from_standard_names(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(images, 0x08)))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(labels, 0x08))
    X, y = load_mnist(tmp_path, "test")
    np.testing.assert_array_equal(X, images)
    np.testing.assert_array_equal(y, labels)
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        load_mnist(tmp_path, "train")


# ---- PyTorch's Dataset / DataLoader --------------------------------------------------------

def test_pytorch_defaults_and_any_indexable_dataset():
    from nn.data import TensorDataset
    pairs = [(np.array([i, i + 0.5]), i % 3) for i in range(7)]
    loader = DataLoader(pairs)
    assert loader.dataset is pairs and loader.batch_size == 1 and not loader.shuffle
    first = next(iter(loader))
    assert isinstance(first, tuple) and first[0].shape == (1, 2) and first[1].shape == (1,)
    xb, yb = list(DataLoader(pairs, 4, drop_last=True))[0]        # PyTorch's positional order
    np.testing.assert_array_equal(yb.data, [0, 1, 2, 0])
    ds = TensorDataset(np.arange(6.0), np.arange(6) * 2)
    assert len(ds) == 6 and ds[2] == (2.0, 4)
    batches = list(DataLoader(ds, batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 2]
    dicts = [{"x": np.ones(2) * i, "name": f"s{i}"} for i in range(3)]
    batch = next(iter(DataLoader(dicts, batch_size=3)))
    assert batch["x"].shape == (3, 2) and batch["name"] == ["s0", "s1", "s2"]


def test_bad_samples_raise_naming_the_sample():
    ragged = [(np.zeros(3), 0), (np.zeros(4), 1)]
    with pytest.raises(ValueError, match="sample 1 is an array of shape \\(4,\\), but sample 0"):
        list(DataLoader(ragged, batch_size=2))
    mixed = [(np.zeros(3), 0), np.zeros(3)]
    with pytest.raises(TypeError, match="sample 1"):
        list(DataLoader(mixed, batch_size=2))
    with pytest.raises(ValueError, match="num_workers=2 is not supported"):
        DataLoader(ragged, num_workers=2)


def test_random_split_and_samplers():
    from nn.data import random_split
    data = list(range(10))
    a, b = random_split(data, [7, 3], generator=np.random.default_rng(0))
    assert len(a) == 7 and len(b) == 3 and sorted(list(a) + list(b)) == data
    c, d = random_split(data, [7, 3], generator=np.random.default_rng(0))
    assert list(c) == list(a)
    parts = random_split(data, [0.5, 0.3, 0.2], generator=1)
    assert [len(p) for p in parts] == [5, 3, 2]
    with pytest.raises(ValueError, match="summing"):
        random_split(data, [4, 4])
    order = [9, 0, 5]
    got = [b.data.tolist() for b in DataLoader(np.arange(10), batch_size=2, sampler=order)]
    assert got == [[9, 0], [5]]
    got = [b.data.tolist() for b in DataLoader(np.arange(10), batch_sampler=[[1, 2], [3]])]
    assert got == [[1, 2], [3]]
