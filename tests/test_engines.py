"""The engines users bring, tested as far as this machine allows without a network."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from livevent.errors import InvalidInput, Unavailable
from livevent.events.service import EventService
from livevent.model import ChannelKind, ChannelSpec
from livevent.runtime.engines import Engines, TextToSpeech, engine_classes
from livevent.runtime.engines.libretranslate import LibreTranslateTranslator
from livevent.runtime.engines.pico import PicoTTS
from livevent.runtime.engines.piper import PiperTTS
from livevent.runtime.engines.pocketsphinx import PocketsphinxSTT
from livevent.runtime.engines.vosk import VoskSTT
from livevent.runtime.engines.whisper import WhisperSTT, short_window, token_cap, whole_words
from livevent.runtime.speech import duties
from livevent.runtime.speech.duties import load_ahead
from livevent.settings import Settings
from tests.support.live import scheduled_event, speech_pcm


async def test_registry_lists_builtins_and_refuses_unknown_names() -> None:
    assert set(engine_classes("stt")) >= {"whisper", "pocketsphinx", "vosk"}
    assert set(engine_classes("mt")) >= {"apertium", "libretranslate"}
    assert set(engine_classes("tts")) >= {"espeak", "piper"}
    engines = Engines()
    with pytest.raises(InvalidInput, match=r"no mt engine named 'deepl'.*apertium"):
        await engines.get("mt", "deepl")
    await engines.aclose()


async def test_pocketsphinx_recognises_english(tmp_path: Path) -> None:
    pcm = speech_pcm("Good morning everyone.", "en-us", tmp_path)
    engine = PocketsphinxSTT()
    recognition = await engine.transcribe(pcm, "en-US")
    assert "morning" in recognition.text.split()
    with pytest.raises(Unavailable, match="American English"):
        await engine.transcribe(pcm, "es-ES")


async def test_piper_speaks_what_whisper_understands() -> None:
    """The bundled en_US voice, heard back by the real speech-to-text engine."""
    piper = PiperTTS()
    assert piper.supports("en-US") and not piper.supports("ja-JP")
    await piper.start()
    pcm = await piper.synthesize("Good morning everyone.", "en-US")
    assert len(pcm) / 32000 > 0.8
    whisper = WhisperSTT()
    heard = await whisper.transcribe(pcm, "en-US")
    assert "morning" in heard.text.lower()
    faster = await piper.synthesize("Good morning everyone.", "en-US", rate=1.5)
    assert len(faster) < len(pcm)
    with pytest.raises(Unavailable, match="no voice for ja-JP"):
        await piper.synthesize("konnichiwa", "ja-JP")


def test_a_short_window_is_the_audio_and_a_margin_and_never_past_thirty_seconds() -> None:
    assert short_window(16000 * 3) == 800  # 3 s of audio: 300 frames and 5 s of margin
    assert short_window(16000 * 3 + 160) == 802  # even: the encoder halves the frames
    assert short_window(16000 * 25) is None  # 25 s and the margin fill the window
    assert short_window(16000 * 45) is None  # decoded window by window, as before


def test_a_streaming_decode_may_write_as_many_tokens_as_its_audio_can_hold() -> None:
    assert token_cap(1.0) == 42  # "Yeah. Yeah. Yeah..." on a second of noise stops here
    assert token_cap(6.0) == 92  # fast speech: about 40 tokens and the segments' times
    assert token_cap(24.0) == 160  # never more than before


def test_whisper_decodes_side_by_side_on_the_cores_it_has(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert (WhisperSTT().threads, WhisperSTT().workers) == (1, 2)  # a decode a core
    assert WhisperSTT(threads=2).workers == 1  # as before session 19: one at a time
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert WhisperSTT().workers == 4 and WhisperSTT(threads=8).workers == 2
    assert WhisperSTT(threads=1, workers=3).workers == 3  # engine_options say so


async def test_whisper_hears_a_short_buffer_through_a_short_window(tmp_path: Path) -> None:
    """Cut to the audio and a margin, the encoder's window hears what the whole one
    hears, with the same word times (a streaming decode trims its buffer at them)."""
    pcm = speech_pcm(
        "The committee met on Tuesday to discuss the budget for next year.", "en-us", tmp_path
    )
    whisper = WhisperSTT()
    await whisper.start()
    short = await whisper.transcribe(pcm, "en-US", timestamps=True, streaming=True)
    assert whisper._model.encoded_frames == short_window(len(pcm) // 2)
    await whisper.transcribe(pcm, "en-US", timestamps=True)  # decoded once, whole
    assert whisper._model.encoded_frames == 3000
    whisper._model.frames = None  # the whole window, as faster-whisper decodes by itself
    audio = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
    segments, _ = whisper._model.transcribe(
        audio, language="en", beam_size=1, temperature=0.0, word_timestamps=True
    )
    full = [word for segment in segments for word in segment.words]
    assert whisper._model.encoded_frames == 3000
    assert "committee" in short.text.lower() and "budget" in short.text.lower()
    assert [w.text for w in short.timed] == [w.word.strip() for w in full]
    for ours, whole in zip(short.timed, full, strict=True):
        assert abs(ours.start - whole.start) <= 0.2 and abs(ours.end - whole.end) <= 0.2


def test_whisper_words_are_written_whole() -> None:
    """faster-whisper's words begin with a space; one that does not continues the last."""

    def words(*parts: tuple[str, float, float]) -> list[SimpleNamespace]:
        return [SimpleNamespace(word=text, start=start, end=end) for text, start, end in parts]

    french = words((" L", 0.0, 0.1), ("'église", 0.1, 0.5), (" est", 0.5, 0.7))
    assert [(w.text, w.start, w.end) for w in whole_words(french, "fr")] == [
        ("L'église", 0.0, 0.5),
        ("est", 0.5, 0.7),
    ]
    english = words((" ill", 1.0, 1.2), ("-disposed.", 1.2, 1.8), (" ", 1.8, 1.8))
    assert [w.text for w in whole_words(english, "en")] == ["ill-disposed."]
    # A segment's first word starts a word whatever it begins with.
    assert [w.text for w in whole_words(words(("'Tis", 0.0, 0.3)), "en")] == ["'Tis"]
    # Japanese is written without spaces: each of Whisper's words stands alone.
    japanese = words(("こんにちは", 0.0, 0.6), ("世界", 0.6, 1.0))
    assert [w.text for w in whole_words(japanese, "ja")] == ["こんにちは", "世界"]


async def test_whisper_captions_french_elisions_as_one_word() -> None:
    """ "l'église", not "l 'église": the caption a French speaker or interpreter gets."""
    pcm = await PicoTTS().synthesize("Il n'a pas vu l'église de l'autre côté du pont.", "fr-FR")
    heard = await WhisperSTT().transcribe(pcm, "fr-FR", timestamps=True, streaming=True)
    words = [w.text.lower().strip(".,") for w in heard.timed]
    assert "l'église" in words and "n'a" in words, words
    assert not [w for w in words if w[:1] in "'-"], words
    assert all(a.end <= b.start + 0.05 for a, b in itertools.pairwise(heard.timed)), words


async def test_vosk_names_what_is_missing(tmp_path: Path) -> None:
    engine = VoskSTT()
    await engine.start()
    with pytest.raises(Unavailable, match=re.escape('engine_options."stt.vosk".models')):
        await engine.transcribe(b"\0" * 3200, "en-US")
    engine = VoskSTT(models={"en-US": str(tmp_path)})
    with pytest.raises(Unavailable, match="is not a Vosk model directory"):
        await engine.transcribe(b"\0" * 3200, "en-US")


@pytest.fixture
async def libretranslate() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A local server speaking LibreTranslate's documented /translate API (protocol test only)."""
    requests: list[dict[str, Any]] = []

    async def translate(request: web.Request) -> web.Response:
        body = await request.json()
        requests.append(body)
        if body.get("api_key") != "secret":
            return web.json_response({"error": "Invalid API key"}, status=403)
        if body["target"] == "xx":
            return web.json_response({"error": "xx is not supported"}, status=400)
        return web.json_response({"translatedText": f"[{body['target']}] {body['q']}"})

    app = web.Application()
    app.router.add_post("/translate", translate)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), requests
    finally:
        await server.close()


async def test_libretranslate_protocol(libretranslate: tuple[str, list[dict[str, Any]]]) -> None:
    url, requests = libretranslate
    engine = LibreTranslateTranslator(url=url, api_key="secret")
    try:
        assert await engine.translate("Hello.", "en-US", "es-ES") == "[es] Hello."
        assert requests[-1] == {
            "q": "Hello.", "source": "en", "target": "es", "format": "text", "api_key": "secret"
        }  # fmt: skip
        with pytest.raises(InvalidInput, match="xx is not supported"):
            await engine.translate("Hello.", "en-US", "xx")
    finally:
        await engine.aclose()
    wrong_key = LibreTranslateTranslator(url=url, api_key="wrong")
    with pytest.raises(InvalidInput, match="Invalid API key"):
        await wrong_key.translate("Hello.", "en-US", "es-ES")
    await wrong_key.aclose()
    with pytest.raises(Unavailable, match="needs engine_options"):
        await LibreTranslateTranslator().start()
    nowhere = LibreTranslateTranslator(url="http://127.0.0.1:9")
    with pytest.raises(Unavailable, match="failed"):
        await nowhere.translate("Hello.", "en-US", "es-ES")
    await nowhere.aclose()


class _Flaky(TextToSpeech):
    """An adapter that writes only `_synthesize`: the base does the rest."""

    name = "flaky"

    async def _synthesize(
        self, text: str, language: str, *, voice: str | None, rate: float
    ) -> bytes:
        if text == "boom":
            raise KeyError(text)  # a library's own error, not livevent's
        return bytes(32000)  # one second


async def test_the_base_times_counts_and_wraps_what_an_adapter_does() -> None:
    engine = _Flaky()
    assert await engine.synthesize("hello", "en-US") == bytes(32000)
    assert (engine.metrics.calls, engine.metrics.audio_seconds) == (1, 1.0)
    assert engine.metrics.real_time_factor is not None
    with pytest.raises(Unavailable, match="flaky failed: KeyError"):
        await engine.synthesize("boom", "en-US")
    assert (engine.metrics.calls, engine.metrics.failures) == (1, 1)


async def test_engines_start_once_however_many_ask_at_the_same_moment() -> None:
    engines = Engines()
    started = await asyncio.gather(*(engines.mt("apertium") for _ in range(5)))
    assert all(engine is started[0] for engine in started)
    assert list(engines.started()) == ["mt.apertium"]
    await engines.aclose()


async def test_a_relay_loads_the_machine_channels_engines_ahead(
    service: EventService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that a takeover speaks at once instead of loading Whisper first."""
    spanish = ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE)
    event_id = await scheduled_event(service, spanish)
    engines = Engines()
    monkeypatch.setattr(duties, "LOAD_AHEAD_AFTER", 0.0)
    try:
        await load_ahead(engines, await service.get_config(event_id), Settings())
        assert {"stt.whisper", "mt.apertium"} <= set(engines.started())
        assert any(name.startswith("tts.") for name in engines.started())
    finally:
        await engines.aclose()
    floor_only = await scheduled_event(service, name="Floor only")
    nothing = Engines()
    await load_ahead(nothing, await service.get_config(floor_only), Settings())
    assert nothing.started() == {}
