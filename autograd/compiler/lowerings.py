"""Inline lowerings: the cheapest elementwise ops written straight into the generated program
(``v7 = v3 * k1``) instead of an op object with forward/backward method calls.

Every op already lowers by re-running its forward and backward (Op.lowering = "rerun"), which
is exact for all of them; these entries only save the Python calls around one NumPy expression,
which is most of a small op's cost.  Each entry repeats its op's rule as source text, so it is
used only while the op's forward and backward still read exactly as recorded here (checked
against the op's source once per class): an op whose rule changes falls back to re-running
it, never to a stale formula.  They belong beside their ops (one op, one place) once the ops
package can carry them; until then they live here, with that check as the guard.
"""

from __future__ import annotations

import linecache
import re

__all__ = ["inline_rule"]

# op name -> (forward source, backward source, forward expression, gradient expression per
# input[, module, (expression, addend) of a forward that adds in place]).  {0} {1}: the inputs;
# {y}: the output; {g}: the output's gradient.
_RULES = {
    "add": ("return a + b", "return g, g", "{0} + {1}", ("{g}", "{g}")),
    "subtract": ("return a - b", "return g, (-g if self.parents[1] is not None else None)",
                 "{0} - {1}", ("{g}", "-{g}")),
    "multiply": ("return a * b",
                 "a, b = self.inputs pa, pb = self.parents return (g * b if pa is not None else "
                 "None), (g * a if pb is not None else None)",
                 "{0} * {1}", ("{g} * {1}", "{g} * {0}")),
    "negative": ("return -x", "return -g", "-{0}", ("-{g}",)),
    "tanh": ("return np.tanh(x)", "y = self.output return g * (1 - y * y)", "_np.tanh({0})",
             ("{g} * (1 - {y} * {y})",)),
    "exp": ("return np.exp(x)", "return g * self.output", "_np.exp({0})", ("{g} * {y}",)),
    "relu": ("return np.maximum(x, relu_zero(x))", "return g * (self.inputs[0] > 0)",
             "_np.maximum({0}, _relu_zero({0}))", ("{g} * ({0} > 0)",)),
    # nn's fused linear (nn.layers.linear.LinearOp; matched by module name and source, nothing
    # imported): out += b on x @ w.T's fresh array is the same sum as the expression's.
    "linear": ("out = x @ w.T if b is None: return out if type(out) is np.ndarray and out.dtype == "
               "b.dtype: out += b return out return out + b",
               "x, w, _ = self.inputs gx = g @ w if self.needs_grad(0) else None gw = None if "
               "self.needs_grad(1): gw = g.reshape((-1, g.shape[-1])).T @ x.reshape((-1, "
               "x.shape[-1])) gb = None if self.needs_grad(2): gb = g.reshape((-1, g.shape[-1]))"
               ".sum(axis=0) if type(g) is np.ndarray else g return gx, gw, gb",
               "{0} @ {1}.T + {2}",
               ("{g} @ {1}", "{g}.reshape((-1, {g}.shape[-1])).T @ {0}.reshape((-1, {0}.shape[-1]))",
                "({g}.reshape((-1, {g}.shape[-1])).sum(axis=0) if type({g}) is _ndarray else {g})"),
               "nn.layers.linear",
               ("{0} @ {1}.T", "{2}")),      # as forward writes it, where b has out's dtype
}

_checked: dict[type, tuple | None] = {}


def _source_lines(method) -> list[str]:
    """The lines of ``method``'s definition, read by indentation from its file (what
    ``inspect.getsource`` returns for a plain method, without its tokenizer: that cost 15-20 ms
    of a fresh process's first capture)."""
    code = method.__code__
    lines = linecache.getlines(code.co_filename)
    i = code.co_firstlineno - 1
    if not 0 <= i < len(lines):
        raise OSError(f"no source for {method.__qualname__}")
    while lines[i].lstrip().startswith("@"):
        i += 1
    indent = len(lines[i]) - len(lines[i].lstrip())
    found = [lines[i]]
    for line in lines[i + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        found.append(line)
    return found


def _body(method) -> str:
    """A method's statements, comments and docstring dropped, whitespace collapsed."""
    lines = [line.rstrip("\n") for line in _source_lines(method)]
    text = " ".join(line.split("#")[0].strip() for line in lines)
    text = re.sub(r"^def \w+\([^)]*\)\s*(->\s*[^:]+)?:\s*", "", text)
    return re.sub(r"\s+", " ", text).strip()


def inline_rule(cls: type):
    """(forward expression, gradient expressions) for an op class whose rules match its entry,
    else None (the op is re-run)."""
    if cls in _checked:
        return _checked[cls]
    rule = None
    entry = _RULES.get(getattr(cls, "name", None))
    module = entry[4] if entry is not None and len(entry) > 4 else "autograd.ops"
    if entry is not None and cls.__module__.startswith(module):
        try:
            same = (_body(cls.forward) == entry[0] and _body(cls.backward) == entry[1])
        except (OSError, TypeError):
            same = False
        if same:
            rule = (entry[2], entry[3], entry[5] if len(entry) > 5 else None)
    _checked[cls] = rule
    return rule
