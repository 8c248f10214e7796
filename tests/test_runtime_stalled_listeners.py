"""Listeners that stop reading: dropped within 15 s, out of the cap, and no hold on a drain.

Real sockets against a real `livevent serve`: each stalled client completes the
WebSocket handshake with a tiny receive buffer and never reads again, while a
speaker streams PCM at real time, so kernel and server buffers really fill.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from livevent.auth import service_token
from livevent.settings import Settings
from tests.support.live import Heard, go_live, listen_until, speaker_token
from tests.support.servers import LIVEVENT, start_serve

CAP = 6


@dataclass
class Served:
    process: subprocess.Popen[str]
    port: int
    event_id: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    env = {**os.environ, "LIVEVENT_DATABASE_URL": f"sqlite:///{tmp_path / 'stall.db'}"}
    env.pop("LIVEVENT_CONFIG", None)
    created = subprocess.run(
        [LIVEVENT, "event", "create", "--name", "Stall", "--starts-at", "2026-12-01T10:00Z",
         "--source", "en-US", "--max-listeners", str(CAP), "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    event_id = int(json.loads(created.stdout)["id"])
    subprocess.run([LIVEVENT, "event", "schedule", str(event_id)], env=env, check=True)
    env["LIVEVENT_JOINS_PER_IP_PER_MINUTE"] = "0"
    # Small kernel buffers, so a stalled PCM listener fills them within a second.
    env["LIVEVENT_LISTENER_SEND_BUFFER_BYTES"] = "4096"
    log = tmp_path / "serve.log"
    process, port = start_serve(env, log=log)
    try:
        yield Served(process, port, event_id, log)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)


async def stalled_listener(served: Served) -> socket.socket:
    """A client that joins the floor as PCM (32 kB/s) and then never reads a byte."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", served.port))
    request = (
        f"GET /listen/{served.event_id}?format=pcm HTTP/1.1\r\nHost: x\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    head = b""
    while b"\r\n\r\n" not in head:  # the 101 answer, and not one byte more on purpose
        head += await loop.sock_recv(sock, 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


@pytest.fixture
async def speaking(served: Served) -> AsyncIterator[aiohttp.ClientSession]:
    """A speaker on the floor, streaming 100 ms of PCM every 100 ms until the test ends."""
    async with aiohttp.ClientSession() as http:
        await go_live(http, served.url(f"/live/{served.event_id}/start"))
        token = speaker_token(served.event_id)
        ws = await http.ws_connect(served.url(f"/speak/{served.event_id}/1?token={token}"))
        assert (await ws.receive_json())["type"] == "ready"

        async def stream() -> None:
            chunk = bytes(range(256)) * 12 + bytes(128)  # 3200 bytes: 100 ms
            while True:
                await ws.send_bytes(chunk)
                await asyncio.sleep(0.1)  # the pace of a microphone, not a synchronisation

        task = asyncio.create_task(stream())
        try:
            yield http
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


async def stats(http: aiohttp.ClientSession, served: Served) -> dict[str, int]:
    organizer = {"Authorization": f"Bearer {service_token(Settings())}"}
    url = served.url(f"/live/{served.event_id}/stats")
    async with http.get(url, headers=organizer) as response:
        body = await response.json()
    floor = body["channels"].get("en-US", {})
    return {
        "listeners": int(body["listeners"].get("en-US", 0)),
        "drops": int(floor.get("drops", 0)),
    }


async def wait_for(check: object, within: float) -> float:
    """Poll `check()` (a coroutine function) until true; how long it took."""
    start = time.monotonic()
    while not await check():  # type: ignore[operator]
        assert time.monotonic() - start < within, "condition not met before the deadline"
        await asyncio.sleep(0.1)
    return time.monotonic() - start


async def test_stalled_listeners_are_dropped_and_free_their_places(
    served: Served, speaking: aiohttp.ClientSession
) -> None:
    http = speaking
    stalled = [await stalled_listener(served) for _ in range(5)]
    await wait_for(lambda: _count_is(http, served, 5), within=20)
    joined = time.monotonic()
    await wait_for(lambda: _count_is(http, served, 0), within=60)
    print(f"stalled listeners dropped after {time.monotonic() - joined:.1f} s")
    # Their places are free: the cap admits a full house again.
    readers = []
    for _ in range(CAP):
        ws = await http.ws_connect(served.url(f"/listen/{served.event_id}"))
        log = await listen_until(
            ws, Heard(), lambda log: bool(log.of_type("status")) or log.close_code is not None
        )
        assert log.close_code is None, (log.close_code, log.close_reason)
        readers.append(ws)
    for ws in readers:
        await ws.close()
    for sock in stalled:
        sock.close()
    log = served.log.read_text()
    assert "too far behind" in log
    assert "Traceback" not in log


async def test_sigterm_drains_in_under_10_s_with_stalled_listeners(
    served: Served, speaking: aiohttp.ClientSession
) -> None:
    http = speaking
    before = (await stats(http, served))["drops"]
    stalled = [await stalled_listener(served) for _ in range(5)]
    # Every stalled listener's buffers are full once the server starts skipping for them.
    await wait_for(lambda: _drops_beyond(http, served, before + 25), within=20)
    assert (await stats(http, served))["listeners"] == 5
    started = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    served.process.wait(timeout=30)
    took = time.monotonic() - started
    assert served.process.returncode == 0
    assert took < 10, f"the drain took {took:.1f} s"
    for sock in stalled:
        sock.close()
    log = served.log.read_text()
    assert "Traceback" not in log
    assert "token=" not in log or "token=[redacted]" in log
    assert speaker_token(served.event_id).split(".")[1] not in log


async def _count_is(http: aiohttp.ClientSession, served: Served, count: int) -> bool:
    return (await stats(http, served))["listeners"] == count


async def _drops_beyond(http: aiohttp.ClientSession, served: Served, drops: int) -> bool:
    return (await stats(http, served))["drops"] >= drops
