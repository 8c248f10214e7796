"""What a live session tells people: a channel's status, the welcome, the stats snapshot."""

from __future__ import annotations

from typing import Any, Protocol

from livevent.model import ChannelKind, EventConfig, EventStatus
from livevent.runtime.cluster.duties import OwnerDuties
from livevent.runtime.cluster.speakers import Speakers
from livevent.runtime.live.channels import ChannelState, channel_info
from livevent.runtime.live.presence import audience
from livevent.runtime.wire import EventInfo, Status, Welcome


class LiveSession(Protocol):
    """What these views read of a session (live/session.py)."""

    config: EventConfig
    status: EventStatus
    finishing: bool
    rehearsing: bool
    reason: str | None
    started_at: float
    channels: dict[str, ChannelState]
    duties: OwnerDuties
    speakers: Speakers

    @property
    def event_id(self) -> int: ...

    def channel_state(self, language: str) -> str: ...


def status(session: LiveSession, channel: str | None = None) -> Status:
    message = Status(
        event=session.event_id, event_status=session.status.value, reason=session.reason
    )
    if session.finishing:
        message.ending = True
    if session.rehearsing:
        message.rehearsal = True
    if channel is None:
        return message
    state = session.channels[channel]
    message.channel = channel
    message.channel_state = session.channel_state(channel)
    remote_ending = state.remote is not None and bool(state.remote.ending)
    if (session.finishing or remote_ending) and message.channel_state != "unavailable":
        message.ending = True
        message.channel_state = "finishing"
    message.speaker = state.speaker is not None
    if state.remote is not None:
        message.speaker = bool(state.remote.speaker)
    machine_problem = session.duties.problem
    problem = state.problem or (
        machine_problem if state.channel.kind is ChannelKind.MACHINE else None
    )
    if problem and message.channel_state == "unavailable":
        message.channel_reason = problem
    elif state.note and message.channel_state != "unavailable":
        message.channel_reason = state.note
    elif state.remote is not None:
        message.channel_reason = state.remote.channel_reason
    message.machine = state.machine_speaks
    message.relayed_from = state.relayed_from or (
        state.remote.relayed_from if state.remote is not None else None
    )
    message.channel_warning = state.warning or (
        state.remote.channel_warning if state.remote is not None else None
    )
    return message


def welcome(session: LiveSession, channel: str, audio_format: str) -> Welcome:
    event = EventInfo(
        id=session.event_id,
        name=session.config.name,
        status=session.status.value,
        source_language=session.config.source_language,
    )
    channels = [channel_info(state.channel) for state in session.channels.values()]
    return Welcome(event=event, channels=channels, channel=channel, format=audio_format)


def snapshot(session: LiveSession) -> dict[str, Any]:
    owned = session.duties.pipeline
    pipeline = owned.snapshot() if owned is not None else {}
    names = session.speakers.names
    machine = pipeline.get("channels", {})
    return {
        "pipeline": {k: v for k, v in pipeline.items() if k != "channels"},
        "event": session.event_id,
        "name": session.config.name,
        "status": session.status.value,
        "ending": session.finishing,
        "rehearsal": session.rehearsing,
        "started_at": session.started_at,
        # Where its channels are pushed, and how that goes (the organizer's live view).
        "outputs": session.duties.pushes.views() if session.duties.pushes else [],
        "channels": {
            language: {
                "number": state.channel.number,
                "kind": state.channel.kind.value,
                "state": session.channel_state(language),
                "speaker": state.speaker is not None,
                "muted": state.muted,
                "standby": state.booth.waiting,  # booth partners ready to take over
                # Who (their token's subject, "user:12"): "" for nobody, on a relay too.
                "who": names.get(state.speaker or "", ""),
                "standby_who": ", ".join(names.get(p, "?") for p in state.booth.partners),
                "input_level": round(state.input_now()[0], 3),  # -1: none heard of late
                "input_peak": round(state.input_now()[1], 3),
                "listeners": audience(state),
                "staff": len(state.hub.listeners) - audience(state),
                "warning": state.warning,
                "machine": state.machine_speaks,
                **state.hub.stats.as_dict(),
                **machine.get(language, {}),
            }
            for language, state in session.channels.items()
        },
    }
