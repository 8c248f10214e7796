"""Transcript segments on their way to the store, through a spool on disk.

Live events go on when the store is down; what was said must still end up in it,
even if this process dies before the store is back. `record` appends a segment to
the spool (on disk when it returns); the drain writes the spool to the store in
order and removes what the store has taken. It drains what it finds at start and
looks again every few seconds, so segments left by a dead process (this one's
predecessor, or another instance on the host) reach the store too. Writes carry
the segment's key: one written twice is stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pydantic

from livevent.errors import LiveventError, Unavailable
from livevent.model import TranscriptSegment
from livevent.runtime.storage.spool import Entry, Spool

log = logging.getLogger(__name__)

SEGMENT = "transcript-segment"
BATCH = 100
# Other processes append to a shared spool without waking this one.
LOOK_AGAIN = 2.0


class TranscriptWriter:
    def __init__(
        self,
        spool: Spool,
        write: Callable[[TranscriptSegment], Awaitable[None]],
        *,
        retry_after: float = 0.5,
        max_retry: float = 5.0,
    ) -> None:
        self.spool = spool
        self._write = write
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._retry_after = retry_after
        self._max_retry = max_retry
        self._task: asyncio.Task[None] | None = None
        self.waiting = 0  # entries in the spool at the last look
        self.written = 0
        self.outage = False

    @classmethod
    @contextlib.asynccontextmanager
    async def running(
        cls, path: Path, write: Callable[[TranscriptSegment], Awaitable[None]]
    ) -> AsyncIterator[TranscriptWriter]:
        """A writer draining the spool at `path` (made if missing) until the block ends."""
        spool = Spool(path)
        await spool.open()
        try:
            writer = cls(spool, write)
            writer.start()
            try:
                yield writer
            finally:
                await writer.aclose()
        finally:
            await spool.close()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="transcript-writer")

    async def record(self, segment: TranscriptSegment) -> None:
        """Return once the segment is on disk; it reaches the store in order, now or later."""
        await self.spool.append(SEGMENT, segment.model_dump_json())
        self.waiting += 1
        self._idle.clear()
        self._wake.set()

    async def drained(self) -> None:
        """Return when the spool is empty (bound it with asyncio.timeout)."""
        await self._idle.wait()

    async def aclose(self, *, grace: float = 5.0) -> None:
        """Stop after writing what waits, or after `grace` seconds; the rest stays spooled."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.drained()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self.waiting:
            path = self.spool.path
            log.warning("%d transcript segments wait in %s for the store", self.waiting, path)

    async def _run(self) -> None:
        delay = self._retry_after
        while True:
            try:
                delay = await self._drain_some(delay)
            except sqlite3.Error as error:
                log.error("transcript spool failed, trying again: %s", error)
                await asyncio.sleep(self._max_retry)

    async def _drain_some(self, delay: float) -> float:
        """One look at the spool; returns the next backoff delay."""
        self._wake.clear()  # a record from here on wakes the next look
        entries = await self.spool.head(BATCH)
        self.waiting = len(entries) if len(entries) < BATCH else await self.spool.count()
        if not entries:
            await self._rest()
            return self._retry_after
        for entry in entries:
            if not await self._drain(entry):
                await asyncio.sleep(delay)  # backoff until the store answers again
                return min(delay * 2, self._max_retry)
        return self._retry_after

    async def _rest(self) -> None:
        if self._wake.is_set():
            return  # appended while the spool was read
        self._idle.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LOOK_AGAIN):
                await self._wake.wait()

    async def _drain(self, entry: Entry) -> bool:
        """Write one entry and remove it; False while the store is away."""
        try:
            segment = TranscriptSegment.model_validate_json(entry.body)
            await self._write(segment)
        except Unavailable as error:
            if not self.outage:
                log.warning("store unavailable, spooling transcript segments: %s", error)
            self.outage = True
            return False
        except Exception as error:
            if not isinstance(error, LiveventError | pydantic.ValidationError):
                # Not a refusal we understand: keep the entry and try again later.
                log.exception("writing spooled transcript entry %s failed", entry.id)
                return False
            # Refused for good (the event was deleted, say): retrying cannot help.
            log.error("spooled transcript entry %s dropped: %s", entry.id, error)
        else:
            self.written += 1
            if self.outage:
                log.warning("store back: writing the spooled transcript segments")
            self.outage = False
        await self.spool.remove(entry.id)
        self.waiting = max(0, self.waiting - 1)
        return True
