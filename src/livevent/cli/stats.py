"""`livevent stats`: live listeners and counters per event and channel, refreshed every second."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Annotated, Any

import aiohttp
import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table

from livevent.auth import service_token
from livevent.bus import Bus, open_bus
from livevent.cli._utilities import console, guarded, print_json, state
from livevent.cli.live import base_url
from livevent.errors import Unavailable
from livevent.model import EventFilter, EventStatus
from livevent.runtime.live.presence import read_stats
from livevent.runtime.workers import registry
from livevent.settings import Settings
from livevent.store import open_store

COLUMNS = (
    "listeners",
    "frames_in",
    "messages_out",
    "drops",
    "latency_ms",
    "mt_ms",
    "tts_ms",
    "evs_s",
    "backlog_s",
)
# A sentence is drained within a second while the store answers: this many wait only when not.
SPOOL_WARN = 5


async def _live_event_ids(settings: Settings) -> list[int]:
    store = await open_store(settings.database_url)
    try:
        events, _ = await store.list_events(EventFilter(statuses=[EventStatus.LIVE], limit=500))
    finally:
        await store.aclose()
    return [event.id for event in events]


async def snapshot_from_bus(bus: Bus, event_ids: list[int]) -> list[dict[str, Any]]:
    """What every instance published on the bus about these events, and the totals."""
    return [await read_stats(bus, event_id) for event_id in event_ids]


async def snapshot_from_url(
    url: str, event_ids: list[int], *, token: str | None = None
) -> list[dict[str, Any]]:
    """Stats as a runtime serves them; `token` opens private events (this deployment's own)."""
    found = []
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as http:
        for event_id in event_ids:
            try:
                async with http.get(f"{url}/live/{event_id}/stats") as response:
                    body = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                raise Unavailable(f"no runtime answered at {url}: {error}") from None
            if response.status != 200:
                raise Unavailable(f"{url} answered {response.status}: {body.get('detail', '')}")
            for language, count in body.get("listeners", {}).items():
                body.setdefault("channels", {}).setdefault(language, {})["listeners"] = count
            found.append(body)
    return found


async def workers_from_url(url: str, token: str) -> list[dict[str, Any]]:
    """The speech workers as a runtime lists them (GET /live/workers)."""
    timeout = aiohttp.ClientTimeout(total=5)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as http:
        try:
            async with http.get(f"{url}/live/workers") as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise Unavailable(f"no runtime answered at {url}: {error}") from None
    return list(body) if response.status == 200 and isinstance(body, list) else []


def workers_table(workers: list[dict[str, Any]]) -> Table:
    """A row per speech worker: its slots, the events it runs, how loaded it is."""
    table = Table(title="speech workers", title_justify="left")
    for column in ("Worker", "Slots", "Free", "Events", "Load", "CPU (cores)", "Behind (RTF)"):
        table.add_column(column, justify="left" if column in ("Worker", "Events") else "right")
    for worker in workers:
        free = int(worker.get("free", 0))
        table.add_row(
            str(worker["name"]) + (" (draining)" if worker.get("draining") else ""),
            str(worker.get("slots", "")),
            str(free),
            ", ".join(str(e) for e in worker.get("jobs", [])) or "-",
            str(worker.get("load", "")),
            str(worker.get("cpu", "")),
            str(worker.get("behind", "")),
            style="bold red" if free == 0 else None,
        )
    if workers and all(int(w.get("free", 0)) == 0 for w in workers):
        table.caption = "every slot is taken: an event going live now gets no machine channels"
        table.caption_style = "bold red"
    return table


def _state(values: dict[str, Any]) -> str:
    state = str(values.get("state", ""))
    if str(values.get("degraded")) in ("1", "True", "true"):
        state += " (degraded: captions lag)"  # recognition cannot keep up on this machine
    return state


def spool_warnings(snapshot: list[dict[str, Any]]) -> list[str]:
    """Instances whose transcript spool grows: the store is away or too slow for them."""
    spools = {
        name: int(instance.get("spool", 0))
        for event in snapshot
        for name, instance in (event.get("instances") or {}).items()
    }
    return [
        f"instance {name}: {count} transcript segments wait for the store"
        for name, count in sorted(spools.items())
        if count >= SPOOL_WARN
    ]


def stats_table(snapshot: list[dict[str, Any]]) -> Table:
    """A row per event, instance and channel; the event's totals on its own rows."""
    table = Table(title=f"livevent stats  {time.strftime('%H:%M:%S')}", title_justify="left")
    table.add_column("Event", justify="right")
    table.add_column("Status")
    table.add_column("Instance")
    table.add_column("Channel")
    table.add_column("State")
    for column in COLUMNS:
        table.add_column(column.replace("_", " ").capitalize(), justify="right")
    if not snapshot:
        table.add_row("-", "no live events", "", "", "", *("" for _ in COLUMNS))
    for event in snapshot:
        instances = event.get("instances") or {"": {"role": "", "channels": event["channels"]}}
        for name, instance in sorted(instances.items()):
            label = f"{name} ({instance['role']})" if name else "this one"
            for language, values in sorted(instance["channels"].items()):
                table.add_row(
                    str(event["event"]),
                    str(event.get("status", "")),
                    label,
                    language,
                    _state(values),
                    *(str(values.get(column, "-")) for column in COLUMNS),
                )
        if len(instances) > 1:
            for language, values in sorted(event["channels"].items()):
                table.add_row(
                    str(event["event"]),
                    "",
                    "all",
                    language,
                    "",
                    str(values.get("listeners", 0)),
                    *("" for _ in COLUMNS[1:]),
                    style="bold",
                )
    warnings = spool_warnings(snapshot)
    if warnings:
        table.caption = "\n".join(warnings)
        table.caption_style = "bold red"
    return table


def stats(
    ctx: typer.Context,
    event_id: Annotated[int | None, typer.Argument(help="One event (else every live one).")] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Ask this runtime over HTTP instead of the bus.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one snapshot as JSON.")] = False,
    interval: Annotated[float, typer.Option("--interval", min=0.2, help="Seconds.")] = 1.0,
) -> None:
    """Listeners, state, frames, drops and latency per channel, live."""
    settings = guarded(lambda: state(ctx).settings)
    # A memory:// bus lives inside the runtime's process: ask the runtime instead.
    if url is None and settings.redis_url.startswith("memory://"):
        url = base_url(settings, settings.host, settings.port)

    async def one() -> list[dict[str, Any]]:
        ids = [event_id] if event_id is not None else await _live_event_ids(settings)
        if url is not None:
            return await snapshot_from_url(url.rstrip("/"), ids, token=service_token(settings))
        bus = open_bus(settings.redis_url, prefix=settings.redis_prefix)
        try:
            return await snapshot_from_bus(bus, ids)
        finally:
            await bus.aclose()

    async def speech_workers() -> list[dict[str, Any]]:
        if settings.speech != "workers":
            return []
        if url is not None:
            return await workers_from_url(url.rstrip("/"), service_token(settings))
        bus = open_bus(settings.redis_url, prefix=settings.redis_prefix)
        try:
            return [report.model_dump() for report in await registry.workers(bus)]
        finally:
            await bus.aclose()

    if as_json:
        print_json(guarded(lambda: asyncio.run(one())))
        return

    async def view() -> Table | Group:
        events, workers = stats_table(await one()), await speech_workers()
        return Group(events, workers_table(workers)) if workers else events

    async def watch() -> None:
        with Live(await view(), console=console, auto_refresh=False) as live:
            while True:
                await asyncio.sleep(interval)  # the refresh period
                live.update(await view(), refresh=True)

    try:
        guarded(lambda: asyncio.run(watch()))
    except KeyboardInterrupt:
        sys.stdout.write("\n")
