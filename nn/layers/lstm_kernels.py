"""numba kernels for the LSTM sequence (LstmSequenceOp) under ag.compile's numba backend: the
elementwise work of each time step in three kernels forward and one backward, where the NumPy rules
make about ten and twenty-five calls on (N, H) slices.

The GEMMs and the exponentials stay with NumPy (its SIMD exp is faster than libm's).  Forward,
every nonlinearity is one exp: the sigmoid gates 1 / (1 + exp(-z)) as the NumPy rule computes
them, and both tanh (of g and of the cell) as 2 / (1 + exp(-2x)) - 1, because NumPy's float32 exp
is about 1.6 times as fast as its tanh (8192 gates: 20.7 against 32.8 us).  That tanh is off by
at most a few units in the last place of 1 near zero, far inside the numba backend's tolerance
(1e-5 of the largest magnitude in float32).  The loops compute in the arrays' dtype (``one`` and
``two`` carry it); the backward loops do the NumPy rule's arithmetic in its order.  Imported only
by that backend (numba is optional).
"""

from __future__ import annotations

import numba

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@numba.njit(**_JIT)
def gates_in(z, xp, b, has_bias, scale, a):
    """a <- ((z + xp) + b) * scale (b is ignored without a bias): each gate's pre-activation,
    scaled for the exp that follows (-1 on the sigmoid gates, -2 on g)."""
    n, gates = z.shape
    for r in range(n):
        for k in range(gates):
            v = z[r, k] + xp[r, k]
            if has_bias:
                v = v + b[k]
            a[r, k] = v * scale[k]


@numba.njit(**_JIT)
def cell(a, c, c_new, tc, one, two):
    """From a = exp(-z) (exp(-2z) on g): the sigmoid gates 1 / (1 + a), g = tanh(z) =
    2 / (1 + a) - 1; c_new <- f * c + i * g; tc <- -2 c_new (for the exp of tanh(c_new)).
    A loop per gate and one for the cell, each over a row: they vectorize, where one loop doing
    all of it did not (measured 10.0 -> 4.6 us at 32 x 64, the same values)."""
    n, gates = a.shape
    hid = gates // 4
    for r in range(n):
        ar, cr, nr, tr = a[r], c[r], c_new[r], tc[r]
        for k in range(2 * hid):
            ar[k] = one / (one + ar[k])
        for k in range(2 * hid, 3 * hid):
            ar[k] = two / (one + ar[k]) - one
        for k in range(3 * hid, gates):
            ar[k] = one / (one + ar[k])
        for k in range(hid):
            v = ar[hid + k] * cr[k] + ar[k] * ar[2 * hid + k]
            nr[k] = v
            tr[k] = v * -two


@numba.njit(**_JIT)
def hidden(a, tc, h, one, two):
    """From tc = exp(-2 c): tc <- tanh(c) = 2 / (1 + tc) - 1; h <- o * tanh(c)."""
    n, hid = h.shape
    for r in range(n):
        for k in range(hid):
            t = two / (one + tc[r, k]) - one
            tc[r, k] = t
            h[r, k] = a[r, 3 * hid + k] * t


@numba.njit(**_JIT)
def step_back(a, tc, gh, gc, dh, dc, c_prev, one, d, dc_out):
    """One step of BPTT, in the NumPy rule's order: dh_t = gh + dh, dc_t = gc + dh_t (1 - tc^2)
    o + dc (both written over dh and dc, which the caller no longer needs), each gate's
    derivative times its share of dc_t or dh_t into d (N, 4H), and dc_out = dc_t f.

    Three loops over each row rather than one: a loop that reads ten arrays and writes five
    defeats LLVM's vectorizer (too many possible overlaps to check at run time); split, it is
    measured 35 % faster (12.7 -> 8.1 us at 32 x 64), bit for bit the same."""
    n, hid = tc.shape
    for r in range(n):
        ar, dr, tr, dhr, dcr = a[r], d[r], tc[r], dh[r], dc[r]
        ghr, gcr, cpr, dor = gh[r], gc[r], c_prev[r], dc_out[r]
        for k in range(hid):
            t = tr[k]
            dh_t = ghr[k] + dhr[k]
            dhr[k] = dh_t
            dcr[k] = gcr[k] + dh_t * ((one - t * t) * ar[3 * hid + k]) + dcr[k]
        for k in range(hid):
            i, f, g, dc_t = ar[k], ar[hid + k], ar[2 * hid + k], dcr[k]
            dr[k] = ((one - i) * i) * (dc_t * g)
            dr[hid + k] = ((one - f) * f) * (dc_t * cpr[k])
            dr[2 * hid + k] = (one - g * g) * (dc_t * i)
            dor[k] = dc_t * f
        for k in range(hid):
            o = ar[3 * hid + k]
            dr[3 * hid + k] = ((one - o) * o) * (dhr[k] * tr[k])
