"""What a speech job's pipeline sees of the owner's session: its channels, mirrored from
the owner's state messages, and a `PipelineHost` whose every call goes to the owner as
a message on `speech_out` (the owner applies it to its session: remote.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from livevent.model import Channel, EventConfig
from livevent.runtime.wire import Caption
from livevent.runtime.workers.links import post
from livevent.runtime.workers.messages import (
    CaptionOut,
    Flush,
    Playing,
    StandingIn,
    Tell,
    frame_message,
)


class MirrorChannel:
    """A channel of the owner's session, as its last state message told it."""

    def __init__(self, channel: Channel, standing: Callable[[str, bool], None]) -> None:
        self.channel = channel
        self.on_air = False
        self.paused = True
        self.listeners = False
        self._standing_in = False
        self._standing = standing

    @property
    def speaker(self) -> str | None:
        return "on air" if self.on_air else None

    @property
    def standing_in(self) -> bool:
        return self._standing_in

    @standing_in.setter
    def standing_in(self, on: bool) -> None:
        if on != self._standing_in:
            self._standing_in = on
            self._standing(self.channel.language, on)


class MirrorHost:
    """Mixed into `SpeechJob`: the pipeline's host, on the job's side of the bus."""

    config: EventConfig
    _channels: dict[str, MirrorChannel]
    _outbox: asyncio.Queue[bytes]
    _tasks: set[asyncio.Task[Any]]

    @property
    def event_id(self) -> int:
        return self.config.id

    @property
    def channels(self) -> Mapping[str, MirrorChannel]:
        return self._channels

    def _mirror(self, channel: Channel) -> MirrorChannel:
        return MirrorChannel(channel, self._standing_changed)

    # -- PipelineHost: what the pipeline says goes to the owner ----------------------------

    def speak(self, language: str, frame: bytes) -> None:
        self._send(frame_message(language, frame))

    def flush(self, language: str) -> None:
        self._send(Flush(language=language).to_bytes())

    def caption(self, language: str, caption: Caption) -> None:
        body = caption.model_dump(mode="json", exclude_none=True)
        self._send(CaptionOut(language=language, caption=body).to_bytes())

    def set_playing(self, language: str, playing: bool) -> None:
        self._send(Playing(language=language, on=playing).to_bytes())

    def set_problem(self, language: str, problem: str) -> None:
        self._send(Tell(language=language, what="problem", text=problem).to_bytes())

    def set_note(self, language: str, note: str) -> None:
        self._send(Tell(language=language, what="note", text=note).to_bytes())

    def set_warning(self, language: str, warning: str) -> None:
        self._send(Tell(language=language, what="warning", text=warning).to_bytes())

    def set_relay(self, language: str, origin: str | None) -> None:
        self._send(Tell(language=language, what="relay", text=origin).to_bytes())

    def is_paused(self, language: str) -> bool:
        state = self._channels.get(language)
        return state is None or state.paused

    def has_listeners(self, language: str) -> bool:
        state = self._channels.get(language)
        return state is not None and state.listeners

    def spawn(self, coroutine: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _standing_changed(self, language: str, on: bool) -> None:
        self._send(StandingIn(language=language, on=on).to_bytes())

    def _send(self, data: bytes) -> None:
        post(self._outbox, data)  # at most once, like every live frame between processes
