"""Scale-out: listener capacity with 1 and 3 `livevent serve` instances, and the cross-instance hop.

Each run starts its own redis-server and a fresh PostgreSQL database, then N
`livevent serve` processes. A speaker feeds the floor channel of one event on
the first instance (its owner) with a tone, 100 ms every 100 ms. Listener load
processes open WebSockets spread evenly over the instances and note when each
audio message (by sequence number) arrives.

Reported per (instances, listeners):
  delivered   audio messages received / messages expected (all listeners)
  spread p50/p99   arrival minus the earliest arrival of that message anywhere
  hop p50/p99      arrival on a relay instance minus the median arrival on the
                   owner: what the trip through Redis pub/sub adds

    python benchmarks/scaleout.py --listeners 300 1000 2000 --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from livevent.client import ListenerClient
from livevent.runtime.wire import AudioMessage

RESULTS = Path(__file__).parent / "results"
LIVEVENT = str(Path(sys.executable).parent / "livevent")
POSTGRES = os.environ.get("LIVEVENT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
LOAD_PROCESSES = 2  # the listener load, split over this many processes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port}") from None
            time.sleep(0.1)


# -- the listener load (a separate process) -------------------------------------------


async def listen(urls: list[str], seconds: float, out: Path) -> None:
    """Connect to every URL, then note (sequence, arrival) of each audio message."""
    arrivals: list[list[tuple[int, float]]] = [[] for _ in urls]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(index: int, url: str) -> None:
            def arrived(audio: AudioMessage) -> None:
                arrivals[index].append((audio.sequence, time.time()))

            async with session.ws_connect(url, max_msg_size=0) as ws:
                listener = ListenerClient(ws, decode=False, keep_audio=False, on_audio=arrived)
                with contextlib.suppress(TimeoutError):
                    await listener.start().closed(within=seconds)
                await listener.close()

        await asyncio.gather(*(one(i, url) for i, url in enumerate(urls)), return_exceptions=True)
    await asyncio.to_thread(out.write_text, json.dumps({"urls": urls, "arrivals": arrivals}))


# -- the orchestration ------------------------------------------------------------------


class Deployment:
    def __init__(self, instances: int, folder: Path) -> None:
        self.count = instances
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []
        self.database = f"livevent_bench_{secrets.token_hex(4)}"
        self.redis_port = free_port()

    def start(self) -> None:
        """Redis, a database, the instances and a scheduled event (blocking: run in a thread)."""
        redis = shutil.which("redis-server") or "redis-server"
        self.processes.append(
            subprocess.Popen(
                [redis, "--port", str(self.redis_port), "--save", "", "--appendonly", "no"],
                stdout=subprocess.DEVNULL,
            )
        )
        wait_for(self.redis_port)
        asyncio.run(_admin(f'CREATE DATABASE "{self.database}"'))
        env = {
            **os.environ,
            "LIVEVENT_DATABASE_URL": f"{POSTGRES}/{self.database}",
            "LIVEVENT_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "LIVEVENT_JOINS_PER_IP_PER_MINUTE": "0",
            "LIVEVENT_LOG_LEVEL": "WARNING",
        }
        subprocess.run([LIVEVENT, "db", "migrate"], env=env, check=True, capture_output=True)
        for number in range(self.count):
            port = free_port()
            self.processes.append(
                subprocess.Popen(
                    [LIVEVENT, "serve", "--port", str(port)],
                    env={**env, "LIVEVENT_INSTANCE_NAME": f"i{number + 1}"},
                    stdout=subprocess.DEVNULL,
                    stderr=(self.folder / f"i{number + 1}.log").open("wb"),
                )
            )
            wait_for(port)
            self.ports.append(port)
        subprocess.run(
            [LIVEVENT, "customer", "create", "Bench", "--max-listeners", "100000"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        created = subprocess.run(
            [LIVEVENT, "event", "create", "--name", "Bench", "--starts-at", "2026-12-01T10:00Z",
             "--source", "en-US", "--customer", "Bench", "--json"],
            env=env, check=True, capture_output=True, text=True,
        )  # fmt: skip
        self.event_id = int(json.loads(created.stdout)["id"])
        for action in ("schedule", "start"):  # the organizer goes live: speakers on air
            subprocess.run(
                [LIVEVENT, "event", action, str(self.event_id)],
                env=env, check=True, capture_output=True,
            )  # fmt: skip

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.kill()
            process.wait()
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))


async def _admin(sql: str) -> None:
    admin = await asyncpg.connect(f"{POSTGRES}/postgres")
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


def tone() -> bytes:
    """100 ms of a 440 Hz tone, s16le 16 kHz: Opus has something to encode."""
    samples = (int(8000 * math.sin(2 * math.pi * 440 * n / 16000)) for n in range(1600))
    return b"".join(sample.to_bytes(2, "little", signed=True) for sample in samples)


async def speak(port: int, event_id: int, seconds: float) -> None:
    from livevent.auth import Role, TokenIssuer
    from livevent.settings import Settings

    token = TokenIssuer(Settings().auth_secret.get_secret_value()).issue(
        sub="bench", role=Role.ADMIN, ttl=600, events="*"
    )
    chunk = tone()
    async with aiohttp.ClientSession() as session:
        url = f"ws://127.0.0.1:{port}/speak/{event_id}/1?token={token}"
        async with session.ws_connect(url) as ws:
            await ws.receive_json()
            started = time.monotonic()
            sent = 0
            while time.monotonic() - started < seconds:
                await ws.send_bytes(chunk)
                sent += 1
                # Real time: the next 100 ms when its time comes.
                await asyncio.sleep(max(0.0, started + sent * 0.1 - time.monotonic()))


async def run(instances: int, listeners: int, seconds: float, folder: Path) -> dict[str, Any]:
    deployment = Deployment(instances, folder)
    await asyncio.to_thread(deployment.start)
    try:
        # The speaker connects to the first instance first: it owns the event.
        speaker = asyncio.create_task(speak(deployment.ports[0], deployment.event_id, seconds + 30))
        await asyncio.sleep(2.0)  # the event goes live; not a synchronisation of results
        urls = [
            f"ws://127.0.0.1:{deployment.ports[n % instances]}/listen/{deployment.event_id}"
            for n in range(listeners)
        ]
        outs = [folder / f"load{n}.json" for n in range(LOAD_PROCESSES)]
        loads = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--load",
                str(out),
                str(seconds + 5),
                *urls[n::LOAD_PROCESSES],
            )
            for n, out in enumerate(outs)
        ]
        await asyncio.gather(*(load.wait() for load in loads))
        speaker.cancel()
    finally:
        await asyncio.to_thread(deployment.stop)
    results = [json.loads(await asyncio.to_thread(out.read_text)) for out in outs]
    return summarize(results, deployment.ports, instances, listeners, seconds)


def summarize(
    results: list[dict[str, Any]], ports: list[int], instances: int, listeners: int, seconds: float
) -> dict[str, Any]:
    owner_port = f":{ports[0]}/"
    by_sequence: dict[int, list[tuple[float, bool]]] = {}
    delivered = 0
    for result in results:
        for url, arrivals in zip(result["urls"], result["arrivals"], strict=True):
            on_owner = owner_port in url
            delivered += len(arrivals)
            for sequence, at in arrivals:
                by_sequence.setdefault(sequence, []).append((at, on_owner))
    # Only messages sent while everyone was connected count towards the expectation.
    complete = [s for s, seen in by_sequence.items() if len(seen) >= listeners * 0.5]
    expected = len(complete) * listeners
    received = sum(len(by_sequence[s]) for s in complete)
    spread, hop = [], []
    for sequence in complete:
        seen = by_sequence[sequence]
        first = min(at for at, _ in seen)
        spread += [(at - first) * 1000 for at, _ in seen]
        owner = [at for at, on_owner in seen if on_owner]
        if instances > 1 and owner:
            reference = statistics.median(owner)
            hop += [(at - reference) * 1000 for at, on_owner in seen if not on_owner]

    def pct(values: list[float], q: float) -> float | None:
        if not values:
            return None
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "instances": instances,
        "listeners": listeners,
        "seconds": seconds,
        "messages": len(complete),
        "delivered": round(received / expected, 4) if expected else 0.0,
        "spread_p50_ms": pct(spread, 0.5),
        "spread_p99_ms": pct(spread, 0.99),
        "hop_p50_ms": pct(hop, 0.5),
        "hop_p99_ms": pct(hop, 0.99),
        "audio_messages_received": delivered,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listeners", type=int, nargs="+", default=[300, 1000, 2000])
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--load", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.load:
        out, seconds, *urls = args.load
        asyncio.run(listen(urls, float(seconds), Path(out)))
        return
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"livevent-scaleout-{secrets.token_hex(3)}"
    folder.mkdir(parents=True)
    rows = []
    for instances in args.instances:
        for listeners in args.listeners:
            row = asyncio.run(run(instances, listeners, args.seconds, folder))
            rows.append(row)
            print(json.dumps(row), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scaleout.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
