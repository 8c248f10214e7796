"""Two runtimes on one bus, in one process: the owner's channels reach the relay's listeners."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pytest_aiohttp import AiohttpClient

from livevent.auth import service_token
from livevent.bus import MemoryBus
from livevent.events.service import EventService
from livevent.runtime import LiveRuntime
from livevent.server import create_runtime_app
from livevent.settings import Settings
from livevent.store import open_store
from tests.support.live import Heard, listen_until, poll, scheduled_event, speaker_token


def tone(frames: int) -> list[bytes]:
    samples = [int(8000 * math.sin(2 * math.pi * 440 * n / 16000)) for n in range(320 * frames)]
    pcm = b"".join(s.to_bytes(2, "little", signed=True) for s in samples)
    return [pcm[i : i + 640] for i in range(0, len(pcm), 640)]


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[LiveRuntime, LiveRuntime]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'relay.db'}", joins_per_ip_per_minute=0
    )
    store = await open_store(settings.database_url)
    bus = MemoryBus()
    service = EventService(store=store, bus=bus)
    one = LiveRuntime(
        settings.model_copy(update={"instance_name": "one"}), bus=bus, service=service
    )
    two = LiveRuntime(
        settings.model_copy(update={"instance_name": "two"}), bus=bus, service=service
    )
    async with one, two:
        yield one, two
    await store.aclose()


async def test_a_relay_listener_hears_the_owner_at_once(
    aiohttp_client: AiohttpClient, pair: tuple[LiveRuntime, LiveRuntime]
) -> None:
    one, two = pair
    event_id = await scheduled_event(one.service)
    owner = await one.start(event_id)
    assert owner.role == "owner"
    hub = owner.channels["en-US"].hub
    # Only the relay's request may turn the owner's encoding for it on (not the counts).
    owner._update_pauses = lambda everywhere: None  # type: ignore[method-assign]
    client = await aiohttp_client(create_runtime_app(two.settings, runtime=two))
    ws = await client.ws_connect(f"/listen/{event_id}")
    log = await listen_until(ws, Heard(), lambda log: bool(log.of_type("status")))
    assert two.sessions[event_id].role == "relay"

    async def asked() -> bool:
        return hub.remote_audio

    await poll(asked, within=2)
    for frame in tone(50):
        owner.feed("en-US", frame)
    hub.flush()
    await listen_until(ws, log, lambda log: log.seconds >= 0.9)
    assert log.close_code is None
    await ws.close()


async def test_one_speaker_per_channel_across_instances(
    aiohttp_client: AiohttpClient, pair: tuple[LiveRuntime, LiveRuntime]
) -> None:
    one, two = pair
    event_id = await scheduled_event(one.service)
    await one.start(event_id)
    first = await aiohttp_client(create_runtime_app(one.settings, runtime=one))
    second = await aiohttp_client(create_runtime_app(two.settings, runtime=two))
    path = f"/speak/{event_id}/1?token={speaker_token(event_id)}"
    speaking = await first.ws_connect(path)
    assert (await speaking.receive_json())["type"] == "ready"
    # The same channel through the other instance, another speaker's token: refused while
    # the first speaks (the same token would be the same speaker coming back).
    intruder = await second.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    log = await listen_until(intruder, Heard(), lambda log: log.close_code is not None)
    assert log.close_code == 4009
    await speaking.close()

    async def next_speaker_admitted() -> bool:
        ws = await second.ws_connect(path)
        message = await ws.receive()
        admitted = message.type.name == "TEXT" and '"ready"' in message.data
        await ws.close()
        return admitted

    await poll(next_speaker_admitted)


async def test_a_relay_answers_stats_with_the_owners_view_of_each_channel(
    aiohttp_client: AiohttpClient, pair: tuple[LiveRuntime, LiveRuntime]
) -> None:
    """The console may be served by any instance: who speaks is known on the owner."""
    one, two = pair
    event_id = await scheduled_event(one.service)
    await one.start(event_id)
    owner = await aiohttp_client(create_runtime_app(one.settings, runtime=one))
    relay = await aiohttp_client(create_runtime_app(two.settings, runtime=two))
    listener = await relay.ws_connect(f"/listen/{event_id}")
    await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))
    assert two.sessions[event_id].role == "relay"
    speaking = await owner.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    assert (await speaking.receive_json())["type"] == "ready"

    async def relay_sees_the_speaker() -> bool:
        organizer = {"Authorization": f"Bearer {service_token(two.settings)}"}
        stats = await (await relay.get(f"/live/{event_id}/stats", headers=organizer)).json()
        floor = stats["channels"].get("en-US", {})
        return str(floor.get("speaker")) in ("1", "True", "true") and floor.get("state") == "live"

    await poll(relay_sees_the_speaker)
    await speaking.close()
    await listener.close()
