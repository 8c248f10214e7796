"""Who speaks on one channel: one active speaker, and booth partners standing by.

Interpreters work in pairs and swap every half hour or so. A partner connects
in standby, hears the channel and sends nothing that reaches listeners; the
active one hands over explicitly, and they change places. When the active one
leaves, the first partner in line takes over by itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

# Told True when its speaker becomes the active one, False when it stands by again.
TurnCallback = Callable[[bool], None]


class Booth:
    def __init__(self) -> None:
        self.active: str | None = None
        self._callbacks: dict[str, TurnCallback] = {}
        self._waiting: list[str] = []

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def partners(self) -> list[str]:
        """The speakers standing by, first in line first."""
        return list(self._waiting)

    def enter(
        self,
        on_turn: TurnCallback | None = None,
        *,
        standby: bool = False,
        speaker_id: str | None = None,
    ) -> str | None:
        """A speaker id, active if the channel was free, else waiting when `standby` allows.

        `speaker_id` names a speaker that another instance serves (entered once only).
        """
        if speaker_id is not None and speaker_id in self._callbacks:
            return speaker_id
        if self.active is not None and not standby:
            return None
        speaker_id = speaker_id or uuid.uuid4().hex
        self._callbacks[speaker_id] = on_turn or (lambda active: None)
        if self.active is None:
            self.active = speaker_id
        else:
            self._waiting.append(speaker_id)
        return speaker_id

    def replace(
        self, old: str, on_turn: TurnCallback | None = None, *, speaker_id: str | None = None
    ) -> str:
        """A new connection of the active speaker takes its place on air; the partners
        keep theirs. Returns the new speaker id."""
        speaker_id = speaker_id or uuid.uuid4().hex
        self._callbacks.pop(old, None)
        self._callbacks[speaker_id] = on_turn or (lambda active: None)
        self.active = speaker_id
        return speaker_id

    def reserve(self, speaker_id: str) -> None:
        """Keep a free channel for an active speaker another instance serves, who is about
        to enter again (a new owner rebuilds its booths); `leave` lets the place go."""
        if self.active is None:
            self._callbacks[speaker_id] = lambda active: None
            self.active = speaker_id

    def hand_over(self, speaker_id: str) -> bool:
        """The active speaker yields to the first partner, and stands by in their place."""
        if self.active != speaker_id or not self._waiting:
            return False
        partner = self._waiting.pop(0)
        self.active = partner
        self._waiting.append(speaker_id)
        self._callbacks[partner](True)
        self._callbacks[speaker_id](False)
        return True

    def leave(self, speaker_id: str) -> bool:
        """Forget the speaker; True if it was the active one (its partner, if any, goes on)."""
        self._callbacks.pop(speaker_id, None)
        if speaker_id in self._waiting:
            self._waiting.remove(speaker_id)
            return False
        if self.active != speaker_id:
            return False
        self.active = None
        if self._waiting:
            self.active = self._waiting.pop(0)
            self._callbacks[self.active](True)
        return True
