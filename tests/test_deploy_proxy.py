"""The production shape run as a whole: Debian's nginx with the shipped deploy/nginx.conf
(TLS, WebSocket upgrade) in front of two `livevent serve` instances on the real
PostgreSQL and a Redis of the test's own. Clients come from different loopback
addresses (127.0.0.2, 127.0.0.3, ...), as listeners in a hall come from different
phones; nginx reaches the instances from 127.0.0.1, their one trusted proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from livevent.auth import service_token
from livevent.settings import Settings
from tests.support.browser import PHONE, counters, launch, screenshot_dir, wait_for
from tests.support.cluster import Cluster, hear_all, joined, say, scheduled_event, speaker
from tests.support.live import go_live, poll, speak_to_wav, speaker_token, speech_pcm
from tests.support.proxy import Proxy, speak_through, start_proxy

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
SPEECH = "Good morning everyone, and welcome to the annual meeting of the association."
JOINS_PER_MINUTE = 4


@pytest.fixture
def behind_nginx(cluster: Cluster, tmp_path: Path) -> Iterator[Proxy]:
    options = {
        "trusted_proxies": '["127.0.0.1"]',
        "joins_per_ip_per_minute": str(JOINS_PER_MINUTE),
    }
    one, two = cluster.start("one", **options), cluster.start("two", **options)
    proxy = start_proxy(tmp_path / "nginx", [one.port, two.port])
    try:
        yield proxy
    finally:
        proxy.stop()


@contextlib.asynccontextmanager
async def client_at(address: str, proxy: Proxy) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTPS client whose connections leave from `address`, trusting the test's CA."""
    connector = aiohttp.TCPConnector(ssl=proxy.ssl_context(), local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def join_closes(http: aiohttp.ClientSession, url: str) -> int | None:
    """Join and return the close code if the server refuses at once, else None."""
    ws = await http.ws_connect(url)
    message = await ws.receive(timeout=20)
    await ws.close()
    return ws.close_code if message.type is aiohttp.WSMsgType.CLOSE else None


async def test_behind_nginx_each_listener_is_its_own_address_and_hears_the_floor_over_tls(
    behind_nginx: Proxy, cluster: Cluster, tmp_path: Path
) -> None:
    proxy = behind_nginx
    event_id = await scheduled_event(cluster.database_url)
    listen = proxy.url(f"/listen/{event_id}").replace("https://", "wss://")

    # One phone in the hall uses its joins; the next phone is not refused for it.
    async with client_at("127.0.0.2", proxy) as first:
        codes = [await join_closes(first, listen) for _ in range(JOINS_PER_MINUTE + 1)]
    assert codes[-1] == 4029 and all(code is None for code in codes[:-1]), codes
    async with (
        client_at("127.0.0.3", proxy) as second,
        client_at("127.0.0.4", proxy) as booth,
    ):
        listener = await joined(second, listen)
        talk = await speaker(
            booth, f"{listen.replace('/listen/', '/speak/')}/1?token={speaker_token(event_id)}"
        )
        speech = speech_pcm(SPEECH, "en-us", tmp_path)
        await hear_all(asyncio.create_task(say(talk, speech)), listener)
        await talk.close()
        await listener.close()
    # The speaker's token was in its URL's query: the proxy's log keeps the path only.
    log = proxy.access_log()
    assert f"/speak/{event_id}/1 " in log and speaker_token(event_id)[:40] not in log


async def test_through_nginx_many_hls_viewers_cost_the_origin_one_request_per_file(
    behind_nginx: Proxy, cluster: Cluster
) -> None:
    proxy = behind_nginx
    event_id = await scheduled_event(cluster.database_url, live=True)
    listen = proxy.url(f"/listen/{event_id}").replace("https://", "wss://")
    connector = aiohttp.TCPConnector(ssl=proxy.ssl_context(), limit=0)
    async with aiohttp.ClientSession(connector=connector) as viewers:
        listener = await joined(viewers, listen)  # an owner opens the event: it broadcasts

        async def fetch(path: str) -> tuple[int, dict[str, str], bytes]:
            async with viewers.get(proxy.url(path)) as response:
                return response.status, dict(response.headers), await response.read()

        master_path = f"/hls/{event_id}/master.m3u8"
        floor: list[str] = []

        async def segments_out() -> bool:
            status, _, master = await fetch(master_path)
            if status != 200:
                return False
            lines = master.decode().splitlines()
            rendition = next(line for line in lines if line.endswith(".m3u8"))
            _, _, playlist = await fetch(f"/hls/{event_id}/{rendition}")
            names = [line for line in playlist.decode().splitlines() if line.endswith(".ts")]
            floor[:] = [rendition.rsplit("/", 1)[0] + "/" + name for name in names]
            return len(floor) >= 2

        await poll(segments_out, within=30)
        segment = f"/hls/{event_id}/{floor[1]}"
        # Forty viewers ask for the same segment at once: nginx fetches it once.
        answers = await asyncio.gather(*(fetch(segment) for _ in range(40)))
        assert {status for status, _, _ in answers} == {200}
        cache = [headers.get("X-Cache-Status") for _, headers, _ in answers]
        assert cache.count("MISS") == 1, cache
        assert len({body for _, _, body in answers}) == 1
        assert answers[0][1]["Cache-Control"] == "public, max-age=31536000, immutable"
        # The live playlist too: at most one request to the origin a second.
        started = time.monotonic()
        answers = await asyncio.gather(*(fetch(master_path) for _ in range(40)))
        took = time.monotonic() - started
        cache = [headers.get("X-Cache-Status") for _, headers, _ in answers]
        assert cache.count("MISS") + cache.count("EXPIRED") <= 1 + int(took), cache
        await listener.close()


async def test_through_nginx_links_are_https_and_plain_http_points_there(
    behind_nginx: Proxy, cluster: Cluster
) -> None:
    proxy = behind_nginx
    event_id = await scheduled_event(cluster.database_url)
    admin = {"Authorization": f"Bearer {service_token(Settings())}"}
    async with client_at("127.0.0.5", proxy) as http:
        answer = await http.get(proxy.url(f"/api/events/{event_id}/links"), headers=admin)
        assert answer.status == 200, await answer.text()
        links = await answer.json()
        public = f"https://localhost:{proxy.https}"
        assert links["listen"][0]["url"] == f"{public}/listen/{event_id}?channel=en-US"
        assert links["speak"][0]["url"] == f"{public}/speak/{event_id}/1"
        # Lines between instances go around the proxy: even the service token is refused.
        line = await http.get(proxy.url(f"/live/{event_id}/line"), headers=admin)
        assert line.status == 404
    async with aiohttp.ClientSession() as plain:
        moved = await plain.get(
            f"http://localhost:{proxy.http}/listen/{event_id}", allow_redirects=False
        )
        assert moved.status == 301
        assert moved.headers["Location"] == f"https://localhost/listen/{event_id}"


async def test_through_nginx_a_client_cannot_choose_its_own_address_or_links(
    behind_nginx: Proxy, cluster: Cluster
) -> None:
    """Forwarding headers a client sends itself, in either family and any spelling, are
    counted as that client: its joins are limited like anyone's, its links stay ours."""
    proxy = behind_nginx
    event_id = await scheduled_event(cluster.database_url)
    listen = proxy.url(f"/listen/{event_id}").replace("https://", "wss://")
    claims: list[dict[str, str]] = [
        {"Forwarded": "for=198.51.100.1"},
        {"Forwarded": 'for="[2001:db8::2]";proto=https'},
        {"X-Forwarded-For": "198.51.100.3"},
        {"Forwarded": "for=198.51.100.4", "X-Forwarded-For": "198.51.100.4"},
        {"X-Forwarded-For": "198.51.100.5, 203.0.113.5"},
    ]
    codes = []
    async with client_at("127.0.0.6", proxy) as http:
        for headers in claims:
            ws = await http.ws_connect(listen, headers=headers)
            message = await ws.receive(timeout=20)
            await ws.close()
            codes.append(ws.close_code if message.type is aiohttp.WSMsgType.CLOSE else None)
        assert codes[:JOINS_PER_MINUTE] == [None] * JOINS_PER_MINUTE, codes
        assert codes[JOINS_PER_MINUTE] == 4029, codes  # one client, however it spoke
        admin = {"Authorization": f"Bearer {service_token(Settings())}"}
        forged = {**admin, "Forwarded": "for=203.0.113.9;host=evil.example;proto=http"}
        answer = await http.get(proxy.url(f"/api/events/{event_id}/links"), headers=forged)
        assert answer.status == 200, await answer.text()
        links = await answer.json()
        assert links["everyone"]["url"] == f"https://localhost:{proxy.https}/listen/{event_id}"
        # A Host nobody configured draws no link (nor a QR code) at all.
        evil = {**admin, "Host": "evil.example"}
        answer = await http.get(proxy.url(f"/api/events/{event_id}/links"), headers=evil)
        assert answer.status == 400, await answer.text()


@pytest.mark.browser
async def test_chromium_speaks_and_listens_over_https_through_nginx(
    behind_nginx: Proxy, cluster: Cluster, tmp_path: Path
) -> None:
    """A speaker page gets its microphone (HTTPS pages only), a listener page plays it."""
    proxy = behind_nginx
    event_id = await scheduled_event(cluster.database_url)
    wav = speak_to_wav(SPEECH, "en-us", tmp_path / "microphone.wav")
    playwright, browser = await launch(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    )
    try:
        # The test's own certificate authority is not the browser's: its errors only.
        speaker_page = await browser.new_page(viewport=PHONE, ignore_https_errors=True)
        await speaker_page.goto(proxy.url(f"/speak/{event_id}/1"))
        assert await speaker_page.evaluate("window.isSecureContext")
        await speaker_page.get_by_label("Your speaker token").fill(speaker_token(event_id))
        listener_page = await browser.new_page(viewport=PHONE, ignore_https_errors=True)
        await listener_page.goto(proxy.url(f"/listen/{event_id}"))
        await wait_for(listener_page, "stats && stats.status === 'WAITING'")
        await speaker_page.get_by_role("button", name="Connect microphone").click()
        # Early, the speaker rehearses: the page says so, and the listener hears nothing.
        await wait_for(speaker_page, "stats.status === 'rehearsal' && stats.sent > 32000")
        assert await speaker_page.get_by_text("Rehearsal: the booths hear you").is_visible()
        assert (await counters(listener_page))["status"] == "WAITING"
        async with client_at("127.0.0.6", proxy) as organizer:
            await go_live(organizer, proxy.url(f"/live/{event_id}/start"))
        await wait_for(speaker_page, "stats.status === 'on-air'")
        assert await speaker_page.get_by_text("The organizer went live").is_visible()
        await wait_for(listener_page, "stats && stats.status === 'LIVE'")
        await listener_page.get_by_role("button", name="Start listening").click()
        await wait_for(listener_page, "stats.samplesPlayed > 32000")
        await listener_page.screenshot(path=screenshot_dir(tmp_path) / "listen-behind-nginx.png")
    finally:
        await browser.close()
        await playwright.stop()


class PlaybackWatch:
    """The longest time a page played nothing (its samplesPlayed stood still)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> PlaybackWatch:
        self._task = asyncio.create_task(self._watch())
        return self

    async def _watch(self) -> None:
        last, since = -1, time.monotonic()
        while True:
            played = (await counters(self.page))["samplesPlayed"]
            now = time.monotonic()
            if played != last:
                last, since = played, now
            self.longest = max(self.longest, now - since)
            await asyncio.sleep(0.1)  # the watch's period, not a synchronisation

    async def stop(self) -> float:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.longest


@pytest.mark.browser
async def test_a_phone_listener_hears_the_floor_again_after_each_instance_restarts(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A rolling restart through the proxy, as a phone meets it: each instance in turn
    gets SIGTERM and comes back; the listener page reconnects by itself and plays on."""
    options = {"trusted_proxies": '["127.0.0.1"]'}
    cluster.start("one", **options)
    cluster.start("two", **options)
    proxy = start_proxy(tmp_path / "nginx", [i.port for i in cluster.instances.values()])
    event_id = await scheduled_event(cluster.database_url, live=True)
    stop = asyncio.Event()
    tone = bytes(range(256)) * 12 + bytes(128)  # 100 ms that are not silence
    talking = speak_through(
        proxy, f"/speak/{event_id}/1?token={speaker_token(event_id)}", tone, stop
    )
    speaking = asyncio.create_task(talking)
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=PHONE, ignore_https_errors=True)
        await page.goto(proxy.url(f"/listen/{event_id}"))
        await wait_for(page, "stats && stats.status === 'LIVE'")
        await page.get_by_role("button", name="Start listening").click()
        await wait_for(page, "stats.samplesPlayed > 16000")
        watch = PlaybackWatch(page).start()
        for name in ("one", "two"):
            played = (await counters(page))["samplesPlayed"]
            began = time.monotonic()
            await asyncio.to_thread(cluster.restart, name)
            back = time.monotonic() - began
            # Two more seconds of the floor, whichever instance the page is on now.
            await wait_for(page, f"stats.samplesPlayed > {played + 32000}", within=60)
            print(f"{name}: back in {back:.1f} s; 2 s more heard {time.monotonic() - began:.1f} s")
        silence = await watch.stop()
        print(f"the page's longest silence over the rolling restart: {silence:.1f} s")
        # Goal 3 s (docs/benchmarks.md); nginx's default counted a restarted instance down
        # for 10 s and the page heard nothing for 16 s. Generous for a busy machine.
        assert silence < 10.0, silence
        stats = await counters(page)
        assert stats["reconnects"] >= 1, stats  # one of the restarts cut the page's socket
        assert stats["status"] == "LIVE", stats
    finally:
        stop.set()
        await asyncio.gather(speaking, return_exceptions=True)
        await browser.close()
        await playwright.stop()
        proxy.stop()
