"""TranscriptWriter on a real spool file: order through an outage, refusals skipped,
what a dead process left drained by the next, and an append that survives SIGKILL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from livevent.errors import NotFound, Unavailable
from livevent.model import TranscriptSegment
from livevent.runtime.storage.spool import Spool, count_waiting, spool_path
from livevent.runtime.storage.transcripts import SEGMENT, TranscriptWriter
from tests.support.live import poll


def segment(sequence: int) -> TranscriptSegment:
    return TranscriptSegment(
        event_id=123457,
        sequence=sequence,
        key=f"run-{sequence}",
        language="en-US",
        text=f"sentence {sequence}",
        start_seconds=sequence,
        end_seconds=sequence + 1,
        spoken_at=datetime.now(UTC),
    )


class Store:
    """Refuses writes while `down` (as an unreachable database does), else keeps them."""

    def __init__(self) -> None:
        self.down = False
        self.kept: list[int] = []
        self.attempts = 0
        self.refuse: set[int] = set()
        self.tried_three_times = asyncio.Event()

    async def write(self, item: TranscriptSegment) -> None:
        self.attempts += 1
        if self.attempts >= 3:
            self.tried_three_times.set()
        if self.down:
            raise Unavailable("the store is unreachable")
        if item.sequence in self.refuse:
            raise NotFound("the event was deleted")
        self.kept.append(item.sequence)


@pytest.fixture
async def spool(tmp_path: Path) -> AsyncIterator[Spool]:
    opened = Spool(tmp_path / "spool.sqlite3")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def test_segments_wait_out_an_outage_in_order(spool: Spool) -> None:
    store = Store()
    writer = TranscriptWriter(spool, store.write, retry_after=0.01, max_retry=0.05)
    writer.start()
    store.down = True
    for sequence in range(1, 6):
        await writer.record(segment(sequence))
    async with asyncio.timeout(30):
        await store.tried_three_times.wait()  # it keeps trying, with backoff
    assert writer.outage and writer.waiting == 5 and store.kept == []
    assert await spool.count() == 5
    store.down = False
    async with asyncio.timeout(30):
        await writer.drained()
    assert store.kept == [1, 2, 3, 4, 5]
    assert writer.written == 5 and not writer.outage and await spool.count() == 0
    await writer.aclose()


async def test_a_refused_segment_is_skipped_and_the_rest_go_on(spool: Spool) -> None:
    store = Store()
    store.refuse = {2}
    writer = TranscriptWriter(spool, store.write)
    writer.start()
    for sequence in (1, 2, 3):
        await writer.record(segment(sequence))
    async with asyncio.timeout(30):
        await writer.drained()
    assert store.kept == [1, 3] and writer.waiting == 0
    await writer.aclose()


async def test_what_one_writer_could_not_store_the_next_one_does(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    store = Store()
    store.down = True
    async with TranscriptWriter.running(path, store.write) as first:
        await first.record(segment(1))
        await first.record(segment(2))
    assert await count_waiting(path) == 2 and store.kept == []

    store.down = False
    async with TranscriptWriter.running(path, store.write) as second:
        async with asyncio.timeout(30):
            await second.drained()
    assert store.kept == [1, 2] and await count_waiting(path) == 0


async def test_entries_another_process_appends_are_drained_too(spool: Spool) -> None:
    store = Store()
    writer = TranscriptWriter(spool, store.write)
    writer.start()
    async with asyncio.timeout(30):
        await writer.drained()
    other = Spool(spool.path)  # another instance on the same host, same store
    await other.open()
    try:
        await other.append(SEGMENT, segment(7).model_dump_json())
    finally:
        await other.close()

    async def stored() -> bool:
        return store.kept == [7]

    await poll(stored, within=30)  # it looks again every few seconds, unwoken
    await writer.aclose()


def test_an_append_survives_sigkill_of_its_process(tmp_path: Path) -> None:
    path = tmp_path / "spool.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", _APPEND_THEN_WAIT, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    with child.stdout:
        assert child.stdout.readline().strip() == "appended"  # returned from append: on disk
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    assert asyncio.run(count_waiting(path)) == 3


_APPEND_THEN_WAIT = """
import asyncio, sys, time
from pathlib import Path
from livevent.runtime.storage.spool import Spool

async def main():
    spool = Spool(Path(sys.argv[1]))
    await spool.open()
    for n in range(3):
        await spool.append("transcript-segment", str(n))
    print("appended", flush=True)
    time.sleep(600)  # never closes: killed here

asyncio.run(main())
"""


def test_each_store_has_its_own_spool_file(tmp_path: Path) -> None:
    one = spool_path(tmp_path, "postgresql://livevent:secret@db-one/livevent")
    same = spool_path(tmp_path, "postgresql://livevent:other@db-one/livevent")
    two = spool_path(tmp_path, "postgresql://livevent@db-two/livevent")
    assert one == same and one != two and one.parent == tmp_path
