"""Voices and routes: Pico and Festival against the real engines (Whisper must hear the
words), the voice chosen for each language, and translation through a pivot."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from livevent.errors import Unavailable
from livevent.model import Channel, ChannelKind, ChannelSpec, GlossaryEntry
from livevent.runtime.engines import Engines
from livevent.runtime.engines.apertium import ApertiumTranslator, find_route
from livevent.runtime.engines.espeak import EspeakTTS
from livevent.runtime.engines.festival import FestivalTTS
from livevent.runtime.engines.pico import PicoTTS
from livevent.runtime.engines.piper import PiperTTS
from livevent.runtime.speech.channel_engines import engines_for
from livevent.runtime.speech.glossary import translate_with_glossary
from tests.support.live import poll

SECONDS = 32000  # bytes of 16 kHz s16le per second
SPANISH = "Buenos días a todos y bienvenidos a la biblioteca."
CATALAN = "Bon dia a tothom i benvinguts a la reunió."


@pytest.fixture
async def engines() -> AsyncIterator[Engines]:
    opened = Engines()
    try:
        yield opened
    finally:
        await opened.aclose()


async def heard(engines: Engines, pcm: bytes, language: str) -> str:
    stt = await engines.stt()
    return (await stt.transcribe(pcm, language)).text.lower()


async def test_pico_speaks_spanish_that_whisper_understands(engines: Engines) -> None:
    pico = PicoTTS()
    pcm = await pico.synthesize(SPANISH, "es-ES")
    assert 2.0 < len(pcm) / SECONDS < 8.0
    text = await heard(engines, pcm, "es-ES")
    assert "buenos días" in text and "biblioteca" in text, text
    faster = await pico.synthesize(
        "Buenos días a todos y bienvenidos a la biblioteca.", "es", rate=1.5
    )
    assert len(faster) < len(pcm)
    # Spanish stays clear sped up further than French and Italian (measured).
    assert pico.max_rate_for("es") > pico.max_rate_for("fr-FR") >= 1.0
    assert pico.max_rate_for("de-DE") == pico.max_rate
    assert pico.supports("fr-CA") and pico.supports("en") and not pico.supports("ca-ES")


async def test_festival_speaks_catalan_in_one_warm_process_restarted_if_it_dies(
    engines: Engines,
) -> None:
    festival = FestivalTTS()
    try:
        first = await festival.synthesize(CATALAN, "ca-ES")
        assert 1.5 < len(first) / SECONDS < 8.0
        text = await heard(engines, first, "ca-ES")
        assert "bon dia" in text and "reunió" in text, text
        await festival.synthesize("Moltes gràcies per venir avui.", "ca")
        warm = festival._warm["upc_ca_ona_hts"]
        assert warm.starts == 1  # reused across sentences
        assert warm.process is not None
        os.killpg(warm.process.pid, signal.SIGKILL)
        await warm.process.wait()
        again = await festival.synthesize("Bon dia.", "ca-ES")
        assert len(again) > SECONDS // 2 and warm.starts == 2
        said = 0
        say = warm.say

        async def counted(text: str) -> bytes:
            nonlocal said
            said += 1
            return await say(text)

        warm.say = counted  # type: ignore[method-assign]
        sentence = "Bon dia a tothom i benvinguts a la reunió."
        natural = await festival.synthesize(sentence, "ca")
        faster = await festival.synthesize(sentence, "ca", rate=1.5)
        assert len(faster) < len(natural) * 0.75
        assert said == 1  # paced again at another rate: the tempo changes, not the synthesis
    finally:
        await festival.aclose()


async def test_each_language_gets_its_clearest_installed_voice(engines: Engines) -> None:
    assert await engines.choose_voice("es-ES") == ("pico", None)
    assert await engines.choose_voice("ca-ES") == ("festival", None)
    assert await engines.choose_voice("pt-PT") == ("espeak", None)  # no better voice
    assert await engines.choose_voice("es-ES", "espeak:es-419") == ("espeak", "es-419")
    assert await engines.choose_voice("es-ES", "es-419") == ("espeak", "es-419")
    assert await engines.choose_voice("ca-ES", "festival") == ("festival", None)
    assert await engines.choose_voice("es-ES", None, "piper") == ("piper", None)


@pytest.mark.parametrize(
    ("language", "voice", "expected"),
    [
        ("es-ES", None, ("pico", None)),
        ("gl-ES", None, ("captions only", "captions only: no voice for gl-ES is installed")),
        ("es-ES", "none", ("captions only", "captions only, as the organizer chose")),
        ("gl-ES", "pico", Unavailable),  # a voice the organizer named must be there
    ],
)
async def test_a_channel_without_a_voice_is_captioned(
    engines: Engines, language: str, voice: str | None, expected: object
) -> None:
    channel = Channel(language=language, kind=ChannelKind.MACHINE, number=2, voice=voice)
    if expected is Unavailable:
        with pytest.raises(Unavailable, match="no voice for gl-ES"):
            await engines_for(engines, "en-US", channel)
        return
    chosen = await engines_for(engines, "en-US", channel)
    assert (chosen.voice_label, chosen.note) == expected


def test_routes_are_direct_else_through_one_pivot() -> None:
    pairs = {("eng", "spa"), ("spa", "fra"), ("eng", "cat"), ("cat", "fra"), ("fra", "ita")}
    assert find_route(pairs, "eng", "spa") == [("eng", "spa")]
    # Both Spanish and Catalan lead to French: Spanish is the preferred pivot.
    assert find_route(pairs, "eng", "fra") == [("eng", "spa"), ("spa", "fra")]
    assert find_route(pairs, "eng", "ita") is None  # two pivots: never
    assert find_route(pairs, "spa", "spa") == []


async def test_apertium_translates_through_a_pivot_and_keeps_the_glossary() -> None:
    translator = ApertiumTranslator()
    try:
        assert translator.route("en-US", "fr-FR") == [("eng", "spa"), ("spa", "fra")]
        assert translator.route("ca-ES", "fr-FR") == [("cat", "fra")]
        french = await translator.translate("Good morning everyone.", "en-US", "fr-FR")
        assert "Bonjour" in french, french
        glossary = [GlossaryEntry(term="Livevent", translations={"fr-FR": "LiveventFR"})]
        kept = await translate_with_glossary(
            "Welcome to Livevent.",
            "fr-FR",
            glossary,
            lambda text: translator.translate(text, "en-US", "fr-FR"),
        )
        assert "LiveventFR" in kept, kept
        assert not translator.supports("en-US", "ja-JP")
        with pytest.raises(Unavailable, match="eng-jpn pair, nor a route"):
            await translator.translate("Hello.", "en-US", "ja-JP")
        assert translator.describe()["routes"]["eng-fra"] == ["eng-spa", "spa-fra"]  # type: ignore[index]
    finally:
        await translator.aclose()


async def test_a_booth_that_falls_behind_speeds_up_only_as_far_as_its_voice_stays_clear() -> None:
    """Pico's Spanish may go to 1.8, its French only to 1.3 (benchmarks/voices.py --rates):
    a phrase with far too little time is spoken at the voice's cap, never faster."""
    from types import SimpleNamespace

    from livevent.runtime.speech.interpreter import ChannelInterpreter, _tight
    from livevent.runtime.speech.player import ChannelPlayer
    from livevent.runtime.speech.timing import MediaClock

    pico = PicoTTS()
    host: Any = SimpleNamespace(is_paused=lambda language: False)

    async def voice() -> PicoTTS:
        return pico

    async def spoken(language: str, text: str) -> float:
        booth = ChannelInterpreter(
            host=host,
            language=language,
            source="en-US",
            mode="simultaneous",
            mt=None,  # type: ignore[arg-type]  # only its voice is asked for here
            tts=voice,
            player=ChannelPlayer(host, language),
            clock=MediaClock(),
        )
        pcm = await booth._speak(text, source_seconds=0.5)  # far too little time
        assert pcm is not None
        return len(pcm)

    spanish = "Buenos días a todos y bienvenidos a la reunión anual de nuestra asociación."
    french = "Bonjour à tous et bienvenue à la réunion annuelle de notre association."
    for language, text, cap in (("es-ES", spanish, 1.8), ("fr-FR", french, 1.3)):
        assert pico.max_rate_for(language) == cap
        at_cap = len(_tight(await pico.synthesize(text, language, rate=cap)))
        natural = len(_tight(await pico.synthesize(text, language)))
        heard = await spoken(language, text)
        # At the cap (Pico's output wanders by a few milliseconds): faster than its
        # natural pace, and not faster than the cap.
        assert abs(heard - at_cap) <= at_cap * 0.03 and heard < natural * 0.9, (heard, at_cap)


@pytest.mark.parametrize(
    "voice", ["/etc/passwd", "piper:/etc/shadow", "../voices/x", "espeak:../../x", "-v", "a b"]
)
def test_a_channels_voice_is_a_name_never_a_path(voice: str) -> None:
    with pytest.raises(ValidationError, match="voice"):
        ChannelSpec(language="es-ES", voice=voice)


async def test_engines_speak_only_voices_of_their_installed_list(tmp_path: Path) -> None:
    """A manager-chosen voice could name any file on the server (the probe's finding)."""
    model = tmp_path / "es_ES-davefx-medium.onnx"
    model.write_bytes(b"")
    piper = PiperTTS(voices={"es-ES": str(model)})
    assert piper.supports("es-ES", "es_ES-davefx-medium")
    assert piper.supports("es-ES", "es-es")
    assert not piper.supports("es-ES", str(model))
    assert not piper.supports("es-ES", "passwd")
    with pytest.raises(Unavailable, match="installed"):
        await piper.synthesize("hola", "es-ES", voice="/etc/passwd")
    espeak = EspeakTTS()
    await espeak.start()
    assert espeak.supports("es-ES", "es-419")
    assert not espeak.supports("es-ES", "/usr/share/espeak-ng-data/voices/!v/f1")
    with pytest.raises(Unavailable, match="no voice"):
        await espeak.synthesize("hola", "es-ES", voice="no-such-voice")


def espeak_children() -> list[int]:
    """espeak-ng processes this test process started (and has not reaped)."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
        except (OSError, ValueError):
            continue
        if fields.get("PPid", "").strip() == str(os.getpid()) and "espeak" in fields["Name"]:
            found.append(int(status.parent.name))
    return found


async def test_a_cancelled_espeak_synthesis_leaves_no_process_behind() -> None:
    """A booth closed mid-sentence cancels its synthesis: espeak-ng is killed and reaped,
    not left running to the end of a long text."""
    espeak = EspeakTTS()
    await espeak.start()
    text = "The council met again on Tuesday to discuss the budget. " * 400
    synthesis = asyncio.ensure_future(espeak.synthesize(text, "en-US"))

    async def started() -> bool:
        return bool(espeak_children())

    await poll(started, within=30)
    synthesis.cancel()
    with pytest.raises(asyncio.CancelledError):
        await synthesis
    assert espeak_children() == []
