"""``draw_graph``: the recorded computation as a graphviz Digraph.

An op and the tensor it produces share one node (labelled with the op's name and the output's shape
and dtype): the engine's nodes do not keep their outputs, so the pair has no separate identity.
Leaves that require grad are nodes of their own; inputs that do not require grad (data, constants)
are not recorded by the engine and are not drawn.  Edges point the way data flows.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import graphviz
import numpy as np

from autograd.engine import Op
from autograd.reverse import grad as _engine_grad
from autograd.tensor import Tensor

from .grads import (EXPLODING, VANISHING, GradRecorder, GradStats, grad_stats, last_recorder,
                    legend_samples, norm_colour)
from .walk import Naming, Walk, as_roots, role_of

__all__ = ["draw_graph"]

ROLE_STYLE = {
    "input": {"shape": "box", "style": "rounded,filled", "fillcolor": "#dbeafe"},
    "parameter": {"shape": "box", "style": "filled", "fillcolor": "#fef3c7"},
    "intermediate": {"shape": "ellipse", "style": "filled", "fillcolor": "#f3f4f6"},
    "output": {"shape": "doubleoctagon", "style": "filled", "fillcolor": "#dcfce7"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#ede9fe"},
}
CLUSTER_FILLS = ("#f8fafc", "#eef2ff", "#f0fdf4", "#fff7ed")


def draw_graph(outputs: Any, *, model: Any = None, names: Mapping | None = None,
               show_values: bool = False, show_grads: bool = False, grad_flow: bool = False,
               grads: GradRecorder | None = None, group_by_module: bool = False,
               depth: int | None = None, max_nodes: int | None = None,
               vanishing: float = VANISHING, exploding: float = EXPLODING,
               rankdir: str = "TB", title: str | None = None) -> graphviz.Digraph:
    """Draw the graph that computed ``outputs`` (a Tensor, or a list/tuple/dict of Tensors).

    model / names: where parameter and tensor names come from (``names={tensor: "name"}``); without
        a model, the outermost module stamped on the ops is used when there is one.
    show_values / show_grads: add min/mean/max of values (where known: leaves, outputs, saved
        outputs) and of gradients (leaf ``.grad``, or everything ``grads`` recorded).
    grad_flow: colour every node by its gradient norm, flagging norms below ``vanishing`` and above
        ``exploding``.  Norms come from ``grads`` (a ``viz.record_grad_norms()`` wrapped around
        your backward); without it, and while the graph is not freed, draw_graph runs its own
        backward (``autograd.grad`` with ``retain_graph=True``): leaves' ``.grad`` stay as they
        are, but hooks run and the engine adds to ``.grad`` of tensors that called retain_grad().
    group_by_module: one cluster per module, nested.  depth=k: modules nested deeper than k
        (k=0: the outermost) are drawn as one box each.
    max_nodes: draw at most this many nodes (those nearest the outputs) plus a marker for the rest.
    """
    if depth is not None and depth < 0:
        raise ValueError(f"draw_graph: depth must be >= 0, got {depth}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be >= 1, got {max_nodes}")
    roots = as_roots(outputs)
    walk = Walk(t for _, t in roots)
    naming = Naming(walk, roots, model, names)
    root_tensors = {id(t._node) if t._node is not None else id(t): t for _, t in roots}

    note = None
    if grad_flow and grads is None:
        grads = last_recorder(walk.order)   # a backward wrapped in viz.record_grad_norms()
    if grad_flow and grads is None:
        grads, note = _own_gradients(walk, [t for _, t in roots])
    stats = _GradLookup(grads, root_tensors) if (grad_flow or show_grads) else None

    layout = _Layout(walk, naming, set(root_tensors), depth)
    g = graphviz.Digraph("graphgrad", graph_attr={"rankdir": rankdir, "fontname": "Helvetica",
                                                  "fontsize": "11", "compound": "true"},
                         node_attr={"fontname": "Helvetica", "fontsize": "10"},
                         edge_attr={"arrowsize": "0.6"})

    entities = layout.entities
    kept = entities if max_nodes is None or len(entities) <= max_nodes else entities[:max_nodes]
    kept_set = set(kept)
    clusters: dict[tuple, graphviz.Digraph] = {}
    counts = {"vanishing": 0, "exploding": 0, "nan": 0}
    for ent in kept:
        attrs = _entity_attrs(layout, ent, naming, stats, root_tensors, show_values, show_grads,
                              grad_flow, vanishing, exploding, counts)
        target = g
        if group_by_module:
            path = layout.path(ent)
            if path:
                target = _cluster(clusters, path, naming)
        target.node(ent, **attrs)

    # Nest clusters innermost first: Digraph.subgraph copies the child's body when called.
    for path in sorted(clusters, key=len, reverse=True):
        parent = clusters[path[:-1]] if len(path) > 1 else g
        parent.subgraph(clusters[path])

    marker = None
    if len(kept) < len(entities):
        marker = "omitted"
        left = len(entities) - len(kept)
        g.node(marker, label=f"… {left:,} more nodes not drawn\\n(max_nodes={max_nodes}, "
               f"{len(entities):,} in all)", shape="note", style="dashed,filled",
               fillcolor="#fafafa", fontcolor="#6b7280")
    linked = set()
    for src, dst in layout.edges:
        if dst not in kept_set:
            continue
        if src in kept_set:
            g.edge(src, dst)
        elif dst not in linked:
            linked.add(dst)
            g.edge(marker, dst, style="dashed", color="#9ca3af")

    label = [title] if title else []
    if grad_flow:
        _legend(g, vanishing, exploding)
        label.extend(_summary(counts, note))
    if label:
        g.attr(label="\\n".join(_text(s) for s in label), labelloc="t")
    return g


class _GradLookup:
    """Gradient statistics of a node or leaf: recorded ones first, then ``.grad`` where it exists."""

    def __init__(self, grads: GradRecorder | None, root_tensors: dict[int, Tensor]) -> None:
        self.grads = grads
        self.roots = root_tensors

    def __call__(self, obj: Any) -> GradStats | None:
        if self.grads is not None:
            s = self.grads.stats(obj)
            if s is not None:
                return s
        t = obj if isinstance(obj, Tensor) else self.roots.get(id(obj))
        if t is not None and t.grad is not None:
            return grad_stats(t.grad)
        return None


def _own_gradients(walk: Walk, roots: list[Tensor]) -> tuple[GradRecorder | None, str | None]:
    """Record every gradient with a side-effect-free backward, when the graph still allows one."""
    outs = [t for t in roots if t.requires_grad]
    if not outs:
        return None, None
    if any(isinstance(o, Op) and o.released for o in walk.order):
        return None, ("intermediate gradients unknown: backward already freed this graph; wrap "
                      "backward in viz.record_grad_norms() or draw before it")
    leaves = [o for o in walk.order if isinstance(o, Tensor) and o.requires_grad]
    recorder = GradRecorder()
    with recorder:
        _engine_grad(outs, leaves, grad_outputs=[np.ones(t.shape, t.dtype) for t in outs],
                     retain_graph=True, allow_unused=True)
    note = None if all(t.data.size == 1 for t in outs) else "non-scalar outputs seeded with ones"
    return recorder, note


class _Layout:
    """Drawn entities: one per node or leaf, except that with ``depth`` every module nested deeper
    collapses (with the parameters only it uses) into one box.  Entity keys are DOT node ids."""

    def __init__(self, walk: Walk, naming: Naming, output_ids: set[int], depth: int | None):
        self.walk, self.depth = walk, depth
        self.of: dict[int, str] = {}
        self.objects: dict[str, Any] = {}
        self.boxes: dict[str, dict] = {}
        self.roles: dict[str, str] = {}
        for obj in walk.order:
            if isinstance(obj, Op):
                scope = obj.scope
                if depth is not None and scope and len(scope) > depth:
                    key = f"m{id(scope[depth])}"
                    box = self.boxes.setdefault(key, {"module": scope[depth], "ops": [],
                                                      "params": [], "path": scope[:depth]})
                    box["ops"].append(obj)
                    self.of[id(obj)] = key
                    continue
                key = f"n{id(obj)}"
            else:
                key = f"t{id(obj)}"
            self.of[id(obj)] = key
            self.objects[key] = obj
            self.roles[key] = role_of(obj, output_ids, naming)
        for obj in walk.order:   # parameters used only inside one box belong to it
            if isinstance(obj, Tensor) and self.roles[self.of[id(obj)]] == "parameter":
                homes = {self.of[id(c)] for c in walk.consumers.get(id(obj), ())}
                if len(homes) == 1 and next(iter(homes)) in self.boxes:
                    home = homes.pop()
                    del self.objects[self.of[id(obj)]]
                    self.of[id(obj)] = home
                    self.boxes[home]["params"].append(obj)
        self.output_ids = output_ids
        seen: set[str] = set()
        self.entities = [k for k in (self.of[id(o)] for o in walk.order)
                         if not (k in seen or seen.add(k))]
        self.edges: list[tuple[str, str]] = []
        box_edges: set[tuple[int, str]] = set()
        for obj in walk.order:
            dst = self.of[id(obj)]
            for p in walk.parents.get(id(obj), ()):
                src = self.of[id(p)]
                if src == dst:
                    continue
                if dst in self.boxes:   # a value used by several ops inside a box: one arrow
                    if (id(p), dst) in box_edges:
                        continue
                    box_edges.add((id(p), dst))
                self.edges.append((src, dst))

    def path(self, ent: str) -> tuple:
        """The modules whose cluster holds the entity, outermost first."""
        if ent in self.boxes:
            return self.boxes[ent]["path"]
        obj = self.objects[ent]
        if isinstance(obj, Op):
            return obj.scope or ()
        if self.roles[ent] != "parameter":
            return ()
        paths = [self.path(self.of[id(c)]) for c in self.walk.consumers.get(id(obj), ())]
        return _common_prefix(paths)

    def box_exits(self, ent: str) -> list[Op]:
        """Ops of a box whose value leaves it (or is an output): what the box computes."""
        exits = []
        for op in self.boxes[ent]["ops"]:
            if id(op) in self.output_ids or any(
                    self.of[id(c)] != ent for c in self.walk.consumers.get(id(op), ())):
                exits.append(op)
        return exits


def _common_prefix(paths: list[tuple]) -> tuple:
    if not paths:
        return ()
    prefix = paths[0]
    for p in paths[1:]:
        n = 0
        while n < min(len(prefix), len(p)) and prefix[n] is p[n]:
            n += 1
        prefix = prefix[:n]
    return prefix


def _cluster(clusters: dict, path: tuple, naming: Naming) -> graphviz.Digraph:
    """The (possibly new) cluster for a module path, creating its ancestors too."""
    for n in range(1, len(path) + 1):
        key = path[:n]
        if key not in clusters:
            m = key[-1]
            clusters[key] = graphviz.Digraph(
                name=f"cluster_{'_'.join(str(id(x)) for x in key)}",
                graph_attr={"label": _text(naming.module(m)), "style": "rounded,filled",
                            "fillcolor": CLUSTER_FILLS[(n - 1) % len(CLUSTER_FILLS)],
                            "color": "#94a3b8", "labeljust": "l"})
    return clusters[path]


def _entity_attrs(layout: _Layout, ent: str, naming: Naming, stats, root_tensors, show_values,
                  show_grads, grad_flow, vanishing, exploding, counts) -> dict:
    if ent in layout.boxes:
        box = layout.boxes[ent]
        exits = layout.box_exits(ent)
        n_ops = len(box["ops"])
        lines = [naming.module(box["module"]), f"{n_ops} op" + ("s" if n_ops != 1 else "")]
        outs = [naming.tensor(o) for o in exits if id(o) in layout.output_ids]
        if outs:   # an output computed inside the box: say so, as its own node would
            lines[0] = f"{', '.join(outs)} = {lines[0]}"

        n_params = sum(p.data.size for p in box["params"])
        if n_params:
            lines[-1] += f" · {n_params:,} parameters"
        kinds = {(_shape(o.shape), str(o.dtype)) for o in exits}
        if len(kinds) == 1:   # what flows out; a module called twice has two such outputs
            shape, dtype = kinds.pop()
            lines.append(f"→ {shape} {dtype}" + (f" ×{len(exits)}" if len(exits) > 1 else ""))
        style = dict(ROLE_STYLE["module"])
        if outs:
            style["penwidth"] = "2.5"
        norms = [stats(o) for o in exits] if stats is not None else []
        s = None
        if norms and all(n is not None for n in norms):   # the gradient of what the box outputs
            s = GradStats(math.sqrt(sum(n.norm ** 2 for n in norms)), *norms[0][1:])
    else:
        obj = layout.objects[ent]
        role = layout.roles[ent]
        style = dict(ROLE_STYLE[role])
        name = naming.tensor(obj)
        if isinstance(obj, Op):
            lines = [f"{name} = {obj.name}" if name else obj.name]
        else:
            lines = [name or role]
        lines.append(f"{_shape(obj.shape)} {obj.dtype}")
        if show_values:
            value = _known_value(obj, root_tensors)
            if value is not None and value.size and value.dtype.kind in "biuf":
                lines.append(_stats_line("value", value))
        s = stats(obj) if stats is not None else None
        if show_grads and s is not None:
            lines.append(f"grad ‖g‖ {s.norm:.3g} min {s.min:.3g} mean {s.mean:.3g} max {s.max:.3g}")
    if grad_flow:
        norm = None if s is None else s.norm
        fill, font, flag = norm_colour(norm, vanishing, exploding)
        style["fillcolor"], style["fontcolor"] = fill, font
        if flag in counts:
            counts[flag] += 1
        if flag == "missing":
            style["style"] += ",dashed"
        else:
            lines.append(f"‖g‖ {norm:.2e}" + (f"  {flag.upper()}" if flag else ""))
            if flag:
                style["style"] += ",bold"
                style["penwidth"] = "2.5"
    label = "\\n".join(_text(x) for x in lines)
    return {"label": label, "tooltip": label, **style}


def _known_value(obj: Any, root_tensors: dict[int, Tensor]) -> np.ndarray | None:
    """A node's value is known for leaves, for the outputs we were given, and for outputs an op
    saved for its backward (until a backward frees them)."""
    if isinstance(obj, Tensor):
        return obj.data
    t = root_tensors.get(id(obj))
    if t is not None:
        return t.data
    out = obj.output
    if isinstance(out, Tensor):
        out = out.data
    return out if isinstance(out, np.ndarray) else None


def _stats_line(what: str, a: np.ndarray) -> str:
    with np.errstate(all="ignore"):
        flat = a.astype(np.float64, copy=False)
        if flat.size == 1:
            return f"{what} {flat.item():.4g}"
        return f"{what} min {flat.min():.3g} mean {flat.mean():.3g} max {flat.max():.3g}"


def _shape(shape: tuple) -> str:
    return "scalar" if shape == () else str(tuple(shape))


def _text(s: str) -> str:
    """User text inside a DOT label: backslashes would start DOT escapes."""
    return str(s).replace("\\", "\\\\")


def _legend(g: graphviz.Digraph, vanishing: float, exploding: float) -> None:
    with g.subgraph(name="cluster_legend") as lg:
        lg.attr(label="gradient norm", style="rounded", color="#94a3b8", fontsize="10")
        previous = None
        for i, (text, fill, font, style) in enumerate(legend_samples(vanishing, exploding)):
            key = f"legend{i}"
            lg.node(key, label=text, shape="box", style=style, fillcolor=fill, fontcolor=font,
                    fontsize="9", height="0.25")
            if previous is not None:   # invisible edges stack the swatches in one column
                lg.edge(previous, key, style="invis")
            previous = key


def _summary(counts: dict, note: str | None) -> list[str]:
    parts = [f"{counts['vanishing']} vanishing", f"{counts['exploding']} exploding"]
    if counts["nan"]:
        parts.append(f"{counts['nan']} NaN")
    lines = ["gradient flow: " + ", ".join(parts)]
    return lines + [f"({note})"] if note else lines
