"""The three engine interfaces of a machine channel, and what they share.

Each is a template method: the base's public call (`transcribe`, `translate`,
`synthesize`) starts the engine, times the work, counts it in the engine's
metrics and turns an adapter's unexpected failure into `Unavailable`; an adapter
writes only the abstract `_transcribe`, `_translate` or `_synthesize`. The base
also keeps the name and the lifecycle (`start`, idempotent, before use; `aclose`
at the end). Blocking work runs in a thread or a warm subprocess, never on the
event loop.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable
from dataclasses import dataclass, field
from types import TracebackType
from typing import ClassVar, Self, TypeVar

from livevent.errors import LiveventError, Unavailable

T = TypeVar("T")
BYTES_PER_SECOND = 32000  # PCM s16le mono 16 kHz


@dataclass(slots=True)
class EngineMetrics:
    calls: int = 0
    total_ms: float = 0.0
    last_ms: float = 0.0
    audio_seconds: float = 0.0  # of speech in (STT) or out (TTS), for the real-time factor
    failures: int = 0

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

    async def _timed(self, work: Awaitable[T], audio_bytes: int | None = None) -> T:
        """Run an adapter's `work`: timed and counted; its failure is Unavailable.

        `audio_bytes`: of speech in, when known before; else the PCM `work` returns.
        """
        started = time.perf_counter()
        try:
            result = await work
        except LiveventError:
            self.metrics.failures += 1
            raise
        except Exception as error:  # an adapter's bug or its library's must not end a channel
            self.metrics.failures += 1
            raise Unavailable(f"{self.name} failed: {type(error).__name__}: {error}") from error
        if audio_bytes is None:
            audio_bytes = len(result) if isinstance(result, bytes) else 0
        self.metrics.record(started, audio_bytes / BYTES_PER_SECOND)
        return result


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
        await self.start()
        work = self._transcribe(
            pcm, language, prompt=prompt, timestamps=timestamps, streaming=streaming
        )
        return await self._timed(work, len(pcm))

    @abstractmethod
    async def _transcribe(
        self, pcm: bytes, language: str, *, prompt: str | None, timestamps: bool, streaming: bool
    ) -> Recognition: ...


class Translator(Engine, ABC):
    async def translate(self, text: str, source: str, target: str) -> str:
        await self.start()
        return await self._timed(self._translate(text, source, target), 0)

    @abstractmethod
    async def _translate(self, text: str, source: str, target: str) -> str: ...

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

    async def synthesize(
        self, text: str, language: str, *, voice: str | None = None, rate: float = 1.0
    ) -> bytes:
        """`rate` above 1 speaks faster: how a channel that fell behind catches up."""
        await self.start()
        return await self._timed(self._synthesize(text, language, voice=voice, rate=rate))

    @abstractmethod
    async def _synthesize(
        self, text: str, language: str, *, voice: str | None, rate: float
    ) -> bytes: ...

    def supports(self, language: str, voice: str | None = None) -> bool:
        return True

    def max_rate_for(self, language: str) -> float:
        """The fastest `rate` this engine stays clear at in `language`."""
        return self.max_rate
