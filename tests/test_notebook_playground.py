"""Notebook views: ``viz.live`` / ``nn.fit(..., live=True)`` redraw one output cell in place, and
examples/playground.ipynb runs in a real Jupyter kernel (nbclient, ipykernel) with its pictures in
the outputs.  Without nbclient/ipykernel the kernel test skips, except under CI=true."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import viz
from nn.data import DataLoader, xor

ROOT = Path(__file__).resolve().parents[1]


def xor_data(n=120):
    X, y = xor(n, seed=0)
    return X, y.astype(np.float32)[:, None]


def small_net():
    ag.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Sigmoid())


class Shown(viz.LiveView):
    """Counts redraws instead of talking to IPython."""
    def show(self):
        self.shown = getattr(self, "shown", 0) + 1
        self.last = self.html()


def test_fit_live_redraws_after_every_epoch_and_draws_the_last():
    X, y = xor_data()
    model = small_net()
    view = Shown(model, F.binary_cross_entropy, (X, y), every=4)
    history = nn.fit(model, F.binary_cross_entropy, nn.optim.Adam(model.parameters(), lr=0.05),
                     DataLoader(X, y, batch_size=40), epochs=10, progress=False, live=view)
    assert view.updates == 10 and view.history["loss"] == history["loss"]
    assert view.shown == 4        # epochs 1, 5, 9 and the final one
    assert "after 10 epochs" in view.last
    for caption in ("loss", "decision boundary", "computation graph"):
        assert f">{caption}" in view.last
    assert view.last.count("<svg") >= 3 and view.last.count("<rect") > 900


def test_live_view_pieces_and_refusals():
    X, y = xor_data()
    model = small_net()
    v = viz.live(model, F.binary_cross_entropy, [(X, y)], graph=False)
    v.update(loss=0.5).update(loss=0.25)
    assert v.history == {"loss": [0.5, 0.25]}
    assert "decision boundary" in v.html() and "computation graph" not in v.html()
    assert not viz.live(model).show_boundary            # no data: the loss curve only
    with pytest.raises(ValueError, match="2 input columns"):
        viz.live(model, data=(np.zeros((4, 3)), np.zeros(4)), boundary=True)
    with pytest.raises(ValueError, match="every must be a positive integer"):
        viz.live(model, every=0)
    with pytest.raises(TypeError, match="live must be True, False or a view"):
        nn.fit(model, F.binary_cross_entropy, nn.optim.SGD(model.parameters(), lr=0.1), [(X, y)],
               progress=False, live="yes")


def test_ipython_is_imported_only_when_a_view_is_shown():
    code = ("import sys, numpy as np, nn, viz, nn.functional as F\n"
            "m = nn.Sequential(nn.Linear(2, 1))\n"
            "nn.fit(m, F.mse_loss, nn.optim.SGD(m.parameters(), lr=0.1), "
            "[(np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32))], progress=False)\n"
            "viz.live(m).html()\n"
            "print('IPython' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_lecture_notebook_runs_in_a_real_kernel():
    try:
        import nbclient
        import nbformat
        import ipykernel  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("nbclient/ipykernel are not installed (the dev extra)")
    nb = nbformat.read(ROOT / "examples" / "playground.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]

    def html_outputs(cell):
        return [o["data"]["text/html"] for o in cell.outputs
                if o.output_type == "display_data" and "text/html" in o.get("data", {})]

    def svg_results(cell):
        return [o["data"]["image/svg+xml"] for o in cell.outputs
                if o.output_type == "execute_result" and "image/svg+xml" in o.get("data", {})]

    fits = [c for c in code if "nn.fit(" in c.source and "live=" in c.source]
    assert len(fits) == 3
    for cell in fits:   # one output per live view, updated in place, showing the last epoch
        views = html_outputs(cell)
        assert views and all("<svg" in h and "decision boundary" in h for h in views), cell.source
        assert len(views) == cell.source.count("live=") + cell.source.count("for lam")
    assert "after 30 epochs" in html_outputs(fits[0])[0]
    assert "computation graph" in html_outputs(fits[0])[0]
    graphs = [c for c in code if c.source.lstrip().startswith("ag.manual_seed(0)\nlayers")
              or "viz.draw_graph(" in c.source]
    assert len(graphs) == 2
    for cell in graphs:   # draw_graph objects render inline as SVG
        (svg,) = svg_results(cell)
        assert "<svg" in svg
    assert "VANISHING" in svg_results(graphs[-1])[0]
    curves = [c for c in code if "curves_svg(" in c.source and "display(" in c.source]
    assert len(curves) == 2 and all("<polyline" in html_outputs(c)[0] for c in curves)
