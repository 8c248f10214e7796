"""A speaker who never pauses for long: the machine channel follows a few seconds behind.

Real continuous speech (espeak-ng sentences joined by 0.25 s pauses, about 30 s:
the VAD never sees the 500 ms that would end an utterance, and the buffer is trimmed
at every sentence's end) goes into a live event
over the speaker socket, in real time. A Spanish listener must get its first
translated caption for the first clause or sentence, while the speaker is still
talking, and hear translated speech before the speaker stops; the floor's final
captions must keep the content words that decoding each sentence on its own finds
(no word lost or split at a buffer trim), but for the odd word Whisper mishears.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from livevent.client import ListenerClient, SpeakerClient
from livevent.runtime import LiveRuntime
from livevent.runtime.engines.whisper import WhisperSTT
from livevent.runtime.media.audio import FRAME_BYTES, SAMPLE_RATE, trim_silence
from livevent.runtime.speech.streaming import BYTES_PER_SECOND, StreamingRecognizer, join
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.live import poll, scheduled_event, speaker_token, speech_pcm

Client = TestClient[web.Request, web.Application]

PASSAGE = [
    "Good morning everyone, and welcome to the annual meeting of our association.",
    "This year we opened a new library in the centre of the city.",
    "More than two thousand families visited it during the first month.",
    "The children's room was the most popular part of the building.",
    "We also started a programme of evening classes for adults.",
    "The classes teach languages, cooking and basic computer skills.",
    "Our volunteers gave more than five hundred hours of their time.",
    "I would like to thank every one of them for their generous work.",
    "Next year we plan to open a second library near the river.",
    "We will need more volunteers and the support of local businesses.",
    "Please speak to any member of the board after this meeting.",
    "Thank you very much for listening, and enjoy the rest of the day.",
]
PAUSE_SECONDS = 0.25
# Whisper base mishears a few of these words on any run, differently as the decodes
# fall ("adults" as "hotels", "gave" as "gained", "during" or "hours" left out): 0-3 in
# each of eight runs alone (session 23), 3 once in the full suite. A word lost at every
# trim would miss one a sentence, 8 here.
MISHEARD_ALLOWED = 4
# The first sentence ends at about 4.5 s: a channel that waits for a pause (or for
# the 12 s cut of consecutive mode) covers far more with its first caption.
FIRST_UNIT_SECONDS = 8.0
STOP_WORDS = {"the", "and", "of", "a", "to", "in", "we", "it", "for", "our", "this", "was"}


def content_words(text: str) -> set[str]:
    found = re.findall(r"[a-z']+", text.lower().replace("centre", "center"))
    return {w for w in found if len(w) > 3 and w not in STOP_WORDS}


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'continuous.db'}")
    async with LiveRuntime(settings) as opened:
        yield opened


async def test_a_machine_channel_follows_continuous_speech(
    runtime: LiveRuntime, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    # Eight sentences: seven trims is as good a test of them as eleven, for 15 s less.
    sentences = [trim_silence(speech_pcm(text, "en-us", tmp_path)) for text in PASSAGE[:8]]
    pause = bytes(int(SAMPLE_RATE * PAUSE_SECONDS) * 2)
    passage = pause.join(sentences)
    passage += b"\0" * (-len(passage) % FRAME_BYTES)
    assert len(passage) / 2 / SAMPLE_RATE >= 25

    from livevent.model import ChannelKind, ChannelSpec

    event_id = await scheduled_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE)
    )
    client: Client = await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))
    await runtime.start(event_id)
    spanish = ListenerClient(await client.ws_connect(f"/listen/{event_id}?channel=es-ES"))
    floor = ListenerClient(await client.ws_connect(f"/listen/{event_id}"), decode=False)
    spanish.start()
    floor.start()
    await spanish.until(lambda heard: heard.of_type("status"))
    await floor.until(lambda heard: heard.of_type("status"))

    token = speaker_token(event_id)
    speaker = SpeakerClient(await client.ws_connect(f"/speak/{event_id}/1?token={token}"))
    assert (await speaker.greeted())["type"] == "ready"
    started = time.monotonic()
    first_caption: list[tuple[float, dict[str, object]]] = []
    spanish.on_message = lambda m: (
        first_caption.append((time.monotonic(), m)) if m.get("type") == "caption" else None
    )
    await speaker.send(passage, pace=1.0)
    finished_talking = time.monotonic()
    heard_while_talking = spanish.heard.seconds
    await speaker.end()

    # Load-proof: what the first caption covers is in media time, not in wall time.
    assert first_caption, "no translated caption while the speaker talked"
    arrived, caption = first_caption[0]
    assert arrived < finished_talking, "the first caption came only after the speaker stopped"
    assert float(caption["end"]) <= FIRST_UNIT_SECONDS, f"the first caption waited: {caption}"
    print(f"first caption after {arrived - started:.1f} s, covering {caption['end']} s")
    assert heard_while_talking > 5.0, "no translated speech while the speaker was talking"
    assert finished_talking - started < len(passage) / 2 / SAMPLE_RATE + 15

    # Whisper may join sentences said without a pause; the last words close it all.
    await floor.until(lambda heard: "work" in " ".join(c["text"] for c in heard.captions()), 60)
    said = " ".join(c["text"] for c in floor.heard.captions())
    partials = floor.heard.captions(final=False)
    assert partials and all("start" in c and "end" in c for c in partials)

    # The reference: each sentence decoded on its own, as consecutive mode would.
    stt = await runtime.engines.stt()
    expected: set[str] = set()
    for sentence in sentences:
        expected |= content_words((await stt.transcribe(sentence, "en-US")).text)
    # Letters only: "every one" and "everyone" are the same words, heard either way.
    letters = re.sub(r"[^a-z']", "", said.lower().replace("centre", "center"))
    missing = {word for word in expected if word not in letters}
    # Whisper base misses a word now and then on any decode ("the support of" once came
    # out as "the on"): see MISHEARD_ALLOWED.
    assert len(missing) <= MISHEARD_ALLOWED, (
        f"lost in continuous decoding: {sorted(missing)} of {len(expected)}\nheard: {said}"
    )
    await spanish.close()
    await floor.close()


def busy_processes(count: int) -> list[subprocess.Popen[bytes]]:
    """Processes that keep a core busy each, as other jobs do on a shared machine."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


async def test_no_final_caption_is_repeated_on_a_busy_machine(
    runtime: LiveRuntime, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    """Under load, decodes come late and long: Whisper may loop over a sentence, and
    the floor once sent "Welcome to the direct." 8 times in 60 ms (issue 39)."""
    sentences = [trim_silence(speech_pcm(text, "en-us", tmp_path)) for text in PASSAGE[:6]]
    pause = bytes(int(SAMPLE_RATE * PAUSE_SECONDS) * 2)
    passage = pause.join(sentences)
    passage += b"\0" * (-len(passage) % FRAME_BYTES)
    from livevent.model import ChannelKind, ChannelSpec

    event_id = await scheduled_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE)
    )
    client: Client = await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))
    await runtime.start(event_id)
    floor = ListenerClient(await client.ws_connect(f"/listen/{event_id}"), decode=False)
    floor.start()
    await floor.until(lambda heard: heard.of_type("status"))
    token = speaker_token(event_id)
    speaker = SpeakerClient(await client.ws_connect(f"/speak/{event_id}/1?token={token}"))
    assert (await speaker.greeted())["type"] == "ready"
    hogs = busy_processes(2)
    try:
        await speaker.send(passage, pace=1.0)
        await speaker.end()
        await floor.until(
            lambda heard: "skills" in " ".join(c["text"] for c in heard.captions()), 120
        )
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    finals = floor.heard.captions()
    texts = [re.sub(r"[^a-z ]", "", str(c["text"]).lower()).strip() for c in finals]
    repeated = [a for a, b in itertools.pairwise(texts) if a == b]
    assert not repeated, f"repeated finals: {repeated}\n{texts}"
    sequences = [int(c["seq"]) for c in finals]
    assert sequences == sorted(set(sequences)), sequences
    assert runtime.service is not None
    service = runtime.service

    async def all_kept() -> bool:  # the transcript is written beside the captions
        return len(await service.transcript(event_id)) >= len(finals)

    await poll(all_kept, within=60)
    segments = [s.text for s in await service.transcript(event_id)]
    assert len(segments) == len(finals), segments
    assert not any(a == b for a, b in itertools.pairwise(segments)), segments
    await floor.close()


async def test_the_pause_after_a_sentence_is_not_heard_as_the_sentence_again(
    tmp_path: Path,
) -> None:
    """Prompted with the sentence just committed, Whisper wrote it again over the second
    of silence after it, every word at one instant, and the recogniser committed it. The
    runtime decodes on over a pause while the VAD takes it for speech (a room's murmur);
    the sentence's units then went to the booths again, to be said twice."""
    sentence = "Thank you very much for listening and enjoy the rest of the day."
    pause = bytes(int(1.2 * BYTES_PER_SECOND))
    pcm = speech_pcm(sentence, "en-us", tmp_path) + pause
    recognizer = StreamingRecognizer(WhisperSTT(), "en-US")
    recognizer.begin(0.0)
    heard = []
    step = BYTES_PER_SECOND // 2  # a decode every half second of audio, the default pace
    for at in range(0, len(pcm), step):
        recognizer.push(pcm[at : at + step])
        heard += await recognizer.step()
    heard += await recognizer.finish(silence=0.5)
    text = join(heard).lower()
    assert text.count("listening") == 1 and text.count("rest of the day") == 1, text


async def test_a_speaker_whose_frames_stop_mid_word_is_decoded_to_the_last_word(
    tmp_path: Path,
) -> None:
    """Frames stop while the VAD still hears speech (a stalled network, a client that sent
    its last words and waits): what is undecoded is decoded after STALLED_SECONDS, not
    when the next frames come. Here a decode every 2 s of speech, as a slow machine's pace
    stretches it: before, the sentence's last second was never decoded."""
    from livevent.runtime.engines import Engines
    from livevent.runtime.speech.recognition import Recognition
    from livevent.runtime.speech.timing import MediaClock
    from livevent.runtime.wire import Caption

    captions: list[Caption] = []

    class Host:
        event_id = 1

        def caption(self, language: str, caption: Caption) -> None:
            captions.append(caption)

        def has_listeners(self, language: str) -> bool:
            return True

        def is_paused(self, language: str) -> bool:
            return False

    engines = Engines()
    recognition = Recognition(
        Host(),  # type: ignore[arg-type]
        engines,
        "en-US",
        clock=MediaClock(),
        keeper=None,
        booths=list,
        mode_of=lambda channel: "simultaneous",
        decode_every=2.0,
    )
    await recognition.open()
    running = asyncio.ensure_future(recognition.run())
    try:
        said = trim_silence(
            speech_pcm("Our volunteers gave many hours to the new library.", "en-us", tmp_path)
        )
        said += bytes(-len(said) % FRAME_BYTES)
        for at in range(0, len(said), FRAME_BYTES * 5):  # 100 ms at a time, in real time
            for frame in range(at, min(len(said), at + FRAME_BYTES * 5), FRAME_BYTES):
                recognition.on_frame(said[frame : frame + FRAME_BYTES])
            await asyncio.sleep(0.1)  # the scenario: a speaker's pace

        async def last_word_shown() -> bool:
            return any("library" in caption.text.lower() for caption in captions)

        await poll(last_word_shown, within=30)
        assert recognition.floor.speaking  # no utterance's end: the stall decoded it
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await engines.aclose()
