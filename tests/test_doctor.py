"""`livevent doctor` finds what is missing and says what to fix."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livevent.cli import app
from livevent.runtime.storage.spool import Spool, spool_path
from livevent.runtime.storage.transcripts import SEGMENT
from livevent.settings import Settings
from tests.support.servers import free_port

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LIVEVENT_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LIVEVENT_DATABASE_URL", f"sqlite:///{tmp_path / 'doctor.db'}")


def doctor() -> tuple[int, dict[str, dict[str, str]]]:
    result = runner.invoke(app, ["doctor", "--json"])
    return result.exit_code, {check["name"]: check for check in json.loads(result.stdout)}


def test_a_working_embedded_setup_passes() -> None:
    code, checks = doctor()
    assert code == 0
    assert checks["store"]["status"] == "ok" and checks["bus"]["status"] == "ok"
    assert checks["engine mt.apertium"]["status"] == "ok"
    assert "eng-spa" in checks["engine mt.apertium"]["detail"]
    assert checks["tokens"]["status"] == "warn" and "auth_secret" in checks["tokens"]["fix"]


def test_what_is_down_fails_with_a_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEVENT_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/x")
    monkeypatch.setenv("LIVEVENT_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("LIVEVENT_PORT", str(taken.getsockname()[1]))
        code, checks = doctor()
    assert code == 3
    assert checks["store"]["status"] == "fail" and "database_url" in checks["store"]["fix"]
    assert checks["bus"]["status"] == "fail" and "redis_url" in checks["bus"]["fix"]
    assert checks["port"]["status"] == "warn" and "in use" in checks["port"]["detail"]


def test_segments_waiting_in_the_spool_are_reported(tmp_path: Path) -> None:
    _, checks = doctor()
    assert checks["spool"]["status"] == "ok"

    path = spool_path(Settings().spool_dir, f"sqlite:///{tmp_path / 'doctor.db'}")

    async def leave_two() -> None:
        spool = Spool(path)
        await spool.open()
        try:
            await spool.append(SEGMENT, "{}")
            await spool.append(SEGMENT, "{}")
        finally:
            await spool.close()

    asyncio.run(leave_two())
    _, checks = doctor()
    assert checks["spool"]["status"] == "warn"
    assert "2 transcript segments" in checks["spool"]["detail"]
    assert "livevent serve" in checks["spool"]["fix"]
