"""Fan-out to N WebSocket listeners: livevent's hub against two peers, in the same run.

Servers (each a separate process, one at a time):
  livevent    ChannelHub: the message framed once, written to every transport
  naive       aiohttp, `for ws in listeners: await ws.send_bytes(message)`
  websockets  the websockets library's `broadcast()`

The load is other processes of raw asyncio clients that do the handshake and
then only parse frame headers (cheap, so they are not the bottleneck). Every
100 ms the server sends one ~330-byte message (five 20 ms Opus packets' worth)
stamped with the wall clock; clients record the delivery lag.

Reported per server: messages delivered/s, p50/p99 lag, server RSS per
listener, and the server's own CPU time per delivered message (from its
process accounting), plus the ratios against livevent.

    python benchmarks/fanout.py --listeners 1000 5000 10000 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import secrets
import socket
import struct
import subprocess
import sys
import time
import weakref
from pathlib import Path
from typing import Any

import psutil

RESULTS = Path(__file__).parent / "results"
PERIOD = 0.1
PAYLOAD = 330


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def stamped(sequence: int) -> bytes:
    # The audio message header of docs/protocol.md, its timestamp field holding
    # wall-clock microseconds so that another process can measure the lag.
    header = struct.pack(">BBIQ", 1, 5, sequence, time.time_ns() // 1000)
    return header + b"\x55" * (PAYLOAD - len(header))


# -- servers ------------------------------------------------------------------------


async def serve_livevent(port: int, ready: asyncio.Event, stop: asyncio.Event) -> None:

    from livevent.model import Channel, ChannelKind
    from livevent.runtime.live.fanout import ChannelHub
    from livevent.runtime.wire import websocket_frame

    hub = ChannelHub(Channel(number=1, language="en-US", kind=ChannelKind.FLOOR))

    async def broadcaster() -> None:
        sequence = 0
        while not stop.is_set():
            hub._broadcast(websocket_frame(stamped(sequence)), audio="opus")
            sequence += 1
            await asyncio.sleep(PERIOD)

    runner = await _hub_server(hub, port)
    ready.set()
    await broadcaster()
    await runner.cleanup()


async def _hub_server(hub: Any, port: int) -> Any:
    """An aiohttp server whose WebSocket listeners join `hub` (livevent's ChannelHub)."""
    from aiohttp import web

    from livevent.runtime.live.fanout import Listener

    async def listen(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        listener = Listener(id=secrets.token_hex(8), transport=request.transport)  # type: ignore[arg-type]
        hub.add(listener)
        try:
            async for _ in ws:
                pass
        finally:
            hub.remove(listener.id)
        return ws

    app = web.Application()
    app.router.add_get("/", listen)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    return runner


async def serve_livevent_pushed(
    port: int, ready: asyncio.Event, stop: asyncio.Event, *, record: bool = False
) -> None:
    """The whole path: 20 ms PCM frames pushed into the hub, Opus encoded once, batched,
    framed and written; with `record`, also muxed into an Ogg file (the recording)."""
    import math
    import tempfile

    from livevent.model import Channel, ChannelKind
    from livevent.runtime.live.fanout import ChannelHub
    from livevent.runtime.storage.recording import ChannelRecording

    hub = ChannelHub(Channel(number=1, language="en-US", kind=ChannelKind.FLOOR))
    folder = tempfile.TemporaryDirectory(prefix="livevent-fanout-")
    recording = ChannelRecording(Path(folder.name) / "floor.ogg") if record else None
    if recording is not None:
        hub.recorder = recording.write
    samples = [int(8000 * math.sin(2 * math.pi * 440 * n / 16000)) for n in range(320)]
    frame = b"".join(s.to_bytes(2, "little", signed=True) for s in samples)

    runner = await _hub_server(hub, port)
    ready.set()
    while not stop.is_set():
        arrived = time.monotonic()
        for _ in range(5):  # 100 ms of speech, as a speaker's socket delivers it
            hub.push(frame, arrived)
        await asyncio.sleep(PERIOD)
    if recording is not None:
        recording.close()
    folder.cleanup()
    await runner.cleanup()


async def serve_livevent_recording(port: int, ready: asyncio.Event, stop: asyncio.Event) -> None:
    await serve_livevent_pushed(port, ready, stop, record=True)


async def serve_naive(port: int, ready: asyncio.Event, stop: asyncio.Event) -> None:
    from aiohttp import web

    listeners: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()

    async def listen(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        listeners.add(ws)
        async for _ in ws:
            pass
        return ws

    async def broadcaster() -> None:
        sequence = 0
        while not stop.is_set():
            message = stamped(sequence)
            for ws in list(listeners):
                if not ws.closed:
                    try:
                        await ws.send_bytes(message)
                    except ConnectionError:  # a listener that left meanwhile
                        pass
            sequence += 1
            await asyncio.sleep(PERIOD)

    app = web.Application()
    app.router.add_get("/", listen)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    ready.set()
    await broadcaster()
    await runner.cleanup()


async def serve_websockets(port: int, ready: asyncio.Event, stop: asyncio.Event) -> None:
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    async def handler(connection: ServerConnection) -> None:
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", port, compression=None, backlog=4096) as server:
        ready.set()
        sequence = 0
        while not stop.is_set():
            broadcast(server.connections, stamped(sequence))
            sequence += 1
            await asyncio.sleep(PERIOD)


SERVERS = {
    "livevent": serve_livevent,
    "naive": serve_naive,
    "websockets": serve_websockets,
    # The whole path (encode once, batch, write), without and with the recording; their
    # messages carry media time, not the wall clock, so only their CPU is compared.
    "livevent-pushed": serve_livevent_pushed,
    "livevent-recording": serve_livevent_recording,
}


def run_server(mode: str, port: int) -> None:
    """The server process: serves until stdin closes."""
    raise_fd_limit()

    async def main() -> None:
        ready, stop = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(SERVERS[mode](port, ready, stop))
        await ready.wait()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.read)
        stop.set()
        await task

    asyncio.run(main())


# -- load ---------------------------------------------------------------------------


class Client(asyncio.Protocol):
    """A WebSocket client that reads frame headers and the timestamp, nothing else."""

    def __init__(self, stats: dict[str, Any], connected: asyncio.Future[None]) -> None:
        self.stats = stats
        self.connected = connected
        self.buffer = bytearray()
        self.upgraded = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        transport.write(  # type: ignore[attr-defined]
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            del self.buffer[: end + 4]
            self.upgraded = True
            if not self.connected.done():
                self.connected.set_result(None)
        buffer = self.buffer
        now_us = time.time_ns() // 1000
        offset = 0
        while len(buffer) - offset >= 2:
            size = buffer[offset + 1] & 0x7F
            head = 2
            if size == 126:
                if len(buffer) - offset < 4:
                    break
                size = int.from_bytes(buffer[offset + 2 : offset + 4], "big")
                head = 4
            elif size == 127:
                if len(buffer) - offset < 10:
                    break
                size = int.from_bytes(buffer[offset + 2 : offset + 10], "big")
                head = 10
            if len(buffer) - offset < head + size:
                break
            if buffer[offset] & 0x0F == 0x2 and size >= 14:
                start = offset + head + 6
                sent = int.from_bytes(buffer[start : start + 8], "big")
                self.stats["received"] += 1
                lag = now_us - sent
                if self.stats["measuring"]:
                    self.stats["lags"].append(lag)
                    self.stats["counted"] += 1
            offset += head + size
        del buffer[:offset]

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats["lost"] += 1


def run_load(port: int, listeners: int, seconds: float, warmup: float) -> None:
    """A load process: connect, warm up, measure, print JSON."""
    raise_fd_limit()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stats: dict[str, Any] = {
            "received": 0,
            "counted": 0,
            "lost": 0,
            "lags": [],
            "measuring": False,
        }
        transports = []
        for start in range(0, listeners, 200):
            batch = []
            for _ in range(min(200, listeners - start)):
                connected: asyncio.Future[None] = loop.create_future()
                batch.append(connected)
                transport, _ = await loop.create_connection(
                    lambda c=connected: Client(stats, c), "127.0.0.1", port
                )
                transports.append(transport)
            await asyncio.wait_for(asyncio.gather(*batch), 60)
        print("connected", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # the coordinator says: measure
        await asyncio.sleep(warmup)
        stats["measuring"] = True
        began = time.perf_counter()
        await asyncio.sleep(seconds)
        stats["measuring"] = False
        elapsed = time.perf_counter() - began
        lags = sorted(stats["lags"])
        print(
            json.dumps(
                {
                    "counted": stats["counted"],
                    "elapsed": elapsed,
                    "lost": stats["lost"],
                    "lag_samples": [lags[int(len(lags) * q)] for q in (0.5, 0.99)] if lags else [],
                    "lags": lags[:: max(1, len(lags) // 20000)],
                }
            ),
            flush=True,
        )
        for transport in transports:
            transport.close()

    asyncio.run(main())


# -- coordinator ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(mode: str, listeners: int, seconds: float, loaders: int) -> dict[str, Any]:
    port = free_port()
    me = [sys.executable, __file__]
    server = subprocess.Popen(
        [*me, "server", "--mode", mode, "--port", str(port)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert server.stdout is not None and server.stdin is not None
    assert server.stdout.readline().strip() == "ready"
    proc = psutil.Process(server.pid)
    rss_before = proc.memory_info().rss
    shares = [listeners // loaders + (1 if i < listeners % loaders else 0) for i in range(loaders)]
    loads = [
        subprocess.Popen(
            [*me, "load", "--port", str(port), "--listeners", str(n), "--seconds", str(seconds)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in shares
    ]
    for load in loads:
        assert load.stdout is not None
        assert load.stdout.readline().strip() == "connected"
    rss_after = proc.memory_info().rss
    for load in loads:
        assert load.stdin is not None
        load.stdin.write("go\n")
        load.stdin.flush()
    time.sleep(1.0)  # the loaders' warm-up
    cpu_before = proc.cpu_times()
    wall_before = time.perf_counter()
    results = []
    for load in loads:
        assert load.stdout is not None
        results.append(json.loads(load.stdout.readline()))
    cpu_after = proc.cpu_times()
    wall = time.perf_counter() - wall_before
    for load in loads:
        load.wait()
    server.stdin.close()
    server.wait()
    counted = sum(r["counted"] for r in results)
    elapsed = max(r["elapsed"] for r in results)
    lags = sorted(lag for r in results for lag in r["lags"])
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    expected = listeners * elapsed / PERIOD
    return {
        "server": mode,
        "listeners": listeners,
        "messages_per_s": counted / elapsed,
        "delivered_share": counted / expected,
        "lag_p50_ms": lags[len(lags) // 2] / 1000 if lags else None,
        "lag_p99_ms": lags[int(len(lags) * 0.99)] / 1000 if lags else None,
        "rss_per_listener_kb": (rss_after - rss_before) / listeners / 1024,
        "server_cpu_us_per_message": cpu / counted * 1e6 if counted else None,
        "server_user_us_per_message": (cpu_after.user - cpu_before.user) / counted * 1e6
        if counted
        else None,
        "server_system_us_per_message": (cpu_after.system - cpu_before.system) / counted * 1e6
        if counted
        else None,
        "server_cpu_share": cpu / wall,
        "lost_connections": sum(r["lost"] for r in results),
    }


def _lag(row: dict[str, Any]) -> str:
    if row["server"].startswith("livevent-"):
        return "lag n/a"
    return f"lag p50 {row['lag_p50_ms']:.1f} ms p99 {row['lag_p99_ms']:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="role")
    server = sub.add_parser("server")
    server.add_argument("--mode", choices=sorted(SERVERS), required=True)
    server.add_argument("--port", type=int, required=True)
    load = sub.add_parser("load")
    load.add_argument("--port", type=int, required=True)
    load.add_argument("--listeners", type=int, required=True)
    load.add_argument("--seconds", type=float, default=10)
    load.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--listeners", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--loaders", type=int, default=2)
    parser.add_argument("--servers", nargs="+", default=["livevent", "naive", "websockets"])
    parser.add_argument("--results", default="fanout.json", help="file in benchmarks/results")
    args = parser.parse_args()
    if args.role == "server":
        run_server(args.mode, args.port)
        return
    if args.role == "load":
        run_load(args.port, args.listeners, args.seconds, args.warmup)
        return

    rows = []
    for listeners in args.listeners:
        for mode in args.servers:
            row = measure(mode, listeners, args.seconds, args.loaders)
            rows.append(row)
            print(
                f"{mode:<10} {listeners:>6} listeners: {row['messages_per_s']:>9.0f} msg/s"
                f" ({row['delivered_share']:.0%} delivered), {_lag(row)},"
                f" {row['rss_per_listener_kb']:.1f} KiB/listener,"
                f" server CPU {row['server_cpu_us_per_message']:.2f} us/msg"
                f" (user {row['server_user_us_per_message']:.2f}"
                f" + system {row['server_system_us_per_message']:.2f})"
                f" ({row['server_cpu_share']:.0%} of a core)",
                flush=True,
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.results).write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "cpus": os.cpu_count(),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
