"""Everything livevent writes is its user's only: files 0600, the folders it makes 0700.

Under a permissive umask (022, the common default), as the probe found them: the
store, the spool, a recording and an export were 0644 in 0755 folders.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from livevent.events.recordings import part_path
from livevent.runtime.media.audio import FRAME_BYTES
from livevent.runtime.media.opus import OpusEncoder
from livevent.runtime.storage.recording import ChannelRecording
from livevent.runtime.storage.spool import Spool
from livevent.store import open_store

DEPLOY = Path(__file__).parents[1] / "deploy"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def modes(root: Path) -> dict[str, int]:
    """Every file and folder under `root` (itself excluded) -> its permission bits."""
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.stat().st_mode)
        for path in sorted(root.rglob("*"))
    }


def assert_private(root: Path) -> None:
    found = modes(root)
    assert found, "nothing was written"
    for name, mode in found.items():
        wanted = 0o700 if (root / name).is_dir() else 0o600
        assert mode == wanted, f"{name} is {oct(mode)}, not {oct(wanted)}"


@pytest.mark.usefixtures("permissive_umask")
async def test_the_store_the_spool_and_recordings_are_private(tmp_path: Path) -> None:
    store = await open_store(
        f"sqlite:///{tmp_path / 'data' / 'store' / 'livevent.db'}", migrate=True
    )
    await store.aclose()
    spool = Spool(tmp_path / "spool" / "spool-x.sqlite3")
    await spool.open()
    await spool.append("segment", "{}")
    recording = ChannelRecording(part_path(tmp_path / "recordings", 123457, "es-ES", "host:1"))
    packet = OpusEncoder().encode(bytes(FRAME_BYTES))[0]
    recording.write([packet] * 50, recording.started)
    assert_private(tmp_path)  # the SQLite journals (-wal, -shm) while open included
    await spool.close()
    recording.close(recording.started + 1)
    assert_private(tmp_path)


def test_an_export_from_the_command_line_is_private(tmp_path: Path) -> None:
    """`livevent` itself (the installed entry point) runs with umask 077."""
    env = {**os.environ, "LIVEVENT_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'x.db'}"}
    env.pop("LIVEVENT_CONFIG", None)
    livevent = Path(sys.executable).parent / "livevent"
    created = subprocess.run(
        [str(livevent), "event", "create", "--name", "T", "--starts-at", "2026-12-01T10:00Z",
         "--source", "en-US", "--json"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert created.returncode == 0
    event_id = created.stdout.split('"id": ')[1].split(",")[0]
    out = tmp_path / "exports" / "event.srt"
    subprocess.run(
        [str(livevent), "transcript", "export", event_id, "-o", str(out)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700


def test_the_unit_runs_with_a_private_umask() -> None:
    unit = (DEPLOY / "livevent.service").read_text()
    assert "\nUMask=0077\n" in unit
