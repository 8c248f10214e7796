"""Transcript segments: what was said in a live event, translated, and when."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

from livevent.model.channel import MAX_CHANNELS
from livevent.model.event import MAX_ID, Moment
from livevent.model.language import LanguageTag

MAX_SECONDS = 1e7  # about 115 days on the recordings' clock: no event lasts longer
Seconds = Annotated[float, Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)]


def clamp_span(span: Any) -> tuple[float, float] | None:
    """A stored span made sane (within the clock, start <= end), or None to drop it.

    Rows written before spans were checked may hold anything; an export still works.
    """
    try:
        start, end = (float(value) for value in span)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(start) and math.isfinite(end)):
        return None
    start = min(max(start, 0.0), MAX_SECONDS)
    return start, min(max(end, start), MAX_SECONDS)


class TranscriptSegment(BaseModel):
    """One final utterance: what was said, its translations, and when."""

    event_id: int = Field(ge=1, le=MAX_ID)
    sequence: int = Field(ge=0, le=1_000_000_000, description="order within the live session")
    key: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
        description="idempotency key: a segment written again with the same key is stored"
        " once, and the translations it carries are added to it",
    )
    language: LanguageTag = Field(description="the language it was spoken in")
    text: str = Field(max_length=10_000)
    translations: dict[LanguageTag, str] = Field(
        default_factory=dict, max_length=MAX_CHANNELS, description="language -> text"
    )
    timings: dict[LanguageTag, tuple[Seconds, Seconds]] = Field(
        default_factory=dict,
        max_length=MAX_CHANNELS,
        description="language -> [start, end]: when that channel spoke its translation"
        " (seconds on the recordings' clock); absent, with the source's times",
    )
    start_seconds: float = Field(
        ge=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="seconds into the event's recordings (they begin when it goes live):"
        " an SRT lines up with a recording",
    )
    end_seconds: float = Field(ge=0, le=MAX_SECONDS, allow_inf_nan=False)
    spoken_at: Moment

    @field_validator("timings")
    @classmethod
    def _spans_run_forward(
        cls, timings: dict[str, tuple[float, float]]
    ) -> dict[str, tuple[float, float]]:
        for language, (start, end) in timings.items():
            if end < start:
                raise ValueError(f"the {language} span ends ({end}) before it starts ({start})")
        return timings
