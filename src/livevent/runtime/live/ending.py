"""Ending an event as a booth would: the floor stops, every channel finishes what it
was saying, then the event closes.

An interpreter does not stop mid-sentence when the speaker sits down. The owner stops
taking floor audio, lets its machine channels speak everything the floor said (for as
long as they keep saying something: on a busy machine the tail is long, and a fixed
cap would cut its last sentence; they are given up on only after
`finish_machine_seconds` without a word or a sound) and gives interpreters on air
`finish_human_seconds`.
A relay hears the same tail through the owner, so it waits for the owner to let the
event go (its lock freed) before it closes its own listeners' sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from livevent.bus import Bus, keys
from livevent.errors import LiveventError
from livevent.model import ChannelKind, EventConfig
from livevent.runtime.live.channels import ChannelState

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
# However much is left to say, an ending takes at most this many times the stall limit.
MAX_STALLS = 6
# A relay waits this much longer than the owner may take before it closes regardless.
RELAY_MARGIN = 3.0


class Finishing:
    """Mixed into `LiveSession`: how it turns to finishing, and ends its interpreters."""

    finishing: bool
    deaf: bool
    config: EventConfig
    channels: dict[str, ChannelState]

    def _floor_ended(self, language: str) -> None:
        raise NotImplementedError

    def _notify(self, language: str) -> None:
        raise NotImplementedError

    def begin_finishing(self) -> None:
        """The event is ending: no more floor audio; channels finish what they say."""
        if self.finishing:
            return
        self.finishing = True
        self._floor_ended(self.config.source_language)
        for language in self.channels:
            self._notify(language)

    def interpreters_done(self) -> None:
        """Ending, after the interpreters' grace: their speech so far is an utterance."""
        for language, state in self.channels.items():
            if state.channel.kind is ChannelKind.HUMAN:
                self._floor_ended(language)

    def stop_hearing(self) -> None:
        """Leaving for a restart: no more speech is taken here, and what was said so far,
        on the floor and by the interpreters, is an utterance to make final."""
        self.deaf = True
        self._floor_ended(self.config.source_language)
        self.interpreters_done()


class FinishingPipeline(Protocol):
    @property
    def finished(self) -> bool: ...

    @property
    def busy(self) -> bool: ...


class EndingSession(Protocol):
    channels: dict[str, ChannelState]

    @property
    def event_id(self) -> int: ...

    @property
    def role(self) -> str: ...

    @property
    def pipeline(self) -> FinishingPipeline | None: ...

    def begin_finishing(self) -> None: ...

    def interpreters_done(self) -> None: ...


def interpreters_on_air(channels: dict[str, ChannelState]) -> bool:
    return any(
        state.channel.kind is ChannelKind.HUMAN
        and state.speaker is not None
        and not state.muted
        and state.remote is None
        for state in channels.values()
    )


async def finish_speaking(
    session: EndingSession, *, machine_seconds: float, human_seconds: float
) -> float:
    """The owner's part: the floor stops; returns once every channel said its last words
    (or the limits passed), the seconds it took."""
    started = time.monotonic()
    human = human_seconds if interpreters_on_air(session.channels) else 0.0
    session.begin_finishing()

    graced = False

    def done() -> bool:
        nonlocal graced
        if not graced and time.monotonic() - started >= human:
            # The interpreters' grace is over: what they said is their last utterance.
            graced = True
            session.interpreters_done()
        pipeline = session.pipeline
        return graced and (pipeline is None or pipeline.finished)

    progress = Progress(session.channels)

    def finished_or_stalled() -> bool:
        if done():
            return True
        pipeline = session.pipeline
        if pipeline is not None and pipeline.busy:
            progress.touch()  # recognising or translating: work, not a stall
        return progress.stalled_for() > max(machine_seconds, human)

    limit = MAX_STALLS * max(machine_seconds, human, 1.0)
    await until_true(finished_or_stalled, limit)
    took = time.monotonic() - started
    if not done():
        log.warning(
            "event %s: machine channels said nothing more for %.0f s (%.0f s in all):"
            " ending anyway",
            session.event_id,
            progress.stalled_for(),
            took,
        )
    return took


class Progress:
    """Whether the channels other than the floor are still saying something: audio
    frames or captions sent to their listeners."""

    def __init__(self, channels: dict[str, ChannelState]) -> None:
        self.channels = channels
        self.count = self._count()
        self.moved = time.monotonic()

    def _count(self) -> int:
        return sum(
            state.hub.stats.frames_in + state.hub.stats.captions
            for state in self.channels.values()
            if state.channel.kind is not ChannelKind.FLOOR
        )

    def touch(self) -> None:
        self.moved = time.monotonic()

    def stalled_for(self) -> float:
        count = self._count()
        if count != self.count:
            self.count, self.moved = count, time.monotonic()
        return time.monotonic() - self.moved


async def owner_lets_go(
    session: EndingSession, bus: Bus, instance: str, *, machine_seconds: float, human_seconds: float
) -> None:
    """A relay's part: listeners here hear the owner's tail until it frees the event."""
    session.begin_finishing()
    key = keys.live_owner(session.event_id)

    async def let_go() -> bool:
        try:
            return await bus.get(key) in (None, instance)
        except LiveventError:
            return False

    limit = max(machine_seconds, human_seconds) + RELAY_MARGIN
    await _until_async(let_go, limit)


async def until_true(condition: Callable[[], bool], limit: float) -> bool:
    async def check() -> bool:
        return condition()

    return await _until_async(check, limit)


async def _until_async(condition: Callable[[], Awaitable[bool]], limit: float) -> bool:
    """Poll `condition` until it holds (True) or `limit` seconds pass (False)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(limit):
            # Speech plays out in many places (booths, players, another instance's lock):
            # one event for all of them would thread through every part; a poll does not.
            while not await condition():  # noqa: ASYNC110
                await asyncio.sleep(POLL_SECONDS)
            return True
    return False
