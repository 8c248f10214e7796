"""Event store throughput: reads/s and writes/s on SQLite and PostgreSQL, side by side.

Each backend is measured in the same run, against a peer: the bare driver doing
the same work with one hand-written statement (aiosqlite / asyncpg), so the
ratio shows what livevent's store costs over its driver (validation, the
transaction that checks version and status, the audit row).

    python benchmarks/store.py [--seconds 3] [--concurrency 16] [--postgres URL]

Writes a table to stdout and JSON to benchmarks/results/store.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from livevent.model import ChannelSpec, EventCreate, EventPatch
from livevent.store import EventStore, open_store

RESULTS = Path(__file__).parent / "results"


async def rate(work: Callable[[int], Awaitable[Any]], seconds: float, concurrency: int) -> float:
    """Operations per second of `work(i)` run by `concurrency` workers for `seconds`."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal done
        i = offset
        while time.perf_counter() < deadline:
            await work(i)
            done += 1
            i += concurrency

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return done / (time.perf_counter() - started)


def sample_event(i: int) -> EventCreate:
    return EventCreate(
        name=f"bench {i}",
        starts_at=datetime(2026, 12, 1, 10, tzinfo=UTC),
        source_language="ca-ES",
        channels=[ChannelSpec(language="en-US"), ChannelSpec(language="es-ES", kind="human")],
    )


async def measure_store(store: EventStore, seconds: float, concurrency: int) -> dict[str, float]:
    customer = (await store.ensure_customer("bench")).id
    ids = [
        (await store.create_event(sample_event(i), customer_id=customer, actor="bench")).id
        for i in range(200)
    ]

    async def read(i: int) -> None:
        await store.get_event(ids[i % len(ids)])

    async def create(i: int) -> None:
        await store.create_event(sample_event(i), customer_id=customer, actor="bench")

    async def update(i: int) -> None:
        # Each worker owns its own events, so the numbers measure writes, not conflicts.
        await store.update_event(ids[i % len(ids)], EventPatch(max_listeners=1 + i))

    return {
        "reads_per_s": await rate(read, seconds, concurrency),
        "creates_per_s": await rate(create, seconds, concurrency),
        "updates_per_s": await rate(update, seconds, concurrency),
    }


async def measure_sqlite_driver(path: Path, seconds: float, concurrency: int) -> dict[str, float]:
    """The peer: one aiosqlite connection, the same row shapes, no checks."""
    async with aiosqlite.connect(path, isolation_level=None) as db:
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, channels TEXT, v INT)")
        lock = asyncio.Lock()
        channels = json.dumps([{"language": "ca-ES"}, {"language": "en-US"}])
        for i in range(200):
            await db.execute("INSERT INTO t VALUES (?, ?, ?, 1)", (i, f"bench {i}", channels))

        async def read(i: int) -> None:
            rows = list(await db.execute_fetchall("SELECT * FROM t WHERE id = ?", (i % 200,)))
            json.loads(rows[0][2])

        async def create(i: int) -> None:
            async with lock:
                await db.execute(
                    "INSERT INTO t (name, channels, v) VALUES (?, ?, 1)", ("x", channels)
                )

        async def update(i: int) -> None:
            async with lock:
                await db.execute_fetchall("UPDATE t SET v = v + 1 WHERE id = ?", (i % 200,))

        return {
            "reads_per_s": await rate(read, seconds, concurrency),
            "creates_per_s": await rate(create, seconds, concurrency),
            "updates_per_s": await rate(update, seconds, concurrency),
        }


async def measure_postgres_driver(url: str, seconds: float, concurrency: int) -> dict[str, float]:
    """The peer: an asyncpg pool of the same size, the same row shapes, no checks."""
    pool = await asyncpg.create_pool(url, min_size=1, max_size=10)
    try:
        await pool.execute("DROP TABLE IF EXISTS bench_peer")
        await pool.execute(
            "CREATE TABLE bench_peer (id BIGSERIAL PRIMARY KEY, name TEXT, channels JSONB, v INT)"
        )
        channels = json.dumps([{"language": "ca-ES"}, {"language": "en-US"}])
        for i in range(200):
            await pool.execute(
                "INSERT INTO bench_peer (name, channels, v) VALUES ($1, $2, 1)", f"b{i}", channels
            )

        async def read(i: int) -> None:
            row = await pool.fetchrow("SELECT * FROM bench_peer WHERE id = $1", 1 + i % 200)
            assert row is not None
            json.loads(row["channels"])

        async def create(i: int) -> None:
            await pool.execute(
                "INSERT INTO bench_peer (name, channels, v) VALUES ($1, $2, 1)", "x", channels
            )

        async def update(i: int) -> None:
            await pool.execute("UPDATE bench_peer SET v = v + 1 WHERE id = $1", 1 + i % 200)

        result = {
            "reads_per_s": await rate(read, seconds, concurrency),
            "creates_per_s": await rate(create, seconds, concurrency),
            "updates_per_s": await rate(update, seconds, concurrency),
        }
        await pool.execute("DROP TABLE bench_peer")
        return result
    finally:
        await pool.close()


async def postgres_database(admin_url: str, name: str, *, drop: bool = False) -> str:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return admin_url.rpartition("/")[0] + f"/{name}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "LIVEVENT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="an admin URL; a scratch database is created and dropped",
    )
    args = parser.parse_args()

    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores,"
        f" Python {platform.python_version()}",
        "seconds": args.seconds,
        "concurrency": args.concurrency,
    }
    with tempfile.TemporaryDirectory() as scratch:
        store = await open_store(f"sqlite:///{scratch}/bench.db")
        try:
            results["sqlite"] = await measure_store(store, args.seconds, args.concurrency)
        finally:
            await store.aclose()
        results["sqlite_driver"] = await measure_sqlite_driver(
            Path(scratch) / "peer.db", args.seconds, args.concurrency
        )

    name = f"livevent_bench_{os.getpid()}"
    url = await postgres_database(args.postgres, name)
    try:
        store = await open_store(url, migrate=True)
        try:
            results["postgresql"] = await measure_store(store, args.seconds, args.concurrency)
        finally:
            await store.aclose()
        results["postgresql_driver"] = await measure_postgres_driver(
            url, args.seconds, args.concurrency
        )
    finally:
        await postgres_database(args.postgres, name, drop=True)

    print(f"{'backend':<12} {'op':<8} {'livevent/s':>11} {'driver/s':>10} {'ratio':>6}")
    for backend in ("sqlite", "postgresql"):
        ours, peer = results[backend], results[f"{backend}_driver"]
        for op in ("reads", "creates", "updates"):
            key = f"{op}_per_s"
            print(
                f"{backend:<12} {op:<8} {ours[key]:>11.0f} {peer[key]:>10.0f}"
                f" {ours[key] / peer[key]:>6.2f}"
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "store.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
