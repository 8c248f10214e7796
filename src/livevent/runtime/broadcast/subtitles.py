"""A channel's captions as WebVTT subtitle segments beside its audio rendition.

A final caption becomes a cue from the moment it is shown to listeners, for as long
as its source was spoken (at least `MIN_CUE` s), on the broadcast's clock: the audio
segments' clock (their MPEG-TS time starts at 0, hence the `X-TIMESTAMP-MAP`). A
segment of cues is written each time the clock passes a segment's end, so subtitles
keep step with the audio segments, and the playlist ends with the event.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from livevent.files import private_folder, replace_private_text, write_private_text

PLAYLIST = "subs.m3u8"
MIN_CUE = 2.0
MAX_CUE = 8.0
HEADER = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:0,LOCAL:00:00:00.000\n"


@dataclass(frozen=True, slots=True)
class Cue:
    start: float
    end: float
    text: str


def timestamp(seconds: float) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def cue_text(text: str) -> str:
    """WebVTT's reserved characters escaped; a cue never holds an empty line."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(escaped.split())


class ChannelSubtitles:
    def __init__(self, folder: Path, *, segment_seconds: float) -> None:
        self.folder = folder
        self.segment_seconds = segment_seconds
        self.cues: list[Cue] = []
        self.segments = 0  # written
        self.closed = False
        private_folder(folder)
        self._write_playlist()

    def caption(self, text: str, at: float, spoken: float | None) -> None:
        """A final caption shown at `at` (broadcast seconds), its source `spoken` s long."""
        text = cue_text(text)
        if self.closed or not text:
            return
        # A cue for a segment already written goes at the start of the next one.
        start = max(at, self.segments * self.segment_seconds)
        length = min(MAX_CUE, max(MIN_CUE, spoken or 0.0))
        self.cues.append(Cue(start, start + length, text))

    def advance(self, now: float) -> None:
        """Write every segment the clock (`now`, broadcast seconds) has passed the end of."""
        written = False
        while not self.closed and (self.segments + 1) * self.segment_seconds <= now:
            self._write_segment()
            written = True
        if written:
            self._write_playlist()

    def close(self, now: float) -> None:
        self.advance(now)
        if self.closed:
            return
        if self.segments * self.segment_seconds < now:
            self._write_segment()  # the part of a segment the audio's last one covers
        self.closed = True
        self._write_playlist()

    def _write_segment(self) -> None:
        begin = self.segments * self.segment_seconds
        end = begin + self.segment_seconds
        lines = [HEADER]
        for cue in self.cues:
            if cue.start < end and cue.end > begin:
                lines.append(f"{timestamp(cue.start)} --> {timestamp(cue.end)}\n{cue.text}\n")
        write_private_text(self.folder / f"s{self.segments:05d}.vtt", "\n".join(lines))
        self.segments += 1
        # Cues over before this segment's end are in every segment they can be.
        self.cues = [cue for cue in self.cues if cue.end > end]

    def _write_playlist(self) -> None:
        duration = self.segment_seconds
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:6",
            f"#EXT-X-TARGETDURATION:{max(1, round(duration))}",
            "#EXT-X-MEDIA-SEQUENCE:0",
            "#EXT-X-PLAYLIST-TYPE:EVENT",
        ]
        for number in range(self.segments):
            lines += [f"#EXTINF:{duration:.3f},", f"s{number:05d}.vtt"]
        if self.closed:
            lines.append("#EXT-X-ENDLIST")
        replace_private_text(self.folder / PLAYLIST, "\n".join(lines) + "\n")
