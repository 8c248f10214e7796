"""A soak under faults: is anything lost when instances, Redis and PostgreSQL fail? (not a test)

Three `livevent serve` instances share a Redis and a PostgreSQL of this run's own
(so both can be restarted) and one spool folder. One event: an English floor and a
machine Spanish channel. A speaker talks continuously (espeak-ng sentences, 0.6 s
apart) and reconnects like the speak page when its instance goes; listeners,
spread over the instances (one in ten on Spanish), reconnect like the listen page.
Faults, over the run: every 60 s a random instance is killed with SIGKILL and
started again; Redis is restarted once, PostgreSQL once (each down for 5 s).

The same deployment first runs a calm phase (no faults) of `--calm` seconds: the
peer that the faulty phase is compared with.

Reported per phase:
  gaps        per listener, the longest silence between two audio messages and the
              pooled gaps' p50/p99 (the speaker's own reconnections count: the
              listener hears them)
  closes      sockets closed on listeners by the server side (they reconnected)
  captions    final captions seen by any listener vs transcript segments stored at
              the end, floor and Spanish; `lost` are seen but not stored (goal: 0)
  rss         each instance process's resident memory 30 s after it started and
              at its end (goal: growth under 10 % for those that lived 2 min+)

    python benchmarks/soak.py [--minutes 5] [--listeners 300] [--calm 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.support: the servers

from tests.support.postgres_server import PostgresServer
from tests.support.redis_server import RedisServer
from tests.support.servers import LIVEVENT, free_port, wait_for_port

from lag import PASSAGE, espeak
from livevent.auth import Role, issuer_for
from livevent.bus import keys
from livevent.client import ListenerClient, SpeakerClient
from livevent.runtime.media.audio import SAMPLE_RATE
from livevent.settings import Settings
from stats import percentile

RESULTS = Path(__file__).parent / "results"
NAMES = ("i1", "i2", "i3")
LOAD_PROCESSES = 2
CHUNK = 3200  # 100 ms of speech per message
BYTES_PER_SECOND = SAMPLE_RATE * 2


def token() -> str:
    issuer = issuer_for(Settings())
    return issuer.issue(sub="soak", role=Role.ADMIN, ttl=7200, events="*")


# -- listeners (in load processes) ------------------------------------------------------


@dataclass
class Ear:
    channel: str
    arrivals: list[float] = field(default_factory=list)
    finals: list[str] = field(default_factory=list)
    closes: int = 0


async def ear(ports: list[int], first: int, event_id: int, state: Ear, until: float) -> None:
    """Listen until `until`, reconnecting to the next instance like the listen page."""
    attempt, index = 0, first
    query = "" if state.channel == "floor" else f"?channel={state.channel}"
    async with aiohttp.ClientSession() as http:
        while time.time() < until:
            url = f"ws://127.0.0.1:{ports[index % len(ports)]}/listen/{event_id}{query}"
            try:
                async with http.ws_connect(url, max_msg_size=0, heartbeat=10) as ws:
                    attempt = 0
                    listener = ListenerClient(
                        ws,
                        decode=False,
                        keep_audio=False,
                        on_audio=lambda _audio: state.arrivals.append(time.time()),
                        on_message=lambda m: _final(state, m),
                    )
                    with contextlib.suppress(TimeoutError):
                        await listener.start().closed(within=max(0.1, until - time.time()))
                    if time.time() < until:
                        state.closes += 1
            except (aiohttp.ClientError, OSError):
                pass
            index += 1
            attempt += 1
            await asyncio.sleep(min(2.0, 0.2 * 2**attempt) * random.uniform(0.5, 1.0))


def _final(state: Ear, message: dict[str, Any]) -> None:
    if message.get("type") == "caption" and message.get("final"):
        state.finals.append(str(message["text"]))


async def load(
    out: Path, ports: list[int], event_id: int, indices: list[int], until: float
) -> None:
    ears = [Ear("es-ES" if i % 10 == 0 else "floor") for i in indices]
    await asyncio.gather(
        *(ear(ports, i, event_id, e, until) for i, e in zip(indices, ears, strict=True))
    )
    body = [{"channel": e.channel, "arrivals": e.arrivals, "finals": e.finals, "closes": e.closes}
            for e in ears]  # fmt: skip
    await asyncio.to_thread(out.write_text, json.dumps(body))


# -- the deployment ---------------------------------------------------------------------


@dataclass
class Instance:
    name: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    lives: list[dict[str, Any]] = field(default_factory=list)


class Deployment:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.redis = RedisServer()
        self.postgres = PostgresServer()
        self.instances = {name: Instance(name, free_port()) for name in NAMES}

    def env(self, name: str) -> dict[str, str]:
        return {
            **os.environ,
            "LIVEVENT_DATABASE_URL": self.postgres.url,
            "LIVEVENT_REDIS_URL": self.redis.url,
            "LIVEVENT_INSTANCE_NAME": name,
            "LIVEVENT_OWNER_LOCK_TTL": "2",
            "LIVEVENT_JOINS_PER_IP_PER_MINUTE": "0",
            "LIVEVENT_API_REQUESTS_PER_IP_PER_MINUTE": "0",
            "LIVEVENT_SPOOL_DIR": str(self.folder / "spool"),
            "LIVEVENT_LOG_LEVEL": "WARNING",
        }

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [LIVEVENT, *args], env=self.env("cli"), check=True, capture_output=True, text=True
        )
        return done.stdout

    def start(self) -> int:
        """Redis, PostgreSQL, the instances and a scheduled event; its id."""
        self.redis.start()
        self.postgres.start()
        self.cli("db", "migrate")
        self.cli("customer", "create", "Soak", "--max-listeners", "100000")
        created = self.cli(
            "event", "create", "--name", "Soak", "--starts-at", "2026-12-01T10:00Z",
            "--source", "en-US", "--channel", "es-ES:machine", "--customer", "Soak", "--json",
        )  # fmt: skip
        event_id = int(json.loads(created)["id"])
        self.cli("event", "schedule", str(event_id))
        self.cli("event", "start", str(event_id))  # the organizer goes live: speakers are on air
        for name in NAMES:
            self.start_instance(name)
        return event_id

    def start_instance(self, name: str) -> None:
        instance = self.instances[name]
        with (self.folder / f"{name}.log").open("ab") as log:
            instance.process = subprocess.Popen(
                [LIVEVENT, "serve", "--port", str(instance.port)],
                env=self.env(name),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        instance.started = time.monotonic()
        instance.lives.append({"rss_start_mb": None, "rss_end_mb": None, "seconds": 0.0})
        wait_for_port(instance.port, f"instance {name}", within=60)

    def kill_instance(self, name: str) -> None:
        instance = self.instances[name]
        if instance.process is None:
            return
        self.sample_rss(instance, end=True)
        instance.process.kill()
        instance.process.wait()
        instance.process = None

    def sample_rss(self, instance: Instance, *, end: bool = False) -> None:
        if instance.process is None:
            return
        life = instance.lives[-1]
        life["seconds"] = round(time.monotonic() - instance.started, 1)
        rss = _rss_mb(instance.process.pid)
        if end:
            life["rss_end_mb"] = rss
        elif life["rss_start_mb"] is None and life["seconds"] >= 30:
            life["rss_start_mb"] = rss

    def owner(self, event_id: int) -> str | None:
        """The instance that owns the event now, from Redis."""
        import redis

        with contextlib.suppress(redis.RedisError):
            client = redis.Redis.from_url(self.redis.url, decode_responses=True)
            try:
                return str(client.get(keys.live_owner(event_id)))
            finally:
                client.close()
        return None

    def stop(self) -> None:
        for name in NAMES:
            self.kill_instance(name)
        self.redis.kill()
        self.postgres.remove()


def _rss_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return None


# -- the speaker --------------------------------------------------------------------------


async def speaker(ports: list[int], event_id: int, speech: bytes, until: float) -> int:
    """Talk in real time until `until`; what falls in a reconnection is not said. Reconnects."""
    began, index, reconnects = time.monotonic(), 0, 0
    wall_until = time.monotonic() + (until - time.time())
    credential = token()  # one token, kept across reconnects, as the speak page keeps it
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < wall_until:
            url = (
                f"ws://127.0.0.1:{ports[index % len(ports)]}/speak/{event_id}/1?token={credential}"
            )
            try:
                async with http.ws_connect(url) as ws:
                    talk = SpeakerClient(ws)
                    await talk.greeted(within=10)
                    while time.monotonic() < wall_until and not ws.closed:
                        offset = int((time.monotonic() - began) * 10) * CHUNK % len(speech)
                        await ws.send_bytes(speech[offset : offset + CHUNK])
                        await asyncio.sleep(0.1 - (time.monotonic() - began) % 0.1)
            except (aiohttp.ClientError, OSError, TimeoutError, ConnectionError):
                pass
            if time.monotonic() >= wall_until:
                break  # the end of the run, not a reconnection
            reconnects += 1
            index += 1
            await asyncio.sleep(0.5)
    return reconnects


def script(seconds: float, folder: Path) -> bytes:
    """Distinct sentences (numbered, so no caption repeats) for `seconds` and a bit more."""
    parts: list[bytes] = []
    total, number = 0, 1
    while total < (seconds + 30) * BYTES_PER_SECOND:
        text = PASSAGE[(number - 1) % len(PASSAGE)].rstrip(".") + f", number {number}."
        parts += [espeak(text, folder), bytes(int(SAMPLE_RATE * 0.6) * 2)]
        total += len(parts[-2]) + len(parts[-1])
        number += 1
    return b"".join(parts)


# -- faults -----------------------------------------------------------------------------


async def faults(
    deployment: Deployment, event_id: int, seconds: float, log: list[dict[str, Any]]
) -> None:
    """Every 60 s kill -9 an instance (and start it again); Redis and PostgreSQL once.

    The first kill, and every other one, takes the owner (the case that moves the
    pipelines); the others a random instance.
    """
    pick = random.Random(11)
    kills = 0
    plan = [(60.0 * k, "instance") for k in range(1, int(seconds // 60) + 1) if 60 * k < seconds]
    plan += [(0.35 * seconds, "redis"), (0.65 * seconds, "postgres")]
    began = time.monotonic()
    for at, what in sorted(plan):
        await asyncio.sleep(max(0.0, began + at - time.monotonic()))
        entry: dict[str, Any] = {"at_s": round(time.monotonic() - began, 1), "fault": what}
        entry["wall"] = time.time()  # the listeners' clock, to say which fault a silence followed
        if what == "instance":
            owner = await asyncio.to_thread(deployment.owner, event_id)
            name = owner if kills % 2 == 0 and owner in NAMES else pick.choice(NAMES)
            kills += 1
            entry["instance"], entry["was_owner"] = name, name == owner
            deployment.kill_instance(name)
            await asyncio.to_thread(deployment.start_instance, name)
        elif what == "redis":
            deployment.redis.kill()
            await asyncio.sleep(5.0)  # down for 5 s
            await asyncio.to_thread(deployment.redis.start)
        else:
            await asyncio.to_thread(deployment.postgres.stop)
            await asyncio.sleep(5.0)
            await asyncio.to_thread(deployment.postgres.start)
        entry["back_after_s"] = round(time.monotonic() - began - entry["at_s"], 1)
        log.append(entry)


async def sample_memory(deployment: Deployment) -> None:
    while True:
        for instance in deployment.instances.values():
            deployment.sample_rss(instance)
        await asyncio.sleep(5.0)


# -- a phase, and the end -----------------------------------------------------------------


async def phase(
    deployment: Deployment, event_id: int, seconds: float, listeners: int, folder: Path, name: str
) -> list[dict[str, Any]]:
    """Listeners (in load processes) for `seconds`; what each heard."""
    until = time.time() + seconds
    ports = ",".join(str(i.port) for i in deployment.instances.values())
    outs = [folder / f"{name}-{n}.json" for n in range(LOAD_PROCESSES)]
    loads = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--load",
            str(out),
            str(until),
            str(event_id),
            ports,
            ",".join(str(i) for i in range(n, listeners, LOAD_PROCESSES)),
        )
        for n, out in enumerate(outs)
    ]
    await asyncio.gather(*(load.wait() for load in loads))
    heard: list[dict[str, Any]] = []
    for out in outs:
        heard += json.loads(await asyncio.to_thread(out.read_text))
    return heard


async def transcript(deployment: Deployment, event_id: int) -> list[dict[str, Any]]:
    """The stored transcript once it stops growing (the spools drained), from any instance."""
    headers = {"Authorization": f"Bearer {token()}"}
    last: list[dict[str, Any]] = []
    stable_since = time.monotonic()
    deadline = time.monotonic() + 180
    async with aiohttp.ClientSession(headers=headers) as http:
        while time.monotonic() < deadline and time.monotonic() - stable_since < 15:
            for instance in deployment.instances.values():
                url = f"http://127.0.0.1:{instance.port}/api/events/{event_id}/transcript"
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with http.get(url) as response:
                        if response.status == 200:
                            items = (await response.json())["items"]
                            if len(items) != len(last):
                                last, stable_since = items, time.monotonic()
                            break
            await asyncio.sleep(1.0)
    return last


def _label(fault: dict[str, Any]) -> str:
    if fault["fault"] != "instance":
        return f"{fault['fault']} restart at {fault['at_s']:.0f} s"
    role = "owner" if fault.get("was_owner") else "relay"
    return f"kill {fault['instance']} ({role}) at {fault['at_s']:.0f} s"


def after_which(start: float, faults: list[dict[str, Any]]) -> str:
    """The fault a silence began after (within 30 s of it), or "no fault"."""
    before = [f for f in faults if f["wall"] - 1.0 <= start <= f["wall"] + 30.0]
    return _label(before[-1]) if before else "no fault"


def gaps(heard: list[dict[str, Any]], faults: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    longest, pooled, closes = [], [], 0
    by_fault: dict[str, list[float]] = {}
    by_channel: dict[str, list[float]] = {}
    for one in heard:
        arrivals = sorted(one["arrivals"])
        steps = [b - a for a, b in itertools.pairwise(arrivals)]
        pooled += steps
        longest.append(max(steps, default=0.0))
        by_channel.setdefault(one["channel"], []).append(longest[-1])
        closes += one["closes"]
        if faults is not None and steps:
            at = steps.index(longest[-1])
            by_fault.setdefault(after_which(arrivals[at], faults), []).append(longest[-1])
    return {
        "listeners": len(heard),
        "silent_listeners": sum(1 for one in heard if not one["arrivals"]),
        "gap_p50_s": percentile(pooled, 0.5, 3) or 0.0,
        "gap_p99_s": percentile(pooled, 0.99, 3) or 0.0,
        "longest_gap_p50_s": percentile(longest, 0.5) or 0.0,
        "longest_gap_p99_s": percentile(longest, 0.99) or 0.0,
        "longest_gap_max_s": round(max(longest, default=0.0), 2),
        "closes": closes,
        # Which fault each listener's longest silence followed, and how long they were.
        "longest_after": _spread(by_fault),
        # The floor's listeners and the machine channel's (whose speech has pauses).
        "longest_by_channel": _spread(by_channel),
    }


def _spread(groups: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """Per group of listeners: how many, and their longest silences' p50 and max."""
    return {
        name: {
            "listeners": len(values),
            "p50_s": round(statistics.median(values), 2),
            "max_s": round(max(values), 2),
        }
        for name, values in sorted(groups.items())
    }


def lost(heard: list[dict[str, Any]], stored: list[str], channel: str) -> dict[str, int]:
    """Final captions seen (each text as often as one listener saw it) against those stored."""
    seen: Counter[str] = Counter()
    for one in heard:
        if one["channel"] == channel:
            seen |= Counter(one["finals"])
    missing = seen - Counter(stored)
    return {"seen": sum(seen.values()), "stored": len(stored), "lost": sum(missing.values())}


async def run(minutes: float, listeners: int, calm: float, folder: Path) -> dict[str, Any]:
    seconds = minutes * 60
    speech = await asyncio.to_thread(script, calm + seconds, folder)
    deployment = Deployment(folder)
    event_id = await asyncio.to_thread(deployment.start)
    ports = [i.port for i in deployment.instances.values()]
    memory = asyncio.create_task(sample_memory(deployment))
    fault_log: list[dict[str, Any]] = []
    try:
        talking = asyncio.create_task(
            speaker(ports, event_id, speech, time.time() + calm + seconds + 5)
        )
        calm_heard = await phase(deployment, event_id, calm, listeners, folder, "calm")
        breaking = asyncio.create_task(faults(deployment, event_id, seconds, fault_log))
        faulty_heard = await phase(deployment, event_id, seconds, listeners, folder, "faults")
        await breaking
        reconnects = await talking
        items = await transcript(deployment, event_id)
        for instance in deployment.instances.values():
            deployment.sample_rss(instance, end=True)
    finally:
        memory.cancel()
        await asyncio.to_thread(deployment.stop)
    heard = calm_heard + faulty_heard
    return {
        "minutes": minutes,
        "listeners": listeners,
        "faults": fault_log,
        "speaker_reconnects": reconnects,
        "calm": gaps(calm_heard),
        "under_faults": gaps(faulty_heard, fault_log),
        "captions": {
            "floor": lost(heard, [i["text"] for i in items], "floor"),
            "es-ES": lost(heard, [i["translations"].get("es-ES", "") for i in items], "es-ES"),
        },
        "rss": {name: i.lives for name, i in deployment.instances.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--listeners", type=int, default=300)
    parser.add_argument("--calm", type=float, default=60.0, help="seconds without faults first")
    parser.add_argument("--keep", type=Path, help="a folder to keep the logs in (else temporary)")
    parser.add_argument("--load", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        out, until, event_id, ports, indices = args.load
        asyncio.run(
            load(
                Path(out),
                [int(p) for p in ports.split(",")],
                int(event_id),
                [int(i) for i in indices.split(",")],
                float(until),
            )
        )
        return
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(run(args.minutes, args.listeners, args.calm, args.keep))
    else:
        with tempfile.TemporaryDirectory(prefix="livevent-soak-") as folder:
            result = asyncio.run(run(args.minutes, args.listeners, args.calm, Path(folder)))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
