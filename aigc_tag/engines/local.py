"""A process pool with a bounded in-flight queue, per-item timeouts and worker replacement.

``concurrent.futures`` cannot kill one stuck worker without breaking the whole pool, so each
worker here is a plain process fed one item at a time over its own pipe. The parent waits on all
pipes at once; an item past its deadline has its worker killed (SIGKILL) and a fresh one started.
Workers die with the parent (``PR_SET_PDEATHSIG`` on Linux), so a killed run leaves no orphan
writing outputs behind the next run's back.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from . import TaskFailure

__all__ = ["LocalEngine"]


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _worker_main(func: Callable[[Any], Any], conn: Connection, parent: int) -> None:
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the signal was armed
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        try:
            result = func(item)
        except BaseException as exc:  # the function should not raise; report it if it does
            result = TaskFailure(f"internal error: {type(exc).__name__}: {exc}")
        try:
            conn.send(result)
        except (BrokenPipeError, OSError):
            return


class _Worker:
    def __init__(self, ctx: Any, func: Callable[[Any], Any]) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(func, child, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.item: Any = None
        self.busy = False
        self.deadline = float("inf")

    def give(self, item: Any, timeout: float | None) -> None:
        self.item, self.busy = item, True
        self.deadline = time.monotonic() + timeout if timeout else float("inf")
        self.conn.send(item)

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(2)
        self.conn.close()


class LocalEngine:
    """``jobs`` worker processes; at most ``2 * jobs`` items are taken from the stream ahead."""

    def __init__(self, *, jobs: int, timeout: float | None) -> None:
        self.jobs = max(1, jobs)
        self.timeout = timeout
        method = "fork" if sys.platform.startswith("linux") else None
        self._ctx = mp.get_context(method)
        self._workers: list[_Worker] = []

    def map_unordered(
        self, func: Callable[[Any], Any], items: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]:
        stream = iter(items)
        pending: deque[Any] = deque()
        exhausted = False
        self._workers = [_Worker(self._ctx, func) for _ in range(self.jobs)]
        try:
            while True:
                # Keep every idle worker fed, reading the stream only as far as needed.
                for i, w in enumerate(self._workers):
                    if w.busy:
                        continue
                    if not pending and not exhausted:
                        try:
                            pending.append(next(stream))
                        except StopIteration:
                            exhausted = True
                    if not pending:
                        break
                    item = pending.popleft()
                    try:
                        w.give(item, self.timeout)
                    except OSError:  # the worker died while idle: replace it, retry the item
                        w.kill()
                        self._workers[i] = _Worker(self._ctx, func)
                        pending.appendleft(item)
                busy = [w for w in self._workers if w.busy]
                if not busy:
                    return
                now = time.monotonic()
                wait_for = max(0.0, min(w.deadline for w in busy) - now)
                ready = wait([w.conn for w in busy], timeout=min(wait_for, 3600))
                for i, w in enumerate(self._workers):
                    if not w.busy:
                        continue
                    if w.conn in ready:
                        try:
                            result = w.conn.recv()
                        except (EOFError, OSError):
                            code = w.proc.exitcode
                            w.kill()
                            self._workers[i] = _Worker(self._ctx, func)
                            yield w.item, TaskFailure(f"worker process died (exit code {code})")
                            continue
                        w.busy = False
                        yield w.item, result
                    elif time.monotonic() >= w.deadline:
                        w.kill()
                        self._workers[i] = _Worker(self._ctx, func)
                        message = f"timed out after {self.timeout:g}s; the worker was replaced"
                        yield w.item, TaskFailure(message)
        finally:
            self.close()

    def close(self) -> None:
        for w in self._workers:
            if w.busy:
                w.kill()
            else:
                w.stop()
        self._workers = []
