"""Notes between the booths, the floor speaker and the organizer, on any instance.

An interpreter's chat reaches the partners on the same channel and the organizer;
"slow down" reaches the floor speaker's page; "audio unusable" the organizer's live
view; the organizer writes to one booth or to all. Each note goes out on the bus, and
every instance serving the event hands it to its own speakers and keeps the last ones
for the organizer's view (`GET /live/{id}/notes`), whichever instance is asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from livevent.bus import Bus, keys
from livevent.bus.base import Subscription
from livevent.errors import LiveventError
from livevent.runtime.wire import BoothNote, Outgoing, send

log = logging.getLogger(__name__)

KEEP = 50  # notes kept for the organizer's view (and as many of the organizer's own)
# A booth's chat is a few lines a minute; a partner's hundred "slow down"s help nobody.
NOTES_PER_SENDER_PER_MINUTE = 20
ALL_BOOTHS = "*"  # an organizer's note to every booth


class Notes:
    def __init__(
        self,
        bus: Bus,
        event_id: int,
        floor: str,
        spawn: Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]],
        announce: Callable[[BoothNote], None] | None = None,
    ) -> None:
        self.bus = bus
        self.event_id = event_id
        self.floor = floor
        self._spawn = spawn
        self._announce = announce  # an organizer's message to every listener
        self.banner: BoothNote | None = None  # the latest, for listeners who join later
        # The organizer's own notes are kept apart: a busy booth cannot push them out.
        self._booths: deque[BoothNote] = deque(maxlen=KEEP)
        self._organizer: deque[BoothNote] = deque(maxlen=KEEP)
        self._speakers: dict[str, tuple[str, web.WebSocketResponse]] = {}

    async def open(self) -> None:
        subscription = await self.bus.subscribe(keys.live_notes(self.event_id))
        self._spawn(self._hear(subscription), f"notes:{self.event_id}")

    def speaker_joined(self, speaker_id: str, language: str, ws: web.WebSocketResponse) -> None:
        self._speakers[speaker_id] = (language, ws)

    def speaker_left(self, speaker_id: str) -> None:
        self._speakers.pop(speaker_id, None)

    @property
    def speaking_here(self) -> int:
        """Speakers connected to this instance (on air or standing by)."""
        return len(self._speakers)

    async def say(self, note: BoothNote) -> None:
        """Send a note everywhere the event is served; here at once if the bus is down."""
        try:
            await self.bus.publish(keys.live_notes(self.event_id), note.to_json())
        except LiveventError as error:
            log.warning("event %s: note not shared: %s", self.event_id, error)
            self._deliver(note)

    async def _hear(self, subscription: Subscription) -> None:
        try:
            async for message in subscription:
                try:
                    note = BoothNote.model_validate_json(message.data)
                except ValidationError:
                    log.warning("ignoring an unreadable note for event %s", self.event_id)
                    continue
                self._deliver(note)
        finally:
            await subscription.aclose()

    @property
    def log(self) -> list[BoothNote]:
        """The last notes of the booths and of the organizer, oldest first."""
        return sorted([*self._booths, *self._organizer], key=lambda note: note.at)

    def tell_here(self, message: Outgoing) -> None:
        """A message of the session to the speakers this instance serves."""
        for _, ws in list(self._speakers.values()):
            self._spawn(_send_quietly(ws, message), "speaker-message")

    def _deliver(self, note: BoothNote) -> None:
        (self._organizer if note.sender == "organizer" else self._booths).append(note)
        if note.kind == "announcement":
            self.banner = note
            if self._announce is not None:
                self._announce(note)
        for language, ws in list(self._speakers.values()):
            if self._reaches(note, language):
                self._spawn(_send_quietly(ws, note), "note")

    def _reaches(self, note: BoothNote, language: str) -> bool:
        """Who reads a note: chat, the channel's booth; slow down, the floor speaker; the
        organizer's, the booth it names or every booth. Audio unusable: the organizer."""
        if note.kind == "slow_down":
            return language == self.floor
        if note.kind in ("audio_unusable", "announcement"):
            return False
        if note.kind == "ask_channel":
            return language == note.channel
        if note.sender == "organizer" and note.channel == ALL_BOOTHS:
            return True
        return language == note.channel


async def _send_quietly(ws: web.WebSocketResponse, note: Outgoing) -> None:
    if not ws.closed:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await send(ws, note)
