"""Transcript segments: what was said in a live event, translated, and when."""

from __future__ import annotations

from pydantic import BaseModel, Field

from livevent.model.channel import MAX_CHANNELS
from livevent.model.event import MAX_ID, Moment
from livevent.model.language import LanguageTag


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
    timings: dict[LanguageTag, tuple[float, float]] = Field(
        default_factory=dict,
        max_length=MAX_CHANNELS,
        description="language -> [start, end]: when that channel spoke its translation"
        " (seconds on the recordings' clock); absent, with the source's times",
    )
    start_seconds: float = Field(
        ge=0,
        le=1e7,
        description="seconds into the event's recordings (they begin when it goes live):"
        " an SRT lines up with a recording",
    )
    end_seconds: float = Field(ge=0, le=1e7)
    spoken_at: Moment
