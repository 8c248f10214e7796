"""What the speech pipeline may do to the live session it serves, and nothing more."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Protocol

from livevent.model import EventConfig
from livevent.runtime.wire import Caption


class PipelineHost(Protocol):
    config: EventConfig

    @property
    def event_id(self) -> int: ...

    def speak(self, language: str, frame: bytes) -> None:
        """A 20 ms frame of the machine's speech for the channel's listeners."""

    def flush(self, language: str) -> None:
        """Send what the channel has batched: its speech paused."""

    def caption(self, language: str, caption: Caption) -> None: ...

    def set_playing(self, language: str, playing: bool) -> None: ...

    def set_problem(self, language: str, problem: str) -> None:
        """The channel cannot run; listeners are told why."""

    def set_note(self, language: str, note: str) -> None:
        """The channel runs, captions only; listeners are told why there is no voice."""

    def set_warning(self, language: str, warning: str) -> None:
        """The channel runs, but listeners should know something (a voice hard to follow)."""

    def set_relay(self, language: str, origin: str | None) -> None:
        """A relayed channel translates this interpreter's channel now (None: the floor)."""

    def is_paused(self, language: str) -> bool:
        """Nobody has listened to the channel for a while, nor records it: do no work."""

    def has_listeners(self, language: str) -> bool: ...

    def spawn(self, coroutine: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        """A task that ends when the session does."""


class SpeechPipeline(Protocol):
    """What a session asks of the machine pipeline attached to it (in this process, or
    a speech worker's seen through `RemoteSpeech`)."""

    def on_floor_frame(self, frame: bytes) -> None: ...
    def end_of_speech(self) -> None: ...
    def on_channel_frame(self, language: str, frame: bytes) -> None: ...
    def channel_speech_ended(self, language: str) -> None: ...
    def snapshot(self) -> dict[str, Any]: ...
    async def settle(self) -> None: ...
    @property
    def finished(self) -> bool: ...
    @property
    def busy(self) -> bool: ...
