"""The numpy backend's output buffers (autograd/compiler/buffers.py): formulas written into arrays
made once, bitwise equal to eager; never where a replay could meet another shape (a mask's
selection), and never an array that leaves the program (a return value, a .grad, a view, an op
that saves its input)."""

import numpy as np

import autograd as ag
import nn
from autograd import Tensor


def _sources(step) -> str:
    return "\n".join(c.program.source for g in step.programs.values() for c in g)


def _buffers(step) -> list:
    return [b for g in step.programs.values() for c in g for b in c.program.buffers]


def _twins(make):
    """The same step built twice from equal parameters: one compiled, one eager."""
    return ag.compile(make()), make()


def _mlp_step(sizes, activations, loss_fn, lr):
    """A make() for _twins: an MLP of Linear layers with SGD (momentum 0.9) trained on loss_fn;
    the model is the step's .model."""
    ag.manual_seed(0)
    layers = []
    for (n, m), act in zip(zip(sizes, sizes[1:]), activations + [None]):
        layers += [nn.Linear(n, m)] + ([act()] if act else [])
    model = nn.Sequential(*layers)
    opt = nn.optim.SGD(model.parameters(), lr=lr, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    step.model = model
    return step


def test_chain_of_elementwise_ops_runs_in_reused_buffers_and_matches_eager():
    def make():
        w = Tensor(np.linspace(-1, 1, 16, dtype=np.float32), requires_grad=True)

        def step(x):
            w.grad = None
            h = x * w
            for _ in range(6):
                h = (h * 1.1 + 0.05).tanh() - 0.02
            loss = (h * h).sum()
            loss.backward()
            return loss
        step.w = w
        return step

    compiled, eager = _twins(make)
    rng = np.random.default_rng(0)
    for _ in range(4):
        x = Tensor(rng.standard_normal(16).astype(np.float32))
        assert compiled(x).data.tobytes() == eager(x).data.tobytes()
        assert compiled.__wrapped__.w.grad.tobytes() == eager.w.grad.tobytes()
    # The first capture cannot tell that the step drops w.grad itself (w.grad was None then),
    # so it holds for calls that start without one; the second, which saw w.grad dropped before
    # the step first read w, replays every call after.
    (replaying,) = [c.program for g in compiled.programs.values() for c in g if c.verified]
    source = replaying.source
    assert "_uf_tanh(" in source and "_uf_square(" in source
    buffers = replaying.buffers
    # the six tanh outputs are the rows of one array, their backward factors 1 - y*y those of
    # another (computed in 2 calls, not 12); a few short-lived values share the rest
    shapes = sorted(shape for _, shape, _ in buffers)
    assert shapes.count((6, 16)) == 2 and len(buffers) <= 6, buffers
    assert source.count("_uf_square(") == 1


def test_a_mask_that_selects_another_count_never_meets_a_buffer_of_the_old_shape():
    """With a buffer of the capture's 3 elements, a 1-element selection would be broadcast into
    it (3x the sum): the mask's result is no shape the guards fix, so it gets none."""
    w = Tensor(np.ones(4, np.float32), requires_grad=True)

    def step(x):
        w.grad = None
        s = (x * w)[x > 0]
        loss = ((s * 2.0 + 1.0) * s).sum()
        loss.backward()
        return loss

    compiled = ag.compile(step)
    for values in ([1, 2, 3, -1], [2, -1, 3, 4], [-1, -2, 5, -3], [-1, -1, -1, -1], [1, 1, 1, 1]):
        x = Tensor(np.array(values, np.float32))
        got, grad = compiled(x).item(), w.grad.copy()
        want = step(x).item()
        assert got == want and grad.tobytes() == w.grad.tobytes(), values


def test_returned_values_grads_and_views_never_share_a_buffer_with_the_next_replay():
    lin = nn.Linear(3, 5)
    opt = nn.optim.SGD(lin.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        h = lin(x).tanh()
        t = h * 2.0                            # returned
        row = (h * 3.0).reshape(-1)           # a view of a formula's result, returned
        loss = (t * t).sum() + row.sum()
        loss.backward()
        opt.step()
        return loss, t, row

    compiled = ag.compile(step)
    rng = np.random.default_rng(1)
    kept = []
    for _ in range(5):
        x = Tensor(rng.standard_normal((4, 3)).astype(np.float32))
        loss, t, row = compiled(x)
        kept.append((t, t.data.copy(), row, row.data.copy(), lin.weight.grad,
                     lin.weight.grad.copy()))
    for t, t0, row, row0, g, g0 in kept:
        assert np.array_equal(t.data, t0) and np.array_equal(row.data, row0)
        assert np.array_equal(g, g0)
    assert _buffers(compiled), "the hidden layer's values should have buffers"


def test_an_op_that_saves_its_input_reads_a_fresh_array():
    """sin is re-run (no inline form) and keeps its input for backward: the value it reads must
    not be overwritten by the values made after it, before sin's backward runs."""
    def make():
        rng = np.random.default_rng(2)
        w = Tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)

        def step(x):
            w.grad = None
            a = (x @ w).tanh() * 1.5
            b = a.sin() * 2.0 + 0.5
            c = ((b * 0.5 - 1.0).exp() * 0.25 + 1.0).tanh()
            loss = (c * c).sum()
            loss.backward()
            return loss
        step.w = w
        return step

    compiled, eager = _twins(make)
    rng = np.random.default_rng(3)
    for _ in range(4):
        x = Tensor(rng.standard_normal((2, 3)).astype(np.float32))
        assert compiled(x).data.tobytes() == eager(x).data.tobytes()
        assert compiled.__wrapped__.w.grad.tobytes() == eager.w.grad.tobytes()


def test_mlp_training_with_buffers_is_bitwise_eager_and_explain_lists_them():
    compiled, eager = _twins(lambda: _mlp_step([2, 16, 16, 1], [nn.Tanh, nn.ReLU],
                                               nn.functional.mse_loss, lr=0.1))
    rng = np.random.default_rng(4)
    for _ in range(6):
        x = Tensor(rng.standard_normal((8, 2)).astype(np.float32))
        y = Tensor(rng.standard_normal((8, 1)).astype(np.float32))
        assert compiled(x, y).data.tobytes() == eager(x, y).data.tobytes()
        for p, q in zip(compiled.__wrapped__.model.parameters(), eager.model.parameters()):
            assert p.data.tobytes() == q.data.tobytes() and p.grad.tobytes() == q.grad.tobytes()
    assert _buffers(compiled)
    assert "buffers:" in compiled.explain()


def test_calls_from_several_threads_take_turns_on_the_shared_buffers():
    import threading

    w = Tensor(np.linspace(-1, 1, 64).reshape(8, 8), requires_grad=False)

    def forward(x):                     # no state: each call's result depends on its x alone
        h = x @ w
        for _ in range(8):
            h = (h * 0.9 + 0.1).tanh() * 1.5
        return h * h
    step = ag.compile(forward)
    inputs = [np.full((8, 8), 0.1 * k) for k in range(4)]
    for x in inputs[:3]:
        step(x)                         # captured and verified before the threads start
    assert _buffers(step)
    expected = [forward(x).data for x in inputs]
    wrong = []

    def worker(k):
        for _ in range(300):
            if not np.array_equal(step(inputs[k]).data, expected[k]):
                wrong.append(k)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_large_values_stay_fresh_so_a_replay_holds_no_more_memory_than_eager():
    """Buffers are kept between calls: for a layer of 64 x 256 they would sit beside the fresh
    arrays the GEMMs make and take the replay's peak above eager's, so only small values get one."""
    import tracemalloc

    from autograd.compiler.buffers import MAX_BUFFER_SIZE

    rng = np.random.default_rng(5)
    x = Tensor(rng.standard_normal((64, 64)).astype(np.float32))
    y = Tensor(rng.integers(0, 10, 64))

    def peak(step) -> int:
        for _ in range(3):
            step(x, y)
        tracemalloc.start()
        step(x, y)
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return used

    compiled, eager = _twins(lambda: _mlp_step([64, 256, 256, 10], [nn.Tanh, nn.Tanh],
                                               nn.functional.cross_entropy, lr=0.05))
    replay = peak(compiled)
    assert compiled.programs                   # replayed, not run eagerly
    held = compiled.held_bytes()
    assert all(int(np.prod(shape)) <= MAX_BUFFER_SIZE for _, shape, dtype in _buffers(compiled))
    assert replay + held <= peak(eager), (replay, held)
