"""Speech placed on workers (issue 37), measured over real processes (not a test).

Each phase starts its own redis-server, a fresh PostgreSQL database, `livevent serve`
processes and `livevent worker` processes. Events are English with one Spanish
machine channel; each floor speaker sends the same continuous espeak-ng passage
(lag.py's, ~60 s, sentences joined by 0.2-0.4 s pauses) in real time, and a listener
on the Spanish channel notes every caption as it arrives.

Reported:
  local3 / workers3   three events on one instance with speech=local, then the same
                      three on one live instance with three 1-slot workers: each
                      event's captions ear-voice span (p50, p90: lag.py's measure),
                      which worker ran it, and the CPU each process used
  no_capacity         a fourth event going live while the three workers are full:
                      seconds until its Spanish listener is told "no speech capacity",
                      and seconds from another event's end until its channel runs
  kill                SIGKILL of a busy worker (a fourth, idle worker joined first: the
                      three others are full): seconds until that event's job is held by
                      another worker, and until the next caption arrives
  bus_cost            one event with speech=local beside one event on one worker:
                      captions ear-voice span side by side
  cpu                 CPU seconds per second of speech: the live instance per machine
                      channel and per listener (100 floor listeners for 20 s), a worker
                      per machine channel

    python benchmarks/placement.py [--phases local3 workers3 bus_cost]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import redis.asyncio

from lag import PASSAGE, caption_spans, espeak_passage
from livevent.auth import Role, TokenIssuer, service_token
from livevent.bus import MemoryBus, keys
from livevent.client import ListenerClient, SpeakerClient
from livevent.events.service import EventService
from livevent.model import ChannelKind, ChannelSpec, CustomerCreate, EventCreate
from livevent.settings import Settings
from livevent.store import open_store
from scaleout import LIVEVENT, POSTGRES, _admin, free_port, wait_for
from stats import weighted_percentile

RESULTS = Path(__file__).parent / "results"
OWNER_TTL = 3.0
SECRET = Settings().auth_secret.get_secret_value()


class Deployment:
    """redis-server, a database, and livevent processes by name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.database = f"livevent_bench_{secrets.token_hex(4)}"
        self.redis_port = free_port()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.ports: dict[str, int] = {}
        self.customer = 0

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "LIVEVENT_DATABASE_URL": f"{POSTGRES}/{self.database}",
            "LIVEVENT_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "LIVEVENT_JOINS_PER_IP_PER_MINUTE": "0",
            "LIVEVENT_OWNER_LOCK_TTL": str(OWNER_TTL),
            "LIVEVENT_LOG_LEVEL": "WARNING",
            "LIVEVENT_RECORD": "false",
        }

    async def start(self) -> None:
        server = shutil.which("redis-server") or "redis-server"
        self.processes["redis"] = subprocess.Popen(  # noqa: ASYNC220 - started, not waited on
            [server, "--port", str(self.redis_port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self.redis_port)
        await _admin(f'CREATE DATABASE "{self.database}"')
        store = await open_store(f"{POSTGRES}/{self.database}", migrate=True)
        try:
            made = await store.create_customer(
                CustomerCreate(name="Bench", max_live_events=50, max_listeners_per_event=5000)
            )
            self.customer = made.id
        finally:
            await store.aclose()

    def serve(self, name: str, **settings: str) -> str:
        port = free_port()
        self._spawn(name, ["serve", "--port", str(port)], settings)
        wait_for(port, within=60)
        self.ports[name] = port
        return f"http://127.0.0.1:{port}"

    def worker(self, name: str, slots: int = 1) -> None:
        self._spawn(name, ["worker", "--slots", str(slots)], {})

    def _spawn(self, name: str, command: list[str], settings: dict[str, str]) -> None:
        env = {**self.env, "LIVEVENT_INSTANCE_NAME": name}
        env |= {f"LIVEVENT_{key.upper()}": value for key, value in settings.items()}
        self.processes[name] = subprocess.Popen(
            [LIVEVENT, *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / f"{name}.log").open("ab"),
        )

    async def workers_ready(self, names: list[str]) -> None:
        client = redis.asyncio.Redis(port=self.redis_port)
        try:
            deadline = time.monotonic() + 120
            while not all([await client.exists(keys.worker_alive(n)) for n in names]):
                assert time.monotonic() < deadline, f"workers {names} never registered"
                await asyncio.sleep(0.2)  # polling their heartbeats, with a deadline
        finally:
            await client.aclose()

    async def holder(self, event_id: int) -> str | None:
        client = redis.asyncio.Redis(port=self.redis_port, decode_responses=True)
        try:
            return await client.get(keys.speech_job(event_id))
        finally:
            await client.aclose()

    async def event(self, name: str) -> int:
        """A LIVE English event with a Spanish machine channel."""
        store = await open_store(f"{POSTGRES}/{self.database}")
        try:
            service = EventService(store=store, bus=MemoryBus())
            event = await service.create_event(
                EventCreate(
                    customer_id=self.customer,
                    name=name,
                    starts_at="2026-12-01T10:00Z",
                    source_language="en-US",
                    channels=[ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE)],
                ),
                actor="bench",
            )
            await service.act(event.id, "schedule", actor="bench")
            await service.act(event.id, "start", actor="bench")
            return event.id
        finally:
            await store.aclose()

    def cpu(self, name: str) -> float:
        process = self.processes[name]
        try:
            times = psutil.Process(process.pid).cpu_times()
        except psutil.NoSuchProcess:
            return 0.0
        return times.user + times.system

    async def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.kill()
                process.wait()
        await _admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


def speaker_token(event_id: int) -> str:
    issuer = TokenIssuer(SECRET)
    return issuer.issue(sub="bench", role=Role.SPEAKER, ttl=3600, events=[event_id], channel=1)


class Channel:
    """A Spanish listener noting each caption with its arrival."""

    def __init__(self) -> None:
        self.captions: list[tuple[float, dict[str, Any]]] = []
        self.states: list[tuple[float, str | None, str | None]] = []

    def keep(self, message: Any) -> None:
        now = time.monotonic()
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "caption":
            self.captions.append((now, message))
        elif kind == "status":
            self.states.append((now, message.get("channel_state"), message.get("channel_reason")))


async def talk(url: str, event_id: int, pcm: bytes, channel: Channel) -> float:
    """The passage into the floor in real time; returns when it started (monotonic)."""
    async with SpeakerClient.connect(url, event_id, token=speaker_token(event_id)) as speaker:
        t0 = time.monotonic()
        await speaker.send(pcm, pace=1.0)
        await speaker.end()
        await asyncio.sleep(8.0)  # the last sentences' captions in flight
    return t0


def spans_of(channel: Channel, t0: float) -> dict[str, float | None]:
    spans = caption_spans(channel.captions, t0)
    return {"p50": weighted_percentile(spans, 0.5), "p90": weighted_percentile(spans, 0.9)}


async def three_events(folder: Path, pcm: bytes, *, workers: bool) -> dict[str, Any]:
    deployment = Deployment(folder)
    await deployment.start()
    try:
        names = ["w1", "w2", "w3"] if workers else []
        for name in names:
            deployment.worker(name)
        await deployment.workers_ready(names)
        url = deployment.serve("live", speech="workers" if workers else "local")
        events = [await deployment.event(f"event {n}") for n in range(3)]
        channels = [Channel() for _ in events]
        cpu_before = {name: deployment.cpu(name) for name in ["live", *names]}
        async with contextlib.AsyncExitStack() as stack:
            for event_id, channel in zip(events, channels, strict=True):
                await stack.enter_async_context(
                    ListenerClient.connect(
                        url, event_id, channel="es-ES", on_message=channel.keep, keep_audio=False
                    )
                )
            starts = await asyncio.gather(
                *(talk(url, e, pcm, c) for e, c in zip(events, channels, strict=True))
            )
        seconds = len(pcm) / 32000
        cpu = {
            name: round((deployment.cpu(name) - before) / seconds, 3)
            for name, before in cpu_before.items()
        }
        return {
            "speech": "workers" if workers else "local",
            "events": [
                {"event": e, "worker": await deployment.holder(e), "captions_evs": spans_of(c, t0)}
                for e, c, t0 in zip(events, channels, starts, strict=True)
            ],
            "cpu_cores": cpu,
        }
    finally:
        await deployment.stop()


async def no_capacity_and_kill(folder: Path, pcm: bytes) -> dict[str, Any]:
    deployment = Deployment(folder)
    await deployment.start()
    try:
        names = ["w1", "w2", "w3"]
        for name in names:
            deployment.worker(name)
        await deployment.workers_ready(names)
        url = deployment.serve("live", speech="workers")
        events = [await deployment.event(f"event {n}") for n in range(4)]
        channels = [Channel() for _ in events]
        result: dict[str, Any] = {}
        async with contextlib.AsyncExitStack() as stack:
            for event_id, channel in zip(events[:3], channels[:3], strict=True):
                await stack.enter_async_context(
                    ListenerClient.connect(
                        url, event_id, channel="es-ES", on_message=channel.keep, keep_audio=False
                    )
                )
            talking = [
                asyncio.create_task(talk(url, e, pcm, c))
                for e, c in zip(events[:3], channels[:3], strict=True)
            ]
            deadline = time.monotonic() + 60
            while not all([await deployment.holder(e) for e in events[:3]]):
                assert time.monotonic() < deadline, "three jobs never placed"
                await asyncio.sleep(0.1)
            # The fourth event opens here now (its first listener), and its speaker joins.
            fourth, fourth_channel = events[3], channels[3]
            joined = time.monotonic()
            await stack.enter_async_context(
                ListenerClient.connect(
                    url, fourth, channel="es-ES", on_message=fourth_channel.keep, keep_audio=False
                )
            )
            speaking = asyncio.create_task(talk(url, fourth, pcm, fourth_channel))
            told = await first_state(fourth_channel, lambda s: "no speech capacity" in (s[2] or ""))
            result["no_capacity_told_s"] = round(told - joined, 2) if told else None
            await asyncio.sleep(10.0)  # the three talk on: the capacity stays taken
            # Another event ends: the fourth gets its slot.
            async with aiohttp.ClientSession() as http:
                asked = time.monotonic()
                headers = {"Authorization": f"Bearer {service_token(Settings())}"}
                async with http.post(f"{url}/live/{events[0]}/stop", headers=headers) as ended:
                    assert ended.status == 200, await ended.text()
                # Its channels said their last sentences (on the worker) before it ended.
                ended_at = time.monotonic()
            result["ending_took_s"] = round(ended_at - asked, 2)
            deadline = time.monotonic() + 60
            while await deployment.holder(fourth) is None:
                assert time.monotonic() < deadline, "the fourth event never got a slot"
                await asyncio.sleep(0.05)
            result["slot_after_end_s"] = round(time.monotonic() - ended_at, 2)
            running = await first_state(
                fourth_channel, lambda s: s[1] != "unavailable", after=ended_at
            )
            result["channel_runs_after_end_s"] = round(running - ended_at, 2) if running else None
            # SIGKILL of the worker running the second event, with a spare worker for it.
            deployment.worker("w4")
            await deployment.workers_ready(["w4"])
            victim_event, victim_channel = events[1], channels[1]
            victim = await deployment.holder(victim_event)
            assert victim is not None
            deployment.processes[victim].send_signal(signal.SIGKILL)
            killed = time.monotonic()
            deadline = killed + 60
            while (holder := await deployment.holder(victim_event)) in (None, victim):
                assert time.monotonic() < deadline, "the killed worker's job never moved"
                await asyncio.sleep(0.05)
            result["kill"] = {
                "worker": victim,
                "placed_again_on": holder,
                "placed_again_s": round(time.monotonic() - killed, 2),
                "ttl_plus_2_s": OWNER_TTL + 2,
            }
            deadline = killed + 60
            while not any(at > killed for at, _ in victim_channel.captions):
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            after = [at for at, _ in victim_channel.captions if at > killed]
            result["kill"]["next_caption_s"] = round(after[0] - killed, 2) if after else None
            await asyncio.gather(*talking, speaking, return_exceptions=True)
        return result
    finally:
        await deployment.stop()


async def first_state(
    channel: Channel, wanted: Any, *, after: float = 0.0, within: float = 60.0
) -> float | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for state in channel.states:
            if state[0] >= after and wanted(state):
                return state[0]
        await asyncio.sleep(0.05)
    return None


async def bus_cost(folder: Path, pcm: bytes) -> dict[str, Any]:
    """One event on a worker beside one with speech=local, the same passage at once."""
    deployment = Deployment(folder)
    await deployment.start()
    try:
        deployment.worker("w1")
        await deployment.workers_ready(["w1"])
        local_url = deployment.serve("local", speech="local")
        remote_url = deployment.serve("remote", speech="workers")
        local_event, remote_event = await deployment.event("local"), await deployment.event("w")
        local, remote = Channel(), Channel()
        async with (
            ListenerClient.connect(
                local_url, local_event, channel="es-ES", on_message=local.keep, keep_audio=False
            ),
            ListenerClient.connect(
                remote_url, remote_event, channel="es-ES", on_message=remote.keep, keep_audio=False
            ),
        ):
            t_local, t_remote = await asyncio.gather(
                talk(local_url, local_event, pcm, local),
                talk(remote_url, remote_event, pcm, remote),
            )
        return {
            "local_captions_evs": spans_of(local, t_local),
            "worker_captions_evs": spans_of(remote, t_remote),
        }
    finally:
        await deployment.stop()


async def listener_cpu(folder: Path, listeners: int = 100, seconds: float = 20.0) -> dict[str, Any]:
    """The live instance's CPU per floor listener (a tone, no speech work)."""
    from scaleout import tone

    deployment = Deployment(folder)
    await deployment.start()
    try:
        url = deployment.serve("live")
        event_id = await deployment.event("listeners")
        chunk = tone()
        async with SpeakerClient.connect(url, event_id, token=speaker_token(event_id)) as speaker:
            async with contextlib.AsyncExitStack() as stack:
                for _ in range(listeners):
                    await stack.enter_async_context(
                        ListenerClient.connect(url, event_id, decode=False, keep_audio=False)
                    )
                before = deployment.cpu("live")
                await speaker.send(chunk * int(seconds * 10), pace=1.0)
                used = deployment.cpu("live") - before
        return {
            "listeners": listeners,
            "live_cpu_cores": round(used / seconds, 3),
            "per_listener_cores": round(used / seconds / listeners, 5),
        }
    finally:
        await deployment.stop()


PHASES = ("local3", "workers3", "no_capacity", "bus_cost", "listeners")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    args = parser.parse_args()
    report: dict[str, Any] = {"passage_sentences": len(PASSAGE), "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        pcm, _ = espeak_passage(folder)
        report["passage_s"] = round(len(pcm) / 32000, 1)
        for phase in args.phases:
            print(f"phase {phase}...", flush=True)
            if phase == "local3":
                report[phase] = await three_events(folder, pcm, workers=False)
            elif phase == "workers3":
                report[phase] = await three_events(folder, pcm, workers=True)
            elif phase == "no_capacity":
                report[phase] = await no_capacity_and_kill(folder, pcm)
            elif phase == "bus_cost":
                report[phase] = await bus_cost(folder, pcm)
            else:
                report[phase] = await listener_cpu(folder)
            print(json.dumps(report[phase], indent=2), flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"placement-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(main())
