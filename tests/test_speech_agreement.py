"""A simultaneous channel speaks what the sentence means: each piece translated with the
sentence so far, only the words two translations agree on said, the rest at its end.

The booth runs with the real Apertium and espeak-ng; what it says is what reaches
the synthesiser. Before, "build more houses" was translated alone and spoken as
"Complexión más casas" (build, the noun).
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import pytest

from livevent.runtime.engines import Engines
from livevent.runtime.engines.base import TextToSpeech
from livevent.runtime.speech import interpreter
from livevent.runtime.speech.agreement import SentenceSoFar, after_said, agreed
from livevent.runtime.speech.interpreter import ChannelInterpreter, Sentence
from livevent.runtime.speech.player import ChannelPlayer
from livevent.runtime.speech.streaming import Word
from livevent.runtime.speech.timing import MediaClock
from livevent.runtime.speech.units import Unit
from livevent.runtime.wire import Caption
from tests.support.live import poll


def words_of(text: str, start: float = 0.0) -> list[Word]:
    """Words 0.3 s each from `start`: media times for a booth that needs them."""
    return [Word(w, start + i * 0.3, start + i * 0.3 + 0.25) for i, w in enumerate(text.split())]


def keys(text: str) -> list[str]:
    return re.findall(r"[\w']+", text.lower())


def test_agreed_is_the_common_start_case_and_punctuation_aside() -> None:
    assert agreed("El consejo quiere".split(), "el consejo, quiere construir".split()) == [
        "El",
        "consejo",
        "quiere",
    ]
    assert agreed("Le conseil veux".split(), "Le conseil veut bâtir".split()) == ["Le", "conseil"]
    assert agreed([], ["a"]) == []


def test_what_follows_what_was_said() -> None:
    final = "El consejo quiere construir más casas".split()
    assert after_said([], final) == final
    assert after_said(["El", "consejo"], final) == final[2:]
    # Said in other words ("desea" for "quiere"): the rest follows the aligned part.
    assert after_said(["El", "consejo", "desea"], final) == final[3:]
    assert after_said(final, final) == []
    assert after_said(["Hola"], ["Adiós", "amigos"]) == ["amigos"]


def test_a_sentence_so_far_says_only_what_stands() -> None:
    so_far = SentenceSoFar()
    so_far.add(words_of("The council wants to"))
    assert so_far.to_say("El consejo quiere", None) == []  # nothing heard after it yet
    said = so_far.to_say("Le conseil veux", "Le conseil veut bâtir plus")
    assert said == ["Le", "conseil"]
    so_far.spoke(said, 1.0)
    assert so_far.to_say("Le conseil veut bâtir", "Le conseil veut bâtir plus") == [
        "veut",
        "bâtir",
    ]
    assert (
        so_far.rest("Le conseil veut bâtir plus de maisons.")
        == "veut bâtir plus de maisons.".split()
    )
    assert not so_far.diverged("Le conseil veut bâtir plus de maisons.")
    assert so_far.diverged("Un conseil veut bâtir plus de maisons.")


class SpokenTexts(TextToSpeech):
    """espeak-ng, and the texts it was asked to say."""

    def __init__(self, inner: TextToSpeech) -> None:
        super().__init__()
        self.inner = inner
        self.texts: list[str] = []

    async def _synthesize(
        self, text: str, language: str, voice: str | None = None, rate: float = 1.0
    ) -> bytes:
        if not self.texts or self.texts[-1] != text:  # a re-paced phrase is said once
            self.texts.append(text)
        return await self.inner.synthesize(text, language, voice=voice, rate=rate)


class Booth:
    """The session around one booth: its captions and frames, as the runtime keeps them
    (a booth reads nothing of the event's config)."""

    def __init__(self) -> None:
        self.captions: list[Caption] = []
        self.frames = 0
        self.tasks: list[asyncio.Task[Any]] = []

    @property
    def event_id(self) -> int:
        return 1

    def speak(self, language: str, frame: bytes) -> None:
        self.frames += 1

    def flush(self, language: str) -> None: ...

    def caption(self, language: str, caption: Caption) -> None:
        self.captions.append(caption)

    def set_playing(self, language: str, playing: bool) -> None: ...

    def set_problem(self, language: str, problem: str) -> None: ...

    def set_note(self, language: str, note: str) -> None: ...

    def is_paused(self, language: str) -> bool:
        return False

    def has_listeners(self, language: str) -> bool:
        return True

    def spawn(self, coroutine: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self.tasks.append(task)
        return task


@pytest.fixture
async def engines() -> AsyncIterator[Engines]:
    opened = Engines({})
    yield opened
    await opened.aclose()


@pytest.mark.parametrize("language", ["es-ES", "fr-FR", "it-IT"])
async def test_a_fragment_is_spoken_in_the_sense_of_its_sentence(
    engines: Engines, language: str
) -> None:
    host = Booth()
    voice = SpokenTexts(await engines.tts("espeak"))
    booth = ChannelInterpreter(
        host=host,  # type: ignore[arg-type]
        language=language,
        source="en-US",
        mode="simultaneous",
        mt=lambda: engines.mt(),
        tts=lambda: _ready(voice),
        player=ChannelPlayer(host, language),
        clock=MediaClock(),
    )
    running = asyncio.create_task(booth.run())
    sentence_text = "The council wants to build more houses along the river."
    heard = words_of(sentence_text)
    first, second, third = Unit(tuple(heard[:4])), Unit(tuple(heard[4:7])), heard[7:]
    # As the pipeline hands them over: a unit, then what was heard past it.
    booth.unit(first, 1)
    booth.preview(heard[4:6], 1)
    booth.unit(second, 1)
    booth.preview(third, 1)
    booth.unit(Unit(tuple(third), ends_sentence=True), 1)
    booth.sentence(Sentence(tuple(heard), seq=1))

    async def said_all() -> bool:
        return not booth.busy

    await poll(said_all, within=60)
    running.cancel()

    final = next(c for c in host.captions if c.final)
    mt = await engines.mt()
    assert final.text == await mt.translate(sentence_text, "en-US", language)
    spoken = " ".join(voice.texts)
    assert "complexi" not in spoken.lower(), voice.texts
    # Every word of the final translation is said, in order, once.
    assert keys(spoken) == keys(final.text), (voice.texts, final.text)
    assert len(voice.texts) >= 2, "it waited for the sentence's end to say anything"
    # Partial captions never take back what was said.
    stable = [c.stable for c in host.captions if not c.final and c.stable]
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(stable))


async def _ready(voice: TextToSpeech) -> TextToSpeech:
    return voice


async def test_a_long_sentence_is_said_while_it_is_spoken(engines: Engines) -> None:
    """Issue 38: with nothing heard past each piece, the translation of a long sentence
    never settled and the channel said all of it after its end (7.7 s behind at p90).
    Past the patience it says what it has but the last words."""
    host = Booth()
    voice = SpokenTexts(await engines.tts("espeak"))
    booth = ChannelInterpreter(
        host=host,  # type: ignore[arg-type]
        language="es-ES",
        source="en-US",
        mode="simultaneous",
        mt=lambda: engines.mt(),
        tts=lambda: _ready(voice),
        player=ChannelPlayer(host, "es-ES"),
        clock=MediaClock(),
    )
    running = asyncio.create_task(booth.run())
    text = (
        "This year the council of our small city has decided after many long meetings"
        " with the neighbours to build more houses along the river and a new library"
    )
    heard = words_of(text)  # 28 words, 8.4 s
    assert heard[-1].end - heard[0].start > 2 * interpreter.PATIENCE_SECONDS

    async def idle() -> bool:
        return not booth.busy

    for start in range(0, len(heard), 4):
        booth.unit(Unit(tuple(heard[start : start + 4])), 1)
        await poll(idle, within=60)  # each piece alone: nothing heard past it
    said_before_the_end = list(voice.texts)
    booth.sentence(Sentence(tuple(heard), seq=1))
    await poll(idle, within=60)
    running.cancel()
    assert said_before_the_end, "the whole sentence waited for its end"
    assert booth.forced >= 1
    final = next(c for c in host.captions if c.final)
    spoken = keys(" ".join(voice.texts))
    # Said while spoken, the sentence still ends as the final translation does.
    assert spoken[-3:] == keys(final.text)[-3:], (voice.texts, final.text)
