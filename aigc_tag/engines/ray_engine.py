"""The Ray engine: the same per-file function as Ray tasks, on a local Ray or a cluster.

Results come back to the driver, which alone writes the journal, the ledger and the report, so
the semantics match the local engine. Inputs and outputs are paths every Ray worker must see
(a shared filesystem on a cluster). At most a few tasks per CPU are in flight (memory stays flat);
a task past ``timeout`` is cancelled with ``force=True`` (its worker process is killed and Ray
starts another). Tasks are not retried: a file whose worker died is reported failed and is redone
by the next run of the same command (the journal does not mark it done).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from . import TaskFailure

__all__ = ["RayEngine"]


class RayEngine:
    def __init__(self, *, address: str | None, jobs: int, timeout: float | None) -> None:
        try:
            import ray
        except ImportError:
            raise ImportError("--engine ray needs Ray: pip install 'aigc-tag[ray]'") from None
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False)
                self._owns = True
        cpus = int(ray.cluster_resources().get("CPU", jobs))
        self.slots = max(1, cpus if address else min(cpus, jobs))
        self.timeout = timeout

    def map_unordered(
        self, func: Callable[[Any], Any], items: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]:
        ray = self._ray
        task = ray.remote(num_cpus=1, max_retries=0)(func)
        stream = iter(items)
        inflight: dict[Any, tuple[Any, float]] = {}
        exhausted = False
        limit = self.slots + 2  # a couple queued so no CPU idles while the driver catches up
        try:
            while True:
                while not exhausted and len(inflight) < limit:
                    try:
                        item = next(stream)
                    except StopIteration:
                        exhausted = True
                        break
                    deadline = time.monotonic() + self.timeout if self.timeout else float("inf")
                    inflight[task.remote(item)] = (item, deadline)
                if not inflight:
                    return
                soonest = min(d for _, d in inflight.values())
                wait_for = min(1.0, max(0.0, soonest - time.monotonic()))
                ready, _ = ray.wait(list(inflight), num_returns=1, timeout=wait_for)
                for ref in ready:
                    item, _ = inflight.pop(ref)
                    try:
                        yield item, ray.get(ref)
                    except Exception as exc:  # worker crash, cancelled, unpicklable result
                        yield item, TaskFailure(f"Ray task failed: {type(exc).__name__}: {exc}")
                now = time.monotonic()
                for ref, (item, deadline) in list(inflight.items()):
                    if now >= deadline:
                        ray.cancel(ref, force=True)
                        del inflight[ref]
                        message = f"timed out after {self.timeout:g}s; the Ray worker was killed"
                        yield item, TaskFailure(message)
        finally:
            for ref in inflight:
                ray.cancel(ref, force=True)

    def close(self) -> None:
        if self._owns:
            self._ray.shutdown()
            self._owns = False
