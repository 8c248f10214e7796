"""Transcript exports: SubRip, WebVTT, text and JSON, in the original or a translation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import srt

from livevent.errors import InvalidInput
from livevent.events.exports import export
from livevent.model import TranscriptSegment


def segment(
    sequence: int, text: str, start: float, end: float, **translations: str
) -> TranscriptSegment:
    return TranscriptSegment(
        event_id=123457,
        sequence=sequence,
        language="en-US",
        text=text,
        translations={k.replace("_", "-"): v for k, v in translations.items()},
        start_seconds=start,
        end_seconds=end,
        spoken_at=datetime(2026, 12, 1, 10, 0, sequence, tzinfo=UTC),
    )


SEGMENTS = [
    segment(1, "Good morning.", 0.0, 1.5, es_ES="Buenos días."),
    segment(2, "Welcome.", 3661.25, 3662.0),  # past an hour; no Spanish
]


def test_srt_numbers_blocks_and_uses_commas() -> None:
    assert export(SEGMENTS, "srt") == (
        "1\n00:00:00,000 --> 00:00:01,500\nGood morning.\n\n"
        "2\n01:01:01,250 --> 01:01:02,000\nWelcome.\n"
    )


def test_vtt_has_its_header_and_dots() -> None:
    assert export(SEGMENTS, "vtt", "es-ES") == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nBuenos días.\n"
    )


def test_text_and_json_in_a_translation_skip_what_was_not_translated() -> None:
    assert export(SEGMENTS, "txt") == "Good morning.\nWelcome.\n"
    assert export(SEGMENTS, "txt", "es-ES") == "Buenos días.\n"
    items = json.loads(export(SEGMENTS, "json", "es-ES"))
    assert items == [
        {"sequence": 1, "start": 0.0, "end": 1.5, "language": "es-ES", "text": "Buenos días."}
    ]
    whole = json.loads(export(SEGMENTS, "json"))
    assert [item["translations"] for item in whole] == [{"es-ES": "Buenos días."}, {}]


def test_unknown_formats_and_languages_are_refused_with_what_exists() -> None:
    with pytest.raises(InvalidInput, match="use srt, vtt, txt, json"):
        export(SEGMENTS, "docx")
    with pytest.raises(InvalidInput, match="has no fr-FR: it has en-US, es-ES"):
        export(SEGMENTS, "srt", "fr-FR")
    assert export([], "srt", "fr-FR") == ""


HOSTILE = "Fine.\n\n2\n00:00:09,000 --> 00:00:10,000\nInjected cue\r\n\r\n<b>bold</b> & --> done"


def test_cue_text_cannot_add_cues_timings_or_tags() -> None:
    hostile = [segment(1, HOSTILE, 0.0, 1.0), segment(2, "Second.", 2.0, 3.0)]
    cues = list(srt.parse(export(hostile, "srt")))
    assert [cue.index for cue in cues] == [1, 2]
    assert "\n" not in cues[0].content and "-->" not in cues[0].content
    assert cues[0].content.startswith("Fine. 2 00:00:09,000 -> 00:00:10,000 Injected cue")
    vtt = export(hostile, "vtt")
    assert sum("-->" in line for line in vtt.splitlines()) == 2
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; -&gt; done" in vtt
    assert export(hostile, "txt").count("\n") == 2


@pytest.mark.parametrize("spelling", ["es-es", "ES_es", " es-ES "])
def test_a_language_is_read_by_the_one_parser(spelling: str) -> None:
    assert export(SEGMENTS, "srt", spelling) == export(SEGMENTS, "srt", "es-ES")


@pytest.mark.parametrize(
    "hostile", ["es\"; filename*=UTF-8''evil.html", "es\r\nSet-Cookie: x=1", "../../x", "é"]
)
def test_a_language_that_is_no_tag_is_refused_even_without_a_transcript(hostile: str) -> None:
    with pytest.raises(InvalidInput, match="BCP-47"):
        export([], "srt", hostile)
