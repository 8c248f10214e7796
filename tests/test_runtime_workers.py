"""Speech goes where there is room (issue 37): `livevent worker` processes run live
events' speech, each job on the worker with a free slot; a job without one is told so
and starts by itself when a slot frees; a killed worker's job moves to another.

Real `livevent serve` and `livevent worker` processes on PostgreSQL and a Redis of the
test's own; real speech (espeak-ng) through Whisper, Apertium and espeak-ng.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio

from livevent.auth import Role, TokenIssuer, service_token
from livevent.bus import keys
from livevent.client import ListenerClient
from livevent.settings import Settings
from tests.support.browser import PHONE, launch, needs_chromium
from tests.support.cluster import (
    OWNER_TTL,
    Cluster,
    Instance,
    joined,
    say,
    scheduled_event,
    speaker,
)
from tests.support.live import Heard, poll, speaker_token, speech_pcm
from tests.support.proxy import start_proxy
from tests.support.servers import LIVEVENT

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
PAUSE = bytes(32000)  # a second of silence: the sentence is over


def admin() -> dict[str, str]:
    """A fresh admin header: a token made at import would expire in a long, busy run."""
    return {"Authorization": f"Bearer {service_token(Settings())}"}


WORKERS = {"speech": "workers"}


def finals(log: Heard) -> list[str]:
    return [c["text"] for c in log.of_type("caption") if c.get("final")]


def machine_state(log: Heard) -> tuple[str | None, str | None]:
    statuses = log.of_type("status")
    if not statuses:
        return None, None
    return statuses[-1].get("channel_state"), statuses[-1].get("channel_reason")


async def workers(http: aiohttp.ClientSession, instance: Instance) -> list[dict[str, object]]:
    async with http.get(instance.url("/live/workers"), headers=admin()) as response:
        assert response.status == 200, await response.text()
        return list(await response.json())


def held_by(cluster: Cluster, event_id: int, worker: str | None) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await holder(cluster, event_id) == worker

    return check


async def holder(cluster: Cluster, event_id: int) -> str | None:
    client = redis.asyncio.Redis.from_url(cluster.redis_url, decode_responses=True)
    try:
        return await client.get(keys.speech_job(event_id))
    finally:
        await client.aclose()


async def talk(
    http: aiohttp.ClientSession, instance: Instance, event_id: int
) -> tuple[aiohttp.ClientWebSocketResponse, ListenerClient]:
    return await talk_at(http, instance.ws(""), event_id)


async def talk_at(
    http: aiohttp.ClientSession, base: str, event_id: int
) -> tuple[aiohttp.ClientWebSocketResponse, ListenerClient]:
    """The floor speaker on air and a Spanish listener, at `base` (ws:// or wss://)."""
    floor = await speaker(http, f"{base}/speak/{event_id}/1?token={speaker_token(event_id)}")
    spanish = await joined(http, f"{base}/listen/{event_id}?channel=es-ES")
    return floor, spanish


async def spoken(
    floor: aiohttp.ClientWebSocketResponse, spanish: ListenerClient, text: str, tmp: Path
) -> None:
    """One sentence said; its Spanish caption and voice reach the listener."""
    captions, heard = len(finals(spanish.heard)), spanish.heard.seconds
    await say(floor, speech_pcm(text, "en-us", tmp) + PAUSE)
    await spanish.until(lambda log: len(finals(log)) > captions, within=90)
    await spanish.until(lambda log: log.seconds > heard + 0.5, within=90)


async def test_a_machine_channel_runs_on_a_worker_and_the_admin_sees_it(
    cluster: Cluster, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    cluster.worker("w1")
    live = cluster.start("a", **WORKERS)
    relay = cluster.start("b", **WORKERS)
    event_id = await scheduled_event(cluster.database_url, machine=True, live=True)
    floor, spanish = await talk(http, live, event_id)
    elsewhere = await joined(http, relay.ws(f"/listen/{event_id}?channel=es-ES"))
    await spoken(floor, spanish, "Good morning everyone, welcome to the meeting.", tmp_path)
    assert await holder(cluster, event_id) == "w1"
    # A listener on another instance hears the worker's channel as the owner's do.
    await elsewhere.until(lambda log: len(finals(log)) >= 1 and log.seconds > 0.5, within=60)
    [seen] = await workers(http, live)
    assert seen["name"] == "w1" and seen["slots"] == 1 and seen["jobs"] == [event_id]
    assert isinstance(seen["load"], float)
    # The live instance placed the job; it ran no recogniser of its own.
    log = live.log.read_text()
    assert "speech runs on worker w1" in log and "speech job running here" not in log
    async with http.get(live.url("/live/workers")) as anonymous:
        assert anonymous.status == 401
        assert anonymous.content_type == "application/problem+json"
    manager = TokenIssuer(Settings().auth_secret.get_secret_value()).issue(
        sub="user:9", role=Role.MANAGER, ttl=60, customer=1
    )
    auth = {"Authorization": f"Bearer {manager}"}
    async with http.get(live.url("/live/workers"), headers=auth) as refused:
        assert refused.status == 403

    # The last sentence before the end is captioned and spoken before the channel closes.
    captions = len(finals(spanish.heard))
    await say(floor, speech_pcm("Thank you and goodbye.", "en-us", tmp_path) + PAUSE)
    async with http.post(live.url(f"/live/{event_id}/stop"), headers=admin()) as ended:
        assert ended.status == 200, await ended.text()
    await spanish.until(lambda log: log.close_code is not None, within=90)
    assert len(finals(spanish.heard)) > captions, "the last sentence was cut"
    await poll(held_by(cluster, event_id, None), within=30)
    await floor.close()
    await elsewhere.close()


@needs_chromium
async def test_the_console_says_where_speech_runs_and_warns_before_going_live(
    cluster: Cluster, http: aiohttp.ClientSession
) -> None:
    cluster.worker("w1", slots=1)
    live = cluster.start("a", **WORKERS)
    running = await scheduled_event(cluster.database_url, machine=True, live=True)
    floor, spanish = await talk(http, live, running)
    await poll(held_by(cluster, running, "w1"), within=30)
    waiting = await scheduled_event(cluster.database_url, machine=True)
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=PHONE)
        token = service_token(Settings())
        await page.add_init_script(
            f"sessionStorage.setItem('livevent:manager', JSON.stringify({{access: '{token}'}}))"
        )
        # The sound check of an event that would get no slot says so before going live.
        await page.goto(live.url(f"/manage#/events/{waiting}"))
        line = page.locator("#live-speech")
        await line.get_by_text("no speech capacity").wait_for(timeout=60_000)
        text = await line.inner_text()
        assert "Going live now, machine channels will be unavailable" in text, text
        assert "0 of 1 speech slot free on 1 worker" in text, text
        # The live event's view names the worker its speech runs on.
        await page.goto(live.url(f"/manage#/events/{running}"))
        await page.reload()
        await page.locator("#live-speech").get_by_text("speech worker w1").wait_for(timeout=60_000)
    finally:
        await browser.close()
        await playwright.stop()
    await floor.close()
    await spanish.close()


async def test_an_event_without_a_free_slot_is_told_and_starts_when_one_frees(
    cluster: Cluster, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    cluster.worker("w1", slots=1)
    live = cluster.start("a", **WORKERS)
    first = await scheduled_event(cluster.database_url, machine=True, live=True)
    floor, spanish = await talk(http, live, first)
    await poll(held_by(cluster, first, "w1"), within=30)

    second = await scheduled_event(cluster.database_url, machine=True, live=True)
    floor2, spanish2 = await talk(http, live, second)
    told = time.monotonic()
    await spanish2.until(
        lambda log: "no speech capacity" in (machine_state(log)[1] or ""), within=30
    )
    assert machine_state(spanish2.heard)[0] == "unavailable"
    assert time.monotonic() - told < 10
    # The floor goes on meanwhile: its listeners hear the speaker.
    assert await holder(cluster, second) is None

    async with http.post(live.url(f"/live/{first}/stop"), headers=admin()) as ended:
        assert ended.status in (200, 202), await ended.text()
    await poll(held_by(cluster, second, "w1"), within=30)
    await spanish2.until(lambda log: machine_state(log)[0] != "unavailable", within=30)
    await spoken(floor2, spanish2, "The second meeting can start now.", tmp_path)
    for ws in (floor, floor2):
        await ws.close()
    for listener in (spanish, spanish2):
        await listener.close()


async def test_a_killed_workers_job_moves_to_another_and_captions_resume(
    cluster: Cluster, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    w1, w2 = cluster.worker("w1"), cluster.worker("w2")
    live = cluster.start("a", **WORKERS)
    event_id = await scheduled_event(cluster.database_url, machine=True, live=True)
    floor, spanish = await talk(http, live, event_id)
    await spoken(floor, spanish, "Good morning everyone.", tmp_path)
    running = await holder(cluster, event_id)
    victim, other = (w1, "w2") if running == "w1" else (w2, "w1")
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=10)
    died = time.monotonic()
    await poll(held_by(cluster, event_id, other), within=30)
    moved = time.monotonic() - died
    assert moved <= OWNER_TTL + 2 + 1.0, f"placed again after {moved:.1f} s"
    await spoken(floor, spanish, "The weather is very nice today.", tmp_path)
    await floor.close()
    await spanish.close()


async def test_a_worker_told_to_stop_hands_its_job_over_mid_sentence(
    cluster: Cluster, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    w1, w2 = cluster.worker("w1"), cluster.worker("w2")
    live = cluster.start("a", **WORKERS)
    event_id = await scheduled_event(cluster.database_url, machine=True, live=True)
    floor, spanish = await talk(http, live, event_id)
    await spoken(floor, spanish, "Good morning everyone.", tmp_path)
    running = await holder(cluster, event_id)
    leaving, other = (w1, "w2") if running == "w1" else (w2, "w1")
    captions = len(finals(spanish.heard))
    sentence = speech_pcm("Thank you all for coming to this meeting today.", "en-us", tmp_path)
    half = len(sentence) // 2 // 640 * 640
    await say(floor, sentence[:half])
    leaving.process.send_signal(signal.SIGTERM)  # mid-sentence
    await say(floor, sentence[half:] + PAUSE)
    assert leaving.process.wait(timeout=60) == 0
    await poll(held_by(cluster, event_id, other), within=30)
    # Nothing said was lost: the sentence was captioned (in one piece or two).
    await spanish.until(lambda log: len(finals(log)) > captions, within=90)
    await spoken(floor, spanish, "The weather is very nice today.", tmp_path)
    await floor.close()
    await spanish.close()


async def test_a_job_for_a_deleted_event_is_dropped_with_a_log_line(
    cluster: Cluster, tmp_path: Path
) -> None:
    worker = cluster.worker("w1")
    client = redis.asyncio.Redis.from_url(cluster.redis_url, decode_responses=True)
    try:
        offer = '{"t": "offer", "event": 987654321, "owner": "nobody"}'
        await client.publish(keys.worker_offers("w1"), offer)
        await client.publish(keys.worker_offers("w1"), "not json at all")

        async def logged() -> bool:
            text = worker.log.read_text()
            return "987654321" in text and "speech job dropped" in text

        await poll(logged, within=30)
        assert worker.process.poll() is None, "the worker died of a bad offer"
        assert await client.get(keys.speech_job(987654321)) is None
        assert "Traceback" not in worker.log.read_text()
    finally:
        await client.aclose()


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LIVEVENT, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("slots", ["0", "-2"])
def test_a_worker_refuses_slots_below_one(slots: str) -> None:
    done = run_cli("worker", "--slots", slots, LIVEVENT_REDIS_URL="redis://127.0.0.1:1/0")
    assert done.returncode == 1, done
    assert done.stderr.count("\n") == 1 and "--slots" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_worker_without_redis_says_so(tmp_path: Path) -> None:
    memory = run_cli("worker", LIVEVENT_REDIS_URL="memory://")
    assert memory.returncode == 3, memory
    assert memory.stderr.count("\n") == 1 and "needs Redis" in memory.stderr
    unreachable = run_cli(
        "worker",
        LIVEVENT_REDIS_URL="redis://127.0.0.1:1/0",
        LIVEVENT_DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}",
    )
    assert unreachable.returncode == 3, unreachable
    assert unreachable.stderr.count("\n") == 1 and "Traceback" not in unreachable.stderr


async def test_three_roles_behind_the_shipped_nginx_serve_a_machine_channel(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The deploy kit's layout: an api instance, a live instance (speech on workers) and
    a worker, with deploy/nginx.conf sending each path to its role."""
    proxied = {"trusted_proxies": '["127.0.0.1"]'}
    api = cluster.start("api", role="api", **proxied)
    live = cluster.start("live", role="live", **WORKERS, **proxied)
    cluster.worker("w1")
    proxy = start_proxy(tmp_path / "nginx", [live.port], api=[api.port])
    try:
        connector = aiohttp.TCPConnector(ssl=proxy.ssl_context())
        async with aiohttp.ClientSession(connector=connector) as http:
            event_id = await scheduled_event(cluster.database_url, machine=True, live=True)
            # Each role answers its own paths only; nginx sends each path to its role.
            async with http.get(api.url(f"/listen/{event_id}")) as missing:
                assert missing.status == 404
            async with http.get(live.url(f"/api/events/{event_id}"), headers=admin()) as missing:
                assert missing.status == 404
            async with http.get(proxy.url(f"/api/events/{event_id}"), headers=admin()) as found:
                assert found.status == 200, await found.text()
            async with http.get(proxy.url("/manage")) as console_page:
                assert console_page.status == 200
            wss = proxy.url("").replace("https://", "wss://")
            floor, spanish = await talk_at(http, wss, event_id)
            await spoken(floor, spanish, "Good morning everyone.", tmp_path)
            assert await holder(cluster, event_id) == "w1"
            await floor.close()
            await spanish.close()
    finally:
        proxy.stop()
