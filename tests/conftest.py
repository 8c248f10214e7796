"""Fixtures: a store on each backend (SQLite file, real PostgreSQL), the service, the app."""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from livevent.api import create_app
from livevent.auth import service_token
from livevent.bus import MemoryBus
from livevent.events.service import EventService
from livevent.settings import Settings
from livevent.store import EventStore, open_store
from tests.support.browser import check_chromium
from tests.support.cluster import Cluster
from tests.support.redis_server import RedisServer

POSTGRES_ADMIN_URL = os.environ.get(
    "LIVEVENT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

# The test servers' access log wrote each socket's URL, its token with it, into a
# failing test's captured log (and so into CI's output); livevent's own servers run
# without an access log.
logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


# Tests that keep the CPU busy run in two xdist groups, each group's tests one after
# another on one worker: Whisper and the voices in one, Chromium in the other. So at
# most two of them run side by side on two cores (three fell behind real time, and
# real time is what they measure), while the other workers take everything else
# (`make test` runs pytest-xdist with --dist loadgroup). Without xdist the marks change
# nothing.
CPU_BOUND_FILES = {
    "test_engines.py",
    "test_engines_voices.py",
    "test_readme.py",
    "test_runtime_ending.py",
    "test_runtime_fallback.py",
    "test_runtime_fallback_scaleout.py",
    "test_runtime_recording.py",
    "test_runtime_relay_machine.py",
    "test_runtime_workers.py",
    "test_speech_agreement.py",
    "test_speech_continuous.py",
    "test_speech_pipeline.py",
    "test_speech_streaming.py",
}


def cpu_group(item: pytest.Item) -> str | None:
    """The xdist group of a test that keeps the CPU busy; None for the rest."""
    if item.get_closest_marker("browser") is not None:
        return "browser"
    if item.path.name in CPU_BOUND_FILES:
        return "speech"
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = cpu_group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser") is not None:
        check_chromium()


@pytest.fixture(scope="session", autouse=True)
def data_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Transcript spools and recordings of this run in folders of its own, not the user's.

    Set in the environment, so `livevent serve` processes the tests start inherit them.
    """
    folders = {
        "LIVEVENT_SPOOL_DIR": tmp_path_factory.mktemp("spool"),
        "LIVEVENT_RECORDINGS_DIR": tmp_path_factory.mktemp("recordings"),
    }
    before = {name: os.environ.get(name) for name in folders}
    os.environ.update({name: str(folder) for name, folder in folders.items()})
    yield folders
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _admin(sql: str) -> None:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_URL)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error}); "
            "`make test` starts it, or deselect with -m 'not postgres'"
        )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database for this test run, migrated, dropped at the end."""
    name = f"livevent_test_{os.getpid()}_{secrets.token_hex(3)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = _with_database(POSTGRES_ADMIN_URL, name)

    async def migrate() -> None:
        store = await open_store(url, migrate=True)
        await store.aclose()

    asyncio.run(migrate())
    try:
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            "TRUNCATE user_grants, users, account_changes, event_status_changes, deleted_events,"
            " events, customers"
            " RESTART IDENTITY CASCADE"
        )
    finally:
        await connection.close()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated store on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'livevent.db'}"
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate(url))
    return url


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[EventStore]:
    opened = await open_store(store_url, migrate=True)
    try:
        yield opened
    finally:
        await opened.aclose()


@pytest.fixture
def bus() -> MemoryBus:
    return MemoryBus()


@pytest.fixture
async def service(store: EventStore, bus: MemoryBus) -> EventService:
    return EventService(store=store, bus=bus)


@pytest.fixture
def settings(store_url: str) -> Settings:
    return Settings(database_url=store_url)


@pytest.fixture
async def api(
    aiohttp_client: AiohttpClient, settings: Settings, service: EventService
) -> TestClient[web.Request, web.Application]:
    """The event API over a real socket, on the test's store, with an admin token."""
    return await aiohttp_client(
        create_app(settings, service=service),
        headers={"Authorization": f"Bearer {service_token(settings)}"},
    )


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, which the test may kill and restart."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def cluster(postgres_url: str, own_redis: RedisServer, tmp_path: Path) -> Iterator[Cluster]:
    """`livevent serve` processes on this run's database and a Redis of the test's own."""
    made = Cluster(postgres_url, own_redis.url, tmp_path)
    try:
        yield made
    finally:
        made.stop_all()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
