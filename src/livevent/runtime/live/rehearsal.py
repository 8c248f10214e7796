"""A rehearsal: before the organizer goes live, speakers and interpreters connect, hear
each other and test their levels in the event's own session.

Listeners wait with the planned start in front of them (they hear nothing), nothing is
recorded or transcribed, and only staff are in the room. Going live turns the same
session live, so nobody on the stage reconnects; the runtime closes a rehearsal nobody
speaks in (runtime/rehearsals.py).
"""

from __future__ import annotations

import asyncio
import time

from livevent.model import Channel, EventConfig, EventStatus
from livevent.runtime.cluster.duties import OwnerDuties
from livevent.runtime.live.channels import ChannelState
from livevent.runtime.live.notes import Notes


class Rehearsal:
    """Mixed into `LiveSession`: how its rehearsal turns live."""

    rehearsing: bool
    status: EventStatus
    config: EventConfig
    started_at: float
    went_live: asyncio.Event
    channels: dict[str, ChannelState]
    duties: OwnerDuties
    notes: Notes

    def _notify(self, language: str) -> None:
        raise NotImplementedError

    async def reconfigure(self, config: EventConfig) -> list[Channel]:
        raise NotImplementedError

    def open_as(self, status: EventStatus) -> None:
        """A session opened before the event is LIVE rehearses."""
        self.rehearsing = status in (EventStatus.SCHEDULED, EventStatus.READY)
        self.status = status if self.rehearsing else EventStatus.LIVE
        self.went_live = asyncio.Event()
        if not self.rehearsing:
            self.went_live.set()

    async def go_live(self, config: EventConfig) -> bool:
        """The event is LIVE now (`config`): from this moment listeners hear it, and the
        owner records and transcribes it. False when it already was."""
        if not self.rehearsing:
            return False
        self.rehearsing = False
        self.status = EventStatus.LIVE
        self.started_at = time.time()
        self.duties.go_live()
        if {c.language for c in config.channels} - set(self.channels):
            await self.reconfigure(config)  # channels the organizer added while rehearsing
        self.config = config
        for language in self.channels:
            self._notify(language)
        self.went_live.set()
        return True

    @property
    def idle(self) -> bool:
        """Nobody speaks here, nor on any channel as this instance knows them."""
        return not self.notes.speaking_here and all(
            state.speaker is None and not (state.remote and state.remote.speaker)
            for state in self.channels.values()
        )
