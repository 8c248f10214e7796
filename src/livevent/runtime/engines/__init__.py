"""Speech engines by name: built-ins, plus what other packages register.

A package adds an engine with an entry point in the group `livevent.engines`,
named `STAGE.NAME` (stage `stt`, `mt` or `tts`), pointing at its class:

    [project.entry-points."livevent.engines"]
    "stt.vosk" = "livevent_vosk:VoskSTT"
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, Literal

from livevent.errors import InvalidInput, LiveventError
from livevent.runtime.engines.apertium import ApertiumTranslator
from livevent.runtime.engines.base import (
    Engine,
    Recognition,
    SpeechToText,
    TextToSpeech,
    Translator,
)
from livevent.runtime.engines.espeak import EspeakTTS
from livevent.runtime.engines.festival import FestivalTTS
from livevent.runtime.engines.libretranslate import LibreTranslateTranslator
from livevent.runtime.engines.pico import PicoTTS
from livevent.runtime.engines.piper import PiperTTS
from livevent.runtime.engines.pocketsphinx import PocketsphinxSTT
from livevent.runtime.engines.voices import (
    FALLBACK,
    measured_wer,
    parse_voice,
    ranked,
    voice_warning,
)
from livevent.runtime.engines.vosk import VoskSTT
from livevent.runtime.engines.whisper import WhisperSTT

log = logging.getLogger(__name__)

Stage = Literal["stt", "mt", "tts"]
STAGES: tuple[Stage, ...] = ("stt", "mt", "tts")
DEFAULTS: dict[Stage, str] = {"stt": "whisper", "mt": "apertium", "tts": "espeak"}
_BASES: dict[Stage, type[Engine]] = {"stt": SpeechToText, "mt": Translator, "tts": TextToSpeech}
_BUILTIN: dict[Stage, dict[str, type[Engine]]] = {
    "stt": {"whisper": WhisperSTT, "pocketsphinx": PocketsphinxSTT, "vosk": VoskSTT},
    "mt": {"apertium": ApertiumTranslator, "libretranslate": LibreTranslateTranslator},
    "tts": {"espeak": EspeakTTS, "festival": FestivalTTS, "pico": PicoTTS, "piper": PiperTTS},
}


def engine_classes(stage: Stage) -> dict[str, type[Engine]]:
    found = dict(_BUILTIN[stage])
    for entry in entry_points(group="livevent.engines"):
        prefix, _, name = entry.name.partition(".")
        if prefix != stage or not name:
            continue
        try:
            cls = entry.load()
        except Exception as error:  # a broken plug-in must not take the runtime down
            log.warning("cannot load engine %s: %s", entry.name, error)
            continue
        if isinstance(cls, type) and issubclass(cls, _BASES[stage]):
            found[name] = cls
        else:
            log.warning("engine %s is not a %s", entry.name, _BASES[stage].__name__)
    return found


class Engines:
    """The engines a runtime uses, created and started on first use, closed together."""

    def __init__(self, options: dict[str, dict[str, Any]] | None = None) -> None:
        self.options = options or {}
        self._started: dict[tuple[Stage, str], Engine] = {}
        # One start per engine: a relay loading ahead and a pipeline may ask at once.
        self._starting: dict[tuple[Stage, str], asyncio.Lock] = {}

    async def get(self, stage: Stage, name: str | None = None) -> Engine:
        name = name or DEFAULTS[stage]
        key = (stage, name)
        engine = self._started.get(key)
        if engine is not None:
            return engine
        async with self._starting.setdefault(key, asyncio.Lock()):
            engine = self._started.get(key)
            if engine is None:
                classes = engine_classes(stage)
                if name not in classes:
                    installed = ", ".join(sorted(classes))
                    raise InvalidInput(f"no {stage} engine named {name!r} (installed: {installed})")
                engine = classes[name](**self.options.get(f"{stage}.{name}", {}))
                await engine.start()
                self._started[key] = engine
        return engine

    async def stt(self, name: str | None = None) -> SpeechToText:
        engine = await self.get("stt", name)
        assert isinstance(engine, SpeechToText)
        return engine

    async def mt(self, name: str | None = None) -> Translator:
        engine = await self.get("mt", name)
        assert isinstance(engine, Translator)
        return engine

    async def tts(self, name: str | None = None) -> TextToSpeech:
        engine = await self.get("tts", name)
        assert isinstance(engine, TextToSpeech)
        return engine

    async def choose_voice(
        self, language: str, voice: str | None = None, engine: str | None = None
    ) -> tuple[str, str | None]:
        """The engine and voice that speak `language`: what the channel names, else the
        most intelligible installed (voices.py), else espeak-ng."""
        named, own_voice = parse_voice(voice, engine_classes("tts"))
        if engine or named:
            return str(engine or named), own_voice
        if own_voice:
            return DEFAULTS["tts"], own_voice  # a bare voice is the default engine's
        for name in ranked(language):
            try:
                tts = await self.tts(name)
            except LiveventError:
                continue  # not installed here: the next best
            if tts.supports(language, own_voice):
                return name, own_voice
        return FALLBACK, own_voice

    def started(self) -> dict[str, Engine]:
        return {f"{stage}.{name}": engine for (stage, name), engine in self._started.items()}

    async def aclose(self) -> None:
        for engine in self._started.values():
            await engine.aclose()
        self._started.clear()


@dataclass(frozen=True, slots=True)
class VoiceReport:
    """The voice that would speak a machine channel's language here, and how well."""

    language: str
    engine: str | None  # None: no installed voice speaks it (captions only)
    wer: float | None  # measured round-trip WER (voices.py), where known
    warning: str | None  # what the organizer and listeners are told


async def voice_report(
    engines: Engines, language: str, voice: str | None = None, engine: str | None = None
) -> VoiceReport:
    """What a machine channel in `language` would sound like here."""
    name, own_voice = await engines.choose_voice(language, voice, engine)
    try:
        spoken = (await engines.tts(name)).supports(language, own_voice)
    except LiveventError:
        spoken = False
    if not spoken:
        return VoiceReport(
            language, None, None, f"no voice for {language} is installed: captions only"
        )
    return VoiceReport(language, name, measured_wer(language, name), voice_warning(language, name))


async def describe_engines(options: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Every registered engine, started where that is cheap: what it offers, or why it cannot."""
    found = []
    for stage in STAGES:
        for name, cls in sorted(engine_classes(stage).items()):
            row: dict[str, Any] = {"stage": stage, "name": name, "default": DEFAULTS[stage] == name}
            engine = cls(**options.get(f"{stage}.{name}", {}))
            try:
                if name != "whisper":  # loading Whisper takes seconds; describe it lazily
                    await engine.start()
                row.update(engine.describe())
                row["available"] = True
            except LiveventError as error:
                row["available"] = False
                row["problem"] = str(error)
            finally:
                await engine.aclose()
            found.append(row)
    return found


__all__ = [
    "DEFAULTS",
    "STAGES",
    "Engine",
    "Engines",
    "Recognition",
    "SpeechToText",
    "TextToSpeech",
    "Translator",
    "describe_engines",
    "engine_classes",
]
