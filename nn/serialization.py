"""Checkpoints: a flat dict of name -> numeric array, stored as an ``.npz`` (zip of ``.npy``).

Nothing is ever unpickled: values are checked to be numeric (bool, integer, float, complex) before
anything is written, and loading uses ``allow_pickle=False``, so a crafted archive holding an
object array or a pickle is refused without running any of its code.  Saving is atomic: the
archive is written to a temporary file in the target's directory, flushed to disk, then moved
over the target with ``os.replace``; a failure at any point leaves the previous file untouched.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from typing import Mapping

import numpy as np
from numpy.lib import format as npy_format

from autograd import Tensor

__all__ = ["save", "load"]

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"


def _checked_arrays(state_dict: Mapping) -> dict[str, np.ndarray]:
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"nn.save: expected a dict of name -> array, got "
                        f"{type(state_dict).__name__}")
    arrays = {}
    for name, value in state_dict.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"nn.save: keys must be non-empty strings, got {name!r}")
        if isinstance(value, Tensor):
            value = value.data
        if isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
            value = np.asarray(value)
        if not isinstance(value, np.ndarray):
            raise TypeError(f"nn.save: value for {name!r} is a {type(value).__name__}; only "
                            f"numeric arrays, Tensors and numbers can be saved")
        if value.dtype.kind not in "biufc" or value.dtype.hasobject:
            raise TypeError(f"nn.save: value for {name!r} has non-numeric dtype {value.dtype}; "
                            f"only numeric arrays can be saved (nothing is ever pickled)")
        arrays[name] = value
    return arrays


def _write_archive(file, arrays: dict[str, np.ndarray]) -> None:
    """The same layout np.savez writes (one ``name.npy`` member per array), but taking any key."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            with zf.open(name + ".npy", mode="w", force_zip64=True) as member:
                npy_format.write_array(member, np.asanyarray(array), allow_pickle=False)


def save(state_dict: Mapping, path) -> None:
    """Write ``state_dict`` (name -> numeric array/Tensor/number) to ``path`` atomically."""
    arrays = _checked_arrays(state_dict)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            _write_archive(handle, arrays)
            handle.flush()
            os.fsync(handle.fileno())
        mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def load(path) -> dict[str, np.ndarray]:
    """Read a checkpoint written by ``save`` (or any .npz of numeric arrays) as name -> array.
    Pickled content, object arrays, truncated and foreign files raise ValueError."""
    path = os.fspath(path)
    with open(path, "rb") as handle:
        head = handle.read(4)
        if head not in (_ZIP_MAGIC, _EMPTY_ZIP_MAGIC):
            raise ValueError(f"nn.load: {path!r} is not a checkpoint written by nn.save (not an "
                             f".npz zip archive; it starts with {head!r})")
        handle.seek(0)
        try:
            return _read_archive(handle)
        except ValueError as err:
            raise ValueError(f"nn.load: refusing {path!r}: {err}") from None
        except (zipfile.BadZipFile, EOFError, OSError, KeyError) as err:
            raise ValueError(f"nn.load: {path!r} is truncated or corrupt ({type(err).__name__}: "
                             f"{err})") from None


def _read_archive(handle) -> dict[str, np.ndarray]:
    # We own the handle, so NumPy never leaves a file open when the archive is broken.
    result = {}
    with np.load(handle, allow_pickle=False) as archive:
        for name in archive.files:
            value = archive[name]
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "biufc":
                raise ValueError(f"entry {name!r} is not a numeric array")
            result[name] = value
    return result
