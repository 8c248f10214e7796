"""A live event's channels: what each carries (the floor, an interpreter, the machine),
how a caller asks for one, and how a set of them is numbered and checked."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from livevent.model.language import LanguageTag

MAX_CHANNELS = 32


# simultaneous: a machine channel follows the speaker a few seconds behind, clause
# by clause; consecutive: it speaks whole sentences once the speaker pauses.
Interpretation = Literal["simultaneous", "consecutive"]
INTERPRETATION_HELP = (
    "machine channels: simultaneous (clause by clause, a few seconds behind)"
    " or consecutive (whole sentences at the speaker's pauses)"
)


class ChannelKind(StrEnum):
    FLOOR = "floor"
    HUMAN = "human"
    MACHINE = "machine"


# A name such as `pico`, `es-419` or `festival:upc_ca_ona_hts`: no slash, no leading dot.
VOICE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.+-]*(:[A-Za-z0-9][A-Za-z0-9_.+-]*)?$"


class ChannelSpec(BaseModel):
    """A channel as a caller asks for it; the number is chosen for it when absent."""

    model_config = ConfigDict(extra="forbid")

    language: LanguageTag = Field(description="BCP-47 tag of the language listeners hear")
    kind: ChannelKind = Field(
        ChannelKind.MACHINE, description="where the channel's audio comes from"
    )
    number: int | None = Field(None, ge=1, le=99, description="stable channel number")
    label: str | None = Field(None, max_length=80, description="name shown to listeners")
    engines: dict[str, str] = Field(
        default_factory=dict,
        description="engine per stage for machine channels, e.g. {'stt': 'whisper'}",
    )
    voice: str | None = Field(
        None,
        max_length=80,
        pattern=VOICE_PATTERN,
        description="text-to-speech voice: an engine, a voice's name, or engine:voice"
        " (a name from `livevent engines`, never a path)",
    )
    interpretation: Interpretation | None = Field(
        None, description=INTERPRETATION_HELP + "; the event's when absent"
    )
    fallback: Literal["machine"] | None = Field(
        None,
        description="a human channel's stand-in: `machine` interprets the floor whenever no"
        " interpreter is on air (none yet, or the socket dropped), until one is again",
    )

    source: LanguageTag | None = Field(
        None,
        description="a machine channel relayed from an interpreter: the language of the"
        " interpreter's (human) channel it translates, instead of the floor (the floor"
        " while nobody interprets there)",
    )

    @model_validator(mode="after")
    def _options_fit_the_kind(self) -> Self:
        if self.fallback is not None and self.kind is not ChannelKind.HUMAN:
            raise ValueError(
                f"channel {self.language}: only an interpreter's (human) channel has a fallback"
            )
        if self.source is not None and self.kind is not ChannelKind.MACHINE:
            raise ValueError(f"channel {self.language}: only a machine channel is relayed")
        if self.source == self.language:
            raise ValueError(f"channel {self.language} cannot be relayed from itself")
        return self


class Channel(ChannelSpec):
    """A channel of a stored event: its number is part of speaker URLs and tokens."""

    number: int = Field(ge=1, le=99, description="stable channel number")


def build_channels(
    source_language: str,
    specs: list[ChannelSpec] | list[Channel],
    *,
    previous: list[Channel] | None = None,
) -> list[Channel]:
    """Number the channels, add the floor channel if missing, and check the set.

    Numbers stay stable: a language that had a number in `previous` keeps it,
    so speaker links and tokens issued for a channel survive edits.
    """
    known = {c.language: c.number for c in previous or []}
    wanted = list(specs)
    if not any(spec.kind is ChannelKind.FLOOR for spec in wanted):
        wanted.insert(0, ChannelSpec(language=source_language, kind=ChannelKind.FLOOR))
    if len(wanted) > MAX_CHANNELS:
        raise ValueError(f"an event has at most {MAX_CHANNELS} channels, not {len(wanted)}")

    floors = [spec for spec in wanted if spec.kind is ChannelKind.FLOOR]
    if len(floors) > 1:
        raise ValueError("an event has exactly one floor channel")
    if floors[0].language != source_language:
        raise ValueError(
            f"the floor channel carries the original language {source_language}, "
            f"not {floors[0].language}"
        )
    seen_languages: set[str] = set()
    for spec in wanted:
        if spec.language in seen_languages:
            raise ValueError(f"two channels have the language {spec.language}")
        seen_languages.add(spec.language)
    interpreters = {spec.language for spec in wanted if spec.kind is ChannelKind.HUMAN}
    for spec in wanted:
        if spec.source is not None and spec.source not in interpreters:
            raise ValueError(
                f"channel {spec.language} is relayed from {spec.source}, which is not an"
                " interpreter's channel of this event"
            )

    numbers: dict[int, str] = {}
    for spec in wanted:
        number = spec.number or known.get(spec.language)
        if number is not None:
            if number in numbers:
                raise ValueError(
                    f"channels {numbers[number]} and {spec.language} share number {number}"
                )
            numbers[number] = spec.language
    channels: list[Channel] = []
    next_free = 1
    for spec in wanted:
        number = spec.number or known.get(spec.language)
        if number is None:
            while next_free in numbers:
                next_free += 1
            number = next_free
            numbers[number] = spec.language
        channels.append(Channel(**{**spec.model_dump(), "number": number}))
    return sorted(channels, key=lambda c: c.number)
