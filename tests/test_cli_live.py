"""`livevent live start|stop`, `livevent stats` and cancellation, as separate processes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio

from livevent.cli.live import qr_code
from livevent.cli.stats import stats_table
from livevent.client import ListenerClient
from tests.support.live import listening

LIVEVENT = str(Path(sys.executable).parent / "livevent")
REDIS_URL = os.environ.get("LIVEVENT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass
class Live:
    process: asyncio.subprocess.Process
    listen_url: str
    base_url: str


async def cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        LIVEVENT, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def ready_event(env: dict[str, str]) -> int:
    code, out, err = await cli(
        env,
        "event", "create", "--name", "Process test", "--starts-at", "2026-12-01T10:00Z",
        "--source", "en-US", "--channel", "es-ES:human", "--json",
    )  # fmt: skip
    assert code == 0, err
    event_id = int(json.loads(out)["id"])
    assert (await cli(env, "event", "schedule", str(event_id)))[0] == 0
    return event_id


@pytest.fixture
async def env(tmp_path: Path) -> dict[str, str]:
    values = {
        **os.environ,
        "LIVEVENT_DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
        "NO_COLOR": "1",
        "COLUMNS": "200",
    }
    values.pop("LIVEVENT_CONFIG", None)
    return values


async def start_live(env: dict[str, str], event_id: int, *extra: str) -> Live:
    process = await asyncio.create_subprocess_exec(
        LIVEVENT, "live", "start", str(event_id), "--port", "0", *extra,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    async with asyncio.timeout(30):
        while True:
            line = (await process.stdout.readline()).decode()
            assert line, "livevent live start exited before it was live"
            found = re.search(r"listeners: (http://\S+)", line)
            if found:
                break
        page_url = found.group(1)
        # Then the same link as a QR code, for phones in the room.
        expected = qr_code(page_url).splitlines()
        printed = [(await process.stdout.readline()).decode().rstrip("\n") for _ in expected]
        assert printed == expected
    listen_url = page_url.replace("http://", "ws://", 1)
    return Live(process, listen_url, page_url.split("/listen/")[0])


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


async def joined(session: aiohttp.ClientSession, url: str) -> ListenerClient:
    listener = listening(await session.ws_connect(url))
    await listener.until(lambda log: bool(log.of_type("status")))
    return listener


async def test_start_stats_and_stop_on_the_embedded_default(
    env: dict[str, str], session: aiohttp.ClientSession
) -> None:
    event_id = await ready_event(env)
    live = await start_live(env, event_id)
    listener = await joined(session, live.listen_url)

    deadline = time.monotonic() + 10
    while True:
        code, out, err = await cli(env, "stats", str(event_id), "--json", "--url", live.base_url)
        assert code == 0, err
        snapshot = json.loads(out)
        if snapshot[0]["channels"].get("en-US", {}).get("listeners") == 1:
            break
        assert time.monotonic() < deadline, snapshot
        await asyncio.sleep(0.1)
    assert snapshot[0]["status"] == "LIVE"
    assert [i["spool"] for i in snapshot[0]["instances"].values()] == [0]

    code, _, err = await cli(
        env, "live", "stop", str(event_id), "--url", live.base_url, "--reason", "wrap-up"
    )
    assert code == 0, err
    log = await listener.closed(within=5)
    assert log.close_code == 4010
    assert log.of_type("status")[-1]["event_status"] == "ENDED"
    assert await asyncio.wait_for(live.process.wait(), 15) == 0
    _, out, _ = await cli(env, "event", "show", str(event_id), "--json")
    assert json.loads(out)["status"] == "ENDED"


async def test_sigterm_ends_the_event_gracefully(
    env: dict[str, str], session: aiohttp.ClientSession
) -> None:
    event_id = await ready_event(env)
    live = await start_live(env, event_id)
    listener = await joined(session, live.listen_url)
    live.process.send_signal(signal.SIGTERM)
    log = await listener.closed(within=10)
    assert log.close_code == 4010
    assert await asyncio.wait_for(live.process.wait(), 15) == 0
    _, out, _ = await cli(env, "event", "show", str(event_id), "--json")
    assert json.loads(out)["status"] == "ENDED"


@pytest.mark.redis
async def test_cancel_from_another_process_over_redis(
    env: dict[str, str], session: aiohttp.ClientSession
) -> None:
    prefix = f"lvtest:{secrets.token_hex(4)}:"
    env = {**env, "LIVEVENT_REDIS_URL": REDIS_URL, "LIVEVENT_REDIS_PREFIX": prefix}
    event_id = await ready_event(env)
    live = await start_live(env, event_id)
    try:
        listener = await joined(session, live.listen_url)
        # Stats read through Redis from this separate process, no URL given.
        deadline = time.monotonic() + 10
        while True:
            code, out, err = await cli(env, "stats", str(event_id), "--json")
            assert code == 0, err
            channels = json.loads(out)[0]["channels"]
            if channels.get("en-US", {}).get("listeners") == 1 and "state" in channels["en-US"]:
                break
            assert time.monotonic() < deadline, out
            await asyncio.sleep(0.1)

        code, _, err = await cli(env, "event", "cancel", str(event_id), "--reason", "power cut")
        assert code == 0, err
        cancelled_at = time.monotonic()
        log = await listener.closed(within=5)
        assert log.closed_at is not None and log.closed_at - cancelled_at < 1.0
        assert log.close_code == 4010
        final = log.of_type("status")[-1]
        assert (final["event_status"], final["reason"]) == ("CANCELLED", "power cut")
        assert await asyncio.wait_for(live.process.wait(), 15) == 0
        _, out, _ = await cli(env, "event", "show", str(event_id), "--json")
        assert json.loads(out)["status"] == "CANCELLED"
    finally:
        if live.process.returncode is None:
            live.process.kill()
            await live.process.wait()
        cleaner = redis.asyncio.Redis.from_url(REDIS_URL)
        leftovers = [key async for key in cleaner.scan_iter(match=f"{prefix}live:*")]
        await cleaner.aclose()
    assert leftovers == [], "the live keys were not cleaned"


def test_stats_warn_when_an_instance_spools_transcripts() -> None:
    def snapshot(spooled: int) -> list[dict[str, object]]:
        channels = {"en-US": {"listeners": 3, "state": "on air"}}
        instance = {"role": "owner", "channels": channels, "spool": spooled}
        return [
            {"event": 123457, "status": "LIVE", "channels": channels, "instances": {"a": instance}}
        ]

    assert stats_table(snapshot(1)).caption is None  # drained within the second
    caption = stats_table(snapshot(40)).caption
    assert caption == "instance a: 40 transcript segments wait for the store"
