"""viz.draw_graph and viz.render: graph structure, names, styles, module views, gradient flow,
large graphs, and real renders with graphviz's `dot`."""

import os
import re
import shutil
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import viz
from autograd.grad_mode import STATE
from viz.grads import norm_colour
from viz.graph import ROLE_STYLE

NODE_RE = re.compile(r'^\s*"?([\w]+)"? \[(.*)\]$')
EDGE_RE = re.compile(r'^\s*"?(\w+)"? -> "?(\w+)"?(?: \[(.*)\])?$')


def nodes(g, legend=False):
    """DOT node id -> attribute text (graph/node/edge defaults and legend swatches left out)."""
    out = {}
    for line in g.source.splitlines():
        m = NODE_RE.match(line)
        if m and m.group(1) not in ("graph", "node", "edge") and "->" not in line:
            if legend or not m.group(1).startswith("legend"):
                out[m.group(1)] = m.group(2)
    return out


def edges(g):
    return [(m.group(1), m.group(2), m.group(3) or "") for m in map(EDGE_RE.match,
            g.source.splitlines()) if m and "invis" not in (m.group(3) or "")]


def label(attrs):
    return re.search(r'label="((?:[^"\\]|\\.)*)"', attrs).group(1)


def needs_dot():
    """Rendering tests: in CI a missing `dot` is a failure, elsewhere a skip."""
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("graphviz's `dot` is not installed in CI; rendering tests cannot run")
        pytest.skip("graphviz's `dot` is not installed")


def mlp(blocks=12, width=8):
    ag.manual_seed(0)
    body = [nn.Sequential(nn.Linear(width, width), nn.Tanh()) for _ in range(blocks)]
    return nn.Sequential(nn.Linear(2, width), *body, nn.Linear(width, 1))


def mlp_loss(model, n=16):
    x, y = ag.randn(n, 2, rng=1), ag.randn(n, 1, rng=2)
    return F.mse_loss(model(x), y)


# ---- structure --------------------------------------------------------------------------------

def test_known_expression_nodes_edges_and_labels():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    c = ag.tensor(np.ones(2, np.float32), requires_grad=True)
    y = (a * b + c).sum()
    g = viz.draw_graph(y)
    ns = nodes(g)
    assert len(ns) == 6                      # 3 leaves + multiply, add, sum
    assert len(edges(g)) == 5
    labels = sorted(label(v) for v in ns.values())
    assert any(s.startswith("multiply\\n(2,) float64") for s in labels)
    assert any(s.startswith("add\\n(2,) float64") for s in labels)
    assert any(s.startswith("output = sum\\nscalar float64") for s in labels)
    assert sum("input\\n(2,)" in s for s in labels) == 3
    assert any("float32" in s for s in labels)


def test_repeated_input_draws_two_edges_and_equal_tensors_stay_distinct():
    x = ag.tensor([2.0], requires_grad=True)
    g = viz.draw_graph(x * x)
    assert len(nodes(g)) == 2 and len(edges(g)) == 2
    a = ag.tensor([1.0], requires_grad=True)
    b = ag.tensor([1.0], requires_grad=True)   # equal values, different tensors
    g = viz.draw_graph(a + b)
    assert len(nodes(g)) == 3 and len(edges(g)) == 2


def test_several_outputs_share_their_graph():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    h = ag.tanh(x)
    outs = {"first": (h * 2).sum(), "second": h.exp().mean()}
    g = viz.draw_graph(outs)
    ns = nodes(g)
    assert len(ns) == 6                      # x, tanh (drawn once, used twice), multiply, sum, exp, mean
    assert len(edges(g)) == 5
    texts = [label(v) for v in ns.values()]
    assert any(t.startswith("first = sum") for t in texts)
    assert any(t.startswith("second = mean") for t in texts)
    assert sum("tanh" in t for t in texts) == 1
    g2 = viz.draw_graph([outs["first"], outs["second"]])
    assert len(nodes(g2)) == 6
    assert "output 1 = mean" in g2.source


def test_names_mapping_model_names_and_unnamed_tensors():
    model = nn.Linear(3, 2)
    x = ag.randn(4, 3, requires_grad=True)
    h = model(x)
    loss = (h * h).mean()
    src = viz.draw_graph(loss, model=model, names={x: "batch", h: "hidden"}).source
    assert '"batch\\n(4, 3) float32' in src
    assert "hidden = " in src
    assert '"weight\\n(2, 3) float32' in src and '"bias\\n(2,) float32' in src
    # without a model, names come from the module stamped on the ops
    assert '"weight\\n' in viz.draw_graph(loss).source
    # a tensor without any name or history is still drawn
    lone = ag.tensor([1.0, 2.0])
    assert len(nodes(viz.draw_graph(lone))) == 1


def test_roles_are_styled_differently():
    w = nn.Parameter(np.ones((2, 2), np.float32))
    x = ag.tensor(np.ones((1, 2), np.float32), requires_grad=True)
    y = (x @ w).sum()
    ns = nodes(viz.draw_graph(y, names={w: "w", x: "x"}))
    by_name = {label(v).split("\\n")[0]: v for v in ns.values()}
    fills = {k: re.search(r'fillcolor="([^"]+)"', v).group(1) for k, v in by_name.items()}
    assert fills["w"] == ROLE_STYLE["parameter"]["fillcolor"]
    assert fills["x"] == ROLE_STYLE["input"]["fillcolor"]
    assert fills["output = sum"] == ROLE_STYLE["output"]["fillcolor"]
    assert "shape=ellipse" in by_name["matmul"]
    assert len(set(fills.values())) == 4


def test_value_and_gradient_statistics_after_backward():
    x = ag.tensor([-1.0, 0.0, 3.0], requires_grad=True)
    y = (x * 2.0).sum()
    y.backward()
    src = viz.draw_graph(y, names={x: "x"}, show_values=True, show_grads=True).source
    assert "value min -1 mean 0.667 max 3" in src
    assert "grad ‖g‖ 3.46 min 2 mean 2 max 2" in src   # ‖(2, 2, 2)‖ = 2√3
    assert "value 4" in src                              # the scalar output's value
    # an intermediate's value is known while its op keeps its output for backward
    z = ag.tanh(x).sum()
    assert "tanh\\n(3,) float64\\nvalue min -0.762 mean 0.0778 max 0.995" in \
        viz.draw_graph(z, show_values=True).source


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="Tensor"):
        viz.draw_graph(3.0)
    with pytest.raises(TypeError, match="output 'b'"):
        viz.draw_graph({"a": ag.tensor(1.0), "b": [1.0]})
    with pytest.raises(TypeError, match="names"):
        viz.draw_graph(ag.tensor(1.0), names={"x": "y"})
    with pytest.raises(ValueError, match="depth"):
        viz.draw_graph(ag.tensor(1.0), depth=-1)


# ---- modules ----------------------------------------------------------------------------------

def test_group_by_module_draws_one_nested_cluster_per_module():
    model = mlp()
    loss = mlp_loss(model)
    flat = viz.draw_graph(loss, model=model)
    grouped = viz.draw_graph(loss, model=model, group_by_module=True)
    # root + 2 outer Linears + 12 blocks, each holding a Linear and a Tanh
    assert grouped.source.count("subgraph cluster_") == 1 + 2 + 12 * 3
    assert len(nodes(grouped)) == len(nodes(flat))
    assert len(edges(grouped)) == len(edges(flat))
    # a block's cluster sits inside the root's: it opens before the root's closes
    assert 'label="3 (Sequential)"' in grouped.source
    assert 'label="3.0 (Linear)"' in grouped.source


def test_depth_collapses_modules_into_boxes():
    model = mlp()
    loss = mlp_loss(model)
    full = viz.draw_graph(loss, model=model)
    one = viz.draw_graph(loss, model=model, depth=1)
    ns = nodes(one)
    assert len(nodes(full)) == 14 * 3 + 12 + 1   # linear op + weight + bias, tanh, the fused loss
    assert len(ns) <= 20                      # a 12-block MLP as ~20 nodes
    boxes = [v for v in ns.values() if "shape=box3d" in v]
    assert len(boxes) == 14                   # first Linear, 12 blocks, last Linear
    assert any('"5 (Sequential)\\n2 ops · 72 parameters\\n→ (16, 8) float32' in v for v in boxes)
    assert len(edges(one)) == len(ns) - 1     # a chain
    root = viz.draw_graph(loss, model=model, depth=0)
    assert sum("shape=box3d" in v for v in nodes(root).values()) == 1
    grouped = viz.draw_graph(loss, model=model, depth=1, group_by_module=True)
    assert grouped.source.count("subgraph cluster_") == 1


def test_collapsed_module_called_twice_and_output_inside_a_box():
    lin = nn.Linear(2, 2)
    a, b = ag.randn(3, 2, rng=0), ag.randn(3, 2, rng=1)
    g = viz.draw_graph((lin(a) * lin(b)).sum(), depth=0)
    ns = nodes(g)
    assert len(ns) == 3                        # the box, multiply, sum
    box = next(k for k, v in ns.items() if "box3d" in v)
    assert "2 ops · 6 parameters\\n→ (3, 2) float32 ×2" in ns[box]
    assert sum(e[0] == box for e in edges(g)) == 2   # two values flow out: two arrows
    g = viz.draw_graph({"y": lin(a)}, depth=0)
    (only,) = nodes(g).values()
    assert label(only).startswith("y = Linear") and "penwidth=2.5" in only


# ---- gradient flow ----------------------------------------------------------------------------

def test_grad_flow_without_recorder_changes_no_grad_and_colours_every_node():
    model = mlp(blocks=3)
    loss = mlp_loss(model)
    g = viz.draw_graph(loss, model=model, grad_flow=True)
    assert all(p.grad is None for p in model.parameters())   # its own pass left .grad alone
    ns = nodes(g)
    assert all("‖g‖" in label(v) for v in ns.values())      # intermediates included
    assert "cluster_legend" in g.source and "vanishing: ‖g‖ < 1e-06" in g.source
    loss.backward()                                          # the graph is still usable
    assert all(p.grad is not None for p in model.parameters())


def test_grad_flow_flags_vanishing_and_exploding():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 1e-9).sum() + (w * 1e6).sum()
    ns = nodes(viz.draw_graph(y, grad_flow=True, names={x: "x", w: "w"}))
    by_name = {label(v).split("\\n")[0]: v for v in ns.values()}
    assert "VANISHING" in label(by_name["x"]) and "#1e3a8a" in by_name["x"]
    assert "EXPLODING" in label(by_name["w"]) and "#b91c1c" in by_name["w"]
    g = viz.draw_graph(y, grad_flow=True, vanishing=1e-12, exploding=1e9)
    assert "VANISHING" not in g.source and "EXPLODING" not in g.source
    assert "gradient flow: 1 vanishing, 1 exploding" in viz.draw_graph(y, grad_flow=True).source


def test_recorder_sees_intermediates_and_restores_observer():
    model = mlp(blocks=2)
    loss = mlp_loss(model)
    with viz.record_grad_norms() as grads:
        with viz.record_grad_norms() as inner:    # nested recorders both see everything
            loss.backward()
        assert STATE.grad_observer is not None
    assert STATE.grad_observer is None
    assert len(grads) == len(inner) > 10
    assert grads.norm(loss) == pytest.approx(1.0)
    weight = model[0].weight
    assert grads.norm(weight) == pytest.approx(np.linalg.norm(weight.grad), rel=1e-5)
    g = viz.draw_graph(loss, model=model, grad_flow=True, grads=grads, depth=1)
    assert "dashed" not in "".join(nodes(g).values())        # every node has a recorded norm


def test_grad_flow_after_a_plain_backward_uses_leaf_grads_and_says_why():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = ag.tanh(x).sum()
    y.backward()
    g = viz.draw_graph(y, grad_flow=True, names={x: "x"})
    by_name = {label(v).split("\\n")[0]: v for v in nodes(g).values()}
    assert "‖g‖" in label(by_name["x"])
    assert "dashed" in by_name["tanh"]                         # unknown, drawn as such
    assert "backward already freed this graph" in g.source


def test_norm_colour_scale():
    assert norm_colour(float("nan"))[2] == "nan"
    assert norm_colour(None)[2] == "missing"
    assert norm_colour(0.0)[2] == "vanishing"
    assert norm_colour(float("inf"))[2] == "exploding"
    low, high = norm_colour(1e-5)[0], norm_colour(1e2)[0]
    assert low != high and norm_colour(1.0)[2] is None


# ---- large graphs -----------------------------------------------------------------------------

def chain(n):
    x = ag.tensor(np.ones(3), requires_grad=True)
    y = x
    for i in range(n):
        y = y * 1.0001 if i % 2 else ag.tanh(y)
    return y.sum()


def _dot_seconds(n: int) -> float:
    y = chain(n)
    start = time.perf_counter()
    src = viz.draw_graph(y).source
    elapsed = time.perf_counter() - start
    assert src.count("->") == n + 1            # every edge drawn once
    return elapsed


def test_ten_thousand_nodes_drawn_in_linear_time_without_recursion():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)                 # a recursive walk would fail long before 10,000
    try:
        small = min(_dot_seconds(1_000) for _ in range(3))
        big = _dot_seconds(10_000)
    finally:
        sys.setrecursionlimit(limit)
    # Against a baseline measured here, not absolute seconds: linear is ~10x, quadratic ~100x.
    assert big <= 40 * small, f"DOT for 10,002 nodes took {big:.2f} s, 1,002 took {small:.3f} s"


def test_max_nodes_marks_what_was_left_out():
    y = chain(500)
    g = viz.draw_graph(y, max_nodes=50)
    ns = nodes(g)
    assert len(ns) == 51 and "omitted" in ns
    assert "… 452 more nodes not drawn" in label(ns["omitted"])
    marker_edges = [e for e in edges(g) if e[0] == "omitted"]
    assert len(marker_edges) == 1 and "dashed" in marker_edges[0][2]
    assert len(nodes(viz.draw_graph(y, max_nodes=10_000))) == 502


# ---- rendering --------------------------------------------------------------------------------

def test_render_svg_png_pdf_with_dot(tmp_path):
    needs_dot()
    model = mlp(blocks=2)
    loss = mlp_loss(model)
    g = viz.draw_graph(loss, model=model, group_by_module=True, grad_flow=True,
                       names={}, title='a "quoted" \\ title')
    svg = viz.render(g, tmp_path / "graph.svg")
    assert svg == tmp_path / "graph.svg" and (tmp_path / "graph.dot").exists()
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    titles = {e.text for e in root.iter() if e.tag.endswith("title")}
    assert set(nodes(g, legend=True)) <= titles          # every node made it into the picture
    png = viz.render(g, tmp_path / "graph", "png")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    assert viz.render(g, tmp_path / "graph", "pdf").read_bytes()[:4] == b"%PDF"
    bundle = g._repr_mimebundle_()            # what notebooks display
    assert "<svg" in bundle["image/svg+xml"]


def test_render_without_dot_writes_source_and_says_why(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "nobin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    g = viz.draw_graph(chain(3))
    out = viz.render(g, tmp_path / "graph", "svg")
    assert out == tmp_path / "graph.dot" and out.read_text() == g.source
    assert not (tmp_path / "graph.svg").exists()
    err = capsys.readouterr().err
    assert "'dot' program is not installed" in err and "graph.dot" in err
    with pytest.raises(ValueError, match="format"):
        viz.render(g, tmp_path / "graph", "jpeg")
