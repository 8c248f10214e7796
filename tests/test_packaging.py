"""The wheel carries everything a `pip install .` needs: migrations, pages, the script."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_wheel_contents(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = tmp_path.glob("livevent-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for dialect in ("sqlite", "postgresql"):
        assert f"livevent/store/migrations/{dialect}/0001_initial.sql" in names
    assert "livevent/py.typed" in names
    for page in ("listen.html", "speak.html", "manage.html", "common.js", "capture-worklet.js"):
        assert f"livevent/web/static/{page}" in names
    for migration in ("0004_users.sql",):
        assert f"livevent/store/migrations/postgresql/{migration}" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "livevent = livevent.cli:main" in text
