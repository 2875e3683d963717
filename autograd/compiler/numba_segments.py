"""The numba backend's segments: maximal runs of inline steps that contain a matrix product (nn's
fused linear, forward or backward) together with the elementwise steps and bias sums around it,
compiled as one numba function each.

On small layers a NumPy call costs more than its arithmetic: a linear layer's forward is a GEMM
and a broadcast bias add (measured 2.5 + 3.5 us on mlp_small's 64 x 16), its backward two GEMMs
and a column sum, an activation's gradient three calls.  A segment makes all of them one call;
inside it the code is the very expressions the numpy backend writes (lowerings.py's formulas),
which numba compiles: its GEMMs call BLAS, its elementwise expressions become loops.  tanh and
exp end a segment: NumPy's SIMD loops are faster than numba's libm calls (21 us against 3.7 us on
1024 float32 values here), and a fused run (numba_backend.plan_runs) takes them where it pays.

Arrays over SMALL elements stay with NumPy.  A segment is compiled for the argument types the capture saw (dtype, rank, layout) and used only
where numba's result types are NumPy's (rank and dtype of every value it returns); anything else
stays as Python lines.  Values differ from NumPy's by BLAS's and numba's rounding, within the
backend's tolerance.
"""

from __future__ import annotations

import re

import numpy as np

from .numba_backend import load_kernel

__all__ = ["plan_segments"]

# Only small arrays: there a NumPy call's overhead is the cost; on larger ones numba's GEMMs (BLAS
# through SciPy) and column sums were 5-20 % and 2x slower than NumPy's on mlp_digits' 128 x 256.
SMALL = 1 << 14
SEGMENT_OPS = {"linear", "add", "subtract", "multiply", "negative", "relu"}
SEGMENT_BACKWARDS = SEGMENT_OPS | {"tanh", "exp"}     # their gradients need no transcendental
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_IF_ARRAY = re.compile(r"\((.*) if type\((\w+)\) is _ndarray else \2\)$")   # linear's bias grad


class _Local:
    """Names inside one segment's function: arguments for what it reads from outside, literals
    for Python numbers (cast once, as NumPy casts them), ``v<k>`` for its own values."""

    def __init__(self, outer) -> None:
        self.outer = outer
        self.args: dict = {}            # key -> (argument name, reference)
        self.literals: dict = {}        # (value, dtype) -> name
        self.defined: set[int] = set()
        self.alias: dict = {}
        self.ns: dict = {}              # _typed registers NumPy functions here (unused inside)

    def ref(self, r) -> str:
        if r[0] == "v" and r[1] in self.defined:
            return f"v{r[1]}"
        key = (r[0], r[1] if r[0] == "v" else id(r[1]))
        if key not in self.args:
            self.args[key] = (f"a{len(self.args)}", r)
        return self.args[key][0]

    def typed(self, value, dtype) -> str:
        key = (type(value), value, np.dtype(dtype).str)
        if key not in self.literals:
            self.literals[key] = f"l{len(self.literals)}"
        return self.literals[key]


def _array_kind(r, meta, layouts):
    """(ndim, dtype, layout) of an array operand, "number" for a Python number, else None."""
    kind, value = r
    if kind == "v":
        m = meta.get(value)
        return None if m is None or not hasattr(m[1], "kind") else (len(m[0]), m[1], layouts.get(value))
    if kind in ("t", "c"):
        a = value.data if kind == "t" else value
        if isinstance(a, np.ndarray):
            return a.ndim, a.dtype, _layout(a)
        if kind == "c" and type(a) in (int, float):
            return "number"
    return None


def _size(r, meta) -> int:
    if r[0] == "v":
        return int(np.prod(meta[r[1]][0]))
    return (r[1].data if r[0] == "t" else r[1]).size


def _layout(a: np.ndarray) -> str:
    return "C" if a.flags.c_contiguous else "F" if a.flags.f_contiguous else "A"


def _segmentable(step, rules, meta, layouts):
    """The step's (operand refs, defined slots) when a segment can hold it, else None."""
    if step.kind == "forward":
        rule = rules.get(step.node if step.node is not None else id(step))
        cls, ins, params, out, _, as_array = step.data
        if rule is None or cls.name not in SEGMENT_OPS or as_array:
            return None
        refs, outs = list(ins), [out]
    elif step.kind == "backward" and step.node in rules:
        rule, fwd = rules[step.node]
        if fwd.data[0].name not in SEGMENT_BACKWARDS:
            return None
        g, outs, _ = step.data
        if any(k is not None and re.fullmatch(r"\{\w+\}", rule[1][j])
               for j, k in enumerate(outs)):
            return None                 # a gradient passed on as it is (an alias)
        refs, outs = list(fwd.data[1]) + [g, ("v", fwd.data[3])], [k for k in outs if k is not None]
    else:
        return None
    dtypes = set()
    for r in refs:
        kind = _array_kind(r, meta, layouts)
        if kind is None:
            return None
        if kind != "number":
            if not 1 <= kind[0] <= 2 or kind[1] not in _FLOATS or kind[2] is None or (
                    _size(r, meta) > SMALL):
                return None
            dtypes.add(kind[1])
    for k in outs:
        m = meta.get(k)
        if m is None or not 1 <= len(m[0]) <= 2 or m[1] not in dtypes or np.prod(m[0]) > SMALL:
            return None
    return (refs, outs) if len(dtypes) == 1 else None


def _is_gemm(step, rules) -> bool:
    node = step.node if step.node is not None else id(step)
    cls = step.data[0] if step.kind == "forward" else rules[node][1].data[0]
    return cls.name == "linear"


def plan_segments(steps, rules, last: dict, kept: set, meta: dict, layouts: dict, names,
                  taken: set) -> dict:
    """{first step index: (last step index, code lines, Python names the code defines)} for the
    segments among ``steps`` outside ``taken`` (the fused runs' steps)."""
    segments, current = {}, []

    def close():
        if current and any(_is_gemm(steps[i], rules) for i in current):
            found = _emit(steps, current, rules, last, kept, meta, layouts, names)
            if found is not None:
                segments[current[0]] = found

    for i, step in enumerate(steps):
        if i not in taken and _segmentable(step, rules, meta, layouts) is not None:
            current.append(i)
            continue
        close()
        current = []
    close()
    return segments


def _emit(steps, indices, rules, last, kept, meta, layouts, names):
    import numba
    from numba import types

    local = _Local(names)
    body = []
    for i in indices:
        step = steps[i]
        node = step.node if step.node is not None else id(step)
        rule, fwd = rules[node]
        for line in step.inline(local, rule, fwd, meta):
            target, expr = line.split(" = ", 1) if " = " in line else (None, line)
            expr = _IF_ARRAY.sub(r"\1", expr)
            expr = re.sub(r"\b_np_(\w+)\(", r"np.\1(", expr)
            body.append(f"    {target} = {expr}" if target else f"    {expr}")
        local.defined.update(step.defines)
    end = indices[-1]
    outputs = [k for i in indices for k in steps[i].defines
               if last.get(f"v{k}", -1) > end or f"v{k}" in kept]
    if not outputs:
        return None
    args = list(local.args.values())
    head = [f"    {name} = np.{np.dtype(d).name}({value!r})"
            for (_, value, d), name in local.literals.items()]
    source = (f"def kernel({', '.join(a for a, _ in args)}):\n" + "\n".join(head + body) +
              f"\n    return ({', '.join(f'v{k}' for k in outputs)},)\n")
    sig = []
    for _, r in args:
        kind = _array_kind(r, meta, layouts)
        if kind == "number":
            sig.append(types.int64 if type(r[1]) is int else types.float64)
        else:
            sig.append(types.Array(numba.from_dtype(kind[1]), kind[0], kind[2]))
    try:
        kernel = load_kernel(source, tuple(sig), jit="cache=True, nogil=True, error_model='numpy'")
        returned = kernel.nopython_signatures[0].return_type
    except Exception:                   # numba cannot compile these expressions: Python lines
        return None
    for k, t in zip(outputs, returned.types):
        if t.ndim != len(meta[k][0]) or np.dtype(str(t.dtype)) != meta[k][1]:
            return None                 # numba's result type is not NumPy's: not this segment
    call = f"{names.const(kernel, 'S')}({', '.join(names.ref(r) for _, r in args)})"
    lines = [f"{', '.join(f'v{k}' for k in outputs)}, = {call}"]
    return end, lines, {f"v{k}" for k in outputs}
