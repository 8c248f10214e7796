"""The runs of one event's broadcast as one archive.

An owner that dies leaves its run's playlists open; the owner that takes over starts
a run of its own. The new owner ends the orphaned playlists (players holding them
stop waiting for segments that will never come), and when the event is over its
owner writes one playlist per rendition that plays every run in order, a
discontinuity between runs, and points the master playlist at them: the archive is
the whole event, not only its last owner's part.

    {hls_dir}/{event}/archive/{language}/audio.m3u8, subs.m3u8
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from livevent.files import replace_private_text

log = logging.getLogger(__name__)

ARCHIVE = "archive"
ENDLIST = "#EXT-X-ENDLIST"
RUN = re.compile(r"^[0-9]{10}-[0-9a-f]{6}$")
_TARGET = re.compile(r"^#EXT-X-TARGETDURATION:([0-9]+)")
# What a segment carries with it into the stitched playlist: its length and its time.
_KEPT = ("#EXTINF:", "#EXT-X-PROGRAM-DATE-TIME:")


def runs(folder: Path) -> list[str]:
    """The event's runs, oldest first (a run's name begins with its start in seconds)."""
    if not folder.is_dir():
        return []
    return sorted(child.name for child in folder.iterdir() if RUN.match(child.name))


def end_orphaned_runs(folder: Path, current: str) -> int:
    """End the open playlists of every earlier run (its owner is gone); how many."""
    ended = 0
    for run in runs(folder):
        if run == current:
            continue
        for playlist in (folder / run).glob("*/*.m3u8"):
            try:
                text = playlist.read_text()
                if ENDLIST not in text:
                    replace_private_text(playlist, text.rstrip("\n") + f"\n{ENDLIST}\n")
                    ended += 1
            except OSError as error:
                log.warning("HLS playlist %s not ended: %s", playlist, error)
    return ended


def stitched(parts: list[tuple[str, str]]) -> str:
    """One VOD playlist of `parts` ((run, playlist text), in order): each run's segments
    under `../../{run}/{language}/`, a discontinuity where a run begins."""
    target = 1
    body: list[str] = []
    for index, (prefix, text) in enumerate(parts):
        pending: list[str] = []
        first = True
        for line in text.splitlines():
            line = line.strip()
            found = _TARGET.match(line)
            if found:
                target = max(target, int(found[1]))
            elif line.startswith(_KEPT):
                pending.append(line)
            elif line and not line.startswith("#"):
                if first and index > 0:
                    body.append("#EXT-X-DISCONTINUITY")
                first = False
                body.extend(pending)
                body.append(f"{prefix}{line}")
                pending = []
    head = [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        f"#EXT-X-TARGETDURATION:{target}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    return "\n".join([*head, *body, ENDLIST]) + "\n"


def write_archive(folder: Path, languages: list[str], names: tuple[str, ...]) -> bool:
    """The stitched playlists (`names`, e.g. audio.m3u8 and subs.m3u8) of each language
    over every run; False (nothing written) when there is one run or none."""
    every = runs(folder)
    if len(every) < 2:
        return False
    for language in languages:
        for name in names:
            parts = []
            for run in every:
                source = folder / run / language / name
                if source.is_file():
                    parts.append((f"../../{run}/{language}/", source.read_text()))
            if parts:
                target = folder / ARCHIVE / language / name
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                replace_private_text(target, stitched(parts))
    return True
