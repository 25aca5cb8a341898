"""Replay every input the fuzzer ever saved (tests/fuzz_regressions/<target>/): only AigcTagError
may escape its target, within a deadline."""

from __future__ import annotations

import pytest
from _fuzzing import run_with_deadline, targets

CASES = targets.regressions()
DEADLINE = 5.0  # the fuzzer's per-input deadline is 2 s; CI machines are shared and slower


@pytest.mark.parametrize("target,path", CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_saved_input_is_handled(target, path):
    assert target in targets.TARGETS, f"unknown fuzz target folder {target}"
    exc = run_with_deadline(target, path.read_bytes(), DEADLINE)
    assert exc is None, f"{target}/{path.name}: {type(exc).__name__}: {exc}"


def test_seeds_pass_every_target():
    for name in targets.TARGETS:
        for data in targets.seeds(name):
            assert run_with_deadline(name, data, DEADLINE) is None, name
