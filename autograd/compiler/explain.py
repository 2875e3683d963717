"""``step.explain()``: what a compiled step captured, as text."""

from __future__ import annotations

from collections import Counter

from .buffers import held_bytes

__all__ = ["explain"]


def _size(nbytes: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if nbytes < 1024 or unit == "MiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return ""


def explain(step) -> str:
    lines = [f"ag.compile({step.__name__}), backend {step.backend!r}, check={step.check}: "
             f"{step._count()} program(s) of at most 8"]
    for key, group in step.programs.items():
        for n, captured in enumerate(group):
            rec, program = captured.rec, captured.program
            kinds = Counter(s.kind for s in program.steps)
            count, nbytes = rec.seen
            state = "verified, replaying" if captured.verified else "captured, verified next call"
            lines.append(f"\nprogram {n} for signature {key}: {state}")
            lines.append(f"  {len(program.steps)} steps: " +
                         ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
            ops = Counter(s.label for s in program.steps if s.kind in ("forward", "lowered"))
            lines.append("  ops: " + ", ".join(f"{k} x{v}" for k, v in ops.most_common()))
            lines.append(f"  fused groups: {program.kernels} numba kernel(s), marked 'fused' below"
                         if program.fuse else
                         "  fused groups: none (the numpy backend runs each op as NumPy does)")
            lines.append(f"  values: {program.nslots} slots, {count} arrays seen at capture "
                         f"({_size(nbytes)}); each freed after its last use")
            if program.buffers:
                total = held_bytes(program.buffers)
                sizes = Counter(f"{'x'.join(map(str, shape)) or 'scalar'} {dtype}"
                                for _, shape, dtype in program.buffers)
                lines.append(f"  buffers: {len(program.buffers)} made once and reused by "
                             f"liveness ({_size(total)}): " +
                             ", ".join(f"{k} x{v}" for k, v in sizes.most_common()))
            lines.append(f"  guards ({len(captured.checks)}):")
            for action, message, _ in captured.checks:
                lines.append(f"    {'retrace' if action == 'retrace' else 'raise'} if: {message}")
            lines.append("  program:")
            lines += ["    " + line for line in program.source.splitlines()]
    return "\n".join(lines)
