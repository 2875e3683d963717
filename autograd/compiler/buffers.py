"""Output buffers for the numpy backend: an inline formula's result written into an array made
once, ``v7 = _np_multiply(v3, z1, b0)``, instead of a fresh array at every replay.

A ufunc called with an output array of the result's dtype runs the same loop on the same
operands, so the values are bitwise eager's; what it saves is the allocation and the operator
dispatch (about 0.1 us of a 0.75 us multiply on 16 floats, more where a large array's fresh
pages fault in).  A formula's inner results go into the same buffer where they have its shape
and dtype (``g * (1 - y * y)``: three calls, one buffer).

A value gets a buffer only where that cannot be seen from outside the program, and only if it is
small (``MAX_BUFFER_SIZE``), where the allocation is a noticeable part of its cost:

- its shape is fixed by the guards (``static``): made from arguments, parameters and constants
  by ops whose result shape follows from their operands' shapes, never through a value the
  program computes from data alone (a mask from a comparison, a lowered call, an ``item()``),
  so a replay cannot meet a shape the buffer was not made for;
- every line that reads it makes a fresh array from it (ufuncs, GEMMs, reductions) or a Python
  number (``item()``): no op object saves it, no view of it, ``.grad`` or return value is it;
- two values share a buffer only when the first is dead before the second is made.

The buffers belong to the program, so a compiled step must not run in two threads at once (nor
may eager code run one step concurrently on the same parameters).
"""

from __future__ import annotations

import ast
import math
import re

import numpy as np

__all__ = ["static_slots", "assign", "held_bytes"]

_BINARY = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "true_divide"}
_FRESH_METHODS = {"sum", "mean", "max", "min", "prod", "astype", "item"}
_SLOT = re.compile(r"^v(\d+)$")
_HOLE_NAME = re.compile(r"^_V(\d+)$")
FULL_CONSTANT_SIZE = 4096
# Elements.  Larger values stay fresh arrays: their allocation is a small part of their loop
# (mlp_digits and mlp_mnist ran as fast without buffers, A/B interleaved), and buffers held
# between calls beside the fresh ones took a replay's peak memory above eager's (1.26 against
# 0.81 MB on mlp_digits, 13.0 against 8.5 on mlp_mnist).
MAX_BUFFER_SIZE = 4096
MIN_GROUP = 4                                 # backward factors computed together (see below)
_OUT_BY_KEYWORD = {np.maximum, np.minimum}   # NumPy 2.4 deprecates their positional out


def held_bytes(buffers) -> int:
    """Bytes of buffers listed as [(name, shape, dtype)], kept between calls."""
    return sum(math.prod(shape) * np.dtype(dtype).itemsize for _, shape, dtype in buffers)


def static_slots(steps, arg_slots) -> set[int]:
    """Slots whose array has the capture's shape at every replay the guards admit."""
    static = set(arg_slots)
    forward_of = {}
    for step in steps:
        kind = step.kind
        if kind == "forward":
            if step.node is not None:
                forward_of[step.node] = step
            ok = all(k in static for k in step.uses)
        elif kind == "backward":
            fwd = forward_of.get(step.node)
            ok = fwd is not None and all(k in static for k in step.uses + fwd.defines)
        elif kind == "fit":                    # unbroadcast to a shape fixed at capture
            ok = True
        elif kind in ("cast", "argcast", "copy", "add"):
            ok = all(k in static for k in step.uses)
        else:                                  # compare, item, lowered: shapes data may choose
            ok = False
        if ok:
            static.update(step.defines)
    return static


def _fresh(node, var: str) -> bool:
    """Whether an expression that reads ``var`` returns a new object, never ``var`` or a view."""
    if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Compare)):
        return True
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name):
            return f.id.startswith("_np_") and isinstance(getattr(np, f.id[4:], None), np.ufunc)
        return isinstance(f, ast.Attribute) and f.attr in _FRESH_METHODS
    if isinstance(node, ast.IfExp):            # linear's `g.sum(0) if type(g) is _ndarray else g`
        t = node.test
        if (isinstance(t, ast.Compare) and isinstance(t.ops[0], ast.Is)
                and ast.unparse(t) == f"type({var}) is _ndarray"):
            return _fresh(node.body, var)      # a buffer is an ndarray: the body is taken
    return False


class _Types:
    """(shape, dtype) of an expression's nodes: arrays from the capture's meta and the
    program's constants; a Python number is ``"weak"`` (it takes the array's dtype)."""

    def __init__(self, meta: dict, ns: dict, holes=()) -> None:
        self.meta, self.ns, self.holes = meta, ns, holes    # holes: a form's operands' types

    def of(self, node):
        if isinstance(node, ast.Constant):
            return "weak" if type(node.value) in (int, float) else None
        if isinstance(node, ast.Name):
            m = _SLOT.match(node.id)
            if m:
                return self.meta.get(int(m.group(1)))
            m = _HOLE_NAME.match(node.id)
            if m:
                return self.holes[int(m.group(1))]
            obj = self.ns.get(node.id)
            if isinstance(obj, np.ndarray):
                return obj.shape, obj.dtype
            return "weak" if type(obj) in (int, float) else None
        if isinstance(node, ast.Attribute):
            if node.attr == "data" and isinstance(node.value, ast.Name):
                data = getattr(self.ns.get(node.value.id), "data", None)
                return (data.shape, data.dtype) if isinstance(data, np.ndarray) else None
            if node.attr == "T":
                inner = self.of(node.value)
                if inner not in (None, "weak") and len(inner[0]) == 2:
                    return inner[0][::-1], inner[1]
            return None
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "_relu_zero"):
            return "weak"                      # 0, or zeros that broadcast to its operand
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            sides = [self.of(node.left), self.of(node.comparators[0])]
            shapes = self._shapes(sides)
            return None if shapes is None else (shapes, np.dtype(bool))
        ufunc, args = _ufunc_call(node)
        if ufunc is None:
            return None
        if ufunc is np.matmul:
            a, b = (self.of(x) for x in args)
            if (a in (None, "weak") or b in (None, "weak") or len(a[0]) != 2 or len(b[0]) != 2
                    or a[0][1] != b[0][0] or a[1] != b[1] or a[1].kind != "f"):
                return None
            return (a[0][0], b[0][1]), a[1]
        types = [self.of(x) for x in args]
        shape = self._shapes(types)
        if shape is None:
            return None
        arrays = [t[1] for t in types if t != "weak"]
        if not arrays or arrays[0].kind != "f":
            return None
        dtype = arrays[0]
        bools = ufunc is np.multiply and all(d == dtype or d == bool for d in arrays)
        if not (bools or all(d == dtype for d in arrays)):
            return None                        # promotion: left as eager writes it
        return shape, dtype

    @staticmethod
    def _shapes(types):
        if any(t is None for t in types):
            return None
        shapes = [t[0] for t in types if t != "weak"]
        if len(set(shapes)) == 1:              # the common case, without NumPy's broadcasting
            return shapes[0]
        try:
            return np.broadcast_shapes(*shapes)
        except ValueError:
            return None


def _ufunc_call(node):
    """(ufunc, operand nodes) for an arithmetic operator, a unary minus or a ``_np_<ufunc>``
    call with positional operands; (None, None) otherwise."""
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.MatMult):
            return np.matmul, [node.left, node.right]
        name = _BINARY.get(type(node.op))
        return (getattr(np, name), [node.left, node.right]) if name else (None, None)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return np.negative, [node.operand]
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords
            and node.func.id.startswith("_np_")):
        fn = getattr(np, node.func.id[4:], None)
        if isinstance(fn, np.ufunc) and fn.nout == 1 and fn.nin == len(node.args):
            return fn, list(node.args)
    return None, None


def _into(node, target: str, want, types: _Types, ns: dict) -> list[str]:
    """Lines computing ``node`` into ``target``, the last one an expression.  One operand that
    is itself an elementwise result of the target's shape and dtype is computed there first;
    the others are written as they were (fresh arrays, made after it: none reads the target)."""
    ufunc, args = _ufunc_call(node)
    if ufunc is np.multiply and ast.unparse(args[0]) == ast.unparse(args[1]):
        ufunc, args = np.square, args[:1]          # x * x: the same product, one operand fewer
    name = "_uf_" + ufunc.__name__
    ns.setdefault(name, ufunc)
    lines, texts, used = [], [], ufunc is np.matmul    # a GEMM never reads its own output
    for arg in args:
        inner, _ = _ufunc_call(arg)
        if not used and inner not in (None, np.matmul) and types.of(arg) == want:
            lines += _into(arg, target, want, types, ns)
            texts.append(target)
            used = True
        else:
            texts.append(_full(arg, want, ns) if ufunc is not np.matmul else ast.unparse(arg))
    out = f"out={target}" if ufunc in _OUT_BY_KEYWORD else target
    return lines + [f"{name}({', '.join(texts + [out])})"]


def _full(arg, want, ns: dict) -> str:
    """A 0-d constant as an array of the target's shape, where that is small: the same values,
    and NumPy's loop over operands of one shape starts faster than a broadcast one (~40 ns of
    a 16-float multiply's 700)."""
    text = ast.unparse(arg)
    value = ns.get(text) if isinstance(arg, ast.Name) else None
    shape, dtype = want
    if not (isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype == dtype
            and 1 < math.prod(shape) <= FULL_CONSTANT_SIZE):
        return text
    name = f"{text}_{'x'.join(map(str, shape))}"
    if name not in ns:
        ns[name] = np.full(shape, value, dtype)
    return name


def assign(codes: dict, static: set, kept: set, last: dict, meta: dict, ns: dict):
    """Rewrite ``codes`` (step index -> its lines) so that each value that may have a buffer is
    computed into one.  Returns the buffers, named in ``ns``, as [(name, shape, dtype)], and the
    values that are one (a ``del`` of those frees nothing)."""
    forms = _Forms(meta, ns)
    candidates, readers = _candidates(codes, static, kept, forms)
    chosen = {var for var, (i, _, _) in candidates.items()
              if all(forms.memo(("fresh", text, hole, r == i), _reads_fresh, text, hole, r == i,
                                forms) for r, text, hole in readers.get(var, ()))}
    groups = _factor_groups(codes, chosen, candidates, forms)
    rows = {y: (g, m) for g, group in enumerate(groups) for m, y in enumerate(group["ys"])}
    buffers, busy, free, into = [], [], {}, {}

    def new(shape, dtype, hint="_b"):
        name = f"{hint}{len(buffers)}"
        ns[name] = np.empty(shape, dtype)
        buffers.append((name, shape, dtype))
        return name

    for g, group in enumerate(groups):
        shape, dtype = meta[int(group["ys"][0][1:])]
        n = len(group["ys"])
        group["R"], group["D"] = new((n,) + shape, dtype), new((n,) + shape, dtype)
        for m in range(n):
            for which in "RD":
                ns[f"{group[which]}_{m}"] = ns[group[which]][m]
    for var in sorted(chosen, key=lambda v: (candidates[v][0], v)):
        if var in rows:                       # a row of its group's array, for good
            g, m = rows[var]
            into[var] = f"{groups[g]['R']}_{m}"
            continue
        i = candidates[var][0]              # by liveness: a buffer is free after its last use
        shape, dtype = meta[int(var[1:])]
        key = (shape, dtype.str)
        for entry in [b for b in busy if b[0] < i]:
            busy.remove(entry)
            free.setdefault(entry[2], []).append(entry[1])
        name = free[key].pop() if free.get(key) else new(shape, dtype)
        busy.append((last.get(var, i), name, key))
        into[var] = name
    for g, group in enumerate(groups):      # each member reads its row of the factors
        for m, (var, i, j, hole, form) in enumerate(group["members"]):
            text, slots, metas = form       # form ``_V0 = L * F``: F becomes the row, a new hole
            member = forms.memo(("member", text), _times_hole, text, len(slots))
            form = (member, slots + [f"{group['D']}_{m}"], metas + (metas[hole],))
            if var in into:
                candidates[var] = (i, j, form)
            else:
                codes[i][j] = forms.fill(member, form[1])
    for var in sorted(into, key=lambda v: -candidates[v][1]):
        i, j, (text, slots, metas) = candidates[var]
        lines = forms.memo(("into", text, metas), _into_hole, text, len(slots), metas, forms)
        lines = [forms.fill(line, slots + [into[var]]) for line in lines]
        lines[-1] = f"{var} = {lines[-1]}"
        codes[i][j:j + 1] = lines
    for group in groups:                    # all factors at once, before the first reads one
        shape, dtype = ns[group["D"]].shape, ns[group["D"]].dtype
        text = group["form"][0]             # F with y as the rows of R: it reads no hole
        factor = _Rename({f"_V{group['hole']}": group["R"]}).visit(
            ast.parse(text[len(_DEFINES):], mode="eval").body.right)
        codes[group["first"]][0:0] = _into(factor, group["D"], (shape, dtype), forms.types(()), ns)
    return buffers, set(into)


_SLOT_NAME = re.compile(r"\b(v\d+)\b")
_HOLE = re.compile(r"\b_V(\d+)\b")
_DEFINES = "_V0 = "                        # a line that assigns a slot, as its form starts


class _Forms:
    """Lines by form: a line's slots replaced by holes ``_V0, _V1, ...`` in the order they first
    appear (``v7 = v3 * z2`` is ``_V0 = _V1 * z2``), so that the lines of one form, with operands
    of the same shapes and dtypes, share one parse and one analysis (chain's thousand steps have
    eight forms).  Per program: the names a form reads besides its holes are its constants."""

    def __init__(self, meta: dict, ns: dict) -> None:
        self.meta, self.ns = meta, ns
        self._memo: dict = {}
        self._split: dict = {}

    def split(self, line: str):
        """(form, the slots its holes stand for)."""
        found = self._split.get(line)
        if found is None:
            parts, slots = _SLOT_NAME.split(line), []     # text, slot, text, slot, ..., text
            for k in range(1, len(parts), 2):
                var = parts[k]
                if var not in slots:
                    slots.append(var)
                parts[k] = f"_V{slots.index(var)}"
            found = self._split[line] = ("".join(parts), slots)
        return found

    def metas(self, slots) -> tuple:
        return tuple(self.meta.get(int(v[1:])) for v in slots)

    @staticmethod
    def fill(text: str, names) -> str:
        return _HOLE.sub(lambda m: names[int(m.group(1))], text)

    def memo(self, key, fn, *args):
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = fn(*args)
            return value

    def tree(self, expr: str):
        """The parse of a form's expression, shared: read, never changed."""
        return self.memo(("tree", expr), lambda: ast.parse(expr, mode="eval").body)

    def types(self, metas) -> "_Types":
        return self.memo(("types", metas), _Types, self.meta, self.ns, metas)


def _into_hole(text: str, n: int, metas, forms: _Forms) -> list[str]:
    """_into for a form: the target is hole n, after the form's own."""
    return _into(forms.tree(text[len(_DEFINES):]), f"_V{n}", metas[0], forms.types(metas),
                 forms.ns)


def _times_hole(text: str, n: int) -> str:
    """``_V0 = L * F`` as ``_V0 = L * _V<n>``."""
    node = ast.parse(text[len(_DEFINES):], mode="eval").body
    return _DEFINES + ast.unparse(ast.BinOp(node.left, ast.Mult(), ast.Name(f"_V{n}")))


def _candidates(codes, static, kept, forms: _Forms):
    """{var: (step, line index, (form, slots, metas))} for each value whose line could write a
    buffer, and {var: [(step, form, its hole)]} of the lines that read each value."""
    assigned, candidates, readers = set(), {}, {}
    for i, lines in codes.items():
        for j, line in enumerate(lines):
            text, slots = forms.split(line)
            target = None
            if text.startswith(_DEFINES) and slots[0] not in assigned:
                target = slots[0]
                assigned.add(target)
                k = int(target[1:])
                want = forms.meta.get(k)
                if (k in static and target not in kept and want is not None and want[0]
                        and math.prod(want[0]) <= MAX_BUFFER_SIZE):   # analysed only then
                    metas = forms.metas(slots)
                    if forms.memo(("writes", text, metas), _writes, text, metas, forms):
                        candidates[target] = (i, j, (text, slots, metas))
            for hole, var in enumerate(slots):
                if var != target:
                    readers.setdefault(var, []).append((i, text, hole))
    return candidates, readers


def _writes(text: str, metas, forms: _Forms) -> bool:
    """Whether a form's expression is a ufunc call whose result has the target's meta."""
    node = forms.tree(text[len(_DEFINES):])
    return _ufunc_call(node)[0] is not None and forms.types(metas).of(node) == metas[0]


class _Rename(ast.NodeTransformer):
    def __init__(self, names: dict) -> None:
        self.names = names

    def visit_Name(self, node):
        return ast.Name(self.names.get(node.id, node.id))


def _factor_groups(codes, chosen, candidates, forms: _Forms) -> list:
    """Backward lines ``g * F(y)`` whose factor F reads one buffered value y and constants only
    (tanh's ``g * (1 - y * y)``): F's of one form and shape are computed for all of them in one
    pass over the rows of an array that holds every y, which 2 calls do instead of 2 per line.
    The factors' elementwise values are the same, bitwise, wherever they are computed."""
    found = {}
    for i, lines in codes.items():
        for j, line in enumerate(lines):
            text, slots = forms.split(line)
            if not text.startswith(_DEFINES) or "*" not in text:
                continue
            metas = forms.metas(slots)
            factor = forms.memo(("factor", text, metas), _factor, text, metas, forms)
            if factor is None or slots[factor[0]] not in chosen:
                continue
            hole, form = factor
            key = (form, metas[hole][0], metas[hole][1].str)
            found.setdefault(key, []).append((i, j, slots[0], slots[hole], hole,
                                              (text, slots, metas)))
    groups = []
    for members in found.values():
        ys = [y for _, _, _, y, _, _ in members]
        first = min(i for i, *_ in members)
        if (len(members) < MIN_GROUP or len(set(ys)) != len(ys)
                or any(candidates[y][0] >= first for y in ys)):
            continue
        groups.append(dict(ys=ys, members=[(var, i, j, hole, form)
                                    for i, j, var, _, hole, form in members],
                           first=first, hole=members[0][4], form=members[0][5]))
    return groups


def _factor(text: str, metas, forms: _Forms):
    """(the hole of y, F's form with y as ``_Y``) for a form ``_V0 = L * F(y)``, else None."""
    node = forms.tree(text[len(_DEFINES):])
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult)):
        return None
    factor = node.right
    holes = {n.id for n in ast.walk(factor) if isinstance(n, ast.Name) and _HOLE.match(n.id)}
    if len(holes) != 1 or _ufunc_call(factor)[0] in (None, np.matmul):
        return None
    (y,) = holes
    hole = int(y[2:])
    if forms.types(metas).of(factor) != metas[hole]:
        return None
    return hole, ast.unparse(_Rename({y: "_Y"}).visit(ast.parse(ast.unparse(factor),
                                                                mode="eval").body))


def _reads_fresh(text: str, hole: int, own_step: bool, forms: _Forms) -> bool:
    """Whether a line of form ``text`` reads its hole ``hole`` only to make something new of it."""
    var = f"_V{hole}"
    if text.startswith("del "):
        return True
    if own_step and (text == f"{var} = _asarray({var})" or text.startswith(f"{var} += ")):
        return True                            # the op's own lines, in place on its result
    return text.startswith(_DEFINES) and _fresh(forms.tree(text[len(_DEFINES):]), var)
