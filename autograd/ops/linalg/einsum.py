"""einsum: np.einsum's contraction (explicit, implicit and '...' subscripts), differentiable in
every operand."""

from __future__ import annotations

import string

import numpy as np

from ...engine import Op, apply
from ..routing import implements

__all__ = ["einsum"]


def _parse_einsum(subscripts: str, shapes) -> tuple[list[str], str]:
    """Explicit per-operand letters and output letters, with '...' spelled out as fresh letters."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, out = subscripts.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {len(terms)} operand subscripts for {len(shapes)} operands")
    unused = [c for c in string.ascii_letters if c not in subscripts]
    ell_ndim = max((len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell = "".join(unused[:ell_ndim])
    expanded = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            n = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_ndim - n:] if n else "")
        expanded.append(t)
    if arrow:
        out = out.replace("...", ell)
    else:   # implicit mode: broadcast letters, then letters appearing once, in alphabetical order
        letters = "".join(expanded)
        once = (c for c in set(letters) if letters.count(c) == 1 and c not in ell)
        out = ell + "".join(sorted(once))
    return expanded, out


class Einsum(Op):
    """The gradient for operand i is the einsum of the upstream gradient with the other operands,
    spread over letters operand i alone sums and placed on diagonals it repeats."""
    save_inputs = True

    def forward(self, *operands, subscripts):
        shapes = [np.shape(o) for o in operands]
        self.terms, self.out = _parse_einsum(subscripts, shapes)
        _check_sizes(subscripts, self.terms, shapes)
        return np.einsum(",".join(self.terms) + "->" + self.out, *operands)

    def backward(self, g):
        ops = self.inputs
        grads = []
        for i, term in enumerate(self.terms):
            if not self.needs_grad(i):
                grads.append(None)
                continue
            others = [t for j, t in enumerate(self.terms) if j != i]
            available = set(self.out).union(*others) if others else set(self.out)
            target = "".join(dict.fromkeys(term))                  # unique letters, in order
            kept = "".join(c for c in target if c in available)
            spec = ",".join([self.out] + others) + "->" + kept
            gi = np.einsum(spec, g, *[o for j, o in enumerate(ops) if j != i])
            sizes = dict(zip(term, np.shape(ops[i])))
            if kept != target:                                     # letters only operand i sums
                gi = gi.reshape(tuple(sizes[c] if c in kept else 1 for c in target))
                gi = np.broadcast_to(gi, tuple(sizes[c] for c in target))
            if target != term:                                     # repeated letters: diagonals
                gi = _onto_diagonals(gi, target, term, sizes)
            grads.append(gi)
        return tuple(grads)


def _check_sizes(subscripts: str, terms: list[str], shapes) -> None:
    """A clear error when one letter has two different sizes (size 1 broadcasts, as in NumPy)."""
    seen: dict[str, tuple[int, int]] = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        if len(term) != len(shape):
            raise ValueError(f"einsum: operand {i} has shape {shape} but subscripts '{term}' "
                             f"in '{subscripts}'")
        for c, n in zip(term, shape):
            if c in seen and n != 1 and seen[c][0] != 1 and seen[c][0] != n:
                j = seen[c][1]
                raise ValueError(
                    f"einsum: subscript '{c}' in '{subscripts}' has size {seen[c][0]} in operand "
                    f"{j} (shape {shapes[j]}) but {n} in operand {i} (shape {shape})")
            if c not in seen or seen[c][0] == 1:
                seen[c] = (n, i)


def _onto_diagonals(g, target: str, term: str, sizes: dict):
    """Place g (letters ``target``) on the diagonals of an operand whose subscripts repeat letters:
    each repeat is renamed to a fresh letter and tied to the first by an identity matrix."""
    fresh = iter(c for c in string.ascii_letters if c not in term)
    renamed, eyes, seen = "", [], set()
    for c in term:
        if c in seen:
            new = next(fresh)
            eyes.append((c + new, np.eye(sizes[c], dtype=g.dtype)))
            renamed += new
        else:
            seen.add(c)
            renamed += c
    spec = ",".join([target] + [e for e, _ in eyes]) + "->" + renamed
    return np.einsum(spec, g, *[m for _, m in eyes])


def einsum(subscripts: str, *operands):
    """np.einsum's contraction, differentiable in every operand."""
    return apply(Einsum, *operands, subscripts=subscripts)


@implements(np.einsum)
def _np_einsum(*operands, out=None, optimize=False):
    """np.einsum in its subscripts-string form (the sublist form is converted by the caller)."""
    from ..routing import no_out
    no_out("einsum", out)
    if operands and not isinstance(operands[0], str):   # the sublist form: a, [0, 1], b, [1, 2]
        from ..select import einsum_sublists
        operands = einsum_sublists(operands)
    return einsum(operands[0], *operands[1:])
