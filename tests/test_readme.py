"""Every example of README.md and docs/library.md marked `python run` runs as written.

Each runs as its own program (a real runtime, real sockets, real engines on the
embedded default), in a folder of its own, with the store in it: a page that drifts
from the code fails here.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from livevent import EventStatus, Settings, open_service

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", ROOT / "docs" / "library.md"]
RUNNABLE = re.compile(r"^```python run\n(.*?)^```", re.S | re.M)


def examples() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for number, block in enumerate(RUNNABLE.findall(page.read_text()), start=1):
            found.append((f"{page.name}#{number}", block))
    return found


EXAMPLES = examples()
# What each page's examples must print (beyond running without an error).
PRINTS = {
    "library.md#1": re.compile(r"^ENDED$", re.M),
    "library.md#2": re.compile(r"^3$", re.M),
    "library.md#3": re.compile(r"^es-ES: \w.*\n\d+\.\d s of Spanish speech$", re.M),
    "library.md#4": re.compile(r"^0 events$", re.M),
}


def test_the_pages_have_runnable_examples() -> None:
    names = [name for name, _ in EXAMPLES]
    assert "README.md#1" in names and set(PRINTS) <= set(names), names


@pytest.mark.parametrize(("name", "code"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_the_example_runs_as_written(name: str, code: str, tmp_path: Path) -> None:
    program = tmp_path / "example.py"
    program.write_text(code)
    database = f"sqlite:///{tmp_path / 'example.db'}"
    env = {**os.environ, "LIVEVENT_DATABASE_URL": database}
    done = subprocess.run(
        [sys.executable, str(program)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{name} failed:\n{done.stderr[-3000:]}"
    expected = PRINTS.get(name)
    if expected is not None:
        assert expected.search(done.stdout), f"{name} printed:\n{done.stdout}"
    if name == "README.md#1":

        async def statuses() -> list[EventStatus]:
            async with open_service(Settings(database_url=database)) as service:
                events, _ = await service.list_events()
                return [event.status for event in events]

        assert asyncio.run(statuses()) == [EventStatus.SCHEDULED]
