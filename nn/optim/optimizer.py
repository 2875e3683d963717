"""The optimizer base class: parameter groups, per-parameter state, zero_grad and flat state dicts.

Subclasses implement ``_update()`` and name the per-parameter state a group needs
(``_state_names``).
Updates are written into ``p.data`` in place, so every reference to a parameter's array (a model,
a checkpoint loader, another optimizer) keeps seeing the current values.
"""

from __future__ import annotations

import functools
from operator import is_
from typing import Any, Callable, Iterable

import numpy as np

from autograd import Tensor, enable_grad
from autograd.compiler.protocol import lowered
from autograd.engine import note_mutation

__all__ = ["Optimizer", "subtract_scaled"]

# Elements per block of subtract_scaled: 256 KiB of float32, a scratch that stays in the L2 cache.
_BLOCK = 1 << 16


def subtract_scaled(target: np.ndarray, scale: float, d: np.ndarray) -> None:
    """``target -= scale * d`` in place, bitwise, without a temporary of the parameter's size: a
    large contiguous parameter is updated block by block through one small scratch, which stays
    in cache (measured 20-30 % faster on the 1.9 M parameters of mlp_mnist; a small one is
    one expression, as before)."""
    size = target.size
    if size <= _BLOCK or d.shape != target.shape or not (
            target.flags.c_contiguous and d.flags.c_contiguous):
        target -= scale * d
        return
    flat, dflat = target.reshape(-1), d.reshape(-1)
    scratch = np.empty(_BLOCK, np.result_type(scale, d))
    for start in range(0, size, _BLOCK):
        stop = min(start + _BLOCK, size)
        block = scratch[:stop - start]
        np.multiply(dflat[start:stop], scale, out=block)
        flat[start:stop] -= block


def _as_group_list(params: Any) -> list[dict]:
    if isinstance(params, Tensor):
        # A Tensor is iterable (over its rows), which would silently optimise the wrong thing.
        raise TypeError("optimizer: params must be an iterable of Tensors or of dicts, "
                        "got a single Tensor; wrap it in a list")
    if isinstance(params, dict):
        return [params]
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"optimizer: params must be an iterable of Tensors or of dicts, "
                        f"got {type(params).__name__}") from None
    if not items:
        raise ValueError("optimizer: got an empty parameter list")
    if all(isinstance(x, dict) for x in items):
        return items
    return [{"params": items}]


class Optimizer:
    """Base class.  ``params``: an iterable of Tensors (leaves with ``requires_grad``) or of dicts
    ``{"params": [...], "lr": ...}`` (PyTorch's param groups); ``defaults`` fill what a group omits.
    """

    def __init__(self, params: Iterable, defaults: dict) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict] = []
        self.state: dict[Tensor, dict] = {}   # Tensor hashes by identity
        for group in _as_group_list(params):
            self.add_param_group(group)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_guard_cache", None)     # identities of this process's objects (ag.compile)
        return state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} parameters, {settings}")
        return "\n".join(lines + [")"])

    # ---- groups ---------------------------------------------------------------------------------
    def add_param_group(self, group: dict) -> None:
        """Add a group of parameters; hyperparameters it does not name come from the defaults."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError("add_param_group: a param group is a dict with a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer: can only optimize Tensors, got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"optimizer: a parameter of shape {p.shape} does not require grad")
            if not p.is_leaf:
                raise ValueError(f"optimizer: can't optimize a non-leaf Tensor (shape {p.shape}); "
                                 "optimize the leaves it was computed from")
            if id(p) in seen:
                raise ValueError(f"optimizer: a parameter of shape {p.shape} appears in more than "
                                 "one place; each parameter may be listed once")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params"}
        if unknown:
            raise ValueError(f"add_param_group: unknown hyperparameters {sorted(unknown)}; "
                             f"{type(self).__name__} takes {sorted(self.defaults)}")
        new = {"params": params}
        for key, value in self.defaults.items():
            new[key] = group.get(key, value)
        self._check_group(new)
        self.param_groups.append(new)

    # Hyperparameters that must be >= 0 (NaN fails too), checked for every group.
    non_negative: tuple[str, ...] = ()
    # Hyperparameters added after checkpoints were first written: a state dict without them
    # loads and keeps the live value (so older checkpoints keep loading).
    added_later: tuple[str, ...] = ("initial_lr", "maximize", "amsgrad", "momentum_decay",
                                    "decoupled_weight_decay")
    # Per-parameter state entries that are scalars rather than arrays of the parameter's shape.
    scalar_state: tuple[str, ...] = ("step",)

    def _check_group(self, group: dict) -> None:
        """Validate one group's hyperparameters (subclasses extend for rules of their own)."""
        if not group["lr"] >= 0.0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate {group['lr']}")
        for key in self.non_negative:
            if not group[key] >= 0.0:
                raise ValueError(f"{type(self).__name__}: invalid {key} {group[key]}")

    def _state_names(self, group: dict) -> tuple[str, ...]:
        """The state entries a parameter of ``group`` has once it has been stepped."""
        return ()

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    # ---- the training-loop calls ---------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (``None``), so the next backward starts from zero."""
        lowered(self._zero_grad, set_to_none, name=f"{type(self).__name__}.zero_grad",
                drops_grads=self._params if set_to_none else None)

    def _zero_grad(self, set_to_none: bool) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad = np.zeros_like(p.data)

    def step(self, closure: Callable | None = None):
        """One update of every parameter that has a gradient.  ``closure`` (optional) recomputes
        and returns the loss first, as in PyTorch."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # Under ag.compile the update is one step of the program, run again at every replay
        # (hyperparameters read afresh); _compile_guard says what a replay relies on.
        lowered(self._step, name=f"{type(self).__name__}.step", guard=self._compile_guard,
                state=self._compile_state,
                numba=self._numba_step if _has_numba_update(type(self)) else None)
        return loss

    # An optimizer may write its update with numba kernels too (SGD does): the numba backend's
    # replays call it in _update's place, unless a subclass overrides _update alone.
    _numba_update: Callable[[], None] | None = None

    def _numba_step(self) -> None:
        self._step(self._numba_update)

    def _step(self, update: Callable[[], None] | None = None) -> None:
        (update or self._update)()
        # The updates were in place: a graph recorded before this step that saved a parameter
        # now raises at backward instead of returning a wrong gradient (PyTorch does the same).
        note_mutation(*[p.data for group in self.param_groups for p in group["params"]
                        if p.grad is not None])

    def _compile_guard(self, labelled: bool = False) -> tuple:
        """For ag.compile, checked before every replay: the parameters of each group, each
        hyperparameter switched on or off (values, learning rates above all, are read at every
        replay) and which arrays hold the state (load_state_dict replaces them).  ``labelled``:
        the same as (label, value) pairs, for the message when something changed.

        Building that costs more than the rest of a small step's bookkeeping (6 us of mlp_small's
        ~100), so it is kept and rebuilt only when one of the objects it is made from is replaced:
        a group, a hyperparameter value, a parameter, the state dict or a parameter's state dict.
        The kept objects are held, so their identities cannot be reused.  An array written into
        an existing state dict from outside is not seen; the replayed update reads it live, as the
        eager one would."""
        objects = [self.state, *self.state.values()]
        for g in self.param_groups:
            objects.append(g)
            objects += g.values()
            objects += g["params"]
        cached = self.__dict__.get("_guard_cache")     # (id(self), objects, structure) or None
        if (not labelled and cached is not None and cached[0] == id(self)   # not a deepcopy's
                and len(cached[1]) == len(objects) and all(map(is_, objects, cached[1]))):
            return cached[2]
        groups = tuple([(tuple(map(id, g["params"])),
                         tuple([(k, _switched(v)) for k, v in g.items() if k not in _READ_LIVE]))
                        for g in self.param_groups])
        arrays = tuple([(id(p), tuple([id(v) for v in s.values() if type(v) is np.ndarray]))
                        for p, s in self.state.items()])
        if not labelled:
            # Kept only while every hyperparameter is immutable: a 0-d array changed in place
            # would switch a setting without replacing an object.
            immutable = all(type(v) in _IMMUTABLE for g in self.param_groups
                            for k, v in g.items() if k != "params")
            self._guard_cache = (id(self), objects, (groups, arrays)) if immutable else None
            return groups, arrays
        found = []
        for g, (params, switches) in enumerate(groups):
            found.append((f"group {g} parameters", params))
            found += [(f"group {g} {key} on", on) for key, on in switches]
        return tuple(found + [("state arrays", arrays)])

    def _compile_state(self) -> list:
        """For ag.compile: what the update changes (the parameters and each state entry)."""
        found = []
        for i, p in enumerate(self._params()):
            found.append((f"param {i}", p, "data"))
            for key in self.state.get(p, ()):
                found.append((f"state.{i}.{key}", self.state[p], key))
        return found

    def _update(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- checkpoints: flat name -> array, as nn.save stores ------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """``param_groups.G.KEY`` for hyperparameters and ``param_groups.G.params`` (indices),
        ``state.I.KEY`` for parameter I's state (I counts parameters across groups in order)."""
        out: dict[str, np.ndarray] = {}
        index = 0
        for g, group in enumerate(self.param_groups):
            n = len(group["params"])
            out[f"param_groups.{g}.params"] = np.arange(index, index + n, dtype=np.int64)
            for key, value in group.items():
                if key != "params":
                    out[f"param_groups.{g}.{key}"] = np.array(value)
            for p in group["params"]:
                for key, value in self.state.get(p, {}).items():
                    out[f"state.{index}.{key}"] = np.array(value)   # a copy, never an alias
                index += 1
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters and state saved by ``state_dict``.  Everything is checked first;
        on any mismatch a ValueError names it and the optimizer is left unchanged."""
        name = type(self).__name__
        params = self._params()
        groups = []
        used = set()
        for g, group in enumerate(self.param_groups):
            key = f"param_groups.{g}.params"
            if key not in state_dict:
                raise ValueError(f"{name}.load_state_dict: missing '{key}' (the checkpoint has "
                                 f"fewer param groups than this optimizer's "
                                 f"{len(self.param_groups)})")
            used.add(key)
            saved = np.asarray(state_dict[key]).size
            if saved != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: group {g} has {len(group['params'])} "
                                 f"parameters, the checkpoint's has {saved}")
            values = {}
            for hp, current in group.items():
                if hp == "params":
                    continue
                key = f"param_groups.{g}.{hp}"
                if key not in state_dict and hp in self.added_later:
                    continue   # saved before a scheduler was attached (or the option existed)
                if key not in state_dict:
                    raise ValueError(f"{name}.load_state_dict: missing '{key}'")
                used.add(key)
                values[hp] = _like(current, np.asarray(state_dict[key]), key, name)
            # A scheduler adds "initial_lr" to the groups; a checkpoint may carry it either way.
            key = f"param_groups.{g}.initial_lr"
            if key in state_dict and "initial_lr" not in group:
                used.add(key)
                values["initial_lr"] = _like(0.0, np.asarray(state_dict[key]), key, name)
            groups.append(values)
        # The state names each parameter may have follow the hyperparameters being loaded.
        names = [self._state_names({**group, **values})
                 for group, values in zip(self.param_groups, groups)
                 for _ in group["params"]]
        state: dict[Tensor, dict] = {}
        for key in state_dict:
            if key in used:
                continue
            parts = key.split(".")
            if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
                raise ValueError(f"{name}.load_state_dict: unexpected key '{key}'")
            i, entry = int(parts[1]), parts[2]
            if i >= len(params):
                raise ValueError(f"{name}.load_state_dict: '{key}' refers to parameter {i}, but "
                                 f"this optimizer has {len(params)}")
            if entry not in names[i]:
                raise ValueError(f"{name}.load_state_dict: unexpected key '{key}' (the state of "
                                 f"parameter {i} has {list(names[i])})")
            value = np.asarray(state_dict[key])
            p = params[i]
            if entry in self.scalar_state:
                if value.shape != () or value.dtype.kind not in "iuf" or value < 0:
                    raise ValueError(f"{name}.load_state_dict: '{key}' must be a non-negative "
                                     f"scalar, got shape {value.shape} dtype {value.dtype}")
                converted = int(value) if entry == "step" else float(value)
            else:
                if value.shape != p.shape or value.dtype.kind not in "iuf":
                    raise ValueError(f"{name}.load_state_dict: '{key}' has shape {value.shape} "
                                     f"dtype {value.dtype}, parameter {i} has shape {p.shape}")
                converted = np.array(value, dtype=p.dtype)   # owned, in the parameter's dtype
            state.setdefault(p, {})[entry] = converted
        for i, p in enumerate(params):
            # A parameter that was never stepped has no state; one that was has all of it.
            missing = [n for n in names[i] if p in state and n not in state[p]]
            if missing:
                raise ValueError(f"{name}.load_state_dict: the state of parameter {i} lacks "
                                 f"{['state.%d.%s' % (i, n) for n in missing]}")
        # All checked: now change things.
        for group, values in zip(self.param_groups, groups):
            group.update(values)
        self.state = state


_READ_LIVE = ("params", "lr", "initial_lr")   # read afresh at every compiled replay
_IMMUTABLE = (bool, int, float, str, type(None), tuple)


@functools.cache
def _has_numba_update(cls: type) -> bool:
    """Whether ``cls`` has a numba update written for its own ``_update`` (the same class in
    the MRO defines both)."""
    if cls._numba_update is None:
        return False
    owner = {name: next(k for k in cls.__mro__ if name in k.__dict__)
             for name in ("_update", "_numba_update")}
    return owner["_update"] is owner["_numba_update"]


def _switched(value: Any) -> Any:
    """A hyperparameter as compile's guard sees it: on or off (flags and names as they are)."""
    if isinstance(value, (bool, str, type(None))):
        return value
    return len(value) if isinstance(value, tuple) else value != 0


def _like(current: Any, value: np.ndarray, key: str, name: str) -> Any:
    """Convert a stored hyperparameter back to the Python type it has in the live group."""
    try:
        if isinstance(current, bool):
            if value.shape != ():
                raise ValueError
            return bool(value)
        if isinstance(current, tuple):
            if value.shape != (len(current),):
                raise ValueError
            return tuple(float(v) for v in value)
        if value.shape != () or value.dtype.kind not in "biuf":
            raise ValueError
        if isinstance(current, int) and value.dtype.kind in "iu":
            return int(value)
        return float(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name}.load_state_dict: '{key}' has shape {value.shape} dtype "
                         f"{value.dtype}, which does not fit the current value "
                         f"{current!r}") from None
