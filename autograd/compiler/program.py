"""A captured program: a flat list of steps over numbered values, turned into one Python function.

Values are slots ``v0, v1, ...`` (arrays, or Python numbers from ``item()``), written once each
(accumulation in place excepted, as eager does it).  A reference to something the program reads
is a tagged tuple:

    ("v", k)        slot k
    ("c", obj)      a constant, read by reference (closure data, labels, a Python number)
    ("t", tensor)   a Tensor the program reads live: ``tensor.data`` (parameters, buffers)
    ("A", i)        the i-th Tensor among this call's arguments (its ``.grad`` is written)

Structures (an op's params, a lowered call's arguments, the return value) are templates:
("tuple"|"list", [items]), ("dict", [(key, item)]), ("wrap", ref) for a fresh Tensor around an
array, or a reference.  The steps are turned into Python source once (``build``): no graph, no
Tensor per op, no walk over nodes at replay; ``del`` after each value's last use frees memory as
early as eager frees its graph.
"""

from __future__ import annotations

import re

import numpy as np

from ..engine import note_mutation, unbroadcast
from ..ops.elementwise import relu_zero
from ..tensor import Tensor
from . import buffers
from .lowerings import inline_rule

__all__ = ["Step", "Program", "Names"]


class Names:
    """The namespace of the generated function: constants get names once (by identity)."""

    def __init__(self) -> None:
        self.ns: dict = {"_new": object.__new__, "_asarray": np.asarray, "_array": np.array,
                         "_unbroadcast": unbroadcast, "_make": Tensor._make, "_np": np,
                         "_note": note_mutation, "_empty": np.empty,
                         "_ndarray": np.ndarray, "_relu_zero": relu_zero}
        self._ids: dict[int, str] = {}
        self._typed: dict = {}
        self.numba = False              # the numba backend: ops' own numba_forward/backward
        self.native_nodes: set = set()  # nodes whose backward is numba_backward
        self.alias: dict[int, int] = {}  # slot -> the slot holding the same array (Program._aliases)

    def native(self, cls) -> bool:
        """Whether the op runs its own numba kernels (``numba_forward`` and ``numba_backward``,
        declared beside its NumPy rules) in this program."""
        return self.numba and hasattr(cls, "numba_forward")

    def const(self, obj, hint: str = "k") -> str:
        name = self._ids.get(id(obj))
        if name is None:
            name = f"{hint}{len(self._ids)}"
            self._ids[id(obj)] = name
            self.ns[name] = obj
        return name

    def typed(self, value, dtype) -> str:
        """A 0-d array of ``dtype`` holding ``value``, named once per (value, dtype)."""
        key = (type(value), value, np.dtype(dtype).str)
        name = self._typed.get(key)
        if name is None:
            name = self._typed[key] = self.const(np.array(value, dtype=dtype), "z")
        return name

    def ref(self, r) -> str:
        kind, value = r
        if kind == "v":
            return f"v{self.alias.get(value, value)}"
        if kind == "t":
            return self.const(value, "t") + ".data"
        if kind == "A":
            return f"_A[{value}]"
        return self.const(value)

    def tensor(self, r) -> str:
        """The Tensor object of a ("t", tensor) or ("A", i) reference."""
        return self.const(r[1], "t") if r[0] == "t" else f"_A[{r[1]}]"

    def struct(self, tmpl) -> str:
        kind = tmpl[0]
        if kind in ("tuple", "list"):
            items = ", ".join(self.struct(x) for x in tmpl[1])
            if kind == "list":
                return f"[{items}]"
            return f"({items},)" if items else "()"
        if kind == "dict":
            return "{" + ", ".join(f"{self.const(k)}: {self.struct(x)}" for k, x in tmpl[1]) + "}"
        if kind == "wrap":
            return f"_make({self.ref(tmpl[1])}, None)"
        if kind == "copied":
            return f"_make(_array({self.ref(tmpl[1])}, copy=True), None)"
        if kind == "tensor":               # a live Tensor passed as itself
            return self.tensor(tmpl[1])
        return self.ref(tmpl)


def refs_in(tmpl):
    """The references a template reads."""
    kind = tmpl[0]
    if kind in ("tuple", "list"):
        for x in tmpl[1]:
            yield from refs_in(x)
    elif kind == "dict":
        for _, x in tmpl[1]:
            yield from refs_in(x)
    elif kind in ("wrap", "copied", "tensor"):
        yield tmpl[1]
    else:
        yield tmpl


class Step:
    """One step: ``kind``, the slots it reads (``uses``) and defines (``defines``), ``label`` for
    explain and error messages, and what to compare between two captures (``key``)."""

    __slots__ = ("kind", "label", "uses", "defines", "node", "data", "key")

    def __init__(self, kind: str, label: str, uses=(), defines=(), node=None, data=None,
                 key=()) -> None:
        self.kind, self.label, self.node, self.data = kind, label, node, data
        self.uses = tuple(uses)
        self.defines = tuple(defines)
        self.key = key

    def inline(self, names: Names, rule, forward: "Step | None" = None,
               meta: dict | None = None) -> list[str]:
        """The step written with its op's inline rule (lowerings.py): a forward as one NumPy
        expression, a backward as one per input that gets a gradient.  ``meta`` (slot -> shape,
        dtype at capture) lets a Python-number operand become a 0-d array of the float dtype it
        meets (``_typed``)."""
        meta = meta or {}
        if self.kind == "forward":
            cls, ins, params, out, parents, as_array = self.data
            ops, result = dict(enumerate(ins)), meta.get(out)
            if len(rule) > 2 and rule[2] is not None and result is not None and all(
                    _dtype_of(r, meta) == result[1] for r in ins):   # no promotion anywhere
                lines = [f"v{out} = " + _typed(rule[2][0], ops, result, names, meta),
                         f"v{out} += " + _typed(rule[2][1], ops, result, names, meta)]
            else:
                lines = [f"v{out} = " + _typed(rule[0], ops, result, names, meta)]
            return lines + ([f"v{out} = _asarray(v{out})"] if as_array else [])
        g, outs, _ = self.data
        ins, y = forward.data[1], forward.data[3]
        operands = dict(enumerate(ins))
        operands.update(g=g, y=("v", y))
        return [f"v{k} = " + _typed(rule[1][i], operands, meta.get(k), names, meta)
                for i, k in enumerate(outs) if k is not None and k not in names.alias]

    def code(self, names: Names) -> list[str]:
        d, kind = self.data, self.kind
        if kind == "forward":
            cls, ins, params, out, parents, as_array = d
            var = f"o{self.node}" if self.node is not None else "_o"
            arrays = ", ".join(names.ref(r) for r in ins)
            args = arrays
            if params is not None:
                args += (", " if args else "") + "**" + names.struct(params)
            method = "numba_forward" if names.native(cls) else "forward"
            lines = [f"{var} = _new({names.const(cls, 'C')})",
                     f"v{out} = {var}.{method}({args})"]
            if as_array:
                lines.append(f"v{out} = _asarray(v{out})")
            if self.node is not None:
                lines.append(f"{var}.parents = {names.const(parents)}")
                lines.append(f"{var}.shape, {var}.dtype = v{out}.shape, v{out}.dtype")
                if cls.save_inputs:
                    lines.append(f"{var}.inputs = ({arrays},)")
                if cls.save_output:
                    lines.append(f"{var}.output = v{out}")
            return lines
        if kind == "backward":
            g, outs, wrap = d
            targets = ", ".join(f"v{k}" if k is not None else "_" for k in outs)
            method = "numba_backward" if self.node in names.native_nodes else "backward"
            call = f"o{self.node}.{method}({names.ref(g)})"
            return [f"{targets} = {call}" if wrap else f"{targets}, = {call}"]
        if kind == "fit":
            src, out, shape = d
            return [f"v{out} = _unbroadcast({names.ref(src)}, {shape!r})"]
        if kind == "cast":
            src, out, dtype = d
            return [f"v{out} = {names.ref(src)}.astype({names.const(dtype, 'D')})"]
        if kind == "argcast":
            src, out, dtype = d
            return [f"v{out} = _asarray({names.ref(src)}, dtype={names.const(dtype, 'D')})"]
        if kind == "add":
            a, b, out = d
            return [f"v{out} = {names.ref(a)} + {names.ref(b)}"]
        if kind == "iadd":
            a, b = d
            return [f"{names.ref(a)} += {names.ref(b)}"]
        if kind == "copy":
            src, out, dtype = d
            return [f"v{out} = _array({names.ref(src)}, dtype={names.const(dtype, 'D')}, copy=True)"]
        if kind == "leaf_set":
            leaf, g = d
            return [f"{names.tensor(leaf)}.grad = {names.ref(g)}"]
        if kind == "leaf_iadd":
            leaf, g = d
            return [f"{names.tensor(leaf)}.grad += {names.ref(g)}"]
        if kind == "set_none":
            return [f"{names.tensor(d)}.grad = None"]
        if kind in ("item", "tolist"):
            src, out = d
            return [f"v{out} = {names.ref(src)}.{kind}()"]
        if kind == "requires_grad":
            tensor, flag = d
            return [f"{names.tensor(tensor)}.requires_grad = {flag}"]
        if kind == "compare":
            fn, ins, out = d
            return [f"v{out} = _asarray({names.const(fn, 'f')}({', '.join(map(names.ref, ins))}))"]
        if kind == "inspect":
            fn, args, kwargs, outs, many = d
            call = f"{names.const(fn, 'f')}(*{names.struct(args)}, **{names.struct(kwargs)})"
            if many:
                return [f"{', '.join(f'v{k}' for k in outs)}, = {call}"]
            return [f"v{outs[0]} = _asarray({call})"]
        if kind == "inplace":
            fn, target, operand, where = d
            t = names.ref(target)
            if fn is None:
                line = f"{t}[{names.struct(where)}] = {names.struct(operand)}"
            else:
                line = f"{names.const(fn, 'f')}({t}, {names.struct(operand)}, out={t})"
            return [line, f"_note({t})"]
        if kind == "lowered":
            fn, args, out, tensor_out, numba = d
            if names.numba and numba is not None:
                fn = numba              # the call's own numba kernels (protocol.lowered)
            call = f"{names.const(fn, 'f')}(*{names.struct(args)})"
            if out is None:
                return [call]
            return [f"v{out} = {call}" + (".data" if tensor_out else "")]
        raise AssertionError(kind)


_PLACE = re.compile(r"\{(\w+)\}")


def _dtype_of(r, meta):
    if r[0] == "v":
        m = meta.get(r[1])
        return None if m is None else m[1]
    if r[0] == "t":
        return r[1].data.dtype
    return None


def _shape_of(r, meta):
    if r[0] == "v":
        m = meta.get(r[1])
        return None if m is None else m[0]
    return r[1].data.shape if r[0] == "t" else None


def _typed(formula: str, operands: dict, result, names: Names, meta: dict) -> str:
    """``formula`` with its operands named.  NumPy converts a Python number met by a float array
    to the array's dtype at every call (about 0.25 us of a 0.45 us ``a * 1.1`` on 16 floats); where
    every array the formula reads has the result's float dtype D, the number is given as a 0-d
    array of D made once (and ``1 - `` as D's one), which is the same cast made ahead: the
    values are bitwise those of the eager call.  Anything else is left as eager writes it."""
    used = {m: operands[int(m) if m.isdigit() else m] for m in _placeholders(formula)}
    text = {m: names.ref(r) for m, r in used.items()}
    dtype = None if result is None else result[1]
    if dtype is not None and dtype.kind == "f":
        kinds = [_dtype_of(r, meta) for r in used.values() if r[0] != "c"]
        if kinds and all(d == dtype for d in kinds):
            top = _largest(dtype)
            for m, r in used.items():
                v = r[1]
                if r[0] == "c" and type(v) in (int, float) and (
                        abs(v) <= 2 ** 24 if type(v) is int else abs(v) <= top):
                    text[m] = names.typed(v, dtype)
            if "(1 - " in formula:
                formula = formula.replace("(1 - ", "(" + names.typed(1, dtype) + " - ")
    if ".reshape(" in formula:          # reshape((-1, a.shape[-1])) of a 2-D array is itself
        for m, r in used.items():
            shape = _shape_of(r, meta)
            if shape is not None and len(shape) == 2:
                formula = formula.replace(f"{{{m}}}.reshape((-1, {{{m}}}.shape[-1]))", f"{{{m}}}")
    parts, fns = _parts(formula)
    for fn in fns:                      # _np.tanh( as a global _np_tanh(, not _np's attribute
        names.ns.setdefault("_np_" + fn, getattr(np, fn))
    parts = parts.copy()
    for k in range(1, len(parts), 2):
        parts[k] = text[parts[k]]
    return "".join(parts)


_PARTS: dict = {}


def _parts(formula: str):
    """A formula as [text, placeholder, text, ..., text] (its ``_np.f(`` calls as ``_np_f(``) and
    the NumPy functions it calls, worked out once per formula."""
    found = _PARTS.get(formula)
    if found is None:
        fns = sorted(set(re.findall(r"_np\.(\w+)\(", formula)))
        written = formula
        for fn in fns:
            written = written.replace(f"_np.{fn}(", f"_np_{fn}(")
        found = _PARTS[formula] = (_PLACE.split(written), fns)
    return found


_PLACEHOLDERS: dict[str, list[str]] = {}
_LARGEST: dict = {}
_ARITY: dict = {}      # inline rule -> how many inputs its formulas name


def _placeholders(formula: str) -> list[str]:
    found = _PLACEHOLDERS.get(formula)
    if found is None:
        found = _PLACEHOLDERS[formula] = list(dict.fromkeys(_PLACE.findall(formula)))
    return found


def _largest(dtype) -> float:
    top = _LARGEST.get(dtype)
    if top is None:
        top = _LARGEST[dtype] = float(np.finfo(dtype).max)
    return top


def _fits(rule, ins) -> bool:
    """Whether a forward's inputs are what its inline formulas name: every placeholder an input,
    none of them an omitted (None) one, as linear's bias may be."""
    n = _ARITY.get(rule)
    if n is None:
        text = " ".join((rule[0],) + tuple(rule[1]))
        n = _ARITY[rule] = max((int(j) for j in re.findall(r"\{(\d+)\}", text)), default=-1) + 1
    return n <= len(ins) and not any(r[0] == "c" and r[1] is None for r in ins[:n])


def _made_in(var: str, defined: set) -> bool:
    return var in defined


class Program:
    """Steps plus the argument slots and the return template, built into ``run(arrays, _A)``."""

    def __init__(self, steps: list[Step], arg_slots: list[int], output, nslots: int,
                 meta: dict | None = None, strided=(), fuse: bool = False) -> None:
        self.meta = meta or {}          # slot -> (shape, dtype) of its array at capture
        # Slots whose array was not C-contiguous: eager's layout (NumPy keeps its operands'), so
        # no C-ordered buffer for them, or a later sum or GEMM would add in another order.
        self.strided = set(strided)
        self.fuse = fuse                # numba backend: fused elementwise kernels
        self.kernels = 0
        self.steps = steps
        self.arg_slots = arg_slots
        self.output = output
        self.nslots = nslots
        self.source = ""
        self.buffers: list = []         # [(name, shape, dtype)] of the numpy backend's outputs
        self.run = None
        self.run_traced = None

    def build(self) -> None:
        self.run, self.source = self._generate(trace=False)

    def build_traced(self) -> None:
        """A variant that hands every value to ``_trace(step, slot, value)`` as it is made (check
        mode: finding the first op whose result differs from eager)."""
        if self.run_traced is None:
            self.run_traced, _ = self._generate(trace=True)

    def _inline_rules(self) -> dict:
        """node -> (inline rule, its forward step) for ops lowerings.py writes inline; a forward
        without a node (no backward) is keyed by the step itself."""
        rules = {}
        for step in self.steps:
            if step.kind == "forward":
                rule = inline_rule(step.data[0])
                if rule is not None and step.data[2] is None and _fits(rule, step.data[1]):
                    rules[step.node if step.node is not None else id(step)] = (rule, step)
        return rules

    def _aliases(self, rules: dict) -> dict[int, int]:
        """Copy propagation: an inline backward that passes its gradient on as it is (add's and
        subtract's ``{g}``) defines no new name; its readers read the gradient's slot.  The same
        array object either way (eager returns ``g`` itself), one line and one ``del`` fewer
        (a quarter of chain's backward)."""
        alias: dict[int, int] = {}
        for step in self.steps:
            if step.kind == "backward" and step.node in rules and step.data[0][0] == "v":
                formulas, g = rules[step.node][0][1], step.data[0][1]
                for i, k in enumerate(step.data[1]):
                    if k is not None and formulas[i] == "{g}":
                        alias[k] = alias.get(g, g)
        return alias

    def _generate(self, trace: bool):
        names = Names()
        names.numba = self.fuse
        names.native_nodes = {s.node for s in self.steps if s.kind == "forward"
                              and s.node is not None and names.native(s.data[0])}
        rules = self._inline_rules()
        alias = names.alias = {} if self.fuse or trace else self._aliases(rules)
        last: dict[str, int] = {}       # variable -> index of the last step that reads it
        for i, step in enumerate(self.steps):
            for k in step.uses:
                last[f"v{alias.get(k, k)}"] = i
            if step.node is not None and step.node in rules:
                if step.kind == "backward":   # an inline backward reads what its formulas name
                    rule, fwd = rules[step.node]
                    text = " ".join(rule[1][j] for j, k in enumerate(step.data[1]) if k is not None)
                    for j, r in enumerate(fwd.data[1]):
                        if r[0] == "v" and "{%d}" % j in text:
                            last[f"v{alias.get(r[1], r[1])}"] = i
                    if "{y}" in text:
                        last[f"v{fwd.data[3]}"] = i
            elif step.node is not None:
                last[f"o{step.node}"] = i
        out_expr = names.struct(self.output)
        kept = {names.ref(r) for r in refs_in(self.output) if r[0] == "v"}
        frees: dict[int, list[str]] = {}
        for var, i in last.items():
            if var not in kept:
                frees.setdefault(i, []).append(var)
        runs = {}
        static = buffers.static_slots(self.steps, self.arg_slots)
        if self.fuse and not trace:
            from . import numba_backend
            timer = numba_backend.progress()
            timer.start()
            try:
                runs = numba_backend.plan_runs(self.steps, rules, last, kept, self.meta, names,
                                               static)
            finally:
                timer.cancel()
            for buf, i in names.buffer_last.items():
                frees.setdefault(i, []).append(buf)
            self.kernels = len(runs)
        codes = {}
        if not trace:
            # numba too: the steps its kernels leave to NumPy get buffers (a kernel's line reads
            # its inputs as views, which keeps them out of buffers; its outputs are its own).
            inside = {j for i, (end, _, _) in runs.items() for j in range(i + 1, end + 1)}
            codes = {i: list(runs[i][1]) if i in runs else self._code(step, names, rules)
                     for i, step in enumerate(self.steps) if i not in inside}
            self.buffers, held = buffers.assign(codes, static - self.strided, kept, last,
                                                self.meta, names.ns)
            for i, dead in frees.items():     # a buffer stays held: no ``del`` (a third of
                frees[i] = [v for v in dead if v not in held]   # chain's compile() time)
        params = ", ".join(f"v{k}" for k in self.arg_slots)
        lines = [f"def _replay({params}{', ' if params else ''}_A=(), _trace=None):"]
        skip_to, python, pending = -1, set(), []
        for i, step in enumerate(self.steps):
            if i <= skip_to:                  # inside a fused run: its dels come after it
                pending += frees.get(i, [])
                if i == skip_to:
                    dead = [v for v in pending if v in python or not _made_in(v, run_defs)]
                    if dead:
                        lines.append(f"    del {', '.join(sorted(set(dead)))}")
                continue
            if i in runs:
                skip_to, code, python = runs[i]
                code = codes.get(i, code)
                run_defs = {f"v{k}" for s in self.steps[i:skip_to + 1] for k in s.defines}
                lines.append(f"    # {i}-{skip_to}: fused kernel (numba)")
                lines += ["    " + line for line in code]
                pending = list(frees.get(i, []))
                if i == skip_to:
                    dead = [v for v in pending if v in python or not _made_in(v, run_defs)]
                    if dead:
                        lines.append(f"    del {', '.join(sorted(set(dead)))}")
                continue
            lines.append(f"    # {i}: {step.label}")
            code = codes[i] if i in codes else self._code(step, names, rules)
            lines += ["    " + line for line in code]
            if trace:
                lines += [f"    _trace({i}, {k}, v{k})" for k in step.defines]
            dead = frees.get(i)
            if dead and not trace:
                lines.append(f"    del {', '.join(sorted(dead))}")
        lines.append(f"    return {out_expr}")
        if runs:
            lines = numba_backend.bind_read_rows(lines)
        source = "\n".join(lines) + "\n"
        ns = names.ns
        exec(compile(source, "<ag.compile program>", "exec"), ns)
        return ns["_replay"], source

    def _code(self, step: Step, names: Names, rules: dict) -> list[str]:
        inline = rules.get(step.node if step.node is not None else id(step))
        if inline is not None and step.kind in ("forward", "backward"):
            return step.inline(names, inline[0], inline[1], self.meta)
        return step.code(names)
