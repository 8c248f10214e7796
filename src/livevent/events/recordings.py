"""Recorded parts of an event's channels on disk: where each goes, and finding them.

    recordings_dir/EVENT_ID/LANGUAGE/STARTED-INSTANCE.ogg

A part is one owner's run of a channel (a takeover starts the next); its name
says when it began (UTC, to the microsecond) and which instance wrote it, so
names sort in time order. The runtime writes them (runtime/recording.py); the
API and the CLI list and serve them from here.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PART_NAME = re.compile(
    r"^(?P<started>\d{8}T\d{6}\.\d{6}Z)-(?P<instance>[A-Za-z0-9_.-]{1,100})\.ogg$"
)


@dataclass(frozen=True, slots=True)
class Part:
    """A recorded part of one channel, as found on disk."""

    event_id: int
    language: str
    path: Path
    started_at: datetime
    instance: str
    size: int

    @property
    def name(self) -> str:
        return self.path.name


def part_path(folder: Path, event_id: int, language: str, instance: str) -> Path:
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", instance)[:100]
    return folder / str(event_id) / language / f"{started}-{safe}.ogg"


def list_parts(folder: Path, event_id: int) -> list[Part]:
    """Every part of an event's recordings, by channel, in the order they were made."""
    parts = []
    base = folder / str(event_id)
    for path in sorted(base.glob("*/*.ogg")) if base.is_dir() else []:
        match = PART_NAME.match(path.name)
        if match is None:
            continue
        started = datetime.strptime(match["started"], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
        parts.append(
            Part(event_id, path.parent.name, path, started, match["instance"], path.stat().st_size)
        )
    return sorted(parts, key=lambda part: (part.language, part.started_at))


def remove_expired(folder: Path, older_than_days: float, *, now: float | None = None) -> int:
    """Delete the recordings of events whose last part was written that long ago."""
    if older_than_days <= 0 or not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - older_than_days * 86_400
    removed = 0
    for event_folder in folder.iterdir():
        files = list(event_folder.glob("*/*.ogg")) if event_folder.is_dir() else []
        if files and max(f.stat().st_mtime for f in files) < cutoff:
            shutil.rmtree(event_folder, ignore_errors=True)
            removed += 1
    return removed
