"""The fuzz seed corpus (fuzz/seeds/<target>/) for tests outside the fuzz harness."""

from __future__ import annotations

from _fuzzing import targets


def seeds_by_target() -> dict[str, list[bytes]]:
    return {name: targets.seeds(name) for name in targets.TARGETS if targets.seeds(name)}
