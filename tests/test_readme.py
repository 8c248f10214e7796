"""The README's library example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parent.parent / "README.md"


def test_library_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEVENT_DATABASE_URL", f"sqlite:///{tmp_path / 'readme.db'}")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    example = next(b for b in blocks if "open_service" in b)
    exec(compile(example, "README.md", "exec"), {"__name__": "readme"})

    import asyncio

    from livevent import EventStatus, load_settings, open_service

    async def statuses() -> list[EventStatus]:
        async with open_service(load_settings()) as service:
            events, _ = await service.list_events()
            return [e.status for e in events]

    assert asyncio.run(statuses()) == [EventStatus.SCHEDULED]


def test_library_doc_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).parent.parent / "docs" / "library.md").read_text()
    example = re.findall(r"```python\n(.*?)```", text, re.S)[0]
    exec(compile(example, "docs/library.md", "exec"), {"__name__": "library_doc"})
    assert capsys.readouterr().out.strip() == "ENDED"
