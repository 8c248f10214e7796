"""The three engine interfaces of a machine channel, and what they share.

Each is an ABC with one abstract method; the base keeps the name, the
lifecycle (`start` once before use, `aclose` at the end) and the timing
metrics. Blocking work runs in a thread or a warm subprocess, never on the
event loop.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import TracebackType
from typing import ClassVar, Self


@dataclass(slots=True)
class EngineMetrics:
    calls: int = 0
    total_ms: float = 0.0
    last_ms: float = 0.0
    audio_seconds: float = 0.0  # of speech in (STT) or out (TTS), for the real-time factor

    def record(self, started: float, audio_seconds: float = 0.0) -> float:
        elapsed = (time.perf_counter() - started) * 1000
        self.calls += 1
        self.total_ms += elapsed
        self.last_ms = elapsed
        self.audio_seconds += audio_seconds
        return elapsed

    @property
    def real_time_factor(self) -> float | None:
        return self.total_ms / 1000 / self.audio_seconds if self.audio_seconds else None


class Engine:
    """Lifecycle and metrics shared by every engine."""

    name: ClassVar[str] = "engine"

    def __init__(self) -> None:
        self.metrics = EngineMetrics()

    async def start(self) -> None:
        """Load models, start processes; called once before first use."""

    async def aclose(self) -> None:
        """Release what `start` took."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def describe(self) -> dict[str, object]:
        """What `livevent engines` shows: languages, pairs or voices."""
        return {}


@dataclass(slots=True, frozen=True)
class TimedWord:
    """A recognised word and where it is, in seconds from the start of the audio given."""

    text: str
    start: float
    end: float


@dataclass(slots=True)
class Recognition:
    text: str
    language: str
    words: list[str] = field(default_factory=list)
    timed: list[TimedWord] = field(default_factory=list)  # with `timestamps=True`


class SpeechToText(Engine, ABC):
    """PCM s16le mono 16 kHz of one utterance (or its beginning) in, text out."""

    # Whether `transcribe(..., timestamps=True)` gives word times: streaming needs them.
    word_timestamps: ClassVar[bool] = False

    @abstractmethod
    async def transcribe(
        self,
        pcm: bytes,
        language: str,
        *,
        prompt: str | None = None,
        timestamps: bool = False,
        streaming: bool = False,
    ) -> Recognition:
        """`prompt`: text said just before this audio, to keep names and style steady.
        `streaming`: one decode of a growing buffer, decoded again and again as speech
        goes on (trimmed of the silence after it when the speaker pauses), so an
        engine may trade a little accuracy for speed."""


class Translator(Engine, ABC):
    @abstractmethod
    async def translate(self, text: str, source: str, target: str) -> str: ...

    def supports(self, source: str, target: str) -> bool:
        return True

    def unsupported(self, source: str, target: str) -> str:
        """Why `supports` said no, for the channel's status."""
        return f"{self.name} cannot translate {source} into {target}"


class TextToSpeech(Engine, ABC):
    """Text in, PCM s16le mono 16 kHz out."""

    # The fastest `rate` a channel that fell behind may ask for: past it, listeners
    # stop making the words out (measured: benchmarks/voices.py --rates).
    max_rate: ClassVar[float] = 1.5

    @abstractmethod
    async def synthesize(
        self, text: str, language: str, *, voice: str | None = None, rate: float = 1.0
    ) -> bytes:
        """`rate` above 1 speaks faster: how a channel that fell behind catches up."""

    def supports(self, language: str, voice: str | None = None) -> bool:
        return True

    def max_rate_for(self, language: str) -> float:
        """The fastest `rate` this engine stays clear at in `language`."""
        return self.max_rate
