"""A relay becomes the owner of an event (the owner died): the part of `Speakers`
(cluster/speakers.py) that rebuilds the booths from this instance's speakers and keeps a
relay's active speaker's place while it enters again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from livevent.runtime.cluster.messages import BoothMessage, BoothState, Resync
from livevent.runtime.cluster.seats import Seats
from livevent.runtime.live.booth import TurnCallback
from livevent.runtime.live.channels import ChannelState

log = logging.getLogger(__name__)

# How long a new owner keeps the channel for the active speaker of a relay, which is
# to enter again; one that does not (its instance died too) leaves the place to a partner.
RESUME_GRACE = 2.0


class Promotion:
    channels: dict[str, ChannelState]
    _took_over: asyncio.Event
    _active: dict[str, str | None]
    _active_seat: dict[str, BoothState]
    seats: Seats
    _local: dict[str, tuple[str, TurnCallback]]
    _resumed: set[str]
    _spawn: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]]
    _changed: Callable[[str], None]
    _post: Callable[[BoothMessage], None]

    def _broadcast(self, language: str, request: str | None = None, ok: bool = True) -> None:
        raise NotImplementedError  # Speakers says the channel's state on the bus

    def promote(self) -> None:
        """Rebuild the booths from this instance's speakers; ask the others for theirs."""
        self._took_over.set()  # a command waiting for the dead owner is applied here
        for language, state in self.channels.items():
            previous = self._active.get(language)
            if previous is not None and previous not in self._local:
                # A relay's active speaker: on air still, the partners here wait. Kept
                # for their token: coming back through any instance, they take it at once.
                state.booth.reserve(previous)
                seat = self._active_seat.get(language)
                if seat is not None and seat.active == previous and state.booth.active == previous:
                    self.seats.take(previous, language, seat.instance or "?", seat.token)
                self._spawn(self._unless_resumed(language, previous), f"resume:{language}")
            mine = [(sid, turn) for sid, (lang, turn) in self._local.items() if lang == language]
            # The one that was active goes first, so it stays active if it can.
            mine.sort(key=lambda entry: entry[0] != self._active.get(language))
            for speaker_id, turn in mine:
                state.booth.enter(turn, standby=True, speaker_id=speaker_id)
            active = state.booth.active
            if active is not None:
                if active != self._active.get(language):
                    self._local[active][1](True)  # a partner here takes the floor
                self._changed(language)
            self._broadcast(language)
        self._post(Resync())

    async def _unless_resumed(self, language: str, speaker_id: str) -> None:
        await asyncio.sleep(RESUME_GRACE)  # the grace a relay has to enter again
        booth = self.channels[language].booth
        if speaker_id not in self._resumed and booth.active == speaker_id:
            log.info(
                "channel %s: its active speaker did not come back; a partner goes on", language
            )
            self.seats.leave(speaker_id)
            if booth.leave(speaker_id):
                self._changed(language)
            self._broadcast(language)
