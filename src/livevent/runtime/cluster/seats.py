"""Where each speaker in the owner's booths is connected, and with which token.

The owner frees the places of an instance that died (its heartbeat lapsed), and a
speaker who comes back with the same token (a page reload, a reconnect through another
instance) takes their own place back instead of finding it held by their old socket.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from livevent.runtime.live.booth import TurnCallback
from livevent.runtime.live.channels import ChannelState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Seat:
    language: str
    instance: str
    token: str | None


class Seats:
    def __init__(self) -> None:
        self._seats: dict[str, Seat] = {}  # speaker id -> where

    def take(self, speaker_id: str, language: str, instance: str, token: str | None) -> None:
        self._seats[speaker_id] = Seat(language, instance, token)

    def of(self, speaker_id: str | None) -> Seat | None:
        return None if speaker_id is None else self._seats.get(speaker_id)

    def leave(self, speaker_id: str) -> None:
        self._seats.pop(speaker_id, None)

    def on(self, instance: str) -> list[tuple[str, str]]:
        """(speaker id, language) of every speaker connected to `instance`."""
        return [
            (sid, seat.language) for sid, seat in self._seats.items() if seat.instance == instance
        ]

    def same_token(self, speaker_id: str | None, token: str | None) -> bool:
        """Whether the speaker holding a place came with this token."""
        if speaker_id is None or token is None:
            return False
        seat = self._seats.get(speaker_id)
        return seat is not None and seat.token == token


class SeatKeeping:
    """The owner's part of `Speakers` (cluster/speakers.py) that keeps seats: a speaker
    coming back with their token, and the speakers of an instance that died."""

    channels: dict[str, ChannelState]
    seats: Seats
    names: dict[str, str]
    _local: dict[str, tuple[str, TurnCallback]]
    _replaced: dict[str, Callable[[], None]]
    _is_owner: Callable[[], bool]
    _changed: Callable[[str], None]

    def _broadcast(self, language: str, request: str | None = None, ok: bool = True) -> None:
        raise NotImplementedError  # Speakers says the channel's state on the bus

    def _seat(
        self, speaker_id: str, language: str, instance: str, token: str | None, who: str | None
    ) -> None:
        self.seats.take(speaker_id, language, instance, token)
        if who:
            self.names[speaker_id] = who

    def _take_back(self, language: str, token: str | None, standby: bool) -> str | None:
        """The owner: the same token comes back for the place on air (a reload, a reconnect
        after its instance died): the old connection is let go and its id returned, for
        the new one to take its place (`Booth.replace`); None when nothing is taken back."""
        old = self.channels[language].booth.active
        if standby or old is None or not self.seats.same_token(old, token):
            return None
        log.info("channel %s: its speaker came back on a new connection", language)
        kick = self._replaced.pop(old, None)
        if kick is not None:
            kick()
        self._local.pop(old, None)
        self.names.pop(old, None)
        self.seats.leave(old)
        return old

    def instance_gone(self, instance: str) -> None:
        """The owner: an instance died; its speakers (on air or standing by) leave."""
        if not self._is_owner():
            return
        for speaker_id, language in self.seats.on(instance):
            log.info("channel %s: its speaker on instance %s is gone", language, instance)
            self.seats.leave(speaker_id)
            self.names.pop(speaker_id, None)
            if self.channels[language].booth.leave(speaker_id):
                self._changed(language)
            self._broadcast(language)
