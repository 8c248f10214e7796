"""HLS (issue 40), measured (not a test): latency in Chromium with hls.js beside the
WebSocket path, the CPU packaging costs, and many viewers through the nginx kit's cache.

One `livevent serve` on PostgreSQL and a redis-server of the run's own, the shipped
nginx kit in front (TLS), an English event with a Spanish and a Catalan machine
channel and a floor speaker sending continuous espeak-ng speech in real time.

  latency    Chromium plays the master playlist with hls.js (the listen page's own
             player): each second, the wall clock minus `hls.playingDate` (the
             EXT-X-PROGRAM-DATE-TIME of what is heard now); beside it, a WebSocket
             listener's audio: arrival minus when the speaker sent those samples.
             p50 and p90 of each
  cost       the instance's CPU with `hls = true` and `hls = false`, the same event
             and speech, per second of speech
  scale      VIEWERS simulated HLS players (two processes) through nginx: each fetches
             the floor's media playlist every second and every segment it lists that
             it has not fetched; origin requests per segment (X-Cache-Status MISS or
             EXPIRED), segments a viewer missed, nginx's and livevent's CPU

    python benchmarks/hls.py [--viewers 2000] [--minutes 5] [--phases latency cost scale]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from tests.support.browser import launch
from tests.support.proxy import Proxy, start_proxy

from lag import espeak_passage
from livevent.client import ListenerClient, SpeakerClient
from livevent.model import ChannelKind, ChannelSpec, EventCreate
from livevent.runtime.wire import AudioMessage
from livevent.store import open_store
from placement import Deployment, speaker_token
from stats import percentile

RESULTS = Path(__file__).parent / "results"
TARGETS = ("es-ES", "ca-ES")


async def event_with_channels(deployment: Deployment) -> int:
    """A LIVE English event with Spanish and Catalan machine channels."""
    from livevent.bus import MemoryBus
    from livevent.events.service import EventService

    store = await open_store(deployment.env["LIVEVENT_DATABASE_URL"])
    try:
        service = EventService(store=store, bus=MemoryBus())
        event = await service.create_event(
            EventCreate(
                customer_id=deployment.customer,
                name="HLS",
                starts_at="2026-12-01T10:00Z",
                source_language="en-US",
                channels=[ChannelSpec(language=t, kind=ChannelKind.MACHINE) for t in TARGETS],
            ),
            actor="bench",
        )
        await service.act(event.id, "schedule", actor="bench")
        await service.act(event.id, "start", actor="bench")
        return event.id
    finally:
        await store.aclose()


async def speak_on(url: str, event_id: int, pcm: bytes, until: asyncio.Event) -> None:
    async with SpeakerClient.connect(url, event_id, token=speaker_token(event_id)) as speaker:
        while not until.is_set():
            await speaker.send(pcm, pace=1.0)


def percentiles(values: list[float]) -> dict[str, float | None]:
    if len(values) < 2:
        return {"p50": None, "p90": None, "n": len(values)}
    return {
        "p50": percentile(values, 0.5),
        "p90": percentile(values, 0.9),
        "n": len(values),
    }


@contextlib.asynccontextmanager
async def behind_nginx(folder: Path) -> AsyncIterator[tuple[Deployment, str, Proxy, int]]:
    """One instance behind the shipped nginx kit, and a live event with machine channels:
    (the deployment, the instance's URL, the proxy, the event's id)."""
    deployment = Deployment(folder)
    await deployment.start()
    proxy: Proxy | None = None
    try:
        url = deployment.serve("live", trusted_proxies='["127.0.0.1"]', hls_dir=str(folder / "hls"))
        proxy = start_proxy(folder / "nginx", [deployment.ports["live"]])
        yield deployment, url, proxy, await event_with_channels(deployment)
    finally:
        if proxy is not None:
            proxy.stop()
        await deployment.stop()


# -- latency ------------------------------------------------------------------------------


async def latency(folder: Path, pcm: bytes, seconds: float) -> dict[str, Any]:
    async with behind_nginx(folder) as (_, url, proxy, event_id):
        done = asyncio.Event()
        websocket: list[float] = []
        samples_start: list[float] = []

        def arrived(audio: AudioMessage) -> None:
            if samples_start:
                websocket.append(time.monotonic() - (samples_start[0] + audio.timestamp / 16000))

        async with (
            SpeakerClient.connect(url, event_id, token=speaker_token(event_id)) as speaker,
            aiohttp.ClientSession() as http,
            http.ws_connect(f"{url.replace('http', 'ws')}/listen/{event_id}") as ws,
        ):
            listener = ListenerClient(ws, decode=False, keep_audio=False, on_audio=arrived)
            listener.start()
            samples_start.append(time.monotonic())

            async def say() -> None:
                while not done.is_set():
                    await speaker.send(pcm, pace=1.0)

            saying = asyncio.create_task(say())
            hls = await hls_latency(proxy, event_id, seconds)
            done.set()
            saying.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await saying
            await listener.close()
        return {
            "hls_playing_date": percentiles(hls),
            "websocket": percentiles(websocket[50:]),  # after the first second
            "segment_seconds": 1.0,
        }


PLAYER = """
async (url) => {
  const { default: Hls } = await import('/static/vendor/hls.js/hls.esm.min.js');
  const audio = document.createElement('audio');
  document.body.append(audio);
  const hls = new Hls({ enableWorker: false, liveSyncDurationCount: 3 });
  hls.loadSource(url);
  hls.attachMedia(audio);
  window.bench = { hls, audio };
  await new Promise((ok) => hls.on(Hls.Events.MANIFEST_PARSED, ok));
  await audio.play();
  return true;
}
"""


async def hls_latency(proxy: Proxy, event_id: int, seconds: float) -> list[float]:
    playwright, browser = await launch("--ignore-certificate-errors")
    try:
        page = await browser.new_page()
        await page.goto(proxy.url(f"/listen/{event_id}"))
        await page.evaluate(PLAYER, f"/hls/{event_id}/master.m3u8")
        found: list[float] = []
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            await asyncio.sleep(1.0)  # one sample a second
            lag = await page.evaluate(
                "(() => { const d = window.bench.hls.playingDate;"
                " return d ? (Date.now() - d.getTime()) / 1000 : null; })()"
            )
            if lag is not None:
                found.append(float(lag))
        return found[5:]  # after the player settled on its live edge
    finally:
        await browser.close()
        await playwright.stop()


# -- cost ---------------------------------------------------------------------------------


async def cost(folder: Path, pcm: bytes, seconds: float) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for hls in (False, True):
        deployment = Deployment(folder)
        await deployment.start()
        try:
            url = deployment.serve(
                "live", hls="true" if hls else "false", hls_dir=str(folder / "hls")
            )
            event_id = await event_with_channels(deployment)
            done = asyncio.Event()
            async with contextlib.AsyncExitStack() as stack:
                for language in ("en-US", *TARGETS):
                    await stack.enter_async_context(
                        ListenerClient.connect(
                            url, event_id, channel=language, decode=False, keep_audio=False
                        )
                    )
                saying = asyncio.create_task(speak_on(url, event_id, pcm, done))
                await asyncio.sleep(5.0)  # the pipeline warms up; not a synchronisation
                before = deployment.cpu("live")
                await asyncio.sleep(seconds)  # the measured window
                used = deployment.cpu("live") - before
                done.set()
                saying.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await saying
            found["hls" if hls else "no_hls"] = round(used / seconds, 3)
        finally:
            await deployment.stop()
    found["hls_per_channel"] = round((found["hls"] - found["no_hls"]) / 3, 4)
    return found


# -- scale --------------------------------------------------------------------------------


def viewers_process(base: str, playlist: str, viewers: int, seconds: float, out: str) -> None:
    asyncio.run(_viewers(base, playlist, viewers, seconds, Path(out)))


async def _viewers(base: str, playlist: str, viewers: int, seconds: float, out: Path) -> None:
    """`viewers` players: the playlist every second, then each new segment it lists."""
    statuses: dict[str, int] = {}
    got: list[set[str]] = [set() for _ in range(viewers)]
    listed: set[str] = set()
    misses: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=0, ssl=False)
    folder = playlist.rsplit("/", 1)[0]
    ends = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(index: int) -> None:
            await asyncio.sleep(index / viewers)  # spread over the first second
            while time.monotonic() < ends:
                started = time.monotonic()
                try:
                    async with http.get(f"{base}{playlist}") as response:
                        text = await response.text()
                        cache = response.headers.get("X-Cache-Status", "?")
                        statuses[cache] = statuses.get(cache, 0) + 1
                    names = [line for line in text.splitlines() if line.endswith(".ts")]
                    for name in names[-3:]:  # a player near the live edge
                        listed.add(name)
                        if name in got[index]:
                            continue
                        async with http.get(f"{base}{folder}/{name}") as response:
                            await response.read()
                            cache = response.headers.get("X-Cache-Status", "?")
                            if cache in ("MISS", "EXPIRED"):
                                misses[name] = misses.get(name, 0) + 1
                            if response.status == 200:
                                got[index].add(name)
                except (aiohttp.ClientError, TimeoutError):
                    statuses["error"] = statuses.get("error", 0) + 1
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))

        await asyncio.gather(*(one(i) for i in range(viewers)))
    out.write_text(  # noqa: ASYNC240 - the run is over: nothing else waits on the loop
        json.dumps(
            {
                "statuses": statuses,
                "misses": misses,
                "got": [sorted(g) for g in got],
            }
        )
    )


def cpu_of(processes: list[psutil.Process]) -> float:
    """CPU seconds of these processes; one that ended (nginx's cache loader) counts 0."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


async def scale(folder: Path, pcm: bytes, viewers: int, minutes: float) -> dict[str, Any]:
    async with behind_nginx(folder) as (deployment, url, proxy, event_id):
        done = asyncio.Event()
        saying = asyncio.create_task(speak_on(url, event_id, pcm, done))
        base = proxy.url("")
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=False)) as http:
            deadline = time.monotonic() + 30
            while True:
                async with http.get(f"{base}/hls/{event_id}/master.m3u8") as response:
                    master = await response.text()
                if response.status == 200 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)  # until the owner broadcasts
        rendition = next(line for line in master.splitlines() if line.endswith(".m3u8"))
        playlist = f"/hls/{event_id}/{rendition}"
        nginx = psutil.Process(proxy.process.pid)
        workers = [nginx, *nginx.children()]
        cpu_nginx = cpu_of(workers)
        cpu_live = deployment.cpu("live")
        seconds = minutes * 60
        outs = [folder / f"viewers-{n}.json" for n in range(2)]
        processes = [
            multiprocessing.Process(
                target=viewers_process,
                args=(base, playlist, viewers // 2, seconds, str(out)),
            )
            for out in outs
        ]
        for process in processes:
            process.start()
        await asyncio.to_thread(lambda: [p.join() for p in processes])
        used_nginx = cpu_of(workers) - cpu_nginx
        used_live = deployment.cpu("live") - cpu_live
        done.set()
        saying.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await saying
        results = [json.loads(out.read_text()) for out in outs]
        statuses: dict[str, int] = {}
        misses: dict[str, int] = {}
        got: list[list[str]] = []
        for result in results:
            for key, value in result["statuses"].items():
                statuses[key] = statuses.get(key, 0) + value
            for key, value in result["misses"].items():
                misses[key] = misses.get(key, 0) + value
            got += result["got"]
        segments = sorted({name for g in got for name in g})
        # A viewer misses a segment it should have had: one listed while it watched.
        middle = segments[5:-5] if len(segments) > 10 else segments
        missed = sum(1 for g in got for name in middle if name not in set(g))
        return {
            "viewers": viewers,
            "seconds": seconds,
            "playlist_requests": statuses,
            "segments": len(segments),
            "origin_requests_per_segment": round(sum(misses.values()) / max(1, len(misses)), 3),
            "segments_fetched_more_than_once_from_origin": sum(1 for v in misses.values() if v > 1),
            "missed_segments": missed,
            "nginx_cpu_cores": round(used_nginx / seconds, 3),
            "livevent_cpu_cores": round(used_live / seconds, 3),
        }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phases", nargs="+", default=["latency", "cost", "scale"])
    parser.add_argument("--viewers", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=60.0, help="latency and cost windows")
    args = parser.parse_args()
    report: dict[str, Any] = {"cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        pcm, _ = espeak_passage(folder)
        for phase in args.phases:
            print(f"phase {phase}...", flush=True)
            (folder / phase).mkdir()
            if phase == "latency":
                report[phase] = await latency(folder / phase, pcm, args.seconds)
            elif phase == "cost":
                report[phase] = await cost(folder / phase, pcm, args.seconds)
            else:
                report[phase] = await scale(folder / phase, pcm, args.viewers, args.minutes)
            print(json.dumps(report[phase], indent=2), flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"hls-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(main())
