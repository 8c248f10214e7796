"""The domain model: the status machine, channels, languages and validation messages."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest
from pydantic import ValidationError

from livevent.model import (
    ACTIONS,
    ChannelKind,
    ChannelSpec,
    EventCreate,
    EventStatus,
    build_channels,
    can_transition,
    normalize_language,
    sources_of,
)
from livevent.model.validation import describe

LEGAL = {
    (EventStatus.DRAFT, EventStatus.SCHEDULED),
    (EventStatus.SCHEDULED, EventStatus.READY),
    (EventStatus.SCHEDULED, EventStatus.LIVE),
    (EventStatus.READY, EventStatus.LIVE),
    (EventStatus.LIVE, EventStatus.ENDED),
    (EventStatus.DRAFT, EventStatus.CANCELLED),
    (EventStatus.SCHEDULED, EventStatus.CANCELLED),
    (EventStatus.READY, EventStatus.CANCELLED),
    (EventStatus.LIVE, EventStatus.CANCELLED),
}


def test_status_machine_is_exactly_the_documented_one() -> None:
    for current, target in product(EventStatus, repeat=2):
        assert can_transition(current, target) == ((current, target) in LEGAL), (current, target)
    assert sources_of(EventStatus.CANCELLED) == {
        EventStatus.DRAFT,
        EventStatus.SCHEDULED,
        EventStatus.READY,
        EventStatus.LIVE,
    }
    assert set(ACTIONS.values()) == set(EventStatus) - {EventStatus.DRAFT}


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [
        ("ca-ES", "ca-ES"),
        ("ca_es", "ca-ES"),
        ("EN-us", "en-US"),
        ("es", "es"),
        ("zh-Hant", "zh-Hant"),
    ],
)
def test_language_tags_are_canonical(tag: str, canonical: str) -> None:
    assert normalize_language(tag) == canonical


@pytest.mark.parametrize("tag", ["", "xx-YY", "english", "en--US", "123"])
def test_unknown_language_tags_are_refused(tag: str) -> None:
    with pytest.raises(ValueError, match="unknown language tag"):
        normalize_language(tag)


def test_floor_channel_is_added_first() -> None:
    channels = build_channels("ca-ES", [ChannelSpec(language="en-US")])
    assert [(c.number, c.language, c.kind) for c in channels] == [
        (1, "ca-ES", ChannelKind.FLOOR),
        (2, "en-US", ChannelKind.MACHINE),
    ]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        ([ChannelSpec(language="en-US"), ChannelSpec(language="en-US")], "two channels"),
        ([ChannelSpec(language="ca-ES")], "two channels have the language ca-ES"),
        ([ChannelSpec(language="es-ES", kind=ChannelKind.FLOOR)], "original language ca-ES"),
        (
            [
                ChannelSpec(language="ca-ES", kind=ChannelKind.FLOOR),
                ChannelSpec(language="es-ES", kind=ChannelKind.FLOOR),
            ],
            "exactly one floor",
        ),
        (
            [ChannelSpec(language="en-US", number=2), ChannelSpec(language="es-ES", number=2)],
            "share number 2",
        ),
        (
            [ChannelSpec(language=f"{x}") for x in ["en", "es", "fr", "de", "it", "pt"] * 6],
            "at most",
        ),
    ],
)
def test_channel_sets_that_make_no_sense_are_refused(
    specs: list[ChannelSpec], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_channels("ca-ES", specs)


def test_naive_start_is_read_in_the_event_time_zone() -> None:
    fields = EventCreate(
        name="x",
        starts_at=datetime(2026, 7, 1, 10, 0),
        timezone="Europe/Madrid",
        source_language="ca-ES",
    ).fields()
    assert fields.starts_at.astimezone(UTC) == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def test_validation_messages_are_one_readable_line() -> None:
    with pytest.raises(ValidationError) as caught:
        EventCreate.model_validate(
            {"name": "", "starts_at": "soon", "source_language": "ca-ES", "extra": 1}
        )
    message = describe(caught.value)
    assert "\n" not in message
    assert message.startswith("name: string should have at least 1 character")
    assert "starts_at: input should be a valid datetime" in message
    assert "extra: extra inputs are not permitted" in message
