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

from .program import _placeholders

__all__ = ["plan_runs", "available"]

FUSABLE = {"add", "subtract", "multiply", "negative", "tanh", "exp", "relu"}
_RELU_ZERO = re.compile(r"_relu_zero\([^()]*\)")
_CALL = re.compile(r"[-+*/>]|np\.\w+\(")       # a formula's NumPy calls: operators, functions
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


def _kernel_text(formula: str) -> str:
    """A formula as the kernel's scalar code reads it: ``np.`` functions, and relu's cached zero
    (elementwise.relu_zero) a plain 0."""
    return _RELU_ZERO.sub("0", formula).replace("_np.", "np.")


def _kind(r, meta):
    """(shape, dtype) of an array operand, "scalar" for a Python number, None otherwise."""
    kind, value = r
    if kind == "v":
        return meta.get(value)
    if kind == "t":
        return value.data.shape, value.data.dtype
    if kind == "c" and type(value) in (int, float):   # not np.float64: NumPy promotes to it
        return "scalar"
    return None


def plan_runs(steps, rules, last: dict, kept: set, meta: dict, names, static: set) -> dict:
    """{first step index: (last step index, code lines, Python names the code defines)};
    ``names.buffer_last`` then says after which step each packed buffer's name may go.  Only
    steps whose values have shapes the guards fix (``static``) are fused: a kernel's loops and
    outputs have the capture's sizes (a mask's nonzero entries may number otherwise next time)."""
    runs, current = {}, None
    names.rows, names.bound, names.buffer_last = {}, set(), {}

    def close():
        # Worth a kernel from two steps on, or one step making several NumPy calls on large
        # arrays (relu's backward g * (x > 0): two passes and a bool temporary, one in a
        # kernel; measured 2-3 % of cnn).  On small ones the kernel's call costs as much as the
        # calls it replaces (tanh's backward alone on mlp_small's 64 x 16: 3 % slower).
        if current is not None and (sum(len(e) for _, e in current["exprs"]) >= 2 or (
                current["type"] is not None and np.prod(current["type"][0]) >= SINGLE_MIN
                and sum(len(_CALL.findall(_kernel_text(f)))
                        for _, e in current["exprs"] for _, f, _ in e) >= 2)):
            runs[current["start"]] = _emit(current, last, kept, names)

    for i, step in enumerate(steps):
        exprs = _expressions(step, rules)
        ok = exprs is not None and all(k in static for k in step.defines)
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


SINGLE_MIN = 1 << 14     # elements from which one step of several NumPy calls gets a kernel
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

    def text_of(formula, name_of):
        text = _LITERAL.sub(lambda m: literal(m.group(1)), _kernel_text(formula))
        if np.dtype(dtype) == np.float32:
            text = text.replace("np.tanh(", "tanh32(")
        return re.sub(r"\{(\w+)\}", lambda m: name_of(m.group(1)), text)

    def emit(target, formula, operands):
        ph = _PLACEHOLDER.match(formula)
        if ph:                                # the gradient passed on as it is: an alias
            defined[target] = operand(operands[ph.group(1)])
            alias[target] = operands[ph.group(1)]
            return
        defined[target] = f"x{target}"
        body.append(f"        x{target} = {text_of(formula, lambda n: operand(operands[n]))}")

    stmts = [stmt for _, exprs in run["exprs"] for stmt in exprs]
    end = run["end"]
    live = {t for t, _, _ in stmts if last.get(f"v{t}", -1) > end or f"v{t}" in kept}
    size = int(np.prod(shape))
    n_out = sum(1 for t, f, _ in stmts if t in live and not _PLACEHOLDER.match(f))
    packed = n_out > 1 and len(shape) > 0 and n_out * size * np.dtype(dtype).itemsize <= PACK_BYTES
    roll = _repeats(stmts, live, rows, names.bound, packed)
    if roll is None:
        for stmt in stmts:
            emit(*stmt)
        looped, first = [], []
    else:                                      # prefix, one loop over the repetitions, suffix
        start, period, reps, each, plan = roll
        for stmt in stmts[:start]:
            emit(*stmt)
        for _, refs in plan:                   # what every repetition reads alike: loaded once
            for _, kind, r in refs:
                if kind == "ext":
                    operand(r)
        for q, (_, refs) in enumerate(plan):   # the first repetition's carried values
            for _, kind, d in refs:
                if kind == "rel" and q + d < 0:
                    body.append(f"        y{q + d + period} = {defined[stmts[start + q + d][0]]}")
        body.append(f"        for r in range({reps}):")
        for q, (formula, refs) in enumerate(plan):
            name_of = {}
            for name, kind, info in refs:
                if kind == "rel":
                    name_of[name] = f"y{q + info if q + info >= 0 else q + info + period}"
                elif kind == "row":
                    buf, j0, dj = info
                    pack = packs.setdefault(buf, f"b{len(packs)}")
                    body.append(f"            w{q}_{name} = {pack}[{j0} + {dj} * r, i]")
                    name_of[name] = f"w{q}_{name}"
                else:
                    name_of[name] = operand(info)
            ph = _PLACEHOLDER.match(formula)
            text = name_of[ph.group(1)] if ph else text_of(formula, name_of.__getitem__)
            body.append(f"            y{q} = {text}")
        body += [f"            o[{len(each)} * r + {j}, i] = y{q}" for j, q in enumerate(each)]
        for q in range(period):                # the last repetition's values, after the loop
            defined[stmts[start + (reps - 1) * period + q][0]] = f"y{q}"
        for stmt in stmts[start + period * reps:]:
            emit(*stmt)
        looped = [stmts[start + r * period + q][0] for r in range(reps) for q in each]
        # rows: the loop's, then the suffix's (often part of one more repetition: a later
        # kernel reading them all finds their rows evenly spaced too), then the rest
        first = looped + [t for t, _, _ in stmts[start + period * reps:]
                          if t in live and t not in alias]
    placed = set(first)
    outputs = first + [k for k in defined if k in live and k not in alias and k not in placed]
    if not outputs:
        return None
    if packed:
        body += [f"        o[{j}, i] = {defined[k]}" for j, k in enumerate(outputs)
                 if j >= len(looped)]
    else:
        body += [f"        o{j}[i] = {defined[k]}" for j, k in enumerate(outputs)]
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
            while r[0] == "v" and r[1] in alias:  # an alias of an alias: the value it names
                r = alias[r[1]]
            if r[0] == "v" and r[1] in defined and r[1] not in outputs:
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


ROLL_MIN = 64        # statements a repeating stretch must span to be written as a loop
MAX_PERIOD = 16


def _repeats(stmts, live, rows, bound, packed):
    """A stretch of a run's statements that repeats itself, as chain's (multiply, add, tanh,
    subtract) does 125 times: (start, period, repetitions, the positions whose value every
    repetition writes out, and per position its formula and operands); None if there is none
    of ROLL_MIN statements.  numba's compile time grows with a kernel's statements (about 2 s
    for each of chain's two 500-statement kernels, 0.2 s as loops), its run time does not.

    An operand is another statement of the run (``rel``, its offset, which at the stretch's first
    repetition reaches before it: the loop's starting values), a row of a packed buffer whose
    index moves by a fixed step each repetition (``row``), or one that every repetition reads
    alike (``ext``)."""
    if len(stmts) < ROLL_MIN:
        return None
    at, signatures, operands_of = {}, [], []
    for s, (target, formula, operands) in enumerate(stmts):
        sig, refs = [formula], []
        for name in _placeholders(formula):
            r = operands[name]
            if r[0] == "v" and r[1] in at:
                refs.append((name, "rel", at[r[1]] - s))
                sig.append(("rel", at[r[1]] - s))
            elif r[0] == "v" and r[1] in rows and rows[r[1]][0] in bound:
                refs.append((name, "row", rows[r[1]][:2]))
                sig.append(("row", rows[r[1]][0]))
            else:
                refs.append((name, "ext", r))
                sig.append(("ext", r[0], r[1] if r[0] == "v" else id(r[1])))
        at[target] = s
        signatures.append(tuple(sig))
        operands_of.append(refs)
    ids: dict = {}
    code = [ids.setdefault(sig, len(ids)) for sig in signatures]
    n, best = len(code), None
    for p in range(1, MAX_PERIOD + 1):        # the longest stretch, the shortest period first
        s = 0
        while s + p < n:
            e = s
            while e + p < n and code[e] == code[e + p]:
                e += 1
            reps = (e - s) // p + 1
            if reps >= 2 and (best is None or reps * p > best[1] * best[2]):
                best = (s, p, reps)
            s = max(e, s + 1)
    if best is None:
        return None
    start, p, reps = best        # a first or last repetition that is not quite alike: left out
    for start, reps in ((start, reps), (start + p, reps - 1), (start, reps - 1),
                        (start + p, reps - 2)):
        found = reps * p >= ROLL_MIN and _loop(stmts, live, packed, operands_of, start, p, reps)
        if found:
            return (start, p, reps) + found
    return None


def _loop(stmts, live, packed, operands_of, start, p, reps):
    """(positions written out at every repetition, per position its formula and operands) if
    ``reps`` repetitions of ``p`` statements from ``start`` can be a loop, else None."""
    plan, each = [], []
    for q in range(p):
        refs = []
        for k, (name, kind, info) in enumerate(operands_of[start + q]):
            if kind == "rel" and info < -p:
                return None                   # a value from two repetitions back
            if kind == "row":
                js = [operands_of[start + r * p + q][k][2][1] for r in range(reps)]
                dj = js[1] - js[0]
                if any(j != js[0] + r * dj for r, j in enumerate(js)):
                    return None
                info = (info[0], js[0], dj)
            refs.append((name, kind, info))
        formula = stmts[start + q][1]
        plan.append((formula, refs))
        lives = [stmts[start + r * p + q][0] in live for r in range(reps)]
        if all(lives) and packed and not _PLACEHOLDER.match(formula):
            each.append(q)
        elif any(lives[:-1]) or (lives[-1] and _PLACEHOLDER.match(formula)):
            return None
    inner = {stmts[start + r * p + q][0] for r in range(reps - 1) for q in range(p)}
    for _, formula, operands in stmts[start + p * reps:]:
        if any(operands[name][0] == "v" and operands[name][1] in inner
               for name in _placeholders(formula)):
            return None                       # a later statement reads an overwritten value
    return each, plan


_UNPACK = re.compile(r"^    ((?:v\d+, )+)= (_B\d+)$")
_SLOT_NAME = re.compile(r"\bv\d+\b")


def bind_read_rows(lines: list[str]) -> list[str]:
    """The program's lines with each packed kernel's outputs bound to names only where a line
    reads them: a later kernel takes the buffer whole, so chain's forward kernel had 126 row
    views made (and deleted) at every replay for the one row the sum reads.  A name that any
    other line mentions (a comment too) is kept; most rows read: the unpacking stays as is."""
    read = set()
    for line in lines:
        if not line.startswith("    del ") and not _UNPACK.match(line):
            read.update(_SLOT_NAME.findall(line))
    out, dropped = [], set()
    for line in lines:
        m = _UNPACK.match(line)
        if m:
            slots = m.group(1).split(", ")[:-1]
            keep = [(j, v) for j, v in enumerate(slots) if v in read]
            if 2 * len(keep) > len(slots):
                out.append(line)
                continue
            dropped.update(v for v in slots if v not in read)
            out += [f"    {v} = {m.group(2)}[{j}]" for j, v in keep]
        elif line.startswith("    del ") and dropped:
            rest = [v for v in line[len("    del "):].split(", ") if v not in dropped]
            if rest:
                out.append("    del " + ", ".join(rest))
        else:
            out.append(line)
    return out


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
