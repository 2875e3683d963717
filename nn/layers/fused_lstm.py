"""One LSTM layer over a whole sequence as two recorded ops (what nn.LSTM runs).

The composed cell records ~16 nodes per time step (two linears, a split into four getitems whose
backward each scatters into a zero (N, 4H) array, three sigmoids, two tanh, products): 261 nodes
for 16 steps, and every step's weight gradient is its own small GEMM.  Here, as the NumPy floor
does, the input projection of every step is one ``LinearOp`` over (T, N, I) before the loop, and
the recurrence is one ``LstmSequenceOp`` whose backward runs back-propagation through time by
hand and forms the recurrent weight's gradient as one GEMM over all steps.

The op's output stacks every step's hidden and cell state, (2, T, N, H), so that the backward rule
needs nothing but inputs and output: under ``create_graph`` it recomputes the gates with Tensor
ops and runs the same formulas on Tensors (slow, but differentiable again).
"""

from __future__ import annotations

import numpy as np

import autograd as ag
from autograd import Tensor
from autograd.engine import Op, apply

from .linear import linear

__all__ = ["lstm_sequence"]


def _gate_scales(dtype, hidden: int):
    """For the numba kernels (lstm_kernels.py): what each gate's pre-activation is multiplied by
    before the one exp of all four (i, f, g, o): -1 for the sigmoid gates, 1 / (1 + exp(-z)), and
    -2 for g, tanh(z) = 2 / (1 + exp(-2z)) - 1."""
    scale = np.full(4 * hidden, -1, dtype)
    scale[2 * hidden:3 * hidden] = -2
    return scale


class LstmSequenceOp(Op):
    """out[0, t] = h_t, out[1, t] = c_t with z_t = xp_t + h_{t-1} W^T + b, (i, f, g, o) =
    (s, s, tanh, s)(z_t), c_t = f c_{t-1} + i g, h_t = o tanh(c_t);  backward: BPTT"""
    name = "lstm_sequence"
    save_inputs = True
    save_output = True

    def forward(self, xp, h0, c0, w, b=None):
        steps, n, gates = xp.shape
        hid = gates // 4
        dtype = np.result_type(xp, h0, c0, w)
        out = np.empty((2, steps, n, hid), dtype)
        acts = np.empty((steps, n, gates), dtype)     # i, f, g, o after their nonlinearity
        tanh_c = np.empty((steps, n, hid), dtype)
        wt = w.T
        h, c = h0, c0
        # sigmoid(z) = 1 / (1 + exp(-z)) over all four gates, then g's tanh put back: NumPy's
        # float32 exp is about twice as fast as its tanh (8192 gates: 11.5 against 22.7 us), so
        # this is ~7 us a step cheaper than one tanh of all gates.  exp(-z) overflows to inf for
        # z below about -88 (float32), which gives the sigmoid's limit 0.
        if b is not None:                   # xp + b for every step at once, where kept
            np.add(xp, b, out=acts)
            z = np.empty((n, gates), dtype)
        with np.errstate(over="ignore"):
            for t in range(steps):
                a = acts[t]
                if b is None:
                    np.matmul(h, wt, out=a)     # the gates are formed where they are kept
                    a += xp[t]
                else:
                    np.matmul(h, wt, out=z)
                    a += z
                g = a[:, 2 * hid:3 * hid]
                np.tanh(g, out=tanh_c[t])       # tanh_c[t] is free until c_t is known
                np.negative(a, out=a)
                np.exp(a, out=a)
                a += 1
                np.reciprocal(a, out=a)
                g[...] = tanh_c[t]
                c_new = out[1, t]
                np.multiply(a[:, hid:2 * hid], c, out=c_new)
                c_new += a[:, :hid] * g
                np.tanh(c_new, out=tanh_c[t])
                np.multiply(a[:, 3 * hid:], tanh_c[t], out=out[0, t])
                h, c = out[0, t], c_new
        self.acts, self.tanh_c = acts, tanh_c   # ndarray path only (not differentiable)
        return out

    def backward(self, grad):
        if isinstance(grad, Tensor) or any(isinstance(x, Tensor) for x in self.inputs):
            return self._backward_tensors(grad)
        xp, h0, c0, w, b = self.inputs
        out, acts, tanh_c = self.output, self.acts, self.tanh_c
        steps, n, gates = xp.shape
        hid = gates // 4
        # Everything but dc_t and dh_t depends on the forward alone, so it is formed for all steps
        # at once, in place in dgates: each gate's derivative (s (1 - s) for i, f, o; 1 - g^2
        # for g) times its partner in the cell (g for i, c_{t-1} for f, i for g, tanh(c_t) for
        # o), and o (1 - tanh(c_t)^2), the path from h_t to c_t.  The loop then multiplies dc_t
        # into the first three gates and dh_t into o: two calls a step instead of eight.
        dgates = np.subtract(1, acts)
        dgates *= acts
        i_all, f_all = acts[:, :, :hid], acts[:, :, hid:2 * hid]
        g_all, o_all = acts[:, :, 2 * hid:3 * hid], acts[:, :, 3 * hid:]
        dg = dgates[:, :, 2 * hid:3 * hid]
        np.multiply(g_all, g_all, out=dg)
        np.subtract(1, dg, out=dg)
        dgates[:, :, :hid] *= g_all
        dgates[1:, :, hid:2 * hid] *= out[1, :-1]
        dgates[0, :, hid:2 * hid] *= c0
        dg *= i_all
        dgates[:, :, 3 * hid:] *= tanh_c
        through = tanh_c * tanh_c
        np.subtract(1, through, out=through)
        through *= o_all
        by_gate = dgates.reshape(steps, n, 4, hid)
        gh, gc = grad[0], grad[1]
        # A step whose own output gets no gradient (all but the last, when only h_T is used; the
        # cell states, mostly) adds nothing: skipped, which changes at most the sign of a zero.
        gh_live, gc_live = gh.any(axis=(1, 2)), gc.any(axis=(1, 2))
        dh = dc = None
        for t in range(steps - 1, -1, -1):
            if dh is None:
                dh_t = gh[t]
            else:
                dh_t = gh[t] + dh if gh_live[t] else dh
            dc_t = dh_t * through[t]
            if gc_live[t]:
                dc_t += gc[t]
            if dc is not None:
                dc_t += dc
            by_gate[t, :, :3] *= dc_t[:, None, :]
            by_gate[t, :, 3] *= dh_t
            dc = dc_t * f_all[t]
            dh = dgates[t] @ w if t or self.needs_grad(1) else None
        return (dgates, dh, dc) + self._parameter_grads(dgates)

    def _parameter_grads(self, dgates) -> tuple:
        """(dW, db) from every step's gate gradients: dW sums d_t^T h_{t-1} over the steps as
        two GEMMs (without concatenating h_0), db sums d_t."""
        _, h0, _, _, b = self.inputs
        steps, n, gates = dgates.shape
        flat = dgates.reshape(steps * n, gates)
        gw = gb = None
        if self.needs_grad(3):
            gw = dgates[0].T @ h0
            if steps > 1:
                gw += flat[n:].T @ self.output[0, :-1].reshape((steps - 1) * n, gates // 4)
        if b is not None and self.needs_grad(4):
            gb = flat.sum(axis=0)
        return gw, gb

    # ag.compile's numba backend calls these in place of forward and backward
    # (lstm_kernels.py): the same steps, each step's elementwise work in a few loops.
    def numba_forward(self, xp, h0, c0, w, b=None):
        from . import lstm_kernels as k
        steps, n, gates = xp.shape
        hid = gates // 4
        dtype = np.result_type(xp, h0, c0, w)
        if dtype.kind != "f" or (b is not None and b.dtype != dtype) or any(
                a.dtype != dtype for a in (xp, h0, c0, w)):
            return self.forward(xp, h0, c0, w, b)
        scale = _gate_scales(dtype, hid)
        one, two = dtype.type(1), dtype.type(2)
        out = np.empty((2, steps, n, hid), dtype)
        acts = np.empty((steps, n, gates), dtype)
        tanh_c = np.empty((steps, n, hid), dtype)
        z = np.empty((n, gates), dtype)
        wt = np.ascontiguousarray(w.T)   # one copy: a transposed view is ~8 % slower per GEMM
        bias = scale if b is None else b            # not read without a bias
        h, c = h0, c0
        # exp overflows to inf for a large negative pre-activation, which gives the limits 0
        # (sigmoid) and -1 (tanh).
        with np.errstate(over="ignore"):
            for t in range(steps):
                np.matmul(h, wt, out=z)
                a, tc = acts[t], tanh_c[t]
                k.gates_in(z, xp[t], bias, b is not None, scale, a)
                np.exp(a, out=a)
                k.cell(a, c, out[1, t], tc, one, two)
                np.exp(tc, out=tc)
                k.hidden(a, tc, out[0, t], one, two)
                h, c = out[0, t], out[1, t]
        self.acts, self.tanh_c = acts, tanh_c
        return out

    def numba_backward(self, grad):
        xp, h0, c0, w, b = self.inputs
        if isinstance(grad, Tensor) or grad.dtype != self.acts.dtype or any(
                isinstance(x, Tensor) for x in self.inputs):
            return self.backward(grad)
        from . import lstm_kernels as k
        out, acts, tanh_c = self.output, self.acts, self.tanh_c
        steps, n, gates = xp.shape
        hid = gates // 4
        one = acts.dtype.type(1)
        dgates = np.empty_like(acts)
        dh = np.zeros((n, hid), acts.dtype)
        dc, dc_next = np.zeros((n, hid), acts.dtype), np.empty((n, hid), acts.dtype)
        into = w.dtype == dh.dtype      # dh's buffer is free again once step_back has read it
        for t in range(steps - 1, -1, -1):
            k.step_back(acts[t], tanh_c[t], grad[0, t], grad[1, t], dh, dc,
                        out[1, t - 1] if t else c0, one, dgates[t], dc_next)
            dc, dc_next = dc_next, dc
            if t or self.needs_grad(1):
                dh = np.matmul(dgates[t], w, out=dh if into else None)
            else:
                dh = None
        return (dgates, dh, dc) + self._parameter_grads(dgates)

    def _backward_tensors(self, grad):
        """create_graph: the gates recomputed from the inputs with recorded ops, then the same
        BPTT formulas as the ndarray path, so the result is differentiable again."""
        xp, h0, c0, w, b = self.inputs
        steps, _, gates = xp.shape
        hid = gates // 4
        h, c = h0, c0
        saved = []
        for t in range(steps):
            z = xp[t] + h @ w.T
            if b is not None:
                z = z + b
            i, f = ag.sigmoid(z[:, :hid]), ag.sigmoid(z[:, hid:2 * hid])
            g, o = ag.tanh(z[:, 2 * hid:3 * hid]), ag.sigmoid(z[:, 3 * hid:])
            c_new = f * c + i * g
            tc = ag.tanh(c_new)
            saved.append((i, f, g, o, tc, h, c))
            h, c = o * tc, c_new
        dh = dc = 0.0
        dgates = [None] * steps
        for t in range(steps - 1, -1, -1):
            i, f, g, o, tc, _, c_prev = saved[t]
            dh_t = grad[0, t] + dh
            dc_t = grad[1, t] + dc + dh_t * o * (1 - tc * tc)
            d = ag.concatenate([dc_t * g * i * (1 - i), dc_t * c_prev * f * (1 - f),
                                dc_t * i * (1 - g * g), dh_t * tc * o * (1 - o)], axis=-1)
            dgates[t] = d
            dc = dc_t * f
            dh = d @ w
        d_all = ag.stack(dgates, axis=0)
        flat = d_all.reshape(-1, gates)
        h_prev = ag.stack([s[5] for s in saved], axis=0).reshape(-1, hid)
        gw = flat.T @ h_prev
        gb = flat.sum(axis=0) if b is not None else None
        return d_all, dh, dc, gw, gb


def lstm_sequence(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM layer over x (T, N, I) from states h0, c0 (N, H): returns (output (T, N, H),
    h_T, c_T), the same values and gradients as stepping ``lstm_cell`` T times."""
    # Every step's input projection is one GEMM; both biases are added once, as one vector
    # (rather than b_hh at each step, as the NumPy floor does), at each step's gates: there the
    # numba backend adds it in the loop it runs anyway, where the projection would make it a
    # pass of its own over all (T, N, 4H) values.
    if b_ih is not None and b_hh is not None:
        bias = b_ih + b_hh
    else:
        bias = b_ih if b_ih is not None else b_hh
    projected = linear(x, w_ih)
    states = apply(LstmSequenceOp, projected, h0, c0, w_hh, bias)
    return states[0], states[0, -1], states[1, -1]
