"""One typed model per message, both ways: what a class writes, the same class reads back.

On the sockets (server to client, client to server) and on the bus between instances.
"""

from __future__ import annotations

import json

import pytest

from livevent.runtime.cluster.messages import (
    BoothCommand,
    BoothState,
    Heartbeat,
    Resync,
    read_booth_message,
)
from livevent.runtime.wire import (
    Announcement,
    BoothNote,
    Caption,
    ChannelInfo,
    ChannelsChanged,
    ErrorMessage,
    EventInfo,
    Outgoing,
    Ready,
    Standby,
    Status,
    Welcome,
    listener_messages,
    read_server_message,
    speaker_messages,
)

CHANNELS = [ChannelInfo(number=1, language="en-US", name="English", kind="floor")]
SERVER_MESSAGES: list[Outgoing] = [
    Welcome(
        event=EventInfo(id=123457, name="AGM", status="LIVE", source_language="en-US"),
        channels=CHANNELS,
        channel="en-US",
        format="opus",
    ),
    Status(event=123457, event_status="LIVE", channel="es-ES", channel_state="on_air"),
    Caption(channel="es-ES", seq=3, final=False, text="Buenos", stable="Buenos", start=1.0),
    ChannelsChanged(channels=CHANNELS),
    Ready(event=123457, channel=2, language="es-ES"),
    Standby(reason="your partner is on air"),
    BoothNote(kind="slow_down", channel="es-ES", sender="interpreter", at=1.5),
    Announcement(text="We resume at 11:30.", at=2.5),
    ErrorMessage(message="unknown message"),
]


@pytest.mark.parametrize("message", SERVER_MESSAGES, ids=lambda m: type(m).__name__)
def test_every_server_message_reads_back_as_itself(message: Outgoing) -> None:
    assert read_server_message(message.to_json()) == message


@pytest.mark.parametrize(
    "text", ['{"type": "caption"}', '{"type": "nonsense"}', "not json", '{"type": "status"}']
)
def test_what_is_no_server_message_reads_as_none(text: str) -> None:
    assert read_server_message(text) is None


def test_client_messages_are_models_too() -> None:
    switch = listener_messages.validate_json('{"type": "switch", "channel": "es-ES"}')
    assert switch.channel == "es-ES"
    end = speaker_messages.validate_json('{"type": "end", "end_event": true}')
    assert end.end_event is True


@pytest.mark.parametrize(
    "message",
    [
        BoothCommand(op="enter", language="es-ES", speaker="a1", standby=True),
        BoothCommand(op="mute", language="es-ES", speaker="a1", on=True, request="r1"),
        BoothState(language="es-ES", active="a1", muted=False, request="r1", ok=True),
        BoothState(language="es-ES", active=None),
        Resync(),
    ],
    ids=lambda m: f"{type(m).__name__}-{getattr(m, 'op', '')}",
)
def test_booth_messages_between_instances_read_back_as_themselves(
    message: BoothCommand | BoothState | Resync,
) -> None:
    assert read_booth_message(message.to_json()) == message


@pytest.mark.parametrize(
    "text",
    [
        '{"op": "enter", "language": "es-ES"}',  # no speaker
        '{"op": "explode", "language": "es-ES", "speaker": "a"}',
        '{"op": "state", "language": "es-ES", "extra": 1}',
        "[]",
    ],
)
def test_a_booth_message_that_is_none_of_ours_is_refused_by_name(text: str) -> None:
    with pytest.raises(ValueError, match="not a booth message"):
        read_booth_message(text)


def test_a_heartbeat_reads_back_and_a_newer_instances_extra_words_are_ignored() -> None:
    beat = Heartbeat(instance="live-1", address="http://127.0.0.1:8081", events={"123457": "owner"})
    assert Heartbeat.read(beat.to_json()) == beat
    newer = '{"instance": "live-2", "spool": 3, "load": 0.4}'
    assert Heartbeat.read(newer) == Heartbeat(instance="live-2", spool=3)
    assert Heartbeat.read(None) is None and Heartbeat.read("{") is None


def test_a_listeners_heard_keeps_typed_messages_and_the_raw_json() -> None:
    """Issue 41: `Heard.messages` are the protocol's models; `raw` keeps dicts for dict users."""
    from livevent.client import Heard
    from livevent.runtime.wire import Caption, read_server_message

    heard = Heard()
    for text in (
        '{"type": "caption", "channel": "es-ES", "seq": 1, "final": true, "text": "Hola"}',
        '{"type": "from-the-future", "x": 1}',
    ):
        heard.raw.append(json.loads(text))
        model = read_server_message(text)
        if model is not None:
            heard.messages.append(model)
    (caption,) = heard.typed(Caption)
    assert caption.text == "Hola" and heard.received is heard.messages
    assert heard.captions()[0]["text"] == "Hola" and len(heard.raw) == 2
