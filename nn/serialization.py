"""Checkpoints: nested dicts and lists of arrays, Tensors, numbers and strings, stored as an
``.npz`` (zip of ``.npy``): one member per array under its escaped path, plus the structure as
JSON text (see below).

Nothing is ever unpickled: values are checked to be numeric (bool, integer, float, complex) before
anything is written, and loading uses ``allow_pickle=False``, so a crafted archive holding an
object array or a pickle is refused without running any of its code.  Saving is atomic: the
archive is written to a temporary file in the target's directory, flushed to disk, then moved
over the target with ``os.replace``; a failure at any point leaves the previous file untouched.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from typing import Any, Mapping

import numpy as np
from numpy.lib import format as npy_format

from autograd import Tensor

__all__ = ["save", "load"]

_ZIP_MAGIC = b"PK\x03\x04"
_EMPTY_ZIP_MAGIC = b"PK\x05\x06"


# ---- the nested format --------------------------------------------------------------------
# Every array of the object is one member, named by its escaped path ("model/fc1.weight",
# "history/%233" for item 3 of a list); one more member, STRUCTURE, holds the tree as JSON text
# (a 0-d unicode array: still no pickle) with numbers, strings and None inline and each array
# leaf naming its member.  A file without STRUCTURE is the flat format written before it existed.

STRUCTURE = "__graphgrad_structure__"


def _escape(part: str) -> str:
    """A path component as member-name text: %, / and control characters percent-encoded, and
    a leading '#' or '_' too (so names never collide with list items or STRUCTURE)."""
    out = []
    for i, ch in enumerate(part):
        if ch in "%/" or ord(ch) < 32 or (i == 0 and ch in "#_"):
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
        else:
            out.append(ch)
    return "".join(out) or "%"    # "%" alone: the empty key (never produced by the rules above)


def _encode(value: Any, path: list[str], arrays: dict, where: str) -> Any:
    if isinstance(value, Tensor):
        value = value.data
        kind = "tensor"
    else:
        kind = "array"
    if kind == "tensor" or isinstance(value, np.ndarray) or (
            isinstance(value, np.generic) and not isinstance(value, np.bool_)):
        scalar = not isinstance(value, np.ndarray)      # np.float64(2.5) comes back as one
        value = np.asarray(value)
        if value.dtype.kind not in "biufc" or value.dtype.hasobject:
            raise TypeError(f"nn.save: value at {where} has non-numeric dtype {value.dtype}; only "
                            f"numeric arrays can be saved (nothing is ever pickled)")
        name = "/".join(path) if path else "%"
        arrays[name] = value
        return {"t": kind, "key": name, "scalar": scalar}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, int):
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "v": repr(value)}   # repr round-trips exactly, inf and nan too
    if isinstance(value, complex):
        return {"t": "complex", "v": [repr(value.real), repr(value.imag)]}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if value is None:
        return {"t": "none"}
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise TypeError(f"nn.save: keys must be non-empty strings, got {key!r} at {where}")
            items.append([key, _encode(item, path + [_escape(key)], arrays,
                                       f"{where}[{key!r}]")])
        return {"t": "dict", "items": items}
    if isinstance(value, (list, tuple)):
        return {"t": type(value).__name__, "items": [
            _encode(item, path + [f"#{i}"], arrays, f"{where}[{i}]")
            for i, item in enumerate(value)]}
    raise TypeError(f"nn.save: value at {where} is a {type(value).__name__}; only nested dicts "
                    f"and lists of arrays, Tensors, numbers and strings can be saved")


def _checked_arrays(obj: Any) -> dict[str, np.ndarray]:
    """The arrays to write, STRUCTURE included; raises before anything is written."""
    if not isinstance(obj, (Mapping, list, tuple)):
        raise TypeError(f"nn.save: expected a dict (or list) of arrays, Tensors, numbers and "
                        f"strings, got {type(obj).__name__}")
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, [], arrays, "the top level")
    # np.savez's member names are the dict keys, so the format is readable as a plain .npz.
    arrays[STRUCTURE] = np.array(json.dumps(tree))
    return arrays


def _decode(node: Any, arrays: dict, used: set) -> Any:
    kind = node.get("t") if isinstance(node, dict) else None
    if kind in ("array", "tensor"):
        key = node.get("key")
        if key not in arrays:
            raise ValueError(f"the structure refers to a missing entry {key!r}")
        used.add(key)
        value = arrays[key]
        if node.get("scalar"):
            value = value[()]
        return Tensor(value) if kind == "tensor" else value
    if kind == "bool":
        return bool(node["v"])
    if kind == "int":
        return int(node["v"])
    if kind == "float":
        return float(node["v"])
    if kind == "complex":
        return complex(float(node["v"][0]), float(node["v"][1]))
    if kind == "str":
        return str(node["v"])
    if kind == "none":
        return None
    if kind == "dict":
        return {str(k): _decode(v, arrays, used) for k, v in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, used) for v in node["items"]]
        return items if kind == "list" else tuple(items)
    raise ValueError(f"the structure holds an unknown entry {str(node)[:80]!r}")


def _write_archive(file, arrays: dict[str, np.ndarray]) -> None:
    """The same layout np.savez writes (one ``name.npy`` member per array), but taking any key."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            with zf.open(name + ".npy", mode="w", force_zip64=True) as member:
                npy_format.write_array(member, np.asanyarray(array), allow_pickle=False)


def save(obj: Any, path) -> None:
    """Write ``obj`` -- a dict (or list) nested of arrays, Tensors, numbers, strings and None,
    e.g. ``{"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}`` -- to
    ``path`` atomically."""
    arrays = _checked_arrays(obj)
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


def load(path, map_location="cpu") -> Any:
    """Read a checkpoint written by ``save``: the object as saved (arrays, Tensors, Python numbers
    and strings in their dicts and lists).  A file written before nested checkpoints existed (or
    any .npz of numeric arrays) loads as name -> array.  Pickled content, object arrays,
    truncated and foreign files raise ValueError.  ``map_location``: only "cpu" (or None)."""
    if map_location not in (None, "cpu") and str(map_location) != "cpu":
        raise ValueError(f"nn.load: map_location={map_location!r}: graphgrad keeps everything in "
                         f"CPU memory; use 'cpu'")
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


def _read_archive(handle) -> Any:
    # We own the handle, so NumPy never leaves a file open when the archive is broken.
    arrays = {}
    structure = None
    with np.load(handle, allow_pickle=False) as archive:
        for name in archive.files:
            value = archive[name]
            if name == STRUCTURE:
                if not isinstance(value, np.ndarray) or value.dtype.kind != "U" or value.ndim:
                    raise ValueError(f"entry {name!r} is not the structure text")
                structure = str(value[()])
                continue
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "biufc":
                raise ValueError(f"entry {name!r} is not a numeric array")
            arrays[name] = value
    if structure is None:
        return arrays                       # the flat format
    try:
        tree = json.loads(structure)
    except json.JSONDecodeError as err:
        raise ValueError(f"the structure text is not valid JSON ({err})") from None
    used: set = set()
    try:
        obj = _decode(tree, arrays, used)
    except (KeyError, TypeError, IndexError, AttributeError):
        raise ValueError("the structure text is malformed") from None
    extra = sorted(set(arrays) - used)
    if extra:
        raise ValueError(f"entries {extra[:5]} are not part of the saved structure")
    return obj
