"""The backward walk while capturing: reverse._run step for step (same order, same sums, same
in-place accumulation, so a replay is bitwise equal), recording each node's backward rule, each
reduction of a broadcast gradient, each cast and each sum as a step of the program.

What a plain walk supports and a compiled step does not (hooks the program would skip, gradient
observers, create_graph, anomaly mode) is refused here, named."""

from __future__ import annotations

import numpy as np

from ..grad_mode import STATE
from ..reverse import _fit_shape, _owned, count_consumers
from .protocol import CompileError

__all__ = ["record_backward"]


def _refuse(what: str) -> CompileError:
    from .capture import user_site
    return CompileError(f"capture: {what} (at {user_site()})")


def record_backward(rec, roots, root_grads, retain_graph, create_graph, capture):
    if create_graph:
        raise _refuse("create_graph=True inside a compiled step (higher-order gradients) is not "
                      "supported; run it eagerly")
    if STATE.grad_observer is not None:
        raise _refuse("a gradient observer (viz.record_grad_norms) is active; the compiled "
                      "program would skip it")
    rec.sync()
    pending, starts = count_consumers(roots)   # the eager walk's step 1, checks included
    for node in pending:
        if id(node) not in rec.node_of:
            raise _refuse(f"backward reaches '{node.name}', recorded before the compiled call "
                          f"began (a graph built outside the step)")

    def ref(a):
        return rec.ref(a, None, "backward")

    def use(r):
        return [r[1]] if r[0] == "v" else []

    def binary_add(a, b, label):
        out = a + b
        ra, rb = ref(a), ref(b)
        k = rec.new_slot(out)
        rec.add("add", label, use(ra) + use(rb), (k,), data=(ra, rb, k),
                key=("add", _k(ra), _k(rb), k))
        return out

    node_grads: dict = {}
    leaf_grads: dict = {}
    for t, g in zip(roots, root_grads):
        # the seed: a constant (backward()'s ones) or an argument's array; one of more than one
        # element that is a constant came from the caller's data (a cast grad_outputs), which
        # a replay would keep
        if ref(g)[0] == "c" and np.size(g) > 1:
            raise _refuse("a gradient seed array (backward(gradient=...), grad_outputs) made "
                          "outside the step's ops, which a replay would keep; seed with a Python "
                          "number, or call the plain function")
        node = t._node
        if node is None:
            _add_leaf(rec, leaf_grads, t, g, False, ref, use, binary_add)
        else:
            node_grads[node] = binary_add(node_grads[node], g, "sum of seeds") \
                if node in node_grads else g

    results: dict = {}
    ready = [(node, node_grads.pop(node, None)) for node in starts if not pending[node]]
    while ready:
        node, g = ready.pop()
        parents = node.parents
        if g is None:
            in_grads = (None,) * len(parents)
        else:
            if node.hooks:
                raise _refuse(f"a hook (register_hook/retain_grad) on the output of "
                              f"'{node.name}'; the compiled program would skip it")
            if capture is not None and id(node) in capture:
                results[id(node)] = g
            gr = ref(g)
            in_grads = node.backward(g)
            wrap = type(in_grads) is not tuple
            if wrap:
                in_grads = (in_grads,)
            if len(in_grads) != len(parents):
                raise RuntimeError(f"backward of '{node.name}' returned {len(in_grads)} gradients "
                                   f"for {len(parents)} inputs")
            outs = [None if gi is None else rec.new_slot(gi) for gi in in_grads]
            rec.add("backward", f"backward of {node.name}", use(gr),
                    [k for k in outs if k is not None], node=rec.node_of[id(node)],
                    data=(gr, outs, wrap), key=("backward", rec.node_of[id(node)], _k(gr),
                                                 tuple(outs), wrap))
            if not retain_graph:
                node.inputs = None
                node.output = None
                node.epoch = -1
                if node.__dict__:
                    node.release()
        for p, gi in zip(parents, in_grads):
            if p is None:
                continue
            count = pending.get(p)
            if count is None:               # a leaf
                if gi is not None:
                    data = p.data
                    if gi.shape != data.shape:
                        gi = _fit(rec, gi, data.shape, node, ref, use)
                    if gi.dtype is not data.dtype and gi.dtype != data.dtype:
                        gi = _cast(rec, gi, data.dtype, ref, use)
                    entry = leaf_grads.get(p)
                    if entry is None:
                        leaf_grads[p] = [gi, _owned(gi, g, in_grads)]
                    else:
                        _accumulate(entry, gi, ref, use, rec, binary_add)
                continue
            if gi is not None:
                if gi.shape != p.shape:
                    gi = _fit(rec, gi, p.shape, node, ref, use)
                if gi.dtype is not p.dtype and gi.dtype != p.dtype:
                    gi = _cast(rec, gi, p.dtype, ref, use)
            if count == 1:
                if node_grads:
                    previous = node_grads.pop(p, None)
                    if previous is not None:
                        gi = previous if gi is None else binary_add(previous, gi, "gradient sum")
                ready.append((p, gi))
            else:
                pending[p] = count - 1
                if gi is not None:
                    previous = node_grads.get(p)
                    node_grads[p] = gi if previous is None else binary_add(previous, gi,
                                                                           "gradient sum")

    for leaf, entry in leaf_grads.items():
        if leaf._hooks:
            raise _refuse(f"a hook on {rec.label(leaf)}; the compiled program would skip it")
        if capture is not None and id(leaf) in capture:
            results[id(leaf)] = entry[0]
    if capture is None:
        for leaf, (g, owned) in leaf_grads.items():
            info = rec.see(leaf)
            gr = ref(g)
            if leaf.grad is None:
                if owned:
                    leaf.grad = g
                    rec.add("leaf_set", f"{rec.label(leaf)}.grad =", use(gr), data=(info.ref, gr),
                            key=("leaf_set", _k(info.ref), _k(gr)))
                else:
                    leaf.grad = np.array(g, dtype=leaf.data.dtype, copy=True)
                    k = rec.new_slot(leaf.grad)
                    rec.add("copy", f"copy for {rec.label(leaf)}.grad", use(gr), (k,),
                            data=(gr, k, leaf.data.dtype), key=("copy", _k(gr), k))
                    rec.add("leaf_set", f"{rec.label(leaf)}.grad =", (k,), data=(info.ref, ("v", k)),
                            key=("leaf_set", _k(info.ref), k))
            else:
                leaf.grad += g
                rec.add("leaf_iadd", f"{rec.label(leaf)}.grad +=", use(gr), data=(info.ref, gr),
                        key=("leaf_iadd", _k(info.ref), _k(gr)))
            info.grad_obj = leaf.grad
    return results


def _k(r):
    from .capture import _key
    return _key(r)


def _fit(rec, gi, shape, node, ref, use):
    r = ref(gi)
    out = _fit_shape(gi, shape, node)
    k = rec.new_slot(out)
    rec.add("fit", f"sum to {shape}", use(r), (k,), data=(r, k, shape), key=("fit", _k(r), k, shape))
    return out


def _cast(rec, gi, dtype, ref, use):
    r = ref(gi)
    out = gi.astype(dtype)
    k = rec.new_slot(out)
    rec.add("cast", f"cast to {dtype}", use(r), (k,), data=(r, k, dtype),
            key=("cast", _k(r), k, str(dtype)))
    return out


def _add_leaf(rec, leaf_grads, leaf, g, owned, ref, use, binary_add) -> None:
    entry = leaf_grads.get(leaf)
    if entry is None:
        leaf_grads[leaf] = [g, owned]
    else:
        _accumulate(entry, g, ref, use, rec, binary_add)


def _accumulate(entry, g, ref, use, rec, binary_add) -> None:
    """reverse._accumulate, recorded: in place when the entry owns its array."""
    if entry[1] and type(entry[0]) is np.ndarray and type(g) is np.ndarray:
        ra, rb = ref(entry[0]), ref(g)
        entry[0] += g
        rec.add("iadd", "gradient sum (in place)", use(ra) + use(rb), data=(ra, rb),
                key=("iadd", _k(ra), _k(rb)))
    else:
        entry[0] = binary_add(entry[0], g, "gradient sum")
        entry[1] = type(entry[0]) is np.ndarray
