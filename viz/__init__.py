"""graphgrad's pictures: computation graphs (graphviz) and training plots (matplotlib, optional).

    import viz
    g = viz.draw_graph(loss, model=model, group_by_module=True)
    viz.render(g, "graph", "svg")

The plotting functions import matplotlib only when called (``pip install 'graphgrad[plot]'``).
"""

from .graph import draw_graph
from .grads import GradRecorder, GradStats, record_grad_norms
from .render import render
from .live import LiveView, live
from .plots import (GradNormHistory, plot_activations, plot_decision_boundary, plot_grad_norms,
                    plot_history)

__all__ = ["draw_graph", "render", "record_grad_norms", "GradRecorder", "GradStats",
           "GradNormHistory", "plot_history", "plot_decision_boundary", "plot_grad_norms",
           "plot_activations", "live", "LiveView"]
