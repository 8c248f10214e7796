"""Transcripts as files people use: SubRip, WebVTT, plain text or JSON.

A cue's text is one line of what was said: line breaks, the cue arrow and, in
WebVTT, markup characters cannot reach the file as structure, so no text a
speaker (or a transcript's editor) wrote adds cues, timings or tags.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from livevent.errors import InvalidInput
from livevent.model import TranscriptSegment, normalize_language

_ARROW = re.compile(r"-{2,}>")
_VTT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def cue_text(text: str) -> str:
    """One line, with no `-->`: all that a cue's text may be in SubRip."""
    return _ARROW.sub("->", " ".join(text.split()))


def vtt_cue_text(text: str) -> str:
    """A WebVTT cue's text: one line, its markup characters written as entities."""
    return cue_text(text).translate(_VTT_ESCAPES)


def _clock(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def text_of(segment: TranscriptSegment, language: str | None) -> str | None:
    """The segment in `language`: the original or a translation (None if it has none)."""
    if language is None or language == segment.language:
        return segment.text
    return segment.translations.get(language)


def _lines(
    segments: list[TranscriptSegment], language: str | None
) -> list[tuple[TranscriptSegment, str, tuple[float, float]]]:
    """Each segment with text in `language`: the segment, the text, and when it was heard."""
    found = [(s, text_of(s, language)) for s in segments]
    return [(s, text, times_of(s, language)) for s, text in found if text]


def times_of(segment: TranscriptSegment, language: str | None) -> tuple[float, float]:
    """When the segment was heard in `language`: when its channel spoke it, where known
    (a machine channel speaks a little after the floor), else the source's times."""
    if language is not None and language in segment.timings:
        return segment.timings[language]
    # A cue never ends before it starts, whatever a writer once sent.
    return segment.start_seconds, max(segment.start_seconds, segment.end_seconds)


def to_srt(segments: list[TranscriptSegment], language: str | None = None) -> str:
    blocks = [
        f"{index}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{cue_text(text)}\n"
        for index, (_, text, (start, end)) in enumerate(_lines(segments, language), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(segments: list[TranscriptSegment], language: str | None = None) -> str:
    blocks = [
        f"{_clock(start, '.')} --> {_clock(end, '.')}\n{vtt_cue_text(text)}\n"
        for _, text, (start, end) in _lines(segments, language)
    ]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_txt(segments: list[TranscriptSegment], language: str | None = None) -> str:
    return "".join(f"{' '.join(text.split())}\n" for _, text, _ in _lines(segments, language))


def to_json(segments: list[TranscriptSegment], language: str | None = None) -> str:
    if language is None:
        items = [s.model_dump(mode="json") for s in segments]
    else:
        items = [
            {"sequence": s.sequence, "start": start, "end": end, "language": language,
             "text": text}
            for s, text, (start, end) in _lines(segments, language)
        ]  # fmt: skip
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[[list[TranscriptSegment], str | None], str]] = {
    "srt": to_srt,
    "vtt": to_vtt,
    "txt": to_txt,
    "json": to_json,
}


def export_language(raw: str | None) -> str | None:
    """The language asked for, through the one BCP-47 parser, or None for the original."""
    if raw is None or raw == "":
        return None
    try:
        return normalize_language(raw)
    except ValueError:
        raise InvalidInput("language is a BCP-47 tag such as es-ES", fields=["language"]) from None


def export_filename(event_id: int, fmt: str, language: str | None) -> str:
    suffix = f"-{language}" if language else ""
    return f"event-{event_id}{suffix}.{fmt}"


def export(segments: list[TranscriptSegment], fmt: str, language: str | None = None) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"unknown transcript format {fmt!r}: use {', '.join(FORMATS)}")
    language = export_language(language)
    if language is not None and segments:
        # The floor's, each interpreter's (their own segments), and the translations.
        known = {s.language for s in segments} | {lang for s in segments for lang in s.translations}
        if language not in known:
            raise InvalidInput(
                f"the transcript has no {language}: it has {', '.join(sorted(known))}"
            )
    return FORMATS[fmt](segments, language)
