"""Machine channels end to end with the real engines: faster-whisper, Apertium, espeak-ng."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from livevent.model import ChannelKind, ChannelSpec, EventCreate, TranscriptSegment
from livevent.runtime import LiveRuntime
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.live import Heard, listening, poll, speaker_token, speech_pcm

Client = TestClient[web.Request, web.Application]

ENGLISH = [
    "Good morning everyone, and welcome to our annual meeting.",
    "The weather is very nice today.",
]
SPANISH = ["Buenos días a todos y bienvenidos a la reunión.", "Muchas gracias por venir hoy."]


def apertium(pair: str, text: str) -> str:
    """The reference: Apertium's own wrapper, unknown words unmarked."""
    result = subprocess.run(
        ["apertium", "-u", pair], input=text, capture_output=True, text=True, check=True
    )
    return " ".join(result.stdout.split())


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'pipeline.db'}")
    async with LiveRuntime(settings) as opened:
        yield opened


async def live_event(runtime: LiveRuntime, source: str, targets: list[str]) -> int:
    assert runtime.service is not None
    event = await runtime.service.create_event(
        EventCreate(
            name="Interpreted talk",
            starts_at="2026-12-01T10:00Z",
            source_language=source,
            channels=[ChannelSpec(language=t, kind=ChannelKind.MACHINE) for t in targets],
        ),
        actor="test",
    )
    await runtime.service.act(event.id, "schedule", actor="test")
    await runtime.start(event.id)  # the organizer goes live; the speaker joins
    return event.id


def with_pauses(utterances: list[bytes]) -> bytes:
    pause = bytes(16000 * 2)  # one second of silence between sentences
    return pause.join(utterances) + pause


async def interpret(
    client: Client,
    event_id: int,
    source: str,
    targets: list[str],
    pcm: bytes,
    expected: int,
    captions_only: frozenset[str] = frozenset(),
) -> dict[str, Heard]:
    speaker = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    assert (await speaker.receive_json())["type"] == "ready"
    # Read all the time, as real clients do: a listener left unread while the speaker
    # talks (longer than 10 s on a busy machine) is dropped as too slow.
    listeners = {}
    for language in [source, *targets]:
        ws = await client.ws_connect(f"/listen/{event_id}?channel={language}")
        listeners[language] = listening(ws)
        await listeners[language].until(lambda log: bool(log.of_type("status")))
    for offset in range(0, len(pcm), 640 * 5):  # 100 ms at a time, in real time
        await speaker.send_bytes(pcm[offset : offset + 640 * 5])
        await asyncio.sleep(0.1)
    await speaker.send_json({"type": "end"})

    def done(log: Heard, language: str) -> bool:
        finals = [i for i, m in enumerate(log.raw) if m.get("type") == "caption" and m["final"]]
        if len(finals) < expected:
            return False
        if language == source or language in captions_only:
            return True
        # A machine channel is done when it went quiet after its last caption.
        return any(
            m.get("type") == "status" and m.get("channel_state") == "waiting"
            for m in log.raw[finals[-1] :]
        )

    await asyncio.gather(
        *(
            listener.until(lambda log, lang=lang: done(log, lang), within=90)
            for lang, listener in listeners.items()
        )
    )
    return {lang: listener.heard for lang, listener in listeners.items()}


# Each channel's reference: Apertium's own wrapper, pair by pair (fr, pt, it through Spanish).
ROUTES = {
    "es-ES": ["eng-spa"],
    "ca-ES": ["eng-cat"],
    "fr-FR": ["eng-spa", "es-fr"],
    "pt-PT": ["eng-spa", "es-pt"],
    "it-IT": ["eng-spa", "spa-ita"],
    "gl-ES": ["en-gl"],  # no voice speaks Galician here: captions only
}


def through(pairs: list[str], text: str) -> str:
    for pair in pairs:
        text = apertium(pair, text)
    return text


async def test_english_into_six_languages_direct_through_a_pivot_or_as_captions(
    aiohttp_client: AiohttpClient, runtime: LiveRuntime, tmp_path: Path
) -> None:
    targets = list(ROUTES)
    event_id = await live_event(runtime, "en-US", targets)
    client = await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))
    pcm = with_pauses([speech_pcm(text, "en-us", tmp_path) for text in ENGLISH])
    logs = await interpret(
        client, event_id, "en-US", targets, pcm, len(ENGLISH), frozenset({"gl-ES"})
    )

    recognised = [c["text"] for c in logs["en-US"].of_type("caption") if c["final"]]
    assert len(recognised) == len(ENGLISH)
    for heard, said in zip(recognised, ENGLISH, strict=True):
        assert _words(heard)[:3] == _words(said)[:3], (heard, said)
    for language, pairs in ROUTES.items():
        captions = [c for c in logs[language].of_type("caption") if c["final"]]
        assert [c["source_text"] for c in captions] == recognised
        assert [c["text"] for c in captions] == [through(pairs, t) for t in recognised]
        if language == "gl-ES":
            reasons = {m.get("channel_reason") for m in logs[language].of_type("status")}
            assert "captions only: no voice for gl-ES is installed" in reasons
            assert {m["channel_state"] for m in logs[language].of_type("status")} == {"live"}
            assert logs[language].seconds == 0
            continue
        # The spoken translation arrives as Opus: seconds of decodable speech.
        assert logs[language].seconds > 2.0, language

    transcript = await stored_transcript(runtime, event_id, len(recognised), targets)
    assert [s.text for s in transcript] == recognised
    for segment in transcript:
        assert segment.translations["fr-FR"] == through(ROUTES["fr-FR"], segment.text)


async def test_spanish_into_english(
    aiohttp_client: AiohttpClient, runtime: LiveRuntime, tmp_path: Path
) -> None:
    event_id = await live_event(runtime, "es-ES", ["en-US"])
    client = await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))
    pcm = with_pauses([speech_pcm(text, "es", tmp_path) for text in SPANISH])
    logs = await interpret(client, event_id, "es-ES", ["en-US"], pcm, len(SPANISH))
    recognised = [c["text"] for c in logs["es-ES"].of_type("caption") if c["final"]]
    assert len(recognised) == len(SPANISH)
    english = [c["text"] for c in logs["en-US"].of_type("caption") if c["final"]]
    assert english == [apertium("spa-eng", t) for t in recognised]
    assert logs["en-US"].seconds > 1.0
    transcript = await stored_transcript(runtime, event_id, len(english), ["en-US"])
    assert [s.translations["en-US"] for s in transcript] == english


async def stored_transcript(
    runtime: LiveRuntime, event_id: int, segments: int, languages: list[str]
) -> list[TranscriptSegment]:
    """The transcript once its segments and every channel's translation of them are stored
    (each is spooled before its caption is shown, and written just after)."""
    service = runtime.service
    assert service is not None

    async def complete() -> bool:
        stored = await service.transcript(event_id)
        return len(stored) >= segments and all(
            set(languages) <= set(segment.translations) for segment in stored
        )

    await poll(complete)
    return await service.transcript(event_id)


def _words(text: str) -> list[str]:
    return [w.strip(".,!?").lower() for w in text.split()]
