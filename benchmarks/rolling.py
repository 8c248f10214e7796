"""A rolling restart behind the proxy, as a listener meets it (not a test).

Three `livevent serve` instances (soak.py's deployment) behind Debian's nginx running
the shipped deploy/nginx.conf over TLS (tests/support/proxy.py). A floor speaker and
a listener connect through the proxy and reconnect as the pages do (the first retry
at once). Each instance in turn gets SIGTERM (it drains: sockets close with 1001
"reconnect", its events go to another instance), is started again on its port, and
the next one goes 5 s later. Measured: the listener's longest silence over the whole
restart, and how often each client reconnected. Goal: <= 3 s.

    python benchmarks/rolling.py
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import signal
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parent))

from tests.support.proxy import Proxy, speak_through, start_proxy

from failover import TONE, floor_event
from livevent.client import ListenerClient
from soak import NAMES, Deployment, token

RESULTS = Path(__file__).parent / "results"


async def listen_through(
    proxy: Proxy, event_id: int, arrivals: list[float], heard: asyncio.Event, stop: asyncio.Event
) -> int:
    """Listen; on a drop, reconnect through the proxy at once. Reconnections."""
    url = proxy.url(f"/listen/{event_id}").replace("https://", "wss://")
    drops = -1
    connector = aiohttp.TCPConnector(ssl=proxy.ssl_context())
    async with aiohttp.ClientSession(connector=connector) as http:
        while not stop.is_set():
            drops += 1
            try:
                async with http.ws_connect(url) as ws:

                    def arrived(_: object) -> None:
                        arrivals.append(time.monotonic())
                        if len(arrivals) >= 20:
                            heard.set()  # the floor is heard: the restart may begin

                    listener = ListenerClient(ws, decode=False, on_audio=arrived).start()
                    closed = asyncio.ensure_future(listener.closed(within=3600))
                    stopped = asyncio.ensure_future(stop.wait())
                    await asyncio.wait({closed, stopped}, return_when=asyncio.FIRST_COMPLETED)
                    closed.cancel()
                    stopped.cancel()
                    await listener.close()
            except (aiohttp.ClientError, OSError, TimeoutError, ConnectionError):
                await asyncio.sleep(0.05)
    return drops


async def run(folder: Path) -> dict[str, object]:
    deployment = Deployment(folder)
    proxy: Proxy | None = None
    try:
        deployment.start()
        event_id = floor_event(deployment, "Rolling")
        ports = [deployment.instances[name].port for name in NAMES]
        proxy = start_proxy(folder / "nginx", ports)
        stop, arrivals = asyncio.Event(), []
        talking = speak_through(proxy, f"/speak/{event_id}/1?token={token()}", TONE, stop)
        speaking = asyncio.create_task(talking)
        heard = asyncio.Event()
        listening = asyncio.create_task(listen_through(proxy, event_id, arrivals, heard, stop))
        await asyncio.wait_for(heard.wait(), 60)
        began = time.monotonic()
        restarts = []
        for name in NAMES:
            process = deployment.instances[name].process
            assert process is not None
            restarts.append((name, round(time.monotonic() - began, 2)))
            process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(process.wait, 30)
            deployment.instances[name].process = None
            # In a thread: starting waits for the port, and the clients here must go on.
            await asyncio.to_thread(deployment.start_instance, name)
            await asyncio.sleep(5.0)  # the operator's pace between instances
        ended = time.monotonic()
        stop.set()
        speaker_drops, listener_drops = await asyncio.gather(speaking, listening)
        during = [t for t in arrivals if began - 1 <= t <= ended]
        gaps = [(round(a - began, 2), round(b - a, 2)) for a, b in itertools.pairwise(during)]
        longest = max(gap for _, gap in gaps)
        return {
            "restarts_at_s": restarts,
            "gaps_over_1_s": [(at, gap) for at, gap in gaps if gap > 1.0],
            "longest_silence_s": round(longest, 2),
            "speaker_reconnects": speaker_drops,
            "listener_reconnects": listener_drops,
            "restart_s": round(ended - began, 1),
        }
    finally:
        if proxy is not None:
            proxy.stop()
        deployment.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="rolling.json", help="file in benchmarks/results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="livevent-rolling-") as folder:
        row = asyncio.run(run(Path(folder)))
    print(
        f"rolling restart of {len(NAMES)} instances in {row['restart_s']} s: the listener's"
        f" longest silence {row['longest_silence_s']} s (goal 3 s); reconnections:"
        f" speaker {row['speaker_reconnects']}, listener {row['listener_reconnects']};"
        f" SIGTERMs at {row['restarts_at_s']}, gaps over 1 s (at, length) {row['gaps_over_1_s']}"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.results).write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
