"""ag.compile(backend="numba"): a fused run that repeats itself is written as a loop over its
repetitions (numba_backend._repeats / _loop).  Each program here is run eagerly and compiled,
with new input values at every call (so that calls after the second replay the program), and
every returned value and every .grad must be within 1e-5 relative (float32) / 1e-12 (float64)
of eager's; where it helps, also against the same program with rolling disabled.  The kernels'
sources (GRAPHGRAD_CACHE_DIR/numba/k_*.py) say whether a loop was written."""

import re

import numpy as np
import pytest

import autograd as ag

pytest.importorskip("numba")

from autograd.compiler import numba_backend  # noqa: E402

LOOP = "for r in range("


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHGRAD_CACHE_DIR", str(tmp_path))
    return tmp_path


def _close(got, want, dtype):
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert got is not None and want is not None
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.dtype, want.dtype)
    scale = np.max(np.abs(want), initial=0.0)
    assert np.all(np.abs(got - want) <= rtol * scale), (got, want)


def _kernels(kernel_cache):
    return [f.read_text() for f in sorted((kernel_cache / "numba").glob("k_*.py"))]


def _bodies(kernel_cache):
    """The generated kernels without the shared preamble (tanh32)."""
    return [k[k.index("def kernel("):] for k in _kernels(kernel_cache)]


def _loops(kernel_cache):
    return [k for k in _bodies(kernel_cache) if LOOP in k]


def _compare(make, dtype, calls=4):
    """``make(dtype)`` -> (leaves, step); ``step()`` clears the leaves' .grad, runs, returns a
    list of tensors.  Eager and compiled copies get the same new leaf values at every call."""
    (leaves_e, eager), (leaves_c, plain) = make(dtype), make(dtype)
    compiled = ag.compile(plain, backend="numba")
    bases = [t.data.copy() for t in leaves_e]
    for c in range(calls):
        for ts in (leaves_e, leaves_c):
            for t, base in zip(ts, bases):
                t.data = np.array(base * (1 + 0.03 * c), dtype=dtype)
        want, got = eager(), compiled()
        assert len(want) == len(got)
        for a, b in zip(got, want):
            _close(a.data, b.data, dtype)
        for a, b in zip(leaves_c, leaves_e):
            assert (a.grad is None) == (b.grad is None)
            if b.grad is not None:
                _close(a.grad, b.grad, dtype)
    return compiled


def _chain(body, reps, n=8, grad=True):
    """x0 -> body(x, i) repeated ``reps`` times -> sum (and its backward when ``grad``)."""
    def make(dtype):
        x0 = ag.tensor(np.linspace(0.3, 0.9, n).astype(dtype), requires_grad=grad)

        def step():
            x0.grad = None
            x = x0
            for i in range(reps):
                x = body(x, i)
            loss = x.sum()
            if grad:
                loss.backward()
            return [loss, x]
        return [x0], step
    return make


def _saved_chain(x0, reps):
    """x0 through ``reps`` repetitions of tanh(x * 1.2 + 0.1): the last value and every one."""
    x, saved = x0, []
    for _ in range(reps):
        x = ag.tanh(x * 1.2 + 0.1)
        saved.append(x)
    return x, saved


PERIODIC = {        # name: (one repetition, repetitions), every one at least ROLL_MIN statements
    "p1-multiply": (lambda x, i: x * 1.01, 70),
    "p1-negative": (lambda x, i: -x, 70),
    "p1-tanh": (lambda x, i: ag.tanh(x), 70),
    "p2-exp": (lambda x, i: ag.exp(-x), 40),
    "p2": (lambda x, i: ag.tanh(x * 1.2), 40),
    "p3": (lambda x, i: ag.tanh(x * 1.2 + 0.1), 30),
    "p5": (lambda x, i: ag.tanh(-(x * 1.2) + 0.1) - 0.3, 20),
    "p7": (lambda x, i: (ag.tanh(x * 1.3 + 0.1) * 0.7).exp() - 1.1, 14),
    "p3-ints": (lambda x, i: ag.tanh(x * 1 + 1) - 1, 30),       # Python ints, cast in the kernel
}


FLOAT32 = {"p1-tanh", "p2-exp", "p3", "p7", "p3-ints"}     # tanh32, exp, casts in float32


@pytest.mark.parametrize("name,dtype", [(n, np.float64) for n in PERIODIC] +
                         [(n, np.float32) for n in PERIODIC if n in FLOAT32])
def test_periodic_chains_roll_and_match_eager(name, dtype, kernel_cache):
    body, reps = PERIODIC[name]
    _compare(_chain(body, reps), dtype)
    # the forward's kernel and the backward's (reading the saved values as evenly spaced rows)
    assert len(_loops(kernel_cache)) == 2, _bodies(kernel_cache)


def _forward(fn, n=8):
    """A program without backward: ``fn(x0)`` -> list of tensors."""
    def make(dtype):
        x0 = ag.tensor(np.linspace(0.3, 0.9, n).astype(dtype))
        return [x0], lambda: fn(x0)
    return make


def _graded(fn, n=8, extra=()):
    """``fn(x0, *extra tensors)`` -> list of tensors, the first one's backward taken; extra:
    (low, high, requires_grad) per tensor."""
    def make(dtype):
        x0 = ag.tensor(np.linspace(0.3, 0.9, n).astype(dtype), requires_grad=True)
        more = [ag.tensor(np.linspace(a, b, n).astype(dtype), requires_grad=g) for a, b, g in extra]

        def step():
            for t in [x0] + more:
                t.grad = None
            out = fn(x0, *more)
            out[0].backward()
            return out
        return [x0] + more, step
    return make


def _multiplies(count):
    def fn(x0):
        x = x0
        for _ in range(count):
            x = x * 1.01
        return [x]
    return fn


def _no_loads_in_loop(kernel):
    """No input array is read inside the loop (what every repetition reads is loaded once)."""
    inner = [line for line in kernel.splitlines() if line.startswith(" " * 12)]
    return inner and not any(re.match(r"\s+x_a\d+ = a\d+\[i\]", line) for line in inner)


@pytest.mark.parametrize("count", [63, 64, 65])
def test_a_stretch_of_roll_min_statements_is_the_least_that_rolls(count, kernel_cache):
    """x0 * 1.01 * 1.01 ...: the first multiply reads x0, the others the one before, so `count`
    multiplies repeat for count - 1 statements: a loop from ROLL_MIN = 64 on."""
    assert numba_backend.ROLL_MIN == 64
    _compare(_forward(_multiplies(count)), np.float64)
    (kernel,) = _bodies(kernel_cache)
    if count - 1 >= numba_backend.ROLL_MIN:
        assert f"for r in range({count - 1}):" in kernel
    else:
        assert LOOP not in kernel
        assert kernel.count(" * c0") == count


def _body16(x, i):          # 16 statements, no shorter period among them
    x = ag.tanh(x * 1.1 + 0.1)
    x = -(x * 0.9) + 0.2
    x = ag.tanh(x * 1.05 - 0.05)
    x = (x * 0.5).exp() - 0.8
    x = ag.tanh(x + 0.15) * 0.95
    return -x


def test_a_period_of_max_period_statements_rolls_and_one_more_does_not(kernel_cache):
    """16 statements a repetition: a loop (of 4 repetitions: the first statement reads x0, not
    the one before); 17: no loop.  (Forward only.)"""
    assert numba_backend.MAX_PERIOD == 16
    _compare(_chain(_body16, 5, grad=False), np.float64)
    loops = _loops(kernel_cache)
    assert len(loops) == 1 and "for r in range(4):" in loops[0]
    assert "            y15 = " in loops[0] and "y16" not in loops[0]
    for f in (kernel_cache / "numba").glob("k_*.py"):
        f.unlink()
    _compare(_chain(lambda x, i: _body16(x, i) + 0.01, 5, grad=False), np.float64)   # 17
    assert len(_bodies(kernel_cache)) == 1 and not _loops(kernel_cache)


def test_constants_that_change_every_repetition_are_not_rolled(kernel_cache):
    """x * (1 + 0.01 i): every repetition multiplies by another number, no loop can be right."""
    _compare(_chain(lambda x, i: ag.tanh(x * (1 + 0.01 * i)), 33, grad=False), np.float64)
    assert len(_bodies(kernel_cache)) == 1 and not _loops(kernel_cache)


def test_constants_that_alternate_roll_with_a_period_of_two_repetitions(kernel_cache):
    _compare(_chain(lambda x, i: ag.tanh(x * (1.1 if i % 2 else 0.9)), 40), np.float32)
    loops = _loops(kernel_cache)
    assert len(loops) == 2 and all("for r in range(19):" in k for k in loops)


def test_a_first_and_a_last_repetition_that_differ_are_left_out_of_the_loop(kernel_cache):
    def fn(x0):
        x = ag.tanh(x0 * 1.3 + 0.1)          # the first: another multiplier
        for _ in range(30):
            x = ag.tanh(x * 1.2 + 0.1)
        x = ag.tanh(x * 1.2 + 0.2)            # the last: another addend
        return [x.sum(), x]
    _compare(_graded(fn), np.float64)
    assert len(_loops(kernel_cache)) == 2


def test_a_value_from_two_repetitions_back(kernel_cache, monkeypatch):
    """x_n = tanh(0.6 x_{n-1} + 0.3 x_{n-2}): a period-4 loop would need x_{n-2}, two
    repetitions back (_loop refuses it); eager's values, and the unrolled kernel's."""
    def fn(x0):
        a, b = x0, ag.tanh(x0 * 0.5)
        for _ in range(25):
            a, b = b, ag.tanh(b * 0.6 + a * 0.3)
        return [b, a]
    rolled = _compare(_forward(fn), np.float64)
    monkeypatch.setattr(numba_backend, "ROLL_MIN", 10**9)
    plain = _compare(_forward(fn), np.float64)
    for x, y in zip(rolled(), plain()):
        _close(x.data, y.data, np.float64)


def test_interleaved_chains_are_carried_together(kernel_cache):
    def fn(x0):
        x, z, w = x0 * 1.0, x0 * 0.5, -x0
        for _ in range(20):
            x = ag.tanh(x * 1.1 + 0.05)
            z = (z * 0.3).exp() - 0.5
            w = ag.tanh(-w) * 0.9
        return [(x * z * w).sum(), x, z, w]
    _compare(_graded(fn), np.float32)
    loops = _loops(kernel_cache)
    assert len(loops) == 2
    assert any("o[3 * r + 2, i]" in k for k in loops)     # three values saved per repetition


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_chains_carried_and_saved_for_the_backward(dtype, kernel_cache):
    """30 repetitions of seven ops, two values carried from one to the next and two saved for
    the backward at each: the forward's and the backward's kernels loop over the repetitions
    instead of spelling out 210 statements, reading the saved values as evenly spaced rows."""
    def make(dtype):
        x0 = ag.tensor(np.linspace(-1, 1, 16).astype(dtype), requires_grad=True)
        scale = ag.tensor(np.array(0.7, dtype))     # 0-d: its product is outside the runs

        def step():
            x0.grad = None
            x, z = x0 * scale, x0 * 0.5
            for _ in range(30):
                x = ag.tanh(x * 1.1 + 0.05) - 0.02
                z = (z * 0.3).exp() - 0.5
            loss = (z * x).sum()
            loss.backward()
            return [loss]
        return [x0, scale], step
    _compare(make, dtype)
    loops = _loops(kernel_cache)
    assert len(loops) >= 3, loops             # the forward's, the backward's two chains'
    assert all(k.count("\n") < 60 for k in loops)


def test_values_saved_at_every_repetition_are_read_back_as_rows_by_a_later_loop(kernel_cache):
    """The loop writes each repetition's tanh as a row; after sqrt (not fused) a second run
    adds them up, itself a loop reading rows j0 + 1 * r."""
    def fn(x0):
        x, saved = _saved_chain(x0, 40)
        out = ag.sqrt(x + 2.0)
        for v in saved:
            out = out + v * 0.01
        return [out, x]
    _compare(_forward(fn), np.float64)
    loops = _loops(kernel_cache)
    assert len(loops) == 2
    assert any("o[1 * r + 0, i] = y" in k for k in loops)
    assert any(" + 1 * r, i]" in k for k in loops)


def test_an_inner_value_read_later_in_the_same_run_keeps_the_statements(kernel_cache):
    """Every repetition's value summed up in the same run: a loop would have overwritten them."""
    def fn(x0):
        x, saved = _saved_chain(x0, 30)
        out = x * 1.0
        for v in saved:
            out = ag.tanh(out + v * 0.01)
        return [out, x]
    _compare(_forward(fn), np.float64)
    (kernel,) = _bodies(kernel_cache)
    assert LOOP not in kernel


@pytest.mark.parametrize("k", [0, 1, 15, 28, 29])
def test_an_intermediate_returned_from_one_repetition(k, kernel_cache):
    """Returned (kept), without a backward saving the others: a loop writes out only its last
    repetition's values.  Repetition 0 (then the prefix), 28 (the loop's last; 29 is the
    suffix) and 29 leave a loop; 15 leaves no stretch of ROLL_MIN statements on either side,
    so no loop can be right; 1: eager's value, whatever the kernel."""
    def fn(x0):
        x, mid = x0, None
        for i in range(30):
            x = ag.tanh(x * 1.2 + 0.1)
            if i == k:
                mid = x
        return [x, mid]
    _compare(_forward(fn), np.float64)
    (kernel,) = _bodies(kernel_cache)
    if k in (0, 28, 29):
        assert LOOP in kernel
    elif k == 15:
        assert LOOP not in kernel


ORDERS = {"reversed": (lambda n: list(range(n))[::-1], " + -1 * r, i]"),
          "every-other": (lambda n: list(range(0, n, 2)), " + 2 * r, i]"),
          "shuffled": (lambda n: list(np.random.default_rng(0).permutation(n)), None)}


@pytest.mark.parametrize("order", list(ORDERS))
def test_rows_read_back_in_another_order(order, kernel_cache):
    """70 values returned, rows of the loop's buffer in order, and (after sqrt, not fused) read
    back in an order: evenly spaced rows are a loop's b[j0 + dj * r, i], rows in no such order
    must stay statements."""
    pick, row = ORDERS[order]

    def fn(x0):
        x, saved = _saved_chain(x0, 70)
        out = ag.sqrt(x + 2.0)
        for j in pick(70):
            out = out + saved[j] * 0.01
        return [out, x] + saved
    _compare(_forward(fn), np.float64)
    chain, *rest = [k for k in _bodies(kernel_cache) if "np.tanh(" in k]
    (reader,) = [k for k in _bodies(kernel_cache) if "np.tanh(" not in k]
    assert not rest and LOOP in chain
    if row is None:
        assert LOOP not in reader
    else:
        assert LOOP in reader and row in reader


def test_every_repetitions_value_returned_is_a_row_of_a_fresh_buffer(kernel_cache):
    def fn(x0):
        x, saved = _saved_chain(x0, 30)
        return [x.sum()] + saved
    compiled = _compare(_graded(fn), np.float32)
    assert len(_loops(kernel_cache)) == 2
    first = compiled()
    kept = [t.data.copy() for t in first]
    compiled()                                # the next replay writes other buffers
    for t, k in zip(first, kept):
        np.testing.assert_array_equal(t.data, k)


def test_a_tensor_read_by_every_repetition_and_its_gradient(kernel_cache):
    """x = tanh(tanh(tanh(x * w + 0.1) * 1.1 - 0.05) * 0.9 + 0.02) with w a leaf: loaded once
    before the loop; w.grad sums one gradient per repetition (those sums are not fused)."""
    def fn(x0, w):
        x = x0
        for _ in range(9):
            x = ag.tanh(ag.tanh(ag.tanh(x * w + 0.1) * 1.1 - 0.05) * 0.9 + 0.02)
        return [x.sum(), x]
    _compare(_graded(fn, extra=[(1.0, 1.2, True)]), np.float64)
    loops = _loops(kernel_cache)
    assert len(loops) == 1 and _no_loads_in_loop(loops[0])


def test_an_argument_read_by_every_repetition(kernel_cache):
    """An argument of the compiled step (a slot, not a captured tensor) read by every
    repetition, forward and backward; new values at every call."""
    x0 = {which: ag.tensor(np.linspace(0.3, 0.9, 8), requires_grad=True)
          for which in ("eager", "compiled")}

    def make(which):
        def step(c):
            x0[which].grad = None
            x = x0[which]
            for _ in range(30):
                x = ag.tanh(x * c - 0.1)
            x.sum().backward()
            return x
        return step
    eager, compiled = make("eager"), ag.compile(make("compiled"), backend="numba")
    for i in range(4):
        c = ag.tensor(np.linspace(0.8, 1.2 + 0.05 * i, 8))
        _close(compiled(c).data, eager(c).data, np.float64)
        _close(x0["compiled"].grad, x0["eager"].grad, np.float64)
    loops = _loops(kernel_cache)
    assert len(loops) == 2 and all(_no_loads_in_loop(k) for k in loops)


def test_a_value_of_the_run_read_by_every_repetition(kernel_cache):
    """c = tanh(x0 * 0.5), made in the run, read by every repetition (at another offset each
    time): eager's values whatever the kernel."""
    def fn(x0):
        c = ag.tanh(x0 * 0.5)
        x = x0 * 1.0
        for _ in range(30):
            x = ag.tanh(x * 1.1 + c)
        return [x, c]
    _compare(_forward(fn), np.float64)


def test_a_constant_read_alike_by_every_repetition_from_an_earlier_buffer(kernel_cache):
    """c1, c2 come from an earlier kernel's packed buffer: every repetition reads the same rows
    (a step of 0), forward and backward."""
    t = ag.tensor(np.linspace(0.2, 0.6, 8))

    def fn(x0):
        c1 = ag.tanh(t * 0.5) + 1.0
        c2 = (t * 0.3).exp() * 0.1
        x = ag.sqrt(x0 + 1.0)                 # not fused: c1 and c2 are rows of a buffer
        for _ in range(30):
            x = ag.tanh(x * c1 + c2)
        return [x.sum(), x]
    _compare(_graded(fn), np.float64)
    loops = _loops(kernel_cache)
    assert len(loops) == 2 and all(" + 0 * r, i]" in k for k in loops)


def test_values_saved_for_the_backward_that_do_not_fit_a_buffer_are_not_rolled(kernel_cache):
    """23 saved tanh values of 6000 float64 are more than PACK_BYTES: they would need an array
    each, so the forward stays statements (and the backward, reading 23 arrays, too)."""
    def fn(x0):
        x = x0
        for _ in range(23):
            x = ag.tanh(x * 1.1 + 0.05)
        return [x.sum(), x]
    assert 23 * 6000 * 8 > numba_backend.PACK_BYTES
    _compare(_graded(fn, n=6000), np.float64, calls=3)
    assert len(_bodies(kernel_cache)) == 2 and not _loops(kernel_cache)


def test_rolled_kernels_give_the_unrolled_kernels_values(kernel_cache, monkeypatch):
    """Two chains, an argument read by every repetition, a constant alternating (period: two
    repetitions), float32; against the same program with rolling off.  (The backward walks
    z's chain, then x's, in one run: one loop, the longer stretch.)"""
    def fn(x0, c):
        x, z = x0 * 1.0, x0 * 0.5
        for i in range(18):
            x = ag.tanh(x * c + 0.05)
            z = (z * 0.3).exp() * (0.5 if i % 2 else 0.4)
        return [(x * z).sum(), x, z]
    make = _graded(fn, extra=[(0.9, 1.1, False)])
    rolled = _compare(make, np.float32)
    loops = _loops(kernel_cache)
    assert len(loops) == 2 and all(_no_loads_in_loop(k) for k in loops)
    monkeypatch.setattr(numba_backend, "ROLL_MIN", 10**9)
    plain = _compare(make, np.float32)
    assert len(_loops(kernel_cache)) == 2            # no new loop
    for x, y in zip(rolled(), plain()):
        _close(x.data, y.data, np.float32)


# Two bugs found on the way, older than rolling (in _emit and in plan_runs' _kind), fixed with
# these tests; both failed against numba_backend.py at 4a61973.

def test_an_alias_of_an_alias_read_after_the_run():
    # Was a bug: add's backward passes its gradient on as it is ({g}: an alias).  The backward run
    # (steps 6-8) holds add2's aliases of the sum's gradient v5 (v6, v7), multiply's
    # v8 = v7 * 0.01 and add1's alias of v7, v10, which the gradient sum after the run reads.
    # _emit's check "aliasing an internal value: leave to NumPy" skips an operand that is
    # itself an alias (`r[1] not in alias`), so the program gets the line `v10 = v7`, and v7,
    # read by nothing after the run, is never bound: "NameError: name 'v7' is not defined" at
    # the first replay.  (A residual pattern, (a + 0.1) + a * 0.01; v10 now names v7's own
    # operand, v5.)
    def fn(x0):
        a = x0 * 0.5
        out = a + 0.1
        out = out + a * 0.01
        return [out.sum(), out]
    _compare(_graded(fn), np.float64)


def test_a_numpy_float64_scalar_in_a_float32_run_promotes_as_numpy_does():
    # Was a bug: _kind took np.float64(1.1) for a Python number ("scalar": np.float64 subclasses
    # float), so x32 * np.float64(1.1) joined a float32 run and was written as float32.  NumPy 2
    # (NEP 50) promotes float32 * np.float64 to float64, as eager does: the replay's dtype
    # differs and the second call raises "ag.compile: the replay differs from the eager call
    # in the return value[0]".  (Fused only when the run has another float32 step: here
    # x32 * 2.0.)
    def fn(x0):
        return [x0 * np.float64(1.1), x0 * 2.0]
    _compare(_forward(fn), np.float32)


def test_packed_rows_are_bound_only_where_python_reads_them(kernel_cache):
    """chain's shape: the backward kernel takes the forward's packed buffer whole, so rows
    no Python line reads get no name (their views cost most of a small replay); rows that an
    op NumPy runs reads (two sums here, one of them of a saved middle value) are bound."""
    def make(dtype):
        x0 = ag.tensor(np.linspace(0.3, 0.9, 8).astype(dtype), requires_grad=True)

        def step():
            x0.grad = None
            x, saved = _saved_chain(x0, 30)
            loss = x.sum() + saved[11].sum()
            loss.backward()
            return [loss, x, saved[3]]
        return [x0], step
    compiled = _compare(make, np.float64)
    source = next(iter(compiled.programs.values()))[0].program.source
    unpacked = re.findall(r"^    ((?:v\d+, )+)= _B\d+$", source, re.M)
    indexed = re.findall(r"^    v\d+ = _B\d+\[\d+\]$", source, re.M)
    assert not unpacked and len(indexed) == 3          # the two summed rows and a returned one
