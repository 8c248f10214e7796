"""The frame chunker and the VAD segmenter, on their own, with real espeak-ng speech."""

from __future__ import annotations

from pathlib import Path

import pytest

from livevent.runtime.engines import Engines
from livevent.runtime.engines.vad import Segmenter
from livevent.runtime.media.audio import (
    FRAME_BYTES,
    FRAME_MS,
    FrameChunker,
    frames_of,
    trim_silence,
)
from tests.support.live import speech_pcm


@pytest.mark.parametrize("sizes", [[1, 639, 1], [3200, 3200], [641] * 7, [2] * 400])
def test_the_chunker_cuts_any_message_sizes_into_whole_frames(sizes: list[int]) -> None:
    data = bytes(index % 256 for index in range(sum(sizes)))
    chunker, frames, offset = FrameChunker(), [], 0
    for size in sizes:
        frames += chunker.push(data[offset : offset + size])
        offset += size
    last = chunker.flush()
    assert all(len(frame) == FRAME_BYTES for frame in frames)
    joined = b"".join(frames)
    assert joined == data[: len(joined)]  # nothing reordered, nothing lost
    rest = data[len(joined) :]
    if rest:
        assert last == rest + b"\0" * (FRAME_BYTES - len(rest))  # padded with silence
    else:
        assert last is None
    assert chunker.flush() is None


@pytest.fixture(scope="module")
def two_sentences(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    folder: Path = tmp_path_factory.mktemp("speech")
    first = speech_pcm("Good morning and welcome to the meeting.", "en-us", folder)
    second = speech_pcm("The library opens next week.", "en-us", folder)
    return first, second


def test_the_segmenter_finds_each_utterance_and_where_it_is(
    two_sentences: tuple[bytes, bytes],
) -> None:
    first, second = two_sentences
    silence = bytes(FRAME_BYTES * 50)  # a second between the sentences
    stream = silence + first + silence + second + silence
    segmenter = Segmenter()
    found = [u for frame in frames_of(stream) if (u := segmenter.push(frame)) is not None]
    assert len(found) == 2
    starts = [len(silence), len(silence) * 2 + len(first)]
    for utterance, start, sentence in zip(found, starts, (first, second), strict=True):
        start_frame = start // FRAME_BYTES
        # It begins a little before the speech (padding keeps the first syllable) and
        # ends after the silence that closed it.
        assert start_frame - 12 <= utterance.start_frame <= start_frame + 10
        assert utterance.seconds >= len(sentence) / 32000 * 0.6
        assert len(utterance.pcm) == (utterance.end_frame - utterance.start_frame) * FRAME_BYTES
        assert utterance.trailing_silence == 0.5  # the wait that ended it, said as such
    assert not segmenter.speaking and segmenter.finish() is None


def test_a_speaker_who_never_pauses_still_gets_cut_at_the_limit(
    two_sentences: tuple[bytes, bytes],
) -> None:
    first, second = two_sentences
    segmenter = Segmenter(max_seconds=2.0)
    # Cut in the middle of the second sentence: the speaker is still talking.
    talking = first + second[: len(second) // 2 // FRAME_BYTES * FRAME_BYTES]
    found = [u for f in frames_of(talking) if (u := segmenter.push(f)) is not None]
    assert found and all(u.seconds <= 2.0 + FRAME_MS / 1000 for u in found)
    rest = segmenter.finish()  # the speaker left: what was said so far is an utterance
    assert rest is not None and rest.seconds > 0
    assert segmenter.trailing_silence_ms == 0 and not segmenter.speaking


async def test_synthesised_speech_loses_the_silence_around_it_but_a_breath() -> None:
    """Pico leaves ~0.3-0.6 s of silence after a phrase: a machine booth drops it."""
    engines = Engines()
    try:
        pico = await engines.tts("pico")
        pcm = await pico.synthesize("Buenos días a todos.", "es-ES")
    finally:
        await engines.aclose()
    seconds = len(pcm) / 32000
    tight = trim_silence(pcm, keep=0.08)
    assert len(trim_silence(pcm)) + int(0.08 * 16000) * 2 >= len(tight) > len(trim_silence(pcm))
    assert seconds - len(tight) / 32000 > 0.2  # what the synthesiser left around it
    assert trim_silence(b"\0\0" * 800) == b"\0\0" * 800  # all silence: left as it is
