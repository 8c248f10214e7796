"""What a speech worker says, applied to the owner's session as an in-process pipeline
would have said it through `PipelineHost`."""

from __future__ import annotations

from typing import Protocol

from livevent.runtime.live.channels import ChannelState
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.wire import Caption
from livevent.runtime.workers.messages import (
    CaptionOut,
    Flush,
    JobState,
    Playing,
    StandingIn,
    Tell,
    read_frame,
    read_to_owner,
)


class OutputHost(PipelineHost, Protocol):
    channels: dict[str, ChannelState]

    def retell(self, language: str) -> None: ...


def apply_output(session: OutputHost, data: bytes) -> JobState | None:
    """Apply one message of the worker's to `session`; a job state is returned instead."""
    frame = read_frame(data)
    if frame is not None:
        language, pcm = frame
        if language in session.channels:
            session.speak(language, pcm)
        return None
    try:
        message = read_to_owner(data)
    except ValueError:
        return None  # nothing else is ours to read on this channel
    if isinstance(message, JobState):
        return message
    if message.language not in session.channels:
        return None
    if isinstance(message, CaptionOut):
        session.caption(message.language, Caption.model_validate(message.caption))
    elif isinstance(message, Flush):
        session.flush(message.language)
    elif isinstance(message, Playing):
        session.set_playing(message.language, message.on)
    elif isinstance(message, StandingIn):
        session.channels[message.language].standing_in = message.on
        session.retell(message.language)
    elif isinstance(message, Tell):
        tell(session, message)
    return None


def tell(session: PipelineHost, message: Tell) -> None:
    language, text = message.language, message.text
    if message.what == "problem" and text:
        session.set_problem(language, text)
    elif message.what == "note" and text:
        session.set_note(language, text)
    elif message.what == "warning" and text:
        session.set_warning(language, text)
    elif message.what == "relay":
        session.set_relay(language, text)
