"""Text-to-speech with SVOX Pico (the PyPI package `ttspico`): six languages, clear voices.

Pico ships with its language files and synthesises a sentence in tens of
milliseconds at 16 kHz, our own rate. Round trips through Whisper come back
word for word where espeak-ng's Spanish loses words (docs/benchmarks.md). One
engine per language, created once; synthesis runs in a thread, one at a time
per language (Pico's engine is not reentrant).
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from livevent.errors import Unavailable
from livevent.runtime.engines.base import TextToSpeech

# What Pico speaks; a language asked for without its region gets the first here.
LANGUAGES = ("en-US", "en-GB", "es-ES", "fr-FR", "de-DE", "it-IT")
NORMAL_RATE = 100  # Pico's speed, in percent
# How far each language may be sped up. Pico's rate is not the tempo: at 1.5 a
# sentence is 0.8 of its length, at 1.8 0.7. Round trips of Apertium's sentences
# (benchmarks/voices.py --translated --rates), WER at 1.0 / 1.3 / 1.5 / 1.8:
# es 0.027 / 0.041 / 0.046 / 0.087; fr 0.185 / 0.233 / 0.295 / 0.339;
# it 0.227 / 0.222 / 0.291 / 0.414. Spanish, 1.4 times as long as the English it
# follows, needs the speed (a few words in a hundred lost, when behind); French
# and Italian lose too much past 1.3.
MAX_RATES = {"es-ES": 1.8, "fr-FR": 1.3, "it-IT": 1.3}


def pico_language(language: str, voice: str | None = None) -> str | None:
    """`es` or `es-MX` -> `es-ES`; a voice names one of LANGUAGES itself."""
    wanted = (voice or language).lower()
    for known in LANGUAGES:
        if known.lower() == wanted:
            return known
    primary = wanted.split("-")[0]
    return next((known for known in LANGUAGES if known.lower().startswith(primary + "-")), None)


class PicoTTS(TextToSpeech):
    name: ClassVar[str] = "pico"

    def __init__(self) -> None:
        super().__init__()
        self._engines: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def start(self) -> None:
        try:
            import ttspico  # noqa: F401
        except ImportError:
            raise Unavailable(
                "the pico engine needs: pip install ttspico (gcc builds it; make setup does)"
            ) from None

    def supports(self, language: str, voice: str | None = None) -> bool:
        return pico_language(language, voice) is not None

    def _engine(self, language: str) -> Any:
        engine = self._engines.get(language)
        if engine is None:
            import ttspico

            try:
                engine = self._engines[language] = ttspico.TtsEngine(language)
            except RuntimeError as error:
                raise Unavailable(f"pico cannot load {language}: {error}") from None
        return engine

    def max_rate_for(self, language: str) -> float:
        return MAX_RATES.get(pico_language(language) or "", self.max_rate)

    async def _synthesize(
        self, text: str, language: str, *, voice: str | None = None, rate: float = 1.0
    ) -> bytes:
        await self.start()
        chosen = pico_language(language, voice)
        if chosen is None:
            raise Unavailable(f"pico has no voice for {language} (it speaks {LANGUAGES})")
        if not text.strip():
            return b""
        lock = self._locks.setdefault(chosen, asyncio.Lock())
        async with lock:
            pcm = await asyncio.to_thread(self._speak, chosen, text, rate)
        return pcm

    def _speak(self, language: str, text: str, rate: float) -> bytes:
        engine = self._engine(language)
        engine.rate = round(NORMAL_RATE * rate)
        return bytes(engine.speak(text) or b"")

    async def aclose(self) -> None:
        self._engines.clear()

    def describe(self) -> dict[str, object]:
        return {"voices": list(LANGUAGES)}
