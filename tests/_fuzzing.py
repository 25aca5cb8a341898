"""Shared by the fuzz tests: import the harness under fuzz/ and run one input under a deadline."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fuzz import targets  # noqa: E402


class Hang(Exception):
    pass


def _alarm(*_: object) -> None:
    raise Hang("input ran past its deadline")


def run_with_deadline(target: str, data: bytes, seconds: float) -> BaseException | None:
    """The stray exception the input raises in ``target`` (Hang past ``seconds``), or None."""
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return targets.run_one(target, data)
    except Hang as exc:
        return exc
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
