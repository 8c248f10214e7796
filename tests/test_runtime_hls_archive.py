"""An event's broadcast as the organizer sets it and as it stays (issue 40): turned off
per event (and on again while live), and a takeover's runs stitched into one archive.

The takeover is a real one: two `livevent serve` processes on one PostgreSQL and a
Redis of the test's own, the owner killed with SIGKILL mid-event; every playlist the
archive is made of goes through ffprobe.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from livevent.auth import service_token
from livevent.client import SpeakerClient
from livevent.model import (
    ChannelKind,
    ChannelSpec,
    EventCreate,
    EventPatch,
)
from livevent.runtime import LiveRuntime
from livevent.runtime.broadcast.stitch import stitched
from livevent.settings import Settings
from tests.support.browser import DESKTOP, launch, needs_chromium, wait_for
from tests.support.cluster import Cluster, joined, scheduled_event, speaker
from tests.support.console import manager, sign_in
from tests.support.embedded import embedded_runtime, served
from tests.support.live import poll, speaker_token, speech_pcm
from tests.support.live import scheduled_event as embedded_event

FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    async with embedded_runtime(tmp_path) as opened:
        yield opened


@pytest.fixture
async def server(aiohttp_server: AiohttpServer, runtime: LiveRuntime) -> TestServer:
    return await served(aiohttp_server, runtime)


async def fetch(http: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with http.get(url) as response:
        return response.status, await response.text()


def duration(url: str) -> float:
    """What ffprobe reads of the playlist at `url`, in seconds; fails on what it cannot."""
    done = subprocess.run(
        [FFPROBE, "-v", "error", "-show_entries", "format=duration", "-of", "json", url],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, (url, done.stderr)
    return float(json.loads(done.stdout)["format"]["duration"])


def now(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    """A check of files on disk, as `poll` takes it."""

    async def checked() -> bool:
        return check()

    return checked


async def back_on_air(http: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    """The floor speaker reconnecting as the page does (every 0.5 s) until on air: the
    dead instance's hold on the channel lapses within the owner lock's TTL."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return await speaker(http, url)
        except aiohttp.WSMessageTypeError:
            assert time.monotonic() < deadline, "the speaker never got the channel back"
            await asyncio.sleep(0.5)  # the page's own pace of reconnecting


async def set_broadcast(runtime: LiveRuntime, event_id: int, on: bool) -> None:
    assert runtime.service is not None
    event = await runtime.service.get_event(event_id)
    await runtime.service.update_event(
        event_id, EventPatch(broadcast=on), actor="test", expected_version=event.version
    )


async def test_an_event_kept_off_the_broadcast_is_not_packaged_until_turned_on(
    runtime: LiveRuntime, server: TestServer
) -> None:
    event_id = await embedded_event(runtime.service)
    await set_broadcast(runtime, event_id, False)
    await runtime.start(event_id)
    base = f"http://127.0.0.1:{server.port}"
    async with aiohttp.ClientSession() as http:
        async with SpeakerClient.connect(base, event_id, token=speaker_token(event_id)) as floor:
            await floor.send(bytes(64000), pace=1.0)  # two seconds said: nothing packaged
            status, body = await fetch(http, f"{base}/hls/{event_id}/master.m3u8")
            assert status == 404 and "turned it off" in json.loads(body)["detail"], body
            status, body = await fetch(http, f"{base}/live/{event_id}/hls")
            assert status == 404 and "turned it off" in json.loads(body)["detail"], body
            assert not (runtime.settings.recordings_dir / "hls" / str(event_id)).exists()

            await set_broadcast(runtime, event_id, True)  # on, while live

            async def broadcasting() -> bool:
                status, master = await fetch(http, f"{base}/hls/{event_id}/master.m3u8")
                return status == 200 and "TYPE=AUDIO" in master

            await poll(broadcasting, within=30)
            await floor.send(bytes(64000), pace=1.0)
            await set_broadcast(runtime, event_id, False)  # off again: what went out ends

            def ended() -> bool:
                playlists = (runtime.settings.recordings_dir / "hls").glob("*/*/*/audio.m3u8")
                return any("#EXT-X-ENDLIST" in path.read_text() for path in playlists)

            await poll(now(ended), within=30)
            status, _ = await fetch(http, f"{base}/hls/{event_id}/master.m3u8")
            assert status == 404
    assert runtime.sessions[event_id].status.value == "LIVE"  # the event itself went on


def test_stitched_runs_play_in_order_with_a_discontinuity_between_them() -> None:
    first = (
        "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-PROGRAM-DATE-TIME:2026-12-06T10:00:00.000+0000\n"
        "#EXTINF:1.000000,\na00000.ts\n#EXTINF:1.000000,\na00001.ts\n"
    )  # an owner that died: never ended
    second = first.replace("10:00:00", "10:00:05").replace("TARGETDURATION:1", "TARGETDURATION:2")
    second += "#EXT-X-ENDLIST\n"
    text = stitched([("../../r1/es-ES/", first), ("../../r2/es-ES/", second)])
    lines = text.splitlines()
    assert lines[:5] == [
        "#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]  # fmt: skip
    segments = [line for line in lines if not line.startswith("#")]
    assert segments == [
        "../../r1/es-ES/a00000.ts", "../../r1/es-ES/a00001.ts",
        "../../r2/es-ES/a00000.ts", "../../r2/es-ES/a00001.ts",
    ]  # fmt: skip
    assert lines.count("#EXT-X-DISCONTINUITY") == 1
    assert lines.index("#EXT-X-DISCONTINUITY") < lines.index("../../r2/es-ES/a00000.ts")
    assert lines[-1] == "#EXT-X-ENDLIST" and text.count("#EXT-X-ENDLIST") == 1
    assert text.count("PROGRAM-DATE-TIME") == 2


@pytest.mark.redis
@pytest.mark.postgres
async def test_a_takeover_ends_the_dead_owners_run_and_the_archive_plays_both(
    cluster: Cluster, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    shared = {"hls_dir": str(tmp_path / "hls"), "recordings_dir": str(tmp_path / "rec")}
    owner, relay = cluster.start("a", **shared), cluster.start("b", **shared)
    event_id = await scheduled_event(cluster.database_url, live=True)
    folder = tmp_path / "hls" / str(event_id)
    await joined(http, owner.ws(f"/listen/{event_id}"))  # a owns the event
    listener = await joined(http, relay.ws(f"/listen/{event_id}"))  # b relays it
    pcm = speech_pcm("Good morning everyone, and welcome to our meeting.", "en-us", tmp_path)
    token = speaker_token(event_id)
    floor = await speaker(http, owner.ws(f"/speak/{event_id}/1?token={token}"))
    for offset in range(0, len(pcm), 3200):
        await floor.send_bytes(pcm[offset : offset + 3200])
        await asyncio.sleep(0.1)  # a microphone's pace

    def first_run_segments() -> int:
        return sum(1 for _ in folder.glob("*/en-US/a*.ts"))

    await poll(now(lambda: first_run_segments() >= 3), within=30)
    owner.process.send_signal(signal.SIGKILL)
    owner.process.wait(timeout=10)
    await poll(now(lambda: len([p for p in folder.glob("*-*") if p.is_dir()]) == 2), within=30)
    runs = sorted(p.name for p in folder.glob("*-*") if p.is_dir())
    dead = folder / runs[0] / "en-US" / "audio.m3u8"
    await poll(now(lambda: "#EXT-X-ENDLIST" in dead.read_text()), within=10)

    floor = await back_on_air(http, relay.ws(f"/speak/{event_id}/1?token={token}"))
    for offset in range(0, len(pcm), 3200):
        await floor.send_bytes(pcm[offset : offset + 3200])
        await asyncio.sleep(0.1)
    await poll(now(lambda: sum(1 for _ in folder.glob(f"{runs[1]}/en-US/a*.ts")) >= 3), within=30)
    headers = {"Authorization": f"Bearer {service_token(Settings())}"}
    async with http.post(relay.url(f"/live/{event_id}/stop"), headers=headers) as response:
        assert response.status == 200, await response.text()
    await listener.close()

    async def archived() -> bool:
        status, master = await fetch(http, relay.url(f"/hls/{event_id}/master.m3u8"))
        return status == 200 and 'URI="archive/en-US/audio.m3u8"' in master

    await poll(archived, within=30)
    _, master = await fetch(http, relay.url(f"/hls/{event_id}/master.m3u8"))
    assert 'URI="archive/es-ES/audio.m3u8"' in master
    _, stitched_text = await fetch(http, relay.url(f"/hls/{event_id}/archive/en-US/audio.m3u8"))
    assert stitched_text.count("#EXT-X-DISCONTINUITY") == 1
    assert f"../../{runs[0]}/" in stitched_text and f"../../{runs[1]}/" in stitched_text
    parts = [
        await asyncio.to_thread(duration, relay.url(f"/hls/{event_id}/{run}/en-US/audio.m3u8"))
        for run in runs
    ]
    whole = await asyncio.to_thread(
        duration, relay.url(f"/hls/{event_id}/archive/en-US/audio.m3u8")
    )
    assert min(parts) >= 3
    assert whole >= sum(parts) - 1.0, (whole, parts)  # both runs, one after the other


@needs_chromium
async def test_the_console_plays_a_private_events_archive_in_each_language(
    runtime: LiveRuntime, server: TestServer, tmp_path: Path
) -> None:
    service = runtime.service
    assert service is not None
    customer_id = await manager(runtime, "boss@private.example", "Private Co")
    event = await service.create_event(
        EventCreate(
            customer_id=customer_id,
            name="Board meeting",
            starts_at="2026-12-01T10:00Z",  # type: ignore[arg-type]
            source_language="en-US",
            channels=[ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE)],
            public=False,
        ),
        actor="test",
    )
    await service.act(event.id, "schedule", actor="test")
    await runtime.start(event.id)
    base = f"http://127.0.0.1:{server.port}"
    speech = speech_pcm("Good morning everyone, and welcome to our meeting.", "en-us", tmp_path)
    async with SpeakerClient.connect(base, event.id, token=speaker_token(event.id)) as floor:
        await floor.send(speech + bytes(32000), pace=1.0)
    await runtime.stop(event.id, reason="thank you")
    async with aiohttp.ClientSession() as http:  # private: nobody plays it without a token
        status, _ = await fetch(http, f"{base}/hls/{event.id}/master.m3u8")
        assert status == 403
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=DESKTOP)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await sign_in(page, base, "boss@private.example")
        await page.goto(f"{base}/manage#/events/{event.id}")
        await page.get_by_role("heading", name="The broadcast, recorded").wait_for()
        assert not await page.locator("#archive-link").count()  # private: no public page
        await page.get_by_label("Language of the recording").select_option("es-ES")
        await page.get_by_role("button", name="Play the recording").click()
        await wait_for(page, "document.querySelector('#archive-audio').currentTime > 1")
        await wait_for(page, "document.querySelector('#archive-caption').textContent.length > 3")
        text = (await page.locator("#archive-caption").inner_text()).lower()
        assert "buenos" in text or "bienvenid" in text or "reunión" in text, text
        assert not errors, errors
    finally:
        await browser.close()
        await playwright.stop()


async def test_an_ended_events_listeners_get_its_transcript_in_their_language(
    runtime: LiveRuntime, server: TestServer, tmp_path: Path
) -> None:
    assert runtime.service is not None
    event_id = await embedded_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE)
    )
    await runtime.start(event_id)
    base = f"http://127.0.0.1:{server.port}"
    address = f"{base}/live/{event_id}/transcript?language=es-ES&format=srt"
    speech = speech_pcm("Good morning everyone, and welcome to our meeting.", "en-us", tmp_path)
    async with aiohttp.ClientSession() as http:
        async with SpeakerClient.connect(base, event_id, token=speaker_token(event_id)) as floor:
            await floor.send(speech + bytes(32000), pace=1.0)
            status, body = await fetch(http, address)
            assert status == 409 and "has not ended" in body  # not while it runs
        await runtime.stop(event_id, reason="thank you")

        async def transcribed() -> bool:
            return bool(await runtime.service.transcript(event_id))  # type: ignore[union-attr]

        await poll(transcribed, within=30)
        async with http.get(address) as response:
            assert response.status == 200, await response.text()
            assert response.headers["Content-Disposition"].startswith("attachment")
            srt = await response.text()
        assert "-->" in srt and any(w in srt.lower() for w in ("buenos", "bienvenid", "reunión"))
        status, body = await fetch(http, address.replace("format=srt", "format=exe"))
        assert status == 400 and "format is one of" in body

    # A private event's transcript: to a token that grants it, not to anyone.
    private_id = await embedded_event(runtime.service)
    await set_broadcast(runtime, private_id, True)
    event = await runtime.service.get_event(private_id)
    await runtime.service.update_event(
        private_id, EventPatch(public=False), actor="test", expected_version=event.version
    )
    await runtime.start(private_id)
    await runtime.stop(private_id, reason="done")
    async with aiohttp.ClientSession() as http:
        status, _ = await fetch(http, f"{base}/live/{private_id}/transcript")
        assert status == 401
