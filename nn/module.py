"""Module: models that find their own parameters, buffers and sub-modules (Parameter and the
layers' input rule are in parameter.py).

``Module.__setattr__`` routes every assigned Parameter, Module and registered buffer into its own
table, so ``parameters()`` and ``named_parameters()`` are derived from the attribute tree, never
listed by hand.  Traversals are iterative (no recursion) and keyed by identity, so shared (tied)
parameters and modules are reported once.
"""

from __future__ import annotations

import copy
from collections import namedtuple
from typing import Any, Iterator

import numpy as np

from autograd import Tensor
from autograd.compiler.protocol import lowered
from autograd.grad_mode import STATE, no_grad

from .parameter import Parameter, as_input

__all__ = ["Parameter", "Module", "as_input"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and model: subclasses set attributes in __init__ and define
    ``forward``; calling the module runs forward inside the module's scope."""

    training: bool

    def __init__(self) -> None:
        d = self.__dict__
        d["_parameters"] = {}
        d["_modules"] = {}
        d["_buffers"] = {}
        d["_non_persistent"] = set()
        d["training"] = True

    # ---- attribute routing ---------------------------------------------------------------------
    def _tables(self) -> tuple[dict, dict, dict]:
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() in __init__ "
                                 "before assigning parameters, modules or buffers")
        return d["_parameters"], d["_modules"], d["_buffers"]

    def _put(self, table: dict, name: str, value: Any) -> None:
        """Register ``value`` under ``name`` in ``table`` (and in no other) and mirror it in the
        instance dict: reading ``self.weight`` in forward is then a plain attribute lookup instead
        of a ``__getattr__`` call (~0.5 us a read).  The tables stay the source of truth for
        traversal; a re-assigned name keeps its place in its table."""
        for other in self._tables():
            if other is not table:
                other.pop(name, None)
        table[name] = value
        self.__dict__[name] = value

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self._put(self._tables()[0], name, value)
            return
        if isinstance(value, Module):
            self._put(self._tables()[1], name, value)
            return
        d = self.__dict__
        if name in d.get("_parameters", ()):
            if value is not None:
                raise TypeError(f"{type(self).__name__}.{name} is a parameter: assign an "
                                f"nn.Parameter (or None), not a {type(value).__name__}")
            self._put(d["_parameters"], name, None)
        elif name in d.get("_modules", ()):
            if value is not None:
                raise TypeError(f"{type(self).__name__}.{name} is a sub-module: assign an "
                                f"nn.Module (or None), not a {type(value).__name__}")
            self._put(d["_modules"], name, None)
        elif name in d.get("_buffers", ()):
            self._put(d["_buffers"], name, _as_buffer(value, name))
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails (entries are mirrored in __dict__, see _put);
        # reads __dict__ directly so that copy/pickle,
        # which probe attributes before __init__ has run, never recurse.
        d = self.__dict__
        for table in ("_parameters", "_modules", "_buffers"):
            entries = d.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        d = self.__dict__
        for table in ("_parameters", "_modules", "_buffers"):
            if name in d.get(table, ()):
                del d[table][name]
                d.pop(name, None)
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._modules)
                      | set(self._buffers))

    def register_buffer(self, name: str, value: Any, persistent: bool = True) -> None:
        """A non-trainable tensor (running statistics) kept in state_dict unless not persistent."""
        _, _, buffers = self._tables()
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: invalid buffer name {name!r}")
        self._put(buffers, name, _as_buffer(value, name))
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be an nn.Parameter or None")
        self._put(self._tables()[0], name, param)

    def add_module(self, name: str, module: "Module | None") -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be an nn.Module or None")
        self._put(self._tables()[1], name, module)

    # ---- running -------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        # The engine stamps every op it records with STATE.scope, so graphs can be grouped by
        # the modules they ran in (outermost first).
        # STATE is thread-local (each access is a lookup in the thread's dict): read it once.
        state = STATE
        previous = state.scope
        state.scope = (self,) if previous is None else previous + (self,)
        try:
            return self.forward(*args, **kwargs)
        finally:
            state.scope = previous

    # ---- traversal -----------------------------------------------------------------------------
    def children(self) -> Iterator["Module"]:
        for _, module in self.named_children():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True
                      ) -> Iterator[tuple[str, "Module"]]:
        """Pre-order walk (self first), with an explicit stack; shared modules once by default."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{k}" if name else k, m)
                    for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator["Module"]:
        for _, module in self.named_modules():
            yield module

    def _named_members(self, table: str, prefix: str, remove_duplicate: bool,
                       recurse: bool = True):
        seen = set()
        modules = (self.named_modules(prefix, remove_duplicate=remove_duplicate) if recurse
                   else [(prefix, self)])
        for mname, module in modules:
            for name, value in getattr(module, table).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield (f"{mname}.{name}" if mname else name), value, module, name

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs, tied parameters once (under the first name reached); names
        start with ``prefix.``; ``recurse=False``: this module's own parameters only."""
        for full, param, _, _ in self._named_members("_parameters", prefix, remove_duplicate,
                                                     recurse):
            yield full, param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        for full, buf, _, _ in self._named_members("_buffers", prefix, remove_duplicate,
                                                   recurse):
            yield full, buf

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn) -> "Module":
        """Call ``fn(module)`` on every sub-module, children before their parent (left to right,
        as PyTorch's recursive order), then on self; each shared module once.  Returns self."""
        order, seen = [], set()
        stack = [(self, False)]
        while stack:
            module, expanded = stack.pop()
            if expanded:
                order.append(module)
                continue
            if id(module) in seen:
                continue
            seen.add(id(module))
            stack.append((module, True))
            kids = [m for m in module._modules.values() if m is not None]
            stack.extend((m, False) for m in reversed(kids))
        for module in order:
            fn(module)
        return self

    # ---- modes and gradients -------------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for module in self.modules():
            module.__dict__["training"] = bool(mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze (True) every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (or zero it in place); under ag.compile one step of
        the program, as Optimizer.zero_grad."""
        params = tuple(self.parameters())
        lowered(_zero_grads, params, set_to_none, name=f"{type(self).__name__}.zero_grad",
                drops_grads=(lambda: params) if set_to_none else None)

    # ---- dtype ---------------------------------------------------------------------------------
    def to(self, dtype) -> "Module":
        """Cast every floating-point parameter, gradient and buffer, in place (the same
        Parameter objects, so optimizers holding them keep working)."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: only floating-point dtypes are supported, got {dtype}")
        for param in self.parameters():
            param.data = param.data.astype(dtype)
            if param.grad is not None:
                param.grad = param.grad.astype(dtype)
        for buf in self.buffers():
            if buf.data.dtype.kind == "f":
                buf.data = buf.data.astype(dtype)
        for module in self.modules():
            if "dtype" in module.__dict__:
                module.__dict__["dtype"] = dtype
        return self

    def double(self) -> "Module":
        return self.to(np.float64)

    def float(self) -> "Module":
        return self.to(np.float32)

    # ---- checkpoints ---------------------------------------------------------------------------
    def _state_entries(self) -> dict[str, Tensor]:
        """Every persistent name -> tensor, tied entries under each of their names (as PyTorch)."""
        entries = {}
        for mname, module in self.named_modules(remove_duplicate=False):
            for name, param in module._parameters.items():
                if param is not None:
                    entries[f"{mname}.{name}" if mname else name] = param
            for name, buf in module._buffers.items():
                if buf is not None and name not in module._non_persistent:
                    entries[f"{mname}.{name}" if mname else name] = buf
        return entries

    def state_dict(self) -> dict[str, np.ndarray]:
        """Flat name -> a copy of each parameter's and persistent buffer's array."""
        return {name: t.data.copy() for name, t in self._state_entries().items()}

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values into the existing parameters and buffers.  Everything is validated first,
        so an error (missing or unexpected keys under ``strict``, a shape mismatch, a non-numeric
        value) leaves the model unchanged.  Returns (missing_keys, unexpected_keys)."""
        entries = self._state_entries()
        missing = [k for k in entries if k not in state_dict]
        unexpected = [k for k in state_dict if k not in entries]
        problems = []
        if strict and missing:
            problems.append("missing key(s): " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("unexpected key(s): " + ", ".join(repr(k) for k in unexpected))
        values = {}
        for key, target in entries.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            value = value.data if isinstance(value, Tensor) else np.asarray(value)
            if value.dtype.kind not in "biuf":
                problems.append(f"{key!r} has dtype {value.dtype}, not a real number type")
            elif value.shape != target.shape:
                problems.append(f"size mismatch for {key!r}: checkpoint shape {value.shape}, "
                                f"model shape {target.shape}")
            else:
                values[key] = value
        if problems:
            raise RuntimeError(f"load_state_dict: error(s) loading into {type(self).__name__}: "
                               + "; ".join(problems) + "; the model was left unchanged")
        with no_grad():
            for key, value in values.items():
                target = entries[key]
                if not target.data.flags.writeable:
                    target.data = target.data.copy()
                np.copyto(target.data, value, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # ---- copying and printing ------------------------------------------------------------------
    def __deepcopy__(self, memo: dict) -> "Module":
        new = object.__new__(type(self))
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            new.__dict__[key] = copy.deepcopy(value, memo)
        return new

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in repr (layers show their sizes)."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's layout, plus the number of parameters after each module that has any
        (``# 9 parameters``; tied ones counted once); the outermost also says how many train."""
        # Children's reprs are built bottom-up with an explicit stack (no recursion).
        order = [m for _, m in self.named_modules(remove_duplicate=False)]
        text: dict[int, str] = {}
        for module in reversed(order):
            lines = []
            for name, child in module._modules.items():
                if child is None:
                    continue
                body = text[id(child)].replace("\n", "\n  ")
                lines.append(f"  ({name}): {body}")
            extra = module.extra_repr()
            head = type(module).__name__ + "("
            if not lines:
                body = head + extra + ")"
            else:
                first = ("\n  " + extra) if extra else ""
                body = head + first + "\n" + "\n".join(lines) + "\n)"
            count = sum(p.size for p in module.parameters())
            text[id(module)] = body + (f"  # {count:,} parameters" if count else "")
        trainable = sum(p.size for p in self.parameters() if p.requires_grad)
        total = sum(p.size for p in self.parameters())
        return text[id(self)] + (f", {trainable:,} trainable" if trainable != total else "")


def _as_buffer(value: Any, name: str) -> Tensor | None:
    if value is None:
        return None
    if isinstance(value, Parameter):
        raise TypeError(f"buffer {name!r}: a Parameter cannot be a buffer")
    if isinstance(value, Tensor):
        return value
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"buffer {name!r}: must be numeric, got dtype {array.dtype}")
    return Tensor(array)


def _zero_grads(params, set_to_none: bool) -> None:
    for param in params:
        if set_to_none or param.grad is None:
            param.grad = None
        else:
            param.grad[...] = 0
