"""The two views no other Playground has: the computation graph (drawn by ``viz.draw_graph``,
grouped by layer, coloured by gradient norm) and a step-by-step walk through one backward pass.

Both run their own forward and backward on the session's network and clear the gradients after, so
training is unaffected (the next update starts with ``zero_grad`` anyway).
"""

from __future__ import annotations

import numpy as np

import autograd as ag

from ..grads import EXPLODING, VANISHING, GradRecorder
from ..graph import draw_graph
from . import core


def graph_svg(session, vanishing: float = VANISHING, exploding: float = EXPLODING) -> str:
    """Inline ``<svg>`` of the loss on the first training batch, as graphviz writes it.
    Raises graphviz.ExecutableNotFound when ``dot`` is missing."""
    s, model = session.settings, session.model
    model.zero_grad()
    k = min(s["batch-size"], len(session.F_train))
    x = ag.Tensor(session.F_train[:k])
    loss = core.data_loss(s, model(x), ag.Tensor(session.y_train[:k]))
    reg = core.penalty(s, model)
    total = loss if reg is None else loss + reg
    recorder = GradRecorder()
    with recorder:
        total.backward(retain_graph=True)
    title = (f"epoch {session.epoch}: loss on a batch of {k} "
             f"({'with' if reg is not None else 'no'} regularisation)")
    g = draw_graph(total, model=model, names={total: "loss", loss: "data loss"}, grad_flow=True,
                   grads=recorder, group_by_module=True, vanishing=vanishing,
                   exploding=exploding, rankdir="LR", title=title)
    model.zero_grad()
    svg = g.pipe(format="svg").decode("utf-8")
    return svg[svg.find("<svg"):]


def backprop_steps(session) -> dict:
    """One backward pass on the first training example, node by node from the loss to the first
    layer: each local derivative, the chain-rule product, and autograd's value beside it."""
    s, model = session.settings, session.model
    model.zero_grad()   # the last training step leaves its gradients in .grad
    x_np, t_np = session.F_train[:1], session.y_train[:1]
    h = ag.Tensor(x_np)
    stages = []
    for i, layer in enumerate(model.layers()):
        z = layer.linear(h)
        a = layer.activation(z)
        z.retain_grad()
        a.retain_grad()
        stages.append((_layer_name(model, i), layer, h, z, a))
        h = a
    out = stages[-1][4]
    loss = core.data_loss(s, out, ag.Tensor(t_np))
    # f'(z) of each activation, by autograd on the recorded graph (elementwise, so a sum works)
    local = [ag.grad(a.sum(), z, retain_graph=True)[0].data for _, _, _, z, a in stages]
    loss.backward()
    steps = [_loss_step(s, loss, out, t_np)]
    for (name, layer, h_in, z, a), fprime in zip(reversed(stages), reversed(local)):
        act = type(layer.activation).__name__
        upstream, dz = a.grad, fprime * a.grad
        steps.append({
            "node": f"{name}.activation ({act})", "title": f"{name}: through the activation",
            "formula": "dE/dZ = dE/dout · dout/dZ   (elementwise: dout/dZ = f'(Z))",
            "rows": [["Z (before the activation)", _fmt(z.data)], ["out = f(Z)", _fmt(a.data)],
                     ["dE/dout (from the step before)", _fmt(upstream)],
                     ["dout/dZ = f'(Z)", _fmt(fprime)], ["dE/dZ = product", _fmt(dz)]],
            "check": _check(dz, z.grad)})
        W, b = layer.linear.weight, layer.linear.bias
        dW = dz.T @ h_in.data
        rows = [["input of the layer (dZ/dW)", _fmt(h_in.data)], ["dE/dZ", _fmt(dz)],
                ["dE/dW = dE/dZᵀ · input", _fmt(dW)], ["dE/db = dE/dZ", _fmt(dz[0])]]
        if h_in.requires_grad:
            rows.append(["dE/d(input) = dE/dZ · W (goes to the layer before)",
                         _fmt(dz @ W.data)])
        steps.append({
            "node": f"{name}.linear", "title": f"{name}: through Z = W·input + b",
            "formula": "dE/dW = dE/dout · dout/dZ · dZ/dW", "rows": rows,
            "check": _check(dW, W.grad) + "; " + _check(dz[0], b.grad, "dE/db")})
    model.zero_grad()
    return {"example": {"point": np.round(session.X_train[0].astype(float), 3).tolist(),
                        "features": dict(zip(s["features"],
                                             np.round(x_np[0].astype(float), 4).tolist())),
                        "target": float(t_np[0, 0])},
            "loss": round(loss.item(), 6), "steps": steps}


def _loss_step(s, loss, out, t) -> dict:
    o = out.data
    if s["loss"] == "cross_entropy":
        p = 1 / (1 + np.exp(-o))
        return {"node": "loss (binary cross-entropy of the logit)", "title": "the loss",
                "formula": "E = -[t' ln σ(z) + (1 - t') ln(1 - σ(z))], t' = (t + 1)/2;  "
                           "dE/dz = σ(z) - t'",
                "rows": [["output logit z", _fmt(o)], ["target t", _fmt(t)],
                         ["E", f"{loss.item():.6g}"],
                         ["dE/dz = σ(z) - t'", _fmt(p - (t + 1) / 2)]],
                "check": _check(p - (t + 1) / 2, out.grad)}
    return {"node": "loss (half squared error)", "title": "the loss",
            "formula": "E = ½ (out - t)²;  dE/dout = out - t",
            "rows": [["output out", _fmt(o)], ["target t", _fmt(t)], ["E", f"{loss.item():.6g}"],
                     ["dE/dout = out - t", _fmt(o - t)]],
            "check": _check(o - t, out.grad)}


def _layer_name(model, i: int) -> str:
    return "output" if i == model.depth else f"hidden{i + 1}"


def _check(mine: np.ndarray, theirs, what: str = "autograd") -> str:
    if theirs is None:
        return f"{what}: no gradient recorded"
    same = np.allclose(np.reshape(mine, np.shape(theirs)), theirs, rtol=1e-4, atol=1e-6)
    return f"{what} agrees ✓" if same else f"{what} gives {_fmt(theirs)} ✗"


def _fmt(a) -> str:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim == 0:
        return f"{a.item():.4g}"
    if a.ndim == 1:
        return "[" + ", ".join(f"{v:.4g}" for v in a) + "]"
    return "[" + "; ".join(", ".join(f"{v:.4g}" for v in row) for row in a) + "]"
