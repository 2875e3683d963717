"""numba kernels for the LSTM sequence (LstmSequenceOp) under ag.compile's numba backend: the
elementwise work of each time step in three loops forward and one backward, where the NumPy rules
make about ten and twenty-five calls on (N, H) slices.

The GEMMs and the tanh stay with NumPy (its SIMD tanh is faster than libm's).  Each loop does the
NumPy rules' arithmetic in their order and in the arrays' dtype (``one`` carries the dtype's 1),
so results differ from eager's only where the compiler rounds differently, far inside the
numba backend's 1e-5 (float32) tolerance.  Imported only by that backend (numba is optional).
"""

from __future__ import annotations

import numba

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@numba.njit(**_JIT)
def gates_in(z, xp, b, has_bias, scale):
    """z <- ((z + xp) + b) * scale, in place (b is ignored without a bias)."""
    n, gates = z.shape
    for r in range(n):
        for k in range(gates):
            v = z[r, k] + xp[r, k]
            if has_bias:
                v = v + b[k]
            z[r, k] = v * scale[k]


@numba.njit(**_JIT)
def cell(a, scale, shift, c, c_new):
    """a <- a * scale + shift (tanh to sigmoid on i, f, o); c_new <- f * c + i * g."""
    n, gates = a.shape
    hid = gates // 4
    for r in range(n):
        for k in range(gates):
            a[r, k] = a[r, k] * scale[k] + shift[k]
        for k in range(hid):
            c_new[r, k] = a[r, hid + k] * c[r, k] + a[r, k] * a[r, 2 * hid + k]


@numba.njit(**_JIT)
def hidden(a, tc, h):
    """h <- o * tanh(c)."""
    n, hid = h.shape
    for r in range(n):
        for k in range(hid):
            h[r, k] = a[r, 3 * hid + k] * tc[r, k]


@numba.njit(**_JIT)
def step_back(a, tc, gh, gc, dh, dc, c_prev, one, d, dc_out):
    """One step of BPTT, in the NumPy rule's order: dh_t = gh + dh, dc_t = gc + dh_t (1 - tc^2)
    o + dc, each gate's derivative times its share of dc_t or dh_t into d (N, 4H), and
    dc_out = dc_t f."""
    n, hid = tc.shape
    for r in range(n):
        for k in range(hid):
            i, f = a[r, k], a[r, hid + k]
            g, o = a[r, 2 * hid + k], a[r, 3 * hid + k]
            t = tc[r, k]
            dh_t = gh[r, k] + dh[r, k]
            dc_t = gc[r, k] + dh_t * ((one - t * t) * o) + dc[r, k]
            d[r, k] = ((one - i) * i) * (dc_t * g)
            d[r, hid + k] = ((one - f) * f) * (dc_t * c_prev[r, k])
            d[r, 2 * hid + k] = (one - g * g) * (dc_t * i)
            d[r, 3 * hid + k] = ((one - o) * o) * (dh_t * t)
            dc_out[r, k] = dc_t * f
