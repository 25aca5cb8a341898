"""One contract for every carrier: hostile bytes may raise only AigcTagError, never crash.

Seeds are the bundled samples after tagging (so every carrier's label places are populated);
each is cut at many lengths and mutated with random byte flips, and every reader and writer is
run on the result. The fuzzing issue extends this to coverage-guided runs; this is the fast floor.
"""

from __future__ import annotations

import random

import pytest
from conftest import PRODUCER, SAMPLES

from aigc_tag import Tagger
from aigc_tag.carriers import registry, sniff
from aigc_tag.errors import AigcTagError

SEEDS = sorted(p for p in SAMPLES.iterdir() if p.suffix != ".py")
LABEL = '{"AIGC":{"Label":"1","ContentProducer":"x","ProduceID":"y","ReservedCode1":"","ContentPropagator":"x","PropagateID":"y","ReservedCode2":""}}'  # noqa: E501


def _tagged(path) -> bytes:
    out, _ = Tagger(PRODUCER, visible=False, watermark=False).tag_bytes(path.read_bytes())
    return out


def _mutants(data: bytes, rng: random.Random, count: int) -> list[bytes]:
    cuts = [data[:n] for n in range(0, len(data), max(1, len(data) // 40))]
    flips = []
    for _ in range(count):
        buf = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            pos = rng.randrange(min(len(buf), 4096))  # headers and metadata live up front
            buf[pos] = rng.randrange(256)
        flips.append(bytes(buf))
    return cuts + flips


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name)
def test_readers_and_writers_raise_only_our_errors(seed):
    data = _tagged(seed)
    carrier = sniff(data[:64])
    rng = random.Random(seed.name)
    for mutant in _mutants(data, rng, 150):
        for call in (carrier.read_labels, carrier.read_xmp):
            try:
                call(mutant)
            except AigcTagError:
                pass
        try:
            carrier.write_label(mutant, LABEL)
        except AigcTagError:
            pass


def test_every_carrier_has_a_contract_seed():
    names = {sniff(p.read_bytes()[:64]).name for p in SEEDS}
    writable = {name for name, c in registry().items() if c.can_write}
    assert writable <= names, f"no bundled sample for {writable - names}"
