"""A short fuzz run of every target in CI (fuzz/run.py does the long runs).

Uses fuzz/mutate.py (boundary integers in length fields, inserted/deleted/duplicated runs,
truncation, splicing of two seeds), deterministic per target, about a second each; this extends
test_carrier_contract's byte flips and cuts with the structural mutations, and adds the XMP,
label-parser and sniff targets.
"""

from __future__ import annotations

import random
import time

import pytest
from _fuzzing import run_with_deadline, targets

from fuzz.mutate import mutate

BUDGET_S = 0.8
MAX_INPUTS = 400


@pytest.mark.parametrize("name", sorted(targets.TARGETS))
def test_short_fuzz_run(name):
    corpus = targets.seeds(name)
    assert corpus, f"fuzz/seeds/{name} is empty (python fuzz/make_seeds.py)"
    rng = random.Random(name)
    end = time.monotonic() + BUDGET_S
    runs = 0
    while runs < MAX_INPUTS and (runs < 20 or time.monotonic() < end):
        data = mutate(rng.choice(corpus), rng, rng.choice(corpus))
        exc = run_with_deadline(name, data, 5.0)
        assert exc is None, f"{name}: {type(exc).__name__}: {exc} (input {data[:64]!r}...)"
        runs += 1
