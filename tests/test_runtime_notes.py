"""Notes between the booths, the floor and the organizer: an interpreter's chat reaches
the partner standing by (not the floor), "slow down" reaches the floor speaker's page,
"audio unusable" the organizer's view, and the organizer writes to a booth. Real sockets
on the in-memory bus; the same notes travel Redis between instances (keys.live_notes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from livevent.auth.signing import service_token
from livevent.bus import MemoryBus
from livevent.model import ChannelKind, ChannelSpec
from livevent.runtime import LiveRuntime
from livevent.runtime.live.notes import NOTES_PER_SENDER_PER_MINUTE
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.booth import next_of
from tests.support.live import Heard, listen_until, poll, scheduled_event, speaker_token

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'notes.db'}")
    async with LiveRuntime(settings, bus=MemoryBus()) as opened:
        yield opened


async def live_with_a_booth(
    runtime: LiveRuntime, aiohttp_client: AiohttpClient
) -> tuple[int, Client]:
    """A live event with a Spanish interpreters' channel, and a client of its runtime."""
    event_id = await scheduled_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN)
    )
    client: Client = await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))
    await runtime.start(event_id)
    return event_id, client


async def test_notes_reach_the_partner_the_floor_and_the_organizer(
    runtime: LiveRuntime, aiohttp_client: AiohttpClient
) -> None:
    event_id, client = await live_with_a_booth(runtime, aiohttp_client)
    token = speaker_token(event_id, 2)
    floor = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    active = await client.ws_connect(f"/speak/{event_id}/2?token={token}")
    partner = await client.ws_connect(f"/speak/{event_id}/2?token={token}&standby=1")
    await next_of(floor, "ready")
    await next_of(active, "ready")
    await next_of(partner, "standby")

    await active.send_json({"type": "chat", "text": "Next speaker is yours, 5 min."})
    chat = await next_of(partner, "note")
    assert (chat["kind"], chat["channel"], chat["sender"], chat["text"]) == (
        "chat",
        "es-ES",
        "interpreter",
        "Next speaker is yours, 5 min.",
    )
    await active.send_json({"type": "signal", "signal": "slow_down"})
    slow = await next_of(floor, "note")
    assert (slow["kind"], slow["channel"]) == ("slow_down", "es-ES"), slow
    await active.send_json({"type": "signal", "signal": "audio_unusable"})

    organizer = {"Authorization": f"Bearer {service_token(runtime.settings)}"}

    async def seen() -> bool:
        response = await client.get(f"/live/{event_id}/notes", headers=organizer)
        kinds = [n["kind"] for n in (await response.json())["notes"]]
        return kinds == ["chat", "slow_down", "audio_unusable"]

    await poll(seen)
    # The floor speaker read no chat of the booth: the note it got was the signal.
    assert slow["kind"] == "slow_down"
    nobody = await client.get(f"/live/{event_id}/notes")
    assert nobody.status == 401
    a_listener = await client.get(
        f"/live/{event_id}/notes", headers={"Authorization": f"Bearer {token}"}
    )
    assert a_listener.status == 403

    sent = await client.post(
        f"/live/{event_id}/notes",
        json={"text": "Five minutes to the break.", "channel": "es-ES"},
        headers=organizer,
    )
    assert sent.status == 201, await sent.text()
    log = await listen_until(
        active, Heard(), lambda log: any(m["sender"] == "organizer" for m in log.of_type("note"))
    )
    from_organizer = next(m for m in log.of_type("note") if m["sender"] == "organizer")
    assert (from_organizer["sender"], from_organizer["text"]) == (
        "organizer",
        "Five minutes to the break.",
    )
    wrong = await client.post(
        f"/live/{event_id}/notes", json={"text": "x", "channel": "xx-!!"}, headers=organizer
    )
    assert wrong.status == 422
    too_long = await client.post(
        f"/live/{event_id}/notes", json={"text": "x" * 501}, headers=organizer
    )
    assert too_long.status == 422
    for ws in (floor, active, partner):
        await ws.close()


async def test_the_organizers_message_reaches_every_listener_once_and_latecomers(
    runtime: LiveRuntime, aiohttp_client: AiohttpClient
) -> None:
    event_id, client = await live_with_a_booth(runtime, aiohttp_client)
    early = await client.ws_connect(f"/listen/{event_id}?channel=es-ES")
    await next_of(early, "status")
    organizer = {"Authorization": f"Bearer {service_token(runtime.settings)}"}
    refused = await client.post(f"/live/{event_id}/announce", json={"text": "Hi"})
    assert refused.status == 401
    sent = await client.post(
        f"/live/{event_id}/announce", json={"text": "We resume at 11:30."}, headers=organizer
    )
    assert sent.status == 201, await sent.text()
    banner = await next_of(early, "announcement")
    assert banner["text"] == "We resume at 11:30."
    late = await client.ws_connect(f"/listen/{event_id}")
    log = await listen_until(late, Heard(), lambda log: bool(log.of_type("announcement")))
    assert log.of_type("announcement")[0]["text"] == "We resume at 11:30."
    # Listeners get it; the booths' notes view keeps it too, for the organizer.
    notes = await (await client.get(f"/live/{event_id}/notes", headers=organizer)).json()
    assert notes["notes"][-1]["kind"] == "announcement"
    await early.close()
    await late.close()


async def test_a_flood_of_notes_is_refused_and_never_pushes_the_organizers_out(
    runtime: LiveRuntime, aiohttp_client: AiohttpClient
) -> None:
    """Issue 35: 300 "slow down"s from a standby partner pushed the organizer's notes out."""
    event_id, client = await live_with_a_booth(runtime, aiohttp_client)
    organizer = {"Authorization": f"Bearer {service_token(runtime.settings)}"}
    token = speaker_token(event_id, 2)
    partner = await client.ws_connect(f"/speak/{event_id}/2?token={token}")
    await next_of(partner, "ready")
    sent = await client.post(
        f"/live/{event_id}/notes", json={"text": "Break at 11."}, headers=organizer
    )
    assert sent.status == 201
    await next_of(partner, "note")  # the organizer's, to every booth
    for _ in range(NOTES_PER_SENDER_PER_MINUTE + 5):
        await partner.send_json({"type": "signal", "signal": "slow_down"})
    refusal = await next_of(partner, "error")
    assert "too many notes" in refusal["message"]

    async def settled() -> list[dict[str, str]]:
        response = await client.get(f"/live/{event_id}/notes", headers=organizer)
        return list((await response.json())["notes"])

    await poll(lambda: _has(settled, NOTES_PER_SENDER_PER_MINUTE + 1))
    notes = await settled()
    assert len(notes) == NOTES_PER_SENDER_PER_MINUTE + 1  # the rest were refused
    assert notes[0]["sender"] == "organizer" and notes[0]["text"] == "Break at 11."
    await partner.close()


async def _has(read: Any, count: int) -> bool:
    return len(await read()) >= count
