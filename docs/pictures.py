"""Regenerate the pictures the README embeds:  python docs/pictures.py

    graph.svg boundary.png loss.png gradflow.png   from examples/spiral.py --out docs
    activations.png                                the activation table, derivatives by autograd
    deep_sigmoid.svg                               a 12-block sigmoid MLP collapsed to one box per
                                                   block, coloured by gradient: it vanishes
"""

import subprocess
import sys
from pathlib import Path

import autograd as ag
import nn
import nn.functional as F
import viz

DOCS = Path(__file__).resolve().parent


def deep_sigmoid() -> Path:
    ag.manual_seed(0)
    blocks = [nn.Sequential(nn.Linear(8, 8), nn.Sigmoid()) for _ in range(12)]
    model = nn.Sequential(nn.Linear(2, 8), *blocks, nn.Linear(8, 1))
    loss = F.mse_loss(model(ag.randn(64, 2, rng=1)), ag.randn(64, 1, rng=2))
    with viz.record_grad_norms() as grads:
        loss.backward()
    graph = viz.draw_graph({"loss": loss}, model=model, depth=1, grad_flow=True, grads=grads,
                           title="12 sigmoid blocks: the gradient vanishes on its way back",
                           rankdir="TB")   # top to bottom: at most 1,000 px wide
    return viz.render(graph, DOCS / "deep_sigmoid", "svg")


def main() -> None:
    spiral = DOCS.parent / "examples" / "spiral.py"
    subprocess.run([sys.executable, str(spiral), "--out", str(DOCS)], check=True)
    (DOCS / "graph.dot").unlink(missing_ok=True)
    viz.plot_activations(DOCS / "activations.png")
    deep_sigmoid()
    (DOCS / "deep_sigmoid.dot").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
