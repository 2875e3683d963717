"""Writing a graph to disk: the DOT source always, a picture when graphviz's ``dot`` is installed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import graphviz

__all__ = ["render", "FORMATS"]

FORMATS = ("svg", "png", "pdf")


def render(graph: graphviz.Digraph, path: str | os.PathLike, format: str = "svg",
           quiet: bool = False) -> Path:
    """Write ``graph`` as ``<path>.dot`` and, when ``dot`` is available, ``<path>.<format>``.

    ``path`` may carry the format's suffix (``"out/graph.svg"``).  Returns the picture's path, or the
    ``.dot`` path when the picture could not be made; then a line on stderr says why (unless quiet),
    so a missing system package never costs the user the graph itself.
    """
    if format not in FORMATS:
        raise ValueError(f"render: format must be one of {FORMATS}, got {format!r}")
    path = Path(path)
    if path.suffix.lstrip(".") in FORMATS + ("dot", "gv"):
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    dot_path = path.with_name(path.name + ".dot")
    dot_path.write_text(graph.source, encoding="utf-8")
    out_path = path.with_name(path.name + "." + format)
    try:
        data = graph.pipe(format=format)
    except graphviz.ExecutableNotFound:
        if not quiet:
            print(f"viz.render: graphviz's 'dot' program is not installed, so no {format.upper()} "
                  f"was made; the graph is in {dot_path} (install the system package 'graphviz', "
                  f"e.g. 'sudo apt-get install graphviz', then run 'dot -T{format} {dot_path} "
                  f"-o {out_path}')", file=sys.stderr)
        return dot_path
    out_path.write_bytes(data)
    return out_path
