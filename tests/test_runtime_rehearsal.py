"""A rehearsal before going live: speakers and interpreters hear each other while
listeners wait, nothing is recorded or transcribed; the organizer's "Go live" turns the
same session live, without anyone reconnecting."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import av
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from livevent.auth import service_token
from livevent.bus import MemoryBus, keys
from livevent.client import SpeakerClient
from livevent.events.recordings import list_parts
from livevent.model import ChannelKind, ChannelSpec, EventStatus
from livevent.runtime import LiveRuntime
from livevent.runtime.media.audio import SAMPLE_RATE
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.live import (
    Heard,
    listen_until,
    listening,
    poll,
    scheduled_event,
    speaker_token,
    speech_onset,
    speech_pcm,
)
from tests.support.servers import LIVEVENT, start_serve

Client = TestClient[web.Request, web.Application]

REHEARSED = "This is only a sound check for the interpreters."
SPOKEN = "Good morning everyone, and welcome to the annual meeting of our association."


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'rehearsal.db'}",
        recordings_dir=tmp_path / "recordings",
        joins_per_ip_per_minute=0,
        api_requests_per_ip_per_minute=0,
        rehearsal_idle_seconds=2.0,
    )
    async with LiveRuntime(settings, bus=MemoryBus()) as opened:
        yield opened


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, runtime: LiveRuntime) -> Client:
    return await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))


def organizer(runtime: LiveRuntime) -> dict[str, str]:
    return {"Authorization": f"Bearer {service_token(runtime.settings)}"}


async def status_of(runtime: LiveRuntime, event_id: int) -> EventStatus:
    assert runtime.service is not None
    return (await runtime.service.get_event(event_id)).status


async def test_speakers_rehearse_unheard_and_unrecorded_until_the_organizer_goes_live(
    client: Client, runtime: LiveRuntime, tmp_path: Path
) -> None:
    event_id = await scheduled_event(
        runtime.service,
        ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN),
        ChannelSpec(language="es-419", kind=ChannelKind.MACHINE),
    )
    rehearsed = speech_pcm(REHEARSED, "en-us", tmp_path)
    spoken = speech_pcm(SPOKEN, "en-us", tmp_path)

    floor = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    ready = await floor.receive_json()
    assert ready["type"] == "ready" and ready["rehearsal"] is True
    assert await status_of(runtime, event_id) is EventStatus.SCHEDULED

    # The interpreter hears the floor (staff); a listener waits with the planned start.
    booth_token = speaker_token(event_id, channel=2)
    booth = await client.ws_connect(f"/listen/{event_id}?format=pcm&token={booth_token}")
    public = listening(await client.ws_connect(f"/listen/{event_id}?format=pcm"))
    waiting = (await public.until(lambda heard: heard.raw)).raw[0]
    assert waiting["event_status"] == "WAITING" and waiting["starts_at"]

    await SpeakerClient(floor).send(rehearsed, pace=1.0)  # a microphone's pace
    await floor.send_json({"type": "mute"})  # a pause in the sound check: not the end
    booth_log = await listen_until(booth, Heard(), lambda log: len(log.audio) >= len(rehearsed))
    assert booth_log.of_type("status")[0]["rehearsal"] is True
    session = runtime.sessions[event_id]
    assert session.rehearsing and session.duties.recorder is None
    assert session.snapshot()["channels"]["en-US"]["listeners"] == 0  # staff are not counted
    # What reached the booth would have reached a listener by now: nothing did.
    assert len(public.heard.audio) == 0 and public.heard.of_type("welcome") == []
    # The sound check checks the machine too: its channel runs with nobody listening
    # (it said "Paused (nobody listens)") and translates what the floor rehearses.
    machine = session.channels["es-419"]

    async def machine_worked() -> bool:
        return session.channel_state("es-419") != "paused" and machine.hub.stats.captions > 0

    await poll(machine_worked, within=60)

    started = await client.post(f"/live/{event_id}/start", headers=organizer(runtime))
    assert started.status == 201, await started.text()
    assert await status_of(runtime, event_id) is EventStatus.LIVE
    assert runtime.sessions[event_id] is session and not session.rehearsing
    on_air = await floor.receive_json()
    assert on_air["type"] == "ready" and "rehearsal" not in on_air

    await floor.send_json({"type": "unmute"})
    await asyncio.sleep(1.5)  # the scenario, not a synchronisation: the speaker begins later
    await SpeakerClient(floor).send(spoken + bytes(SAMPLE_RATE * 2), pace=1.0)
    await floor.send_json({"type": "end"})
    heard = await public.until(lambda log: len(log.audio) >= len(spoken) * 0.9, within=60)
    assert heard.of_type("welcome")[0]["event"]["status"] == "LIVE"

    ended = await client.post(f"/live/{event_id}/stop", headers=organizer(runtime))
    assert ended.status == 200, await ended.text()
    parts = list_parts(runtime.settings.recordings_dir, event_id)
    floor_part = next(p for p in parts if p.language == "en-US")
    with av.open(str(floor_part.path)) as container:
        recorded = float(container.duration or 0) / 1_000_000
    assert recorded >= len(spoken) / (2 * SAMPLE_RATE), recorded  # from the go-live on
    assert runtime.service is not None
    transcript = await runtime.service.transcript(event_id)
    said = " ".join(s.text for s in transcript if s.language == "en-US").lower()
    assert "annual meeting" in said
    assert "check" not in said and "interpreters" not in said  # the rehearsal left none
    # The transcript runs on the recording's clock, which began at the go-live.
    onset = speech_onset(floor_part.path)
    first = min(s.start_seconds for s in transcript if s.language == "en-US")
    assert onset > 1.0 and abs(first - onset) <= 0.5, (first, onset)


async def test_a_rehearsal_nobody_speaks_in_closes_and_the_event_stays_scheduled(
    client: Client, runtime: LiveRuntime
) -> None:
    event_id = await scheduled_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN)
    )
    floor = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    assert (await floor.receive_json())["rehearsal"] is True

    # Ending a rehearsal as if it were live is refused, by the organizer or the speaker.
    refused = await client.post(f"/live/{event_id}/stop", headers=organizer(runtime))
    assert refused.status == 409
    assert "rehearsing" in (await refused.json())["detail"]
    await floor.send_json({"type": "end", "end_event": True})
    await floor.close()

    async def closed() -> bool:
        return event_id not in runtime.sessions

    await poll(closed, within=30)
    assert await status_of(runtime, event_id) is EventStatus.SCHEDULED
    assert await runtime.bus.get(keys.live_owner(event_id)) is None
    assert list_parts(runtime.settings.recordings_dir, event_id) == []

    # The next speaker opens a new rehearsal; going live still works.
    again = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    assert (await again.receive_json())["rehearsal"] is True
    started = await client.post(f"/live/{event_id}/start", headers=organizer(runtime))
    assert started.status == 201
    assert (await again.receive_json())["type"] == "ready"
    assert await status_of(runtime, event_id) is EventStatus.LIVE
    await again.close()


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[dict[str, str], int, int]]:
    """`livevent serve` on the embedded default (no shared bus), a scheduled event: the
    environment, the event's id and the port."""
    env = {**os.environ, "LIVEVENT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    env.pop("LIVEVENT_CONFIG", None)
    created = subprocess.run(
        [LIVEVENT, "event", "create", "--name", "Rehearsed", "--starts-at",
         "2026-12-01T10:00Z", "--source", "en-US", "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    event_id = int(json.loads(created.stdout)["id"])
    subprocess.run([LIVEVENT, "event", "schedule", str(event_id)], env=env, check=True)
    process, port = start_serve(env, log=tmp_path / "serve.log")
    try:
        yield env, event_id, port
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_going_live_from_the_cli_reaches_a_rehearsal_served_by_another_process(
    embedded: tuple[dict[str, str], int, int],
) -> None:
    """Without a shared bus, `livevent serve` watches the store: `livevent event start` in
    another process turns its rehearsal live."""
    env, event_id, port = embedded
    async with aiohttp.ClientSession() as http:
        url = f"ws://127.0.0.1:{port}/speak/{event_id}/1?token={speaker_token(event_id)}"
        floor = await http.ws_connect(url)
        assert (await floor.receive_json(timeout=30))["rehearsal"] is True
        started = await asyncio.create_subprocess_exec(
            LIVEVENT, "event", "start", str(event_id), env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await started.communicate()
        assert started.returncode == 0, err.decode()
        assert "LIVE" in out.decode()
        on_air = await floor.receive_json(timeout=30)
        assert on_air["type"] == "ready" and "rehearsal" not in on_air
        await floor.close()


async def test_listeners_waiting_through_a_rehearsal_are_told_when_it_is_cancelled(
    client: Client, runtime: LiveRuntime
) -> None:
    """Issue 35: public listeners waiting on an event cancelled mid-rehearsal never heard."""
    event_id = await scheduled_event(runtime.service)
    floor = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    assert (await floor.receive_json())["type"] == "ready"  # rehearsing
    listener = await client.ws_connect(f"/listen/{event_id}")
    await listen_until(
        listener, Heard(), lambda log: any(m.get("event_status") == "WAITING"
                                           for m in log.of_type("status"))
    )  # fmt: skip
    assert runtime.service is not None
    await runtime.service.act(event_id, "cancel", actor="t", reason="the hall flooded")
    log = await listen_until(listener, Heard(), lambda log: log.close_code is not None, 30)
    assert log.close_code == 4010, log.close_reason
    told = [m for m in log.of_type("status") if m.get("event_status") == "CANCELLED"]
    assert told and told[-1].get("reason") == "the hall flooded"
    await floor.close()
