"""TranscriptWriter on its own: order kept through an outage, refusals skipped, a deadline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from livevent.errors import NotFound, Unavailable
from livevent.model import TranscriptSegment
from livevent.runtime.transcript_writer import TranscriptWriter


def segment(sequence: int) -> TranscriptSegment:
    return TranscriptSegment(
        event_id=123457,
        sequence=sequence,
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


async def test_segments_wait_out_an_outage_in_order() -> None:
    store = Store()
    writer = TranscriptWriter(store.write, retry_after=0.01, max_retry=0.05)
    writer.start()
    store.down = True
    for sequence in range(1, 6):
        await writer.record(segment(sequence))
    async with asyncio.timeout(30):
        await store.tried_three_times.wait()  # it keeps trying, with backoff
    assert writer.outage and writer.waiting == 5 and store.kept == []
    store.down = False
    async with asyncio.timeout(30):
        await writer.drained()
    assert store.kept == [1, 2, 3, 4, 5]
    assert writer.written == 5 and not writer.outage
    await writer.aclose()


async def test_a_refused_segment_is_skipped_and_the_rest_go_on() -> None:
    store = Store()
    store.refuse = {2}
    writer = TranscriptWriter(store.write)
    writer.start()
    for sequence in (1, 2, 3):
        await writer.record(segment(sequence))
    async with asyncio.timeout(30):
        await writer.drained()
    assert store.kept == [1, 3] and writer.waiting == 0
    await writer.aclose()


async def test_closing_gives_up_after_its_grace_and_says_what_is_lost() -> None:
    store = Store()
    store.down = True
    writer = TranscriptWriter(store.write, retry_after=0.01, max_retry=0.01)
    writer.start()
    await writer.record(segment(1))
    await writer.aclose(grace=0.2)
    assert writer.waiting == 1 and store.kept == []
