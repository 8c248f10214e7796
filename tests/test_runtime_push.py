"""A channel pushed to a streaming platform (issue 40): audio-only AAC over RTMP into
Debian's nginx with libnginx-mod-rtmp (the platform's ingest here), its stream key
never shown or logged, an unreachable ingest told in the live view and tried again
by itself, the other paths unharmed."""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from livevent.auth import Role, TokenIssuer, service_token
from livevent.client import ListenerClient, SpeakerClient
from livevent.runtime import LiveRuntime
from livevent.settings import Settings
from tests.support.browser import DESKTOP, launch, needs_chromium
from tests.support.embedded import embedded_runtime, served
from tests.support.live import poll, scheduled_event, speaker_token
from tests.support.rtmp import rtmp_server

FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"
KEY = "sk-live-5f3a9c0e1b7d42"  # what a platform gives: a secret


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    async with embedded_runtime(tmp_path) as opened:
        yield opened


@pytest.fixture
async def server(aiohttp_server: AiohttpServer, runtime: LiveRuntime) -> TestServer:
    return await served(aiohttp_server, runtime)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    headers = {"Authorization": f"Bearer {service_token(Settings())}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        yield session


def seconds_of(path: Path) -> float:
    """The audio ffprobe reads in a recorded FLV (0 when it reads none yet)."""
    done = subprocess.run(
        [FFPROBE, "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels",
         "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    if done.returncode != 0:
        return 0.0
    found = json.loads(done.stdout)
    streams = found.get("streams", [])
    assert streams == [{"codec_name": "aac", "sample_rate": "48000", "channels": 1}], found
    return float(found.get("format", {}).get("duration") or 0.0)


async def outputs_view(http: aiohttp.ClientSession, server: TestServer, event_id: int) -> list:
    async with http.get(server.make_url(f"/live/{event_id}/stats")) as response:
        assert response.status == 200
        return list((await response.json()).get("outputs", []))


async def test_a_channel_is_pushed_to_an_rtmp_ingest_and_its_key_is_never_shown(
    runtime: LiveRuntime,
    server: TestServer,
    http: aiohttp.ClientSession,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    ingest = rtmp_server(tmp_path / "rtmp")
    ingest.start()
    try:
        event_id = await scheduled_event(runtime.service)
        body = {"channel": "en-US", "url": ingest.url(KEY)}
        async with http.post(server.make_url(f"/api/events/{event_id}/outputs"), json=body) as made:
            text = await made.text()
            assert made.status == 201, text
        assert KEY not in text
        assert json.loads(text)["target"] == f"rtmp://127.0.0.1:{ingest.port}/live/***"
        await runtime.start(event_id)
        url = f"http://127.0.0.1:{server.port}"
        async with SpeakerClient.connect(url, event_id, token=speaker_token(event_id)) as speaker:
            tone = bytes(range(256)) * 125  # a second of noise-like PCM
            saying = asyncio.create_task(speaker.send(tone * 8, pace=1.0))

            async def recorded() -> bool:
                return await asyncio.to_thread(seconds_of, ingest.recording(KEY)) >= 3.0

            await poll(recorded, within=60)
            views = await outputs_view(http, server, event_id)
            assert [(v["channel"], v["state"]) for v in views] == [("en-US", "pushing")], views
            await saying
        async with http.get(server.make_url(f"/api/events/{event_id}/outputs")) as listed:
            text = await listed.text()
        assert KEY not in text and "/live/***" in text
        # The live runtime reading the store over HTTP gets the whole address; nobody else.
        targets = server.make_url(f"/api/events/{event_id}/output-targets")
        async with http.get(targets) as whole:
            assert whole.status == 200 and KEY in await whole.text()
        manager = TokenIssuer(Settings().auth_secret.get_secret_value()).issue(
            sub="user:7", role=Role.ADMIN, ttl=60, events="*"
        )
        async with aiohttp.ClientSession() as other:
            headers = {"Authorization": f"Bearer {manager}"}
            async with other.get(targets, headers=headers) as refused:
                assert refused.status == 403
                assert KEY not in await refused.text()
        await runtime.stop(event_id, reason="done")
        assert KEY not in caplog.text
    finally:
        ingest.stop()


async def test_an_unreachable_ingest_is_told_and_tried_again_while_listeners_hear_on(
    runtime: LiveRuntime, server: TestServer, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    ingest = rtmp_server(tmp_path / "rtmp")  # not started: nothing listens on its port
    event_id = await scheduled_event(runtime.service)
    body = {"channel": "en-US", "url": ingest.url(KEY)}
    async with http.post(server.make_url(f"/api/events/{event_id}/outputs"), json=body) as made:
        assert made.status == 201
    await runtime.start(event_id)
    url = f"http://127.0.0.1:{server.port}"
    try:
        async with (
            SpeakerClient.connect(url, event_id, token=speaker_token(event_id)) as speaker,
            ListenerClient.connect(url, event_id, keep_audio=False) as listener,
        ):
            saying = asyncio.create_task(speaker.send(bytes(range(256)) * 125 * 30, pace=1.0))

            async def told() -> bool:
                views = await outputs_view(http, server, event_id)
                return bool(views) and views[0]["state"] == "reconnecting"

            await poll(told, within=30)
            [view] = await outputs_view(http, server, event_id)
            assert view["problem"] and KEY not in view["problem"], view
            # The listeners hear the floor all along.
            heard = listener.heard.seconds
            await listener.until(lambda log: log.seconds > heard + 2, within=30)
            # The platform's ingest comes up: the push reaches it by itself.
            ingest.start()

            async def pushing() -> bool:
                views = await outputs_view(http, server, event_id)
                return views[0]["state"] == "pushing"

            await poll(pushing, within=40)

            async def recorded() -> bool:
                return await asyncio.to_thread(seconds_of, ingest.recording(KEY)) >= 2.0

            await poll(recorded, within=60)
            saying.cancel()
    finally:
        ingest.stop()


async def test_outputs_refuse_what_is_not_an_ingest_address(
    runtime: LiveRuntime, server: TestServer, http: aiohttp.ClientSession
) -> None:
    event_id = await scheduled_event(runtime.service)
    outputs = server.make_url(f"/api/events/{event_id}/outputs")
    for url in (
        "http://example.org/live/key",
        "rtmp://example.org/key-without-application",
        "rtmp:///live/key",
        "rtmp://example.org:notaport/live/key",
        "rtmp://example.org/live/key with space",
        "rtmp://example.org/live/" + "k" * 2000,
    ):
        async with http.post(outputs, json={"channel": "en-US", "url": url}) as refused:
            assert refused.status == 422, (url, await refused.text())
            assert refused.content_type == "application/problem+json"
    async with http.post(
        outputs, json={"channel": "fr-FR", "url": "rtmp://example.org/live/key"}
    ) as refused:
        assert refused.status in (400, 422), await refused.text()
    async with http.get(outputs) as listed:
        assert (await listed.json())["items"] == []  # nothing was stored
    async with http.delete(server.make_url(f"/api/events/{event_id}/outputs/99")) as missing:
        assert missing.status == 404


@needs_chromium
async def test_an_organizer_adds_a_platform_in_the_console_and_sees_it_is_not_reached(
    runtime: LiveRuntime, server: TestServer, tmp_path: Path
) -> None:
    event_id = await scheduled_event(runtime.service)
    ingest = rtmp_server(tmp_path / "rtmp")  # its port, with nothing listening on it
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=DESKTOP)
        token = service_token(Settings())
        await page.add_init_script(
            f"sessionStorage.setItem('livevent:manager', JSON.stringify({{access: '{token}'}}))"
        )
        await page.goto(str(server.make_url(f"/manage#/events/{event_id}")))
        platforms = page.locator("#outputs")
        await platforms.get_by_label("Channel").select_option("en-US")
        await platforms.get_by_label("Ingest address with its stream key").fill(ingest.url(KEY))
        await platforms.get_by_role("button", name="Push to this platform").click()
        target = f"rtmp://127.0.0.1:{ingest.port}/live/***"
        await platforms.get_by_text(target).wait_for(timeout=30_000)
        assert KEY not in await page.content()
        await runtime.start(event_id)
        await page.reload()
        warning = page.locator("#live-outputs li.warning")
        await warning.get_by_text("cannot reach the platform").wait_for(timeout=60_000)
        assert KEY not in await page.content()
    finally:
        await browser.close()
        await playwright.stop()
