"""The speech workers on the bus, and which of them takes a job.

Each worker puts its `WorkerReport` under its heartbeat key every second (with a TTL)
and its name in the `live:workers` set; a name whose heartbeat lapsed is gone and is
taken out of the set by whoever reads it next.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from livevent.bus import Bus, keys
from livevent.errors import LiveventError
from livevent.runtime.workers.messages import WorkerReport

__all__ = ["WorkerReport", "capacity_problem", "choose", "workers"]


async def workers(bus: Bus) -> list[WorkerReport]:
    """The workers alive now, by name."""
    names = sorted(await bus.smembers(keys.live_workers()))
    reports: list[WorkerReport] = []
    for name in names:
        report = WorkerReport.read(await bus.get(keys.worker_alive(name)))
        if report is None:
            with contextlib.suppress(LiveventError):
                await bus.srem(keys.live_workers(), name)
            continue
        reports.append(report)
    return reports


def choose(reports: Iterable[WorkerReport], *, exclude: set[str]) -> WorkerReport | None:
    """The worker with the most free slots (ties: the least loaded); None when all are full."""
    candidates = [r for r in reports if r.free > 0 and r.name not in exclude]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (-r.free, r.load, r.name))


def capacity_problem(reports: list[WorkerReport]) -> str:
    """What machine channels say while no worker has a slot for them."""
    if not reports:
        return (
            "no speech capacity: no speech worker is running; the channel starts by itself"
            " when one joins"
        )
    slots = sum(r.slots for r in reports)
    return (
        f"no speech capacity: all {slots} slot(s) of {len(reports)} speech worker(s) are"
        " taken; the channel starts by itself when one frees"
    )
