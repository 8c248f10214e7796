"""Transcript segments on their way to the store, kept in order through a store outage.

Live events go on when the store is down; what was said must still end up in
it. Segments wait in memory, in order, and are written as soon as the store
answers again. Only a crash of this process while the store is down loses them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable

from livevent.errors import LiveventError, Unavailable
from livevent.model import TranscriptSegment

log = logging.getLogger(__name__)

# An hour of speech is ~1,000 segments; this is days of them.
MAX_WAITING = 100_000


class TranscriptWriter:
    def __init__(
        self,
        write: Callable[[TranscriptSegment], Awaitable[None]],
        *,
        retry_after: float = 0.5,
        max_retry: float = 5.0,
    ) -> None:
        self._write = write
        self._waiting: collections.deque[TranscriptSegment] = collections.deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._retry_after = retry_after
        self._max_retry = max_retry
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.dropped = 0
        self.outage = False

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="transcript-writer")

    async def record(self, segment: TranscriptSegment) -> None:
        """Queue a segment; it is written in order, now or after an outage."""
        if len(self._waiting) >= MAX_WAITING:
            self._waiting.popleft()
            self.dropped += 1
            log.error("transcript buffer full: the oldest waiting segment is lost")
        self._waiting.append(segment)
        self._idle.clear()
        self._wake.set()

    async def drained(self) -> None:
        """Return when everything waiting is written (bound it with asyncio.timeout)."""
        await self._idle.wait()

    async def aclose(self, *, grace: float = 5.0) -> None:
        """Stop after writing what waits, or after `grace` seconds of trying."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace):
                await self.drained()
        if self._waiting:
            log.error("%d transcript segments could not be stored", len(self._waiting))
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = self._retry_after
        while True:
            if not self._waiting:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            segment = self._waiting[0]
            try:
                await self._write(segment)
            except Unavailable as error:
                if not self.outage:
                    log.warning("store unavailable, keeping transcript segments: %s", error)
                self.outage = True
                await asyncio.sleep(delay)  # backoff until the store answers again
                delay = min(delay * 2, self._max_retry)
                continue
            except LiveventError as error:
                # Refused for good (the event was deleted, say): retrying cannot help.
                log.error("transcript segment %s refused: %s", segment.sequence, error)
            else:
                self.written += 1
                if self.outage:
                    log.warning("store back: writing %d waiting segments", len(self._waiting))
                self.outage = False
            delay = self._retry_after
            self._waiting.popleft()
