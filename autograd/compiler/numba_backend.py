"""The numba backend: maximal runs of inline elementwise steps (lowerings.py's formulas, forward
and backward alike) fused into one generated loop each, compiled by numba and cached on disk.

A run is a sequence of consecutive steps whose operands all have one shape and one float dtype
(no broadcasting) or are Python numbers.  Inside the kernel every intermediate is a scalar; only
the values read after the run (or returned) are written out, into fresh arrays as NumPy would
make.  Python numbers and the formulas' literals are cast to the run's dtype first, as NumPy 2's
promotion does, so float32 stays float32; results differ from NumPy's only in the last bits of
tanh/exp (numba calls libm where NumPy has its own SIMD loops).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import threading

import numpy as np

__all__ = ["plan_runs", "available"]

FUSABLE = {"add", "subtract", "multiply", "negative", "tanh", "exp"}
_LITERAL = re.compile(r"(?<![\w.{])(\d+(?:\.\d+)?)(?![\w.}])")
_PLACEHOLDER = re.compile(r"^\{(\w+)\}$")


def available() -> bool:
    return importlib.util.find_spec("numba") is not None


def cache_dir() -> str:
    base = os.environ.get("GRAPHGRAD_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "graphgrad")
    path = os.path.join(base, "numba")
    os.makedirs(path, exist_ok=True)
    return path


def _expressions(step, rules):
    """[(target slot, formula, {placeholder: operand ref})] for an inline step of a fusable op,
    else None."""
    if step.kind == "forward":
        rule = rules.get(step.node if step.node is not None else id(step))
        if rule is None or step.data[0].name not in FUSABLE:
            return None
        cls, ins, _, out, _, as_array = step.data
        if as_array:
            return None
        return [(out, rule[0][0], {str(j): r for j, r in enumerate(ins)})]
    if step.kind == "backward" and step.node in rules:
        (rule, fwd) = rules[step.node]
        if fwd.data[0].name not in FUSABLE:
            return None
        g, outs, _ = step.data
        operands = {str(j): r for j, r in enumerate(fwd.data[1])}
        operands.update(g=g, y=("v", fwd.data[3]))
        return [(k, rule[1][j], operands) for j, k in enumerate(outs) if k is not None]
    return None


def _kind(r, meta):
    """(shape, dtype) of an array operand, "scalar" for a Python number, None otherwise."""
    kind, value = r
    if kind == "v":
        return meta.get(value)
    if kind == "t":
        return value.data.shape, value.data.dtype
    if kind == "c" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return "scalar"
    return None


def plan_runs(steps, rules, last: dict, kept: set, meta: dict, names) -> dict:
    """{first step index: (last step index, code lines, Python names the code defines)};
    ``names.buffer_last`` then says after which step each packed buffer's name may go."""
    runs, current = {}, None
    names.rows, names.bound, names.buffer_last = {}, set(), {}

    def close():
        if current is not None and sum(len(e) for _, e in current["exprs"]) >= 2:
            runs[current["start"]] = _emit(current, last, kept, names)

    for i, step in enumerate(steps):
        exprs = _expressions(step, rules)
        ok = exprs is not None
        if ok:
            kinds = {}
            for _, formula, operands in exprs:
                for name in re.findall(r"\{(\w+)\}", formula):
                    kinds[name] = _kind(operands[name], meta)
            arrays = {k for k in kinds.values() if k not in ("scalar",)}
            ok = None not in arrays and len(arrays) <= 1 and all(
                k[1] in (np.float32, np.float64) for k in arrays)
            if ok and arrays:
                (shape_dtype,) = arrays
                ok = current is None or current["type"] in (None, shape_dtype)
        if not ok:
            close()
            current = None
            continue
        if current is None:
            current = {"start": i, "exprs": [], "type": None}
        if arrays and current["type"] is None:
            current["type"] = shape_dtype
        current["end"] = i
        current["exprs"].append((i, exprs))
    close()
    return {start: run for start, run in runs.items() if run is not None}


PACK_BYTES = 1 << 20      # outputs packed as rows of one buffer up to this size (see _emit)


def _emit(run, last, kept, names):
    """A run's kernel and the lines calling it.  Two or more outputs, together at most
    PACK_BYTES, are the rows of one fresh buffer (one allocation and one kernel argument instead
    of one each: most of a short kernel's call on small arrays); a later kernel reading rows of
    such a buffer, still bound, takes the buffer once.  Rows never overlap, and every buffer is
    made afresh at each replay, so no value aliases another or the next replay's."""
    shape, dtype = run["type"]
    cast = f"np.{np.dtype(dtype).name}"
    rows = names.__dict__.setdefault("rows", {})     # slot -> (buffer, row, its index, n rows)
    defined, alias, body = {}, {}, []          # slot -> kernel variable
    inputs, scalars = {}, {}                   # operand key -> kernel argument
    packs: dict = {}                           # buffer name -> kernel argument
    literals: dict = {}                        # a formula's number -> its cast, made once

    def literal(text):
        # cast before the loop: numba types and lowers each cast it meets, about 3 ms apiece
        # (tanh's backward on chain: 125 casts of 1, a quarter of its kernel's compile)
        return literals.setdefault(text, f"l{len(literals)}")

    def operand(r):
        if r[0] == "v" and r[1] in defined:
            return defined[r[1]]
        key = (r[0], id(r[1]) if r[0] != "v" else r[1])
        if r[0] == "c":
            if key not in scalars:
                scalars[key] = (f"s{len(scalars)}", r)
            return f"c{scalars[key][0][1:]}"
        if key in inputs:
            return f"x_{inputs[key][0]}"
        if r[0] == "v" and r[1] in rows and rows[r[1]][0] in names.bound:
            buf, j = rows[r[1]][:2]
            if buf not in packs:
                packs[buf] = f"b{len(packs)}"
            inputs[key] = (f"{packs[buf]}_{j}", None)
            body.append(f"        x_{packs[buf]}_{j} = {packs[buf]}[{j}, i]")
            return f"x_{packs[buf]}_{j}"
        inputs[key] = (f"a{len(inputs)}", r)
        body.append(f"        x_{inputs[key][0]} = {inputs[key][0]}[i]")
        return f"x_{inputs[key][0]}"

    for i, exprs in run["exprs"]:
        for target, formula, operands in exprs:
            ph = _PLACEHOLDER.match(formula)
            if ph:                                # the gradient passed on as it is: an alias
                defined[target] = operand(operands[ph.group(1)])
                alias[target] = operands[ph.group(1)]
                continue
            text = _LITERAL.sub(lambda m: literal(m.group(1)), formula.replace("_np.", "np."))
            if np.dtype(dtype) == np.float32:
                text = text.replace("np.tanh(", "tanh32(")
            text = re.sub(r"\{(\w+)\}", lambda m: operand(operands[m.group(1)]), text)
            defined[target] = f"x{target}"
            body.append(f"        x{target} = {text}")
    end = run["end"]
    live = {k for k in defined if last.get(f"v{k}", -1) > end or f"v{k}" in kept}
    outputs = [k for k in defined if k in live and k not in alias]
    if not outputs:
        return None
    size = int(np.prod(shape))
    packed = len(outputs) > 1 and len(shape) > 0 and len(outputs) * size * np.dtype(dtype).itemsize <= PACK_BYTES
    if packed:
        body += [f"        o[{j}, i] = x{k}" for j, k in enumerate(outputs)]
    else:
        body += [f"        o{j}[i] = x{k}" for j, k in enumerate(outputs)]
    arrays = [name for name, r in inputs.values() if r is not None]
    scalar_names = [name for name, _ in scalars.values()]
    outs = ["o"] if packed else [f"o{j}" for j in range(len(outputs))]
    params = arrays + list(packs.values()) + scalar_names + outs
    head = [f"    c{s[1:]} = {cast}({s})" for s in scalar_names]
    head += [f"    {name} = {cast}({text})" for text, name in literals.items()]
    source = "\n".join([f"def kernel({', '.join(params)}):"] + head +
                       [f"    for i in range({size}):"] + body) + "\n"
    aliases = []
    for target, r in alias.items():
        if target in live:
            if r[0] == "v" and r[1] in defined and r[1] not in outputs and r[1] not in alias:
                return None                       # aliasing an internal value: leave to NumPy
            aliases.append(f"v{target} = {names.ref(r)}")
    kernel = _load(source, dtype, len(arrays), [r for _, r in scalars.values()], len(outputs),
                   len(packs), packed)
    k = names.const(kernel, "K")
    d = names.const(np.dtype(dtype), 'D')
    flat = names.const(_flat, "flat")
    args = [f"{flat}({names.ref(r)})" for _, r in inputs.values() if r is not None]
    args += [f"{buf}.reshape({rows_of(rows, buf)}, -1)" for buf in packs]
    args += [names.ref(r) for _, r in scalars.values()]
    if packed:
        buf = f"_B{run['start']}"
        lines = [f"{buf} = _empty({(len(outputs),) + tuple(shape)!r}, {d})",
                 f"{k}({', '.join(args + [f'{buf}.reshape({len(outputs)}, -1)'])})",
                 f"{', '.join(f'v{t}' for t in outputs)}, = {buf}"]
        for j, t in enumerate(outputs):
            rows[t] = (buf, j, run["start"], len(outputs))
        names.bound.add(buf)
        names.buffer_last[buf] = max(last.get(f"v{t}", end) for t in outputs)
    else:
        lines = [f"v{t} = _empty({shape!r}, {d})" for t in outputs]
        lines.append(f"{k}({', '.join(args + [f'v{t}.reshape(-1)' for t in outputs])})")
    for buf in packs:      # read here: the buffer lives to its rows' last use or this run's end
        names.buffer_last[buf] = max(names.buffer_last[buf], end)
    python = set(outputs) | {t for t in alias if t in live}
    lines += aliases
    return end, lines, {f"v{k}" for k in python}


def rows_of(rows: dict, buf: str) -> int:
    return next(n for b, _, _, n in rows.values() if b == buf)


def _flat(a: np.ndarray) -> np.ndarray:
    """A kernel's input as a writeable C-contiguous vector (a broadcast or read-only array, such
    as sum's gradient, is copied: the kernels take one array type)."""
    if a.flags.c_contiguous and a.flags.writeable:
        return a.reshape(-1)
    return np.array(a, copy=True, order="C").reshape(-1)


# float32 tanh through float64 exp: libm's tanhf is a ~35 ns latency in a chain of dependent
# calls (the chain workload's forward kernel), exp ~half that; computed in float64 the value is
# within an ulp of float32's (the series near 0), odd, +-1 at +-inf, NaN at NaN, -0.0 at -0.0.
_TANH32 = """@njit(nogil=True, cache=True)
def tanh32(x):
    u = np.float64(x)
    if abs(u) < 0.004:                 # 1 - e cancels: the series, exact to ~1e-11 relative
        return np.float32(u * (1.0 - u * u / 3.0))
    e = math.exp(-2.0 * abs(u))
    return np.float32(math.copysign((1.0 - e) / (1.0 + e), u))


"""

_LOCK = threading.Lock()


def _load(source: str, dtype, n_arrays: int, scalars: list, n_outputs: int, n_packs: int = 0,
          packed: bool = False):
    """The kernel compiled from ``source``, from numba's cache on disk when it was compiled
    before (the file is named by the hash of its source and signature)."""
    import numba
    from numba import types
    array = types.Array(numba.from_dtype(np.dtype(dtype)), 1, "C")
    matrix = types.Array(numba.from_dtype(np.dtype(dtype)), 2, "C")
    sig = types.void(*([array] * n_arrays + [matrix] * n_packs + [
        types.int64 if isinstance(r[1], int) else types.float64 for r in scalars] +
        ([matrix] if packed else [array] * n_outputs)))
    text = ("import math\nimport numpy as np\nfrom numba import njit\n\n" + _TANH32 + source +
            "\nkernel = njit(SIG, cache=True, nogil=True)(kernel)\n")
    digest = hashlib.sha1((text + str(sig)).encode()).hexdigest()[:16]
    path = os.path.join(cache_dir(), f"k_{digest}.py")
    with _LOCK:
        if not os.path.exists(path):
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, path)
        name = f"graphgrad_kernel_{digest}"
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            module.SIG = sig               # the file reads its signature from here
            # numba's cache finds the kernel's globals again by module name
            sys.modules[name] = module
            spec.loader.exec_module(module)
    return module.kernel


def progress():
    """A timer that prints one line if compiling a program's kernels takes more than a second."""
    timer = threading.Timer(1.0, lambda: print(
        f"ag.compile: numba is compiling fused kernels (cached in {cache_dir()} for next time)",
        file=sys.stderr, flush=True))
    timer.daemon = True
    return timer
