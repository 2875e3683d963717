"""numba kernels for 2 x 2 max pooling (BlockMaxPoolOp) under ag.compile's numba backend: one
pass over the image forward and two backward (each row of blocks counted, then written), where
the NumPy rules make four strided passes forward and eleven backward.

They compute what the NumPy rules compute, so the values are the same bit for bit except the
sign of a zero maximum over a block of tied +0 and -0 (NumPy's own SIMD loops differ there
between float32 and float64): the maxima follow ``np.maximum``'s rule (NaN wins), and each input
entry's gradient is ``g / count`` where it equals its block's maximum (``count`` of them tie)
and ``0 * (g / count)`` elsewhere (a float32 quotient rounded from float64's equals float32's
own, for a division).  Imported only by that backend (numba is
an optional dependency).
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = dict(cache=True, nogil=True, error_model="numpy")   # x / 0 is inf or NaN, as in NumPy


@numba.njit(**_JIT)
def pool2x2_forward(x, out):
    n, c, hh, ww = out.shape
    for a in range(n):
        for b in range(c):
            for i in range(hh):
                r0, r1, o = x[a, b, 2 * i], x[a, b, 2 * i + 1], out[a, b, i]
                for j in range(ww):       # np.maximum's rule: NaN wins, the first of equals
                    m = r0[2 * j]
                    v = r0[2 * j + 1]
                    m = v if (v > m) | (v != v) else m
                    v = r1[2 * j]
                    m = v if (v > m) | (v != v) else m
                    v = r1[2 * j + 1]
                    o[j] = v if (v > m) | (v != v) else m


@numba.njit(**_JIT)
def pool2x2_backward(x, out, g, gx):
    # Two passes per row of blocks: each block's share first, then the input rows written in
    # order.  Writing the four entries of each block as it is counted interleaves stores into
    # gx with loads from x, which ran about 3x slower on an AMD EPYC (650 against 210-250 us
    # on cnn's (32, 8, 26, 26)).
    n, c, hh, ww = out.shape
    share = np.empty(ww, g.dtype)
    for a in range(n):
        for b in range(c):
            for i in range(hh):
                r0, r1, m, gi = x[a, b, 2 * i], x[a, b, 2 * i + 1], out[a, b, i], g[a, b, i]
                for j in range(ww):
                    mj = m[j]
                    ties = (int(r0[2 * j] == mj) + int(r0[2 * j + 1] == mj)
                            + int(r1[2 * j] == mj) + int(r1[2 * j + 1] == mj))
                    share[j] = gi[j] / ties
                for row in range(2):
                    r, d = x[a, b, 2 * i + row], gx[a, b, 2 * i + row]
                    for k in range(2 * ww):
                        d[k] = share[k // 2] * (r[k] == m[k // 2])
