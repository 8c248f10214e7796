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
    still gets captions. Without `keep_audio`, an utterance keeps only its onset
    (`current()`) and length: for a caller that buffers the audio itself."""

    def __init__(
        self,
        *,
        aggressiveness: int = 2,
        start_frames: int = 4,
        end_ms: int = 500,
        max_seconds: float = 12.0,
        padding_frames: int = 10,
        keep_audio: bool = True,
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
        self._keep_audio = keep_audio
        self._speech: list[bytes] = []  # the utterance (only its onset without keep_audio)
        self._length = 0  # frames in the utterance
        self._silent = 0
        self._start = 0
        self._frame = 0

    @property
    def speaking(self) -> bool:
        return self._length > 0

    @property
    def trailing_silence_ms(self) -> int:
        """How long the current utterance has been silent: it may be about to end."""
        return self._silent * FRAME_MS

    def current(self) -> bytes:
        """The utterance so far (without keep_audio: its onset)."""
        return b"".join(self._speech)

    def push(self, frame: bytes) -> Utterance | None:
        """One 20 ms frame; returns an utterance when one just ended."""
        voiced = self._vad.is_speech(frame, SAMPLE_RATE)
        self._frame += 1
        if not self._length:
            self._recent.append((frame, voiced))
            if sum(v for _, v in self._recent) >= self.start_frames:
                # Keep the frames just before the onset: the first syllable starts there.
                self._speech = [f for f, _ in self._recent]
                self._length = len(self._speech)
                self._start = self._frame - len(self._recent)
                self._recent.clear()
                self._silent = 0
            return None
        if self._keep_audio:
            self._speech.append(frame)
        self._length += 1
        self._silent = 0 if voiced else self._silent + 1
        if self._silent >= self.end_frames or self._length >= self.max_frames:
            return self.finish()
        return None

    def finish(self) -> Utterance | None:
        """End the current utterance now (the speaker stopped or left)."""
        if not self._length:
            return None
        pcm = b"".join(self._speech) if self._keep_audio else b""
        utterance = Utterance(pcm, self._start, self._frame, self._silent)
        self._speech = []
        self._length = 0
        self._silent = 0
        return utterance
