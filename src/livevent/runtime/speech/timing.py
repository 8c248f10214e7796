"""Media time and wall time: how far behind the floor a machine channel speaks."""

from __future__ import annotations

import bisect
import statistics
import time
from collections import deque

# Enough history to map any source a channel still speaks about (its backlog is
# capped at SKIP_AFTER seconds) back to when it was heard.
HISTORY_SECONDS = 120.0
WINDOW_SECONDS = 60.0


class MediaClock:
    """When (monotonic) each moment of the floor's media time arrived."""

    def __init__(self, frame_seconds: float = 0.02) -> None:
        self.frame_seconds = frame_seconds
        self._media: deque[float] = deque()
        self._wall: deque[float] = deque()

    def arrived(self, media_time: float, at: float | None = None) -> None:
        at = time.monotonic() if at is None else at
        self._media.append(media_time)
        self._wall.append(at)
        while self._media and media_time - self._media[0] > HISTORY_SECONDS:
            self._media.popleft()
            self._wall.popleft()

    def wall(self, media_time: float, *, starting: bool = False) -> float:
        """The monotonic time `media_time` was heard (interpolated between frames).

        A moment between two frames is the end of one and the start of the next, which
        may have come much later (the speaker muted, or a rehearsal ended meanwhile):
        `starting` asks for the start of the next."""
        if not self._media:
            return time.monotonic()
        find = bisect.bisect_right if starting else bisect.bisect_left
        index = find(self._media, media_time)
        if index >= len(self._media):
            return self._wall[-1] + (media_time - self._media[-1])
        if index == 0:
            return self._wall[0] - (self._media[0] - media_time)
        return self._wall[index] - (self._media[index] - media_time)


class RollingMedian:
    """The median of what was observed over the last minute."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, value: float, at: float | None = None) -> None:
        at = time.monotonic() if at is None else at
        self._samples.append((at, value))
        self._expire(at)

    def value(self) -> float | None:
        self._expire(time.monotonic())
        return statistics.median(v for _, v in self._samples) if self._samples else None

    def _expire(self, now: float) -> None:
        while self._samples and now - self._samples[0][0] > self.window:
            self._samples.popleft()
