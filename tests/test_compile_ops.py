"""ag.compile over the op table: random programs built from tests/op_specs.py rows, compiled and
replayed on new values of the same shapes, agree bitwise with eager (results and gradients)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd as ag
from op_specs import SPECS

DIFFERENTIABLE = [s for s in SPECS if s.differentiable]
CALLS = 3          # capture, verification, replay


def _draw_program(data, specs):
    """Per row: its params and CALLS draws of its inputs (same shapes, new values)."""
    program = []
    for spec in specs:
        shapes, params = data.draw(spec.case_strategy(), label=f"{spec.name} shapes, params")
        inputs = [list(data.draw(spec.input_strategy(shapes), label=f"{spec.name} inputs"))
                  for _ in range(CALLS)]
        program.append((spec, params, inputs))
    return program


def _run(program, compiled: bool):
    """The program as a training-like step: each row's inputs are parameters (leaves updated in
    place between calls), its output feeds a scalar loss, backward fills every .grad."""
    leaves = [[ag.Tensor(np.array(a), requires_grad=True) for a in inputs[0]]
              for _, _, inputs in program]

    def step():
        for xs in leaves:
            for x in xs:
                x.grad = None
        loss = 0.0
        for (spec, params, _), xs in zip(program, leaves):
            out = spec.fn(*xs, **params)
            loss = loss + (out * out).sum()
        loss.backward()
        return loss

    run = ag.compile(step) if compiled else step
    results = []
    for call in range(CALLS):
        for (_, _, inputs), xs in zip(program, leaves):
            for x, a in zip(xs, inputs[call]):
                x.data[...] = a
        loss = run()
        results.append((loss.data.tobytes(),
                        [None if x.grad is None else x.grad.tobytes() for xs in leaves for x in xs]))
    return results


REFUSED = "computed outside graphgrad's ops"


def _check(program) -> None:
    """Bitwise equal to eager, or refused (CompileError) for a row that computes part of its
    result outside ops: never a replay that differs."""
    eager = _run(program, compiled=False)
    try:
        replayed = _run(program, compiled=True)
    except ag.CompileError as err:
        assert REFUSED in str(err), str(err)
        return
    for call, (want, got) in enumerate(zip(eager, replayed)):
        names = [spec.name for spec, _, _ in program]
        assert got[0] == want[0], f"{names}: loss of call {call}"
        assert got[1] == want[1], f"{names}: gradients of call {call}"


@settings(max_examples=max(40, settings().max_examples), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_random_programs_of_table_rows_replay_bitwise(data):
    specs = data.draw(st.lists(st.sampled_from(DIFFERENTIABLE), min_size=1, max_size=3),
                      label="rows")
    _check(_draw_program(data, specs))


@pytest.mark.parametrize("spec", DIFFERENTIABLE, ids=[s.name for s in DIFFERENTIABLE])
def test_every_differentiable_row_replays_bitwise(spec):
    @settings(max_examples=1, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def prop(data):
        _check(_draw_program(data, [spec]))
    prop()
