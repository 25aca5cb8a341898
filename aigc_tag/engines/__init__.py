"""Execution engines for batches: a local process pool and Ray.

An engine maps one picklable per-file function over a stream of items and yields ``(item,
result)`` pairs as they complete. It keeps only a bounded number of items in flight (memory stays
flat with the number of files) and enforces a per-item timeout: a stuck item yields a
:class:`TaskFailure` and its worker is replaced. The caller (the driver) alone writes journals and
ledgers; workers only compute and write their own output file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Engine", "TaskFailure", "make_engine"]


@dataclass(frozen=True)
class TaskFailure:
    """An item the engine could not run to completion (timeout, worker crash)."""

    message: str


class Engine(Protocol):
    def map_unordered(
        self, func: Callable[[Any], Any], items: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]: ...

    def close(self) -> None: ...


def make_engine(
    name: str, *, jobs: int, timeout: float | None, ray_address: str | None = None
) -> Engine:
    """``local`` (worker processes with timeouts and replacement) or ``ray``."""
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(address=ray_address, jobs=jobs, timeout=timeout)
    from .local import LocalEngine

    return LocalEngine(jobs=jobs, timeout=timeout)
