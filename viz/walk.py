"""Reading the recorded graph for drawing: an iterative walk from the outputs, names for tensors
and modules, and the roles (input, parameter, intermediate, output) that decide a node's style.

Everything is keyed by ``id()``: Tensors compare elementwise, and two distinct tensors with equal
values must stay two nodes.  The walk holds references to what it visits, so ids stay unique.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterable, Mapping

from autograd.engine import Op
from autograd.tensor import Tensor

__all__ = ["Walk", "Naming", "as_roots", "is_parameter", "module_names", "role_of"]


def as_roots(outputs: Any) -> list[tuple[str, Tensor]]:
    """(label, Tensor) for a Tensor or a list/tuple/dict of Tensors."""
    if isinstance(outputs, Tensor):
        pairs = [("output", outputs)]
    elif isinstance(outputs, Mapping):
        pairs = [(str(k), v) for k, v in outputs.items()]
    elif isinstance(outputs, (list, tuple)):
        pairs = [(f"output {i}", v) for i, v in enumerate(outputs)]
    else:
        raise TypeError(f"draw_graph: expected a Tensor or a list/tuple/dict of Tensors, "
                        f"got {type(outputs).__name__}")
    for label, t in pairs:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph: output '{label}' is a {type(t).__name__}, not a Tensor")
    return pairs


def is_parameter(t: Tensor) -> bool:
    """nn.Parameter (or a subclass), recognised by name so that viz does not import nn."""
    return any(cls.__name__ == "Parameter" for cls in type(t).__mro__)


def module_names(model: Any) -> tuple[dict[int, str], dict[int, str]]:
    """(id(module) -> dotted name, id(parameter) -> dotted name) from named_modules/_parameters."""
    mods: dict[int, str] = {}
    params: dict[int, str] = {}
    if hasattr(model, "named_modules"):
        for name, m in model.named_modules():
            mods.setdefault(id(m), name)
    if hasattr(model, "named_parameters"):
        for name, p in model.named_parameters():
            params.setdefault(id(p), name)
    return mods, params


class Walk:
    """Everything reachable from the outputs, in breadth-first order (nearest the outputs first,
    which is what a ``max_nodes`` cap should keep).

    ``order``: nodes (Op) and leaves (Tensor); ``parents[id]``: the objects feeding a node (with
    repeats, ``x * x`` has two edges); ``consumers[id]``: the nodes a value feeds.
    """

    def __init__(self, roots: Iterable[Tensor]) -> None:
        self.order: list[Any] = []
        self.parents: dict[int, list[Any]] = {}
        self.consumers: dict[int, list[Op]] = {}
        queue: deque = deque()
        seen: set[int] = set()
        for t in roots:
            obj = t._node if t._node is not None else t
            if id(obj) not in seen:
                seen.add(id(obj))
                queue.append(obj)
        while queue:
            obj = queue.popleft()
            self.order.append(obj)
            if not isinstance(obj, Op):
                continue
            ps = [p for p in obj.parents if p is not None]
            self.parents[id(obj)] = ps
            for p in ps:
                k = id(p)
                self.consumers.setdefault(k, []).append(obj)
                if k not in seen:
                    seen.add(k)
                    queue.append(p)

    def scope_roots(self) -> list[Any]:
        """The distinct outermost modules stamped on the nodes (a model the user did not pass)."""
        found: dict[int, Any] = {}
        seen_scopes: set[int] = set()
        for obj in self.order:
            scope = getattr(obj, "scope", None) if isinstance(obj, Op) else None
            if scope and id(scope) not in seen_scopes:
                seen_scopes.add(id(scope))
                found.setdefault(id(scope[0]), scope[0])
        return list(found.values())


class Naming:
    """Display names: tensors (outputs, user mapping, model parameters) and modules."""

    def __init__(self, walk: Walk, roots: list[tuple[str, Tensor]], model: Any,
                 names: Mapping | None) -> None:
        self.tensors: dict[int, str] = {}
        self.modules: dict[int, str] = {}
        self.param_ids: set[int] = set()
        models = [model] if model is not None else walk.scope_roots()
        for m in models:
            mods, params = module_names(m)
            prefix = f"{type(m).__name__}." if model is None and len(models) > 1 else ""
            for k, name in mods.items():
                self.modules.setdefault(k, prefix + name if name else type(m).__name__)
            for k, name in params.items():
                self.tensors.setdefault(k, prefix + name)
                self.param_ids.add(k)
        for label, t in roots:
            self.tensors[_key(t)] = label
        for t, name in (names or {}).items():   # the user's names win over everything else
            if not isinstance(t, Tensor):
                raise TypeError(f"draw_graph: names must map Tensors to strings, got a key of "
                                f"type {type(t).__name__}")
            self.tensors[_key(t)] = str(name)

    def tensor(self, obj: Any) -> str | None:
        return self.tensors.get(id(obj))

    def module(self, m: Any) -> str:
        name = self.modules.get(id(m))
        cls = type(m).__name__
        return cls if name is None or name == cls else f"{name} ({cls})"

    def is_parameter(self, leaf: Tensor) -> bool:
        return id(leaf) in self.param_ids or is_parameter(leaf)


def _key(t: Tensor) -> int:
    return id(t._node) if t._node is not None else id(t)


def role_of(obj: Any, output_ids: set[int], naming: Naming) -> str:
    if id(obj) in output_ids:
        return "output"
    if isinstance(obj, Op):
        return "intermediate"
    return "parameter" if naming.is_parameter(obj) else "input"
