"""Tensor methods that work on ``.data`` without an op (comparisons, in-place updates, item,
tolist, bool, detach, requires_grad_) and the constructor: while a step is being captured they
are wrapped so that the recorder sees them.  Installed only for the length of one capture; the eager path never runs these wrappers."""

from __future__ import annotations

from contextlib import contextmanager

from ..ops import index as _index
from ..tensor import Tensor
from .capture import user_site
from .protocol import CompileError, recording

__all__ = ["installed"]

# What Tensor has of these (in place through _inplace is newer than the rest), and whether the
# class defines each itself or inherits it (restoring must not leave a copy on the class).
_ORIGINAL = {name: getattr(Tensor, name)
             for name in ("item", "__bool__", "_compare", "_inplace", "__setitem__", "detach",
                          "__init__", "tolist", "requires_grad_")
             if hasattr(Tensor, name)}
_OWN = {name for name in _ORIGINAL if name in Tensor.__dict__}


def _item(self):
    value = _ORIGINAL["item"](self)
    rec = recording()
    if rec is not None:
        rec.item(self, value)
    return value


def _tolist(self):
    value = _ORIGINAL["tolist"](self)
    rec = recording()
    if rec is not None:
        rec.item(self, value, "tolist")
    return value


def _requires_grad_(self, requires_grad=True):
    result = _ORIGINAL["requires_grad_"](self, requires_grad)
    rec = recording()
    if rec is not None:
        rec.requires_grad(self)
    return result


def _bool(self):
    rec = recording()
    if rec is not None and rec.ref(self.data, None, "bool")[0] != "c":
        raise CompileError(f"capture: bool() of a computed tensor (Python control flow on tensor "
                           f"values, e.g. `if loss > 0:`) cannot be compiled: the program would "
                           f"freeze one branch (at {user_site()})")
    return _ORIGINAL["__bool__"](self)


def _compare(self, other, fn):
    out = _ORIGINAL["_compare"](self, other, fn)
    rec = recording()
    if rec is not None:
        rec.array_call("compare", fn, (self, other), out.data)
    return out


def _inplace(self, fn, other, name):
    rec = recording()
    if rec is None:
        return _ORIGINAL["_inplace"](self, fn, other, name)
    target = rec.array_target(self, name)
    operand = rec.operands(other, name)
    result = _ORIGINAL["_inplace"](self, fn, other, name)
    rec.in_place(name, fn, target, operand)
    return result


def _setitem(self, index, value):
    rec = recording()
    if rec is None:
        return _ORIGINAL["__setitem__"](self, index, value)
    target = rec.array_target(self, "setitem")
    where = rec.template(_index.index_arrays(index), "setitem")
    operand = rec.operands(value, "setitem")
    _ORIGINAL["__setitem__"](self, index, value)
    rec.in_place("setitem", None, target, operand, where)


def _detach(self):
    out = _ORIGINAL["detach"](self)
    rec = recording()
    if rec is not None:
        rec.detach(out, self)
    return out


def _init(self, data, *args, **kwargs):
    _ORIGINAL["__init__"](self, data, *args, **kwargs)
    rec = recording()
    if rec is not None:
        rec.construct(self, data)


_WRAPPERS = {"item": _item, "__bool__": _bool, "_compare": _compare, "_inplace": _inplace,
             "__setitem__": _setitem, "detach": _detach, "__init__": _init, "tolist": _tolist,
             "requires_grad_": _requires_grad_}


@contextmanager
def installed():
    for name in _ORIGINAL:
        setattr(Tensor, name, _WRAPPERS[name])
    try:
        yield
    finally:
        for name, fn in _ORIGINAL.items():
            if name in _OWN:
                setattr(Tensor, name, fn)
            else:
                delattr(Tensor, name)
