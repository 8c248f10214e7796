"""Every channel of a live event as HLS (issue 40): an AAC rendition per channel and
WebVTT subtitles, one master playlist in the channels' own languages, served with the
headers a CDN caches by; a private event's addresses are signed; a rehearsal is never
broadcast; the playlists end with the event and stay as its archive.

Every playlist and segment goes through ffprobe (FFmpeg's own reader), over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from livevent.auth import Role, TokenIssuer
from livevent.client import SpeakerClient
from livevent.model import ChannelKind, ChannelSpec, EventPatch
from livevent.runtime import LiveRuntime
from livevent.runtime.broadcast.routes import signature
from livevent.settings import Settings
from tests.support.browser import PHONE, counters, launch, needs_chromium, screenshot_dir, wait_for
from tests.support.embedded import embedded_runtime, served
from tests.support.live import poll, scheduled_event, speaker_token, speech_pcm

FFPROBE = shutil.which("ffprobe") or "/usr/bin/ffprobe"
SECRET = Settings().auth_secret.get_secret_value()


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    async with embedded_runtime(tmp_path) as opened:
        yield opened


@pytest.fixture
async def server(aiohttp_server: AiohttpServer, runtime: LiveRuntime) -> TestServer:
    return await served(aiohttp_server, runtime)


def probe(url: str) -> dict[str, object]:
    """What ffprobe reads at `url` (a playlist or a segment); fails on what it cannot."""
    done = subprocess.run(
        [FFPROBE, "-v", "error", "-show_entries", "stream=codec_name,sample_rate,codec_type",
         "-show_entries", "format=format_name,duration", "-of", "json", url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0 and not done.stderr.strip(), (url, done.stderr)
    return dict(json.loads(done.stdout))


class Origin:
    """GETs to the test's server, as a player or a CDN makes them."""

    def __init__(self, server: TestServer, http: aiohttp.ClientSession) -> None:
        self.server, self.http = server, http

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        async with self.http.get(self.server.make_url(path)) as response:
            return response.status, dict(response.headers), await response.read()


@pytest.fixture
async def origin(server: TestServer) -> AsyncIterator[Origin]:
    async with aiohttp.ClientSession() as http:
        yield Origin(server, http)


def segments(playlist: bytes) -> list[str]:
    return [line for line in playlist.decode().splitlines() if line and not line.startswith("#")]


async def test_a_live_event_is_one_hls_stream_with_a_rendition_and_subtitles_per_channel(
    runtime: LiveRuntime, server: TestServer, origin: Origin, tmp_path: Path
) -> None:
    event_id = await scheduled_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE)
    )
    await runtime.start(event_id)
    base = f"/hls/{event_id}"
    status, headers, master = await origin.get(f"{base}/master.m3u8")
    assert status == 200, master
    assert headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert headers["Cache-Control"] == "public, max-age=0"  # 1 s segments: half is 0
    text = master.decode()
    assert 'TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="en-US",NAME="English' in text
    assert 'LANGUAGE="es-ES",NAME="Español' in text
    assert text.count("TYPE=AUDIO") == 2 and text.count("DEFAULT=YES") == 1
    assert 'TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="es-ES"' in text
    assert 'CODECS="mp4a.40.2",AUDIO="audio",SUBTITLES="subs"' in text
    uri = {
        line.split('URI="')[1].rstrip('"').split("/")[1]: line.split('URI="')[1].rstrip('"')
        for line in text.splitlines()
        if "TYPE=AUDIO" in line
    }

    url = f"http://127.0.0.1:{server.port}"
    async with SpeakerClient.connect(url, event_id, token=speaker_token(event_id)) as speaker:
        speech = speech_pcm("Good morning everyone, and welcome to our meeting.", "en-us", tmp_path)
        await speaker.send(speech + bytes(64000), pace=1.0)

        async def spanish_subtitled() -> bool:
            _, _, playlist = await origin.get(f"{base}/{uri['es-ES'].replace('audio', 'subs')}")
            for name in segments(playlist):
                folder = uri["es-ES"].rsplit("/", 1)[0]
                _, _, cue = await origin.get(f"{base}/{folder}/{name}")
                if b"-->" in cue:
                    return True
            return False

        await poll(spanish_subtitled, within=90)

    for language, path in uri.items():
        status, headers, playlist = await origin.get(f"{base}/{path}")
        assert status == 200 and b"#EXT-X-TARGETDURATION:1" in playlist
        assert len(segments(playlist)) >= 3, (language, playlist)
        found = await asyncio.to_thread(probe, f"{url}{base}/{path}")
        assert found["streams"] == [  # type: ignore[comparison-overlap]
            {"codec_name": "aac", "codec_type": "audio", "sample_rate": "48000"}
        ], found
        folder = path.rsplit("/", 1)[0]
        first = segments(playlist)[0]
        status, headers, _ = await origin.get(f"{base}/{folder}/{first}")
        assert headers["Content-Type"] == "video/mp2t"
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        await asyncio.to_thread(probe, f"{url}{base}/{folder}/{first}")

    # A channel added while live is in the master playlist from then on.
    assert runtime.service is not None
    event = await runtime.service.get_event(event_id)
    channels = [*event.channels, ChannelSpec(language="ca-ES", kind=ChannelKind.MACHINE)]
    await runtime.service.update_event(
        event_id, EventPatch(channels=channels), actor="test", expected_version=event.version
    )

    async def catalan_listed() -> bool:
        return b'LANGUAGE="ca-ES"' in (await origin.get(f"{base}/master.m3u8"))[2]

    await poll(catalan_listed, within=30)

    # The end: every playlist ends, and stays as the archive.
    await runtime.stop(event_id, reason="done")
    for path in uri.values():
        status, headers, playlist = await origin.get(f"{base}/{path}")
        assert playlist.rstrip().endswith(b"#EXT-X-ENDLIST"), playlist[-200:]
        assert headers["Cache-Control"] == "public, max-age=3600"
        found = await asyncio.to_thread(probe, f"{url}{base}/{path}")
        assert float(found["format"]["duration"]) > 3  # type: ignore[index]


async def test_a_rehearsal_is_never_broadcast(
    runtime: LiveRuntime, server: TestServer, origin: Origin
) -> None:
    event_id = await scheduled_event(runtime.service)
    url = f"http://127.0.0.1:{server.port}"
    async with SpeakerClient.connect(url, event_id, token=speaker_token(event_id)) as speaker:
        assert speaker.greeting is not None
        session = runtime.sessions[event_id]
        assert session.rehearsing
        await speaker.send(bytes(32000), pace=1.0)
        status, _, body = await origin.get(f"/hls/{event_id}/master.m3u8")
        assert status == 404, body
        assert json.loads(body)["status"] == 404
        status, _, body = await origin.get(f"/live/{event_id}/hls")
        assert status == 200 and json.loads(body)["live"] is False


async def test_a_private_events_broadcast_needs_an_address_signed_for_it(
    runtime: LiveRuntime, origin: Origin
) -> None:
    assert runtime.service is not None
    event_id = await scheduled_event(runtime.service)
    other_id = await scheduled_event(runtime.service)
    for private in (event_id, other_id):
        event = await runtime.service.get_event(private)
        await runtime.service.update_event(
            private, EventPatch(public=False), actor="test", expected_version=event.version
        )
    await runtime.start(event_id)
    await runtime.start(other_id)

    status, _, body = await origin.get(f"/hls/{event_id}/master.m3u8")
    assert status == 403 and "signed" in json.loads(body)["detail"]
    status, _, _ = await origin.get(f"/live/{event_id}/hls")
    assert status == 401
    listener = TokenIssuer(SECRET).issue(
        sub="listener", role=Role.LISTENER, ttl=600, events=[event_id]
    )
    status, _, body = await origin.get(f"/live/{event_id}/hls?token={listener}")
    assert status == 200, body
    address = json.loads(body)
    assert address["url"].startswith(f"/hls/{event_id}/k/") and address["live"] is True
    assert address["expires"] > time.time() + runtime.settings.hls_link_ttl - 1
    status, _, master = await origin.get(address["url"])
    assert status == 200, master
    rendition = next(line for line in master.decode().splitlines() if line.endswith(".m3u8"))
    status, _, _ = await origin.get(address["url"].replace("master.m3u8", rendition))
    assert status == 200  # relative addresses keep the signature: it is in the path

    key = address["url"].split("/")[4]
    expires, sig = key.split(".")
    forged = f"{expires}.{'0' * 32}"
    past = int(time.time()) - 10
    expired = f"{past:010d}.{signature(runtime.settings, event_id, past)}"
    for wrong in (
        f"/hls/{event_id}/k/{forged}/master.m3u8",  # a signature of nobody's
        f"/hls/{other_id}/k/{key}/master.m3u8",  # another event's address
        f"/hls/{event_id}/k/{expired}/master.m3u8",  # expired
        f"/hls/{event_id}/k/{int(expires) + 3600}.{sig}/master.m3u8",  # a later expiry
    ):
        status, _, body = await origin.get(wrong)
        assert status == 403, (wrong, body)
    for outside in (
        f"/hls/{event_id}/k/{key}/../../hls.db",
        f"/hls/{event_id}/k/{key}/x/es-ES/audio.m3u8",
        f"/hls/{event_id}/k/{key}/0000000000-000000/fr-FR/audio.m3u8",
        f"/hls/0{event_id}/k/{key}/master.m3u8",
    ):
        status, _, _ = await origin.get(outside)
        assert status in (403, 404), outside


async def talk(server: TestServer, event_id: int, pcm: bytes, until: asyncio.Event) -> None:
    """The floor speaker, saying `pcm` again and again in real time until `until` is set."""
    url = f"http://127.0.0.1:{server.port}"
    async with SpeakerClient.connect(url, event_id, token=speaker_token(event_id)) as speaker:
        while not until.is_set():
            await speaker.send(pcm, pace=1.0)


@needs_chromium
async def test_the_listen_page_plays_the_broadcast_switches_language_and_shows_subtitles(
    runtime: LiveRuntime, server: TestServer, tmp_path: Path
) -> None:
    event_id = await scheduled_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE)
    )
    await runtime.start(event_id)
    sentence = "Good morning everyone, and welcome to our annual meeting."
    pcm = speech_pcm(sentence, "en-us", tmp_path) + bytes(40000)
    done = asyncio.Event()
    speaking = asyncio.create_task(talk(server, event_id, pcm, done))
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=PHONE)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        url = server.make_url(f"/listen/{event_id}").with_query(broadcast="1", channel="en-US")
        await page.goto(str(url))
        await page.get_by_text("Broadcast: about").wait_for(timeout=30_000)
        await page.get_by_role("button", name="Start listening").click()
        await wait_for(page, "stats.broadcast?.playing && stats.broadcast.time > 2")
        await wait_for(page, "stats.broadcast.language === 'en-US'")
        # The Spanish channel: its audio rendition, and its subtitles under the player.
        await page.get_by_role("radio", name="Español").check()
        await wait_for(page, "stats.broadcast.language === 'es-ES'", within=30)
        await wait_for(page, "stats.broadcast.cues >= 1", within=90)
        await page.locator("#captions p").first.wait_for(timeout=90_000)
        caption = (await page.locator("#captions p").last.inner_text()).lower()
        assert "buenos" in caption or "bienvenid" in caption or "reunión" in caption, caption
        before = (await counters(page))["broadcast"]["time"]
        await wait_for(page, f"stats.broadcast.time > {before} + 2")  # still playing
        await page.screenshot(path=screenshot_dir(tmp_path) / "listen-broadcast-phone.png")
        assert not errors, errors
    finally:
        done.set()
        await browser.close()
        await playwright.stop()
        await speaking


@needs_chromium
async def test_a_listener_turned_away_by_a_full_event_hears_the_broadcast(
    runtime: LiveRuntime, server: TestServer, origin: Origin
) -> None:
    assert runtime.service is not None
    event_id = await scheduled_event(runtime.service)
    event = await runtime.service.get_event(event_id)
    await runtime.service.update_event(
        event_id, EventPatch(max_listeners=1), actor="test", expected_version=event.version
    )
    await runtime.start(event_id)
    first = await origin.http.ws_connect(server.make_url(f"/listen/{event_id}"))
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=PHONE)
        await page.goto(str(server.make_url(f"/listen/{event_id}")))
        await page.get_by_text("The live audio is full").wait_for(timeout=30_000)
        assert await page.get_by_label("Broadcast", exact=False).is_checked()
        await page.get_by_role("button", name="Start listening").click()
        await wait_for(page, "stats.broadcast?.playing && stats.broadcast.time > 1")
    finally:
        await browser.close()
        await playwright.stop()
        await first.close()


@needs_chromium
async def test_after_the_event_its_page_plays_the_recording_with_subtitles_of_each_language(
    runtime: LiveRuntime, server: TestServer, tmp_path: Path
) -> None:
    event_id = await scheduled_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE)
    )
    await runtime.start(event_id)
    url = f"http://127.0.0.1:{server.port}"
    speech = speech_pcm("Good morning everyone, and welcome to our meeting.", "en-us", tmp_path)
    async with SpeakerClient.connect(url, event_id, token=speaker_token(event_id)) as speaker:
        await speaker.send(speech + bytes(32000), pace=1.0)
    await runtime.stop(event_id, reason="thank you")  # the Spanish is said before the end
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=PHONE)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(str(server.make_url(f"/listen/{event_id}")))
        await page.get_by_text("play its recording").wait_for(timeout=30_000)
        await page.get_by_role("radio", name="Español").check()
        await page.get_by_role("button", name="Play the recording").click()
        # A short recording may be over by the time we look: it played, in Spanish.
        await wait_for(page, "stats.broadcast?.time > 1 && stats.broadcast.language === 'es-ES'")
        await page.locator("#captions p").first.wait_for(timeout=60_000)
        caption = (await page.locator("#captions p").first.inner_text()).lower()
        assert "buenos" in caption or "bienvenid" in caption or "reunión" in caption, caption
        assert not errors, errors
    finally:
        await browser.close()
        await playwright.stop()
