"""Voice activity detection: 20 ms frames in, utterances out (webrtcvad)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from livevent.errors import Unavailable
from livevent.runtime.media.audio import FRAME_MS, SAMPLE_RATE


@dataclass(slots=True)
class Utterance:
    pcm: bytes
    start_frame: int  # in 20 ms frames since the stream began
    end_frame: int
    silent_frames: int = 0  # how many of its last frames were silent

    @property
    def trailing_silence(self) -> float:
        """Seconds of silence at its end: the wait that ended it."""
        return self.silent_frames * FRAME_MS / 1000

    @property
    def seconds(self) -> float:
        return (self.end_frame - self.start_frame) * FRAME_MS / 1000


class Segmenter:
    """Speech starts after `start_frames` voiced frames of the last ten; ends after
    `end_ms` of silence, or at `max_seconds` so that a speaker who never pauses
    still gets captions."""

    def __init__(
        self,
        *,
        aggressiveness: int = 2,
        start_frames: int = 4,
        end_ms: int = 500,
        max_seconds: float = 12.0,
        padding_frames: int = 10,
    ) -> None:
        try:
            import webrtcvad
        except ImportError:
            raise Unavailable("voice activity detection needs webrtcvad-wheels") from None
        self._vad = webrtcvad.Vad(aggressiveness)
        self.start_frames = start_frames
        self.end_frames = end_ms // FRAME_MS
        self.max_frames = int(max_seconds * 1000 / FRAME_MS)
        self._recent: deque[tuple[bytes, bool]] = deque(maxlen=padding_frames)
        self._speech: list[bytes] = []
        self._silent = 0
        self._start = 0
        self._frame = 0

    @property
    def speaking(self) -> bool:
        return bool(self._speech)

    @property
    def trailing_silence_ms(self) -> int:
        """How long the current utterance has been silent: it may be about to end."""
        return self._silent * FRAME_MS

    def current(self) -> bytes:
        """The utterance so far, for partial captions."""
        return b"".join(self._speech)

    def push(self, frame: bytes) -> Utterance | None:
        """One 20 ms frame; returns an utterance when one just ended."""
        voiced = self._vad.is_speech(frame, SAMPLE_RATE)
        self._frame += 1
        if not self._speech:
            self._recent.append((frame, voiced))
            if sum(v for _, v in self._recent) >= self.start_frames:
                # Keep the frames just before the onset: the first syllable starts there.
                self._speech = [f for f, _ in self._recent]
                self._start = self._frame - len(self._recent)
                self._recent.clear()
                self._silent = 0
            return None
        self._speech.append(frame)
        self._silent = 0 if voiced else self._silent + 1
        if self._silent >= self.end_frames or len(self._speech) >= self.max_frames:
            return self.finish()
        return None

    def finish(self) -> Utterance | None:
        """End the current utterance now (the speaker stopped or left)."""
        if not self._speech:
            return None
        utterance = Utterance(b"".join(self._speech), self._start, self._frame, self._silent)
        self._speech = []
        self._silent = 0
        return utterance
