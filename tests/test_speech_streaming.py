"""LocalAgreement, the trims of the streaming buffer, and translation units, on their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from livevent.runtime.engines.base import Recognition, SpeechToText, TimedWord
from livevent.runtime.speech.streaming import (
    BYTES_PER_SECOND,
    KEPT_SILENCE,
    UNHEARD_KEPT,
    LocalAgreement,
    StreamingRecognizer,
    Word,
    join,
)
from livevent.runtime.speech.units import UnitSplitter


def words(text: str, start: float = 0.0, step: float = 0.4) -> list[Word]:
    return [Word(w, start + i * step, start + i * step + 0.3) for i, w in enumerate(text.split())]


def test_words_are_committed_once_two_decodes_agree() -> None:
    agreement = LocalAgreement()
    assert agreement.insert(words("the new library")) == []
    assert join(agreement.unstable) == "the new library"
    # The second decode hears more and corrects the last word: only the agreed prefix commits.
    committed = agreement.insert(words("the new libraries open"))
    assert join(committed) == "the new"
    assert join(agreement.unstable) == "libraries open"
    # Case and punctuation do not make words differ.
    assert join(agreement.insert(words("The new libraries open, today"))) == "libraries open,"
    assert join(agreement.commit_all()) == "today"
    assert join(agreement.committed) == "the new libraries open, today"


def test_a_full_stop_where_the_audio_ends_waits_for_what_follows() -> None:
    """Mid-sentence, two decodes that both end with "next." must not end the sentence."""
    agreement = LocalAgreement()
    agreement.insert(words("the budget for next."))
    assert join(agreement.insert(words("the budget for next."))) == "the budget for"
    assert join(agreement.insert(words("the budget for next year, and"))) == "next"
    assert not any(word.ends_sentence for word in agreement.committed)
    # A real sentence end is committed once a decode hears past it.
    agreement.insert(words("the budget for next year, and it grew. We"))
    committed = agreement.insert(words("the budget for next year, and it grew. We met"))
    assert join(committed) == "it grew. We"
    # And at the end of an utterance everything left is committed, full stop and all.
    agreement.insert(words("the budget for next year, and it grew. We met today."))
    agreement.insert(words("the budget for next year, and it grew. We met today."))
    assert join(agreement.commit_all()) == "today."
    # A full stop followed by a second and more of audio with nothing in it is real.
    settled = LocalAgreement()
    settled.insert(words("it grew."), heard_until=2.5)
    assert join(settled.insert(words("it grew."), heard_until=3.0)) == "it grew."


def test_a_decode_that_overlaps_the_committed_words_does_not_repeat_them() -> None:
    agreement = LocalAgreement()
    agreement.insert(words("good morning everyone"))
    agreement.insert(words("good morning everyone and"))
    assert join(agreement.committed) == "good morning everyone"
    # After a trim the next decode starts a little early and hears "everyone" again.
    again = [Word("everyone", 1.05, 1.15), *words("and welcome", start=1.2)]
    committed = agreement.insert(again) + agreement.insert(again)
    assert join(committed) == "and welcome"
    assert join(agreement.committed) == "good morning everyone and welcome"


def test_words_are_joined_as_their_script_writes_them() -> None:
    def joined(*texts: str) -> str:
        return join([Word(text, 0.0, 0.0) for text in texts])

    assert joined("Good", "morning,", "everyone.") == "Good morning, everyone."
    # Chinese and Japanese put no space between words, but one beside a Latin word.
    comma = "\uff0c"  # Chinese: a full-width comma
    assert joined("我们", "今天", f"开会{comma}", "谢谢。") == f"我们今天开会{comma}谢谢。"
    assert joined("こんにちは", "Tokyo", "タワー", "です。") == "こんにちは Tokyo タワーです。"
    assert joined("สวัสดี", "ครับ") == "สวัสดีครับ"


def test_a_decode_that_echoes_the_sentence_just_committed_over_a_pause_is_not_heard() -> None:
    """Prompted with the committed sentence, Whisper writes it again over the silence
    after it, its words piled at one instant: a phantom, not the speaker repeating it."""
    sentence = "thank you very much for listening and enjoy the day."
    agreement = LocalAgreement()
    agreement.insert(words(sentence))
    agreement.insert([*words(sentence), Word("We", 5.0, 5.2)])
    assert join(agreement.committed) == sentence
    echo = [Word(w, 6.0, 6.0) for w in sentence.split()]
    assert agreement.insert(echo) == [] and agreement.insert(echo) == []
    assert agreement.unstable == [] and agreement.commit_all() == []
    # Said again, at the pace of speech, it is heard again.
    said_again = words(sentence, start=6.0)
    agreement.insert(said_again)
    assert join(agreement.insert(said_again) + agreement.commit_all()) == sentence


class Scripted(SpeechToText):
    """Answers each decode with the words of a script that fall inside the audio given."""

    name = "scripted"
    word_timestamps = True

    def __init__(self, script: list[Word]) -> None:
        super().__init__()
        self.script = script
        self.prompts: list[str | None] = []
        self.lengths: list[float] = []
        self.longest = 0.0
        self.offset = 0.0

    async def _transcribe(
        self,
        pcm: bytes,
        language: str,
        *,
        prompt: str | None = None,
        timestamps: bool = False,
        streaming: bool = False,
    ) -> Recognition:
        self.prompts.append(prompt)
        seconds = len(pcm) / BYTES_PER_SECOND
        self.lengths.append(seconds)
        self.longest = max(self.longest, seconds)
        heard = [
            TimedWord(w.text, w.start - self.offset, w.end - self.offset)
            for w in self.script
            if w.start >= self.offset - 0.05 and w.end <= self.offset + seconds
        ]
        return Recognition(" ".join(w.text for w in heard), language, timed=heard)


def test_a_decode_of_too_little_audio_is_shown_but_commits_nothing() -> None:
    agreement = LocalAgreement()
    assert agreement.insert(words("how we're"), votes=False) == []
    assert join(agreement.unstable) == "how we're"  # a partial caption shows the guess
    # Two guesses that agree on a word are still guesses, and no vote for the next decode.
    assert agreement.insert(words("how remote lands"), votes=False) == []
    assert agreement.insert(words("how about"), votes=True) == []
    assert join(agreement.insert(words("how about the volunteers"))) == "how about"


class Guessing(Scripted):
    """Whisper on less than a second of audio: the same wrong first word, twice."""

    async def _transcribe(self, pcm: bytes, language: str, **options: Any) -> Recognition:
        if len(pcm) / BYTES_PER_SECOND >= 1.0:
            return await super()._transcribe(pcm, language, **options)
        self.lengths.append(len(pcm) / BYTES_PER_SECOND)
        return Recognition("How", language, timed=[TimedWord("How", 0.0, 0.3)])


async def test_a_sentence_s_first_words_are_not_committed_from_a_fraction_of_a_second() -> None:
    """The first decodes at a sentence's start hear 0.4 and 0.8 s: two guesses that agreed
    on "How" committed it, and every later decode was conditioned on it ("How about
    gave many hours" for "Our volunteers gave many hours", a test's whole sentence)."""
    script = words("our volunteers gave many hours", step=0.35)
    engine = Guessing(script)
    recognizer = StreamingRecognizer(engine, "en-US")
    recognizer.begin(0.0)
    committed: list[Word] = []
    for _ in range(5):
        recognizer.push(b"\0" * int(0.4 * BYTES_PER_SECOND))
        committed += await recognizer.step()
    assert engine.lengths[:2] == pytest.approx([0.4, 0.8])
    assert join(committed).startswith("our volunteers"), join(committed)


async def test_after_a_sentence_in_the_utterance_a_short_buffer_commits_again() -> None:
    """Past a sentence's trim the buffer is short again, but it follows committed words
    (the decode's prompt): holding its commits to a second of audio cost the meetings'
    captions half a second."""
    engine = Scripted(words("good morning everyone. we met", step=0.35))
    recognizer = StreamingRecognizer(engine, "en-US")
    recognizer.begin(0.0)
    committed: list[Word] = []
    for seconds in (1.2, 0.2, 0.4):
        recognizer.push(b"\0" * int(seconds * BYTES_PER_SECOND))
        engine.offset = recognizer.offset
        committed = await recognizer.step()
    assert recognizer.buffered < 1.0
    assert join(committed) == "we"


async def test_the_buffer_is_trimmed_at_sentence_ends_and_no_word_is_lost() -> None:
    script = words(
        "one two three. four five six seven eight. nine ten eleven twelve. thirteen fourteen."
    )
    engine = Scripted(script)
    recognizer = StreamingRecognizer(engine, "en-US")
    recognizer.begin(0.0)
    committed: list[Word] = []
    second = b"\0" * BYTES_PER_SECOND
    for _ in range(7):
        recognizer.push(second)
        engine.offset = recognizer.offset  # the scripted engine hears the buffer's window
        committed += await recognizer.step()
    committed += await recognizer.finish()
    assert join(committed) == join(script)  # every word, once, in order
    assert engine.longest < 4.5  # trimmed after each sentence: decodes stay short
    assert any(prompt and "three." in prompt for prompt in engine.prompts)  # context kept


async def test_a_sentence_that_runs_on_is_trimmed_at_its_last_committed_word() -> None:
    # A sentence, then one that never ends: after the first trim (at "three."), the
    # run-on must still be cut once the buffer passes `trim_after`.
    # (Word times off the sample grid: a cut is rounded to a sample, down.)
    run_on = " ".join(f"w{n}" for n in range(26))
    script = words(f"one two three. {run_on}", start=0.01234, step=0.37)
    text, engine = await spoken_then_paused(script, 12, trim_after=4.0)
    assert text == join(script)  # every word, once, in order
    assert engine.longest <= 4.0 + 2.0  # cut at a committed word, not only at full stops


async def test_a_sentence_under_way_keeps_only_its_last_committed_seconds_in_a_decode() -> None:
    # Whisper writes every word of its buffer again at each decode: a long sentence's
    # words already committed cost each decode more, and say nothing new.
    run_on = " ".join(f"w{n}" for n in range(30))
    script = words(run_on, start=0.01234, step=0.37)
    text, engine = await spoken_then_paused(script, 12, context=2.0)
    assert text == join(script)  # every word, once, in order
    # The unsettled words, two seconds of committed ones before them, a second of slack.
    assert engine.longest <= 2.0 + 1.0 + 2.0 + 0.5
    assert any(prompt and "w3" in prompt.split() for prompt in engine.prompts)
    whole, engine = await spoken_then_paused(script, 12, context=0.0)
    assert whole == text
    assert engine.longest > 2.0 + 1.0 + 2.0 + 0.5  # off, the sentence so far is decoded


async def spoken_then_paused(
    script: list[Word], seconds: int, *, trim_after: float = 12.0, context: float = 0.0
) -> tuple[str, Scripted]:
    """What is committed of `script` over `seconds` of speech and the pause after it,
    and the engine (what each decode was given)."""
    engine = Scripted(script)
    recognizer = StreamingRecognizer(engine, "en-US", trim_after=trim_after, context=context)
    recognizer.begin(0.0)
    committed = await speak_for(recognizer, engine, seconds)
    engine.offset = recognizer.offset
    committed += await recognizer.finish()
    return join(committed), engine


async def speak_for(recognizer: StreamingRecognizer, engine: Scripted, seconds: int) -> list[Word]:
    """`seconds` of audio, decoded after each one (the scripted engine hears the
    script's words inside the buffer's window)."""
    committed: list[Word] = []
    for _ in range(seconds):
        recognizer.push(b"\0" * BYTES_PER_SECOND)
        engine.offset = recognizer.offset
        committed += await recognizer.step()
    return committed


async def test_a_murmur_with_no_word_in_it_is_forgotten_but_a_sentence_under_way_is_not() -> None:
    # Twelve seconds of a room's murmur that the VAD took for speech, then two words.
    text, engine = await spoken_then_paused(words("we meet", start=12.2), 14)
    assert text == "we meet"
    assert max(engine.lengths[:12]) <= UNHEARD_KEPT + 1  # the murmur is not decoded again
    # The same after a sentence, trimmed at its full stop (off the sample grid).
    script = words("good morning.", start=0.01234) + words("we meet", start=14.2)
    text, engine = await spoken_then_paused(script, 16)
    assert text == "good morning. we meet"
    assert max(engine.lengths[4:14]) <= UNHEARD_KEPT + 1
    # A sentence under way (no full stop yet) keeps its audio while nothing new is heard:
    # it is the context of the words to come.
    engine = Scripted(words("one two three four five six seven"))
    recognizer = StreamingRecognizer(engine, "en-US")
    recognizer.begin(0.0)
    committed = await speak_for(recognizer, engine, 8)
    assert join(committed) == "one two three four five six seven"
    assert recognizer.offset == 0.0 and recognizer.buffered == 8.0


async def test_the_last_decode_at_a_pause_hears_little_of_the_silence_that_ended_it() -> None:
    engine = Scripted(words("thank you very much for coming.", step=0.3))
    recognizer = StreamingRecognizer(engine, "en-US")
    recognizer.begin(0.0)
    committed = await speak_for(recognizer, engine, 2)
    recognizer.push(b"\0" * (BYTES_PER_SECOND // 2))  # the VAD's half second of silence
    committed += await recognizer.finish(silence=0.5)
    assert join(committed) == "thank you very much for coming."
    assert engine.lengths[-1] == 2.0 + KEPT_SILENCE  # Whisper would hear "Thank you." in it


async def utterance_ended(
    heard: list[list[Word]], last: list[Word], *, silence: float = 0.0
) -> tuple[str, str]:
    """A second of speech decoded per script in `heard` (what Whisper hears in the
    buffer then), the utterance ended after `silence` with a last decode that hears
    `last`: the words unstable before the end, and all the words committed."""
    engine = Scripted(heard[0])
    recognizer = StreamingRecognizer(engine, "en-US")
    recognizer.begin(0.0)
    committed: list[Word] = []
    for script in heard:
        engine.script = script
        committed += await speak_for(recognizer, engine, 1)
    shown = join(recognizer.agreement.unstable)
    engine.script = last
    recognizer.push(b"\0" * int(BYTES_PER_SECOND * max(0.25, silence)))
    committed += await recognizer.finish(silence=silence)
    return shown, join(committed)


async def test_a_last_decode_that_hears_nothing_takes_back_no_word_shown() -> None:
    """Whisper may hear nothing in an utterance's last decode (the interpreter left
    mid-word): the words the decode before it heard, shown in a partial caption, reach
    the sentence all the same."""
    said = words("buenos días a todos y bienvenidos", step=0.3)
    shown, committed = await utterance_ended([said, said], [])
    assert shown and committed == "buenos días a todos y bienvenidos"
    # A last decode that does hear words still has the last word on them.
    _, committed = await utterance_ended(
        [words("the new library", step=0.3)], words("the new libraries open", step=0.3)
    )
    assert committed == "the new libraries open"
    # After a silence, a last decode that hears nothing is believed: what the decode in
    # the silence heard was a phantom.
    said = words("thank you for coming.", step=0.3)
    phantom = [*said, Word("Thank", 2.5, 2.7)]
    shown, committed = await utterance_ended([said, said, phantom], [], silence=0.5)
    assert shown == "Thank" and committed == "thank you for coming."


def test_units_end_at_sentences_clauses_or_after_k_words() -> None:
    splitter = UnitSplitter(wait_k=4, min_clause_words=2, first_unit_words=0)
    units = [
        u
        for w in words("Hello, dear friends and neighbours of the city. Thanks")
        if (u := splitter.add(w))
    ]
    assert [u.text for u in units] == ["Hello, dear friends and", "neighbours of the city."]
    assert [u.ends_sentence for u in units] == [False, True]
    last = splitter.flush()
    assert last is not None and last.text == "Thanks" and last.ends_sentence
    assert splitter.flush() is None


def test_a_sentences_first_unit_may_be_cut_early_and_only_the_first() -> None:
    splitter = UnitSplitter(wait_k=6, min_clause_words=3, first_unit_words=3)
    text = "This year we opened a new library in the center of the city. Next year we plan"
    units = [u.text for w in words(text) if (u := splitter.add(w))]
    assert units == [
        "This year we",  # the first three words go at once
        "opened a new library in the",
        "center of the city.",
        "Next year we",  # and again in the next sentence
    ]


def test_a_decoding_loop_is_cut_after_its_second_time() -> None:
    from livevent.runtime.speech.streaming import without_loops

    looping = words("that's fine yeah " + "yeah " * 30)
    assert join(without_loops(looping)) == "that's fine yeah yeah"
    phrase = words("we agree " + "thank you " * 6 + "bye")
    assert join(without_loops(phrase)) == "we agree thank you thank you"
    speech = words("no no no we said yes yes yes")  # people do repeat, three times
    assert without_loops(speech) == speech


def test_a_machine_that_stays_slow_turns_channels_consecutive_and_back() -> None:
    from types import SimpleNamespace

    from livevent.runtime.speech.pace import MAX_CHUNK, MIN_CHUNK
    from livevent.runtime.speech.pipeline import MachinePipeline

    channel = SimpleNamespace(interpretation=None, kind=None, language="es-ES")
    config = SimpleNamespace(
        source_language="en-US", channels=[], interpretation=None, channel=lambda _: channel
    )
    host: Any = SimpleNamespace(config=config, event_id=123457)
    pipeline = MachinePipeline(host, engines=None)  # type: ignore[arg-type]
    pipeline.recognizer = object()  # type: ignore[assignment]  # streaming, as with Whisper
    booth: Any = SimpleNamespace(mode="simultaneous", source="en-US", language="es-ES")
    pipeline.booths["es-ES"] = booth

    pipeline._pace(0.3)
    assert pipeline.chunk == MIN_CHUNK and not pipeline.degraded
    pipeline._pace(6.0)  # one slow decode (a busy neighbour): the period grows, no switch
    assert not pipeline.overloaded and booth.mode == "simultaneous"
    assert MIN_CHUNK < pipeline.chunk <= MAX_CHUNK and pipeline.degraded
    for _ in range(4):  # slow, and staying slow
        pipeline._pace(6.0)
    assert pipeline.overloaded and booth.mode == "consecutive"
    for _ in range(20):  # fast again, long enough for the average to fall to its floor
        pipeline._pace(0.3)
    assert not pipeline.overloaded and booth.mode == "simultaneous"
    assert pipeline.chunk == MIN_CHUNK


async def test_an_idle_booth_speaks_a_few_committed_words_without_waiting_for_k() -> None:
    """Words a decode commits short of a unit are spoken at once by a booth with
    nothing to say (the next decode is a period away); a booth still speaking waits
    for the whole unit, which translates better."""
    from types import SimpleNamespace

    from livevent.runtime.speech.pipeline import MachinePipeline

    config = SimpleNamespace(source_language="en-US", channels=[], interpretation=None)
    host: Any = SimpleNamespace(config=config, event_id=123457, caption=lambda *_: None)
    pipeline = MachinePipeline(host, engines=None)  # type: ignore[arg-type]
    batches = iter(
        [words("good morning everyone", 0.0), words("and", 1.2), words("welcome to our", 1.6)]
    )

    async def step() -> list[Word]:
        return next(batches)

    pipeline.recognizer = SimpleNamespace(  # type: ignore[assignment]
        step=step, decode_seconds=0.3, agreement=SimpleNamespace(unstable=[])
    )
    spoken: list[str] = []
    backlog = [0.0]
    player = SimpleNamespace(backlog=lambda: backlog[0])
    booth: Any = SimpleNamespace(
        source="en-US",
        language="es-ES",
        waiting=False,
        player=player,
        unit=lambda unit, _seq: spoken.append(unit.text),
        preview=lambda *_: None,
    )
    pipeline.booths["es-ES"] = booth

    await pipeline._step()
    assert spoken == ["good morning everyone"]
    await pipeline._step()  # one word is not enough to say anything
    assert spoken == ["good morning everyone"]
    backlog[0] = 5.0  # still speaking: the words wait for a whole unit
    await pipeline._step()
    assert spoken == ["good morning everyone"] and join(pipeline.units.pending) == (
        "and welcome to our"
    )


def test_a_sentence_decoded_again_and_again_is_kept_once() -> None:
    from livevent.runtime.speech.streaming import without_loops

    looping = words("Good evening. " + "Welcome to the direct. " * 8)
    assert join(without_loops(looping)) == "Good evening. Welcome to the direct."
    twice = words("Thank you very much. Thank you very much. And now the news.")
    assert without_loops(twice) == twice  # said twice, as people do: kept


def channel_recognition(booths: list[Any]) -> tuple[Any, list[Any]]:
    """The floor's Recognition with no engine, and the captions it sends."""
    from livevent.runtime.speech.recognition import Recognition as ChannelRecognition
    from livevent.runtime.speech.timing import MediaClock
    from livevent.runtime.wire import Caption

    sent: list[Caption] = []

    class Host:
        event_id = 1

        def caption(self, language: str, caption: Caption) -> None:
            sent.append(caption)

    recognition = ChannelRecognition(
        Host(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        "en-US",
        clock=MediaClock(),
        keeper=None,
        booths=lambda: booths,
        mode_of=lambda channel: "simultaneous",
    )
    return recognition, sent


async def test_a_final_sentence_is_never_sent_twice_for_one_saying() -> None:
    recognition, sent = channel_recognition([])
    said_text = "Welcome to the direct."
    said = words(said_text, start=0.0)
    await recognition._take_words(said)
    # The next decode echoes it, squeezed into a moment after it, then over it again.
    echo = [Word(w, 1.6 + i * 0.01, 1.61 + i * 0.01) for i, w in enumerate(said_text.split())]
    await recognition._take_words(echo)
    await recognition._take_words(words("Welcome to the direct.", start=0.5))
    # The speaker says it again, as people do: that one is a sentence of its own.
    await recognition._take_words(words("Welcome to the direct.", start=2.0))
    finals = [c.text for c in sent if c.final]
    assert finals == ["Welcome to the direct.", "Welcome to the direct."]
    assert [c.seq for c in sent if c.final] == [1, 2]


async def test_a_sentence_that_runs_on_is_closed_at_a_clause_and_at_last_anywhere() -> None:
    """A speaker who never says a full stop still gets final captions, transcript
    segments and a booth that says the rest: at a clause mark once the sentence has
    lasted `LONG_SENTENCE_SECONDS`, at any word past `RUN_ON_SECONDS`."""
    from livevent.runtime.speech.recognition import LONG_SENTENCE_SECONDS, RUN_ON_SECONDS

    units: list[tuple[str, bool]] = []
    ended: list[str] = []

    class Booth:
        def unit(self, unit: Any, seq: int) -> None:
            units.append((unit.text, unit.ends_sentence))

        def sentence(self, sentence: Any) -> None:
            ended.append(sentence.text)

    recognition, sent = channel_recognition([Booth()])
    # Short sentences and early commas end nothing; a comma 8 s into a sentence does.
    await recognition._take_words(words("We met, and we talked.", start=0.0))
    run_on = " ".join(f"w{n}," if n in (3, 25) else f"w{n}" for n in range(70))
    said = words(run_on, start=5.0)  # a word each 0.4 s: 28 s with no full stop
    await recognition._take_words(said)
    finals = [c.text for c in sent if c.final]
    assert finals[0] == "We met, and we talked."
    # The comma at 3 words (1.2 s in) did not close the sentence; the one at 25 did.
    assert finals[1] == join(said[:26])
    assert said[25].end - said[0].start >= LONG_SENTENCE_SECONDS
    # No clause mark after it: closed at the word that reached RUN_ON_SECONDS.
    closing = next(w for w in said[26:] if w.end - said[26].start >= RUN_ON_SECONDS)
    assert finals[2] == join(said[26 : said.index(closing) + 1])
    assert ended == finals  # the booths were told each sentence was over
    assert [text for text, ends in units if ends][1].endswith("w25,")
    assert join(recognition.sentence) == join(said[said.index(closing) + 1 :])


def test_a_sentence_s_first_unit_is_decoded_for_sooner_while_the_machine_allows() -> None:
    from livevent.runtime.speech.pace import FIRST_UNIT_CHUNK, OVERLOADED_CHUNK, DecodePace

    pace = DecodePace(0.5)
    pace.decoded(0.1)
    assert pace.first_unit_chunk == FIRST_UNIT_CHUNK < pace.chunk == 0.5
    for _ in range(20):
        pace.decoded(0.3)  # 0.45 s of speech a decode at least: no sooner than that
    assert FIRST_UNIT_CHUNK < pace.first_unit_chunk <= pace.chunk
    for _ in range(20):
        pace.decoded(3.0)  # overloaded: decoded seldom, first unit or not
    assert pace.overloaded and pace.first_unit_chunk == pace.chunk == OVERLOADED_CHUNK


async def test_idle_booths_awaiting_a_sentence_s_first_unit_get_decodes_sooner() -> None:
    from types import SimpleNamespace

    from livevent.runtime.speech.pace import FIRST_UNIT_CHUNK

    backlog = [0.0]
    booth = SimpleNamespace(
        waiting=False,
        player=SimpleNamespace(backlog=lambda: backlog[0]),
        unit=lambda *_: None,
        sentence=lambda _: None,
    )
    recognition, _ = channel_recognition([booth])
    assert recognition._period() == FIRST_UNIT_CHUNK < recognition.chunk
    backlog[0] = 3.0  # the booth still says the last sentence: nobody waits yet
    assert recognition._period() == recognition.chunk
    backlog[0] = 0.0
    await recognition._take_words(words("Good morning everyone and", start=0.0))
    assert recognition.units.sentence_begun  # its first unit went to the booth
    assert recognition._period() == recognition.chunk
    await recognition._take_words(words("welcome.", start=2.0))
    assert recognition._period() == FIRST_UNIT_CHUNK  # the next sentence's turn


def test_a_deployment_decides_how_often_speech_is_decoded() -> None:
    from livevent.runtime.speech.pace import DecodePace

    pace = DecodePace(0.5)
    assert pace.chunk == 0.5
    assert not pace.decoded(0.1) and pace.chunk == 0.5  # fast decodes: its own period
    for _ in range(10):
        pace.decoded(0.6)  # slow ones stretch it, as for the default
    assert pace.chunk > 0.5


async def test_the_setting_reaches_every_recogniser_of_an_event(tmp_path: Path) -> None:
    from livevent.model import ChannelKind, ChannelSpec
    from tests.support.embedded import embedded_runtime
    from tests.support.live import scheduled_event

    async with embedded_runtime(tmp_path, decode_every=0.75) as runtime:  # not the default
        event_id = await scheduled_event(
            runtime.service,
            ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN),
            ChannelSpec(language="ca-ES", kind=ChannelKind.MACHINE),
        )
        session = await runtime.start(event_id)
        pipeline = session.duties.pipeline
        assert pipeline is not None
        assert pipeline.pace.min_chunk == 0.75 == pipeline.chunk
        await pipeline.recognise("es-ES")  # an interpreter's recogniser has it too
        assert pipeline.channels["es-ES"].pace.min_chunk == 0.75


def test_this_cpu_bound_file_runs_in_its_xdist_group(request: pytest.FixtureRequest) -> None:
    """With `--dist loadgroup`, xdist marks a grouped test's id with its group. With
    pytest 9.2 and xdist 3.8 it marked none, and every CPU-bound test ran beside any
    other, unnoticed for three sessions (pytest-xdist issue 1386)."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run by xdist with --dist loadgroup")
    assert request.node.nodeid.endswith("@speech"), (
        f"{request.node.nodeid}: xdist made no group; see pytest's pin in pyproject.toml"
    )
