"""One contract, every backend: the store behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from livevent.errors import (
    AlreadyExists,
    Conflict,
    InvalidInput,
    InvalidTransition,
    LimitReached,
    NotFound,
    Unavailable,
    VersionConflict,
)
from livevent.model import (
    ChannelKind,
    ChannelSpec,
    CustomerCreate,
    EventCreate,
    EventFilter,
    EventPatch,
    EventStatus,
    TranscriptSegment,
)
from livevent.store import EventStore, open_store
from livevent.store.store import RANDOM_ID_RANGE
from tests.conftest import _admin, _with_database

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def new_event(**overrides: object) -> EventCreate:
    values: dict[str, object] = {
        "name": "Opening keynote",
        "starts_at": START,
        "source_language": "ca-ES",
        "channels": [
            ChannelSpec(language="en-US", kind=ChannelKind.MACHINE),
            ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN),
        ],
    }
    values.update(overrides)
    return EventCreate.model_validate(values)


async def default_customer(store: EventStore) -> int:
    return (await store.ensure_customer("default")).id


async def test_migrations_are_idempotent(store: EventStore) -> None:
    assert await store.migrate() == []
    assert await store.pending_migrations() == []


async def test_create_and_read_back(store: EventStore) -> None:
    customer = await default_customer(store)
    created = await store.create_event(
        new_event(timezone="Europe/Madrid", ends_at=START + timedelta(hours=2)),
        customer_id=customer,
        actor="test",
    )
    assert RANDOM_ID_RANGE[0] <= created.id <= RANDOM_ID_RANGE[1]
    assert created.status is EventStatus.DRAFT
    assert created.version == 1
    read = await store.get_event(created.id)
    assert read == created
    assert read.starts_at == START
    assert read.ends_at == START + timedelta(hours=2)
    assert [(c.number, c.language, c.kind) for c in read.channels] == [
        (1, "ca-ES", ChannelKind.FLOOR),
        (2, "en-US", ChannelKind.MACHINE),
        (3, "es-ES", ChannelKind.HUMAN),
    ]


async def test_explicit_id_and_duplicate(store: EventStore) -> None:
    customer = await default_customer(store)
    event = await store.create_event(new_event(id=123457), customer_id=customer, actor="t")
    assert event.id == 123457
    with pytest.raises(AlreadyExists, match="123457"):
        await store.create_event(
            new_event(id=123457, name="other"), customer_id=customer, actor="t"
        )
    assert (await store.get_event(123457)).name == "Opening keynote"


async def test_unknown_customer_and_event(store: EventStore) -> None:
    with pytest.raises(NotFound, match="customer 999"):
        await store.create_event(new_event(), customer_id=999, actor="t")
    with pytest.raises(NotFound, match="event 42"):
        await store.get_event(42)
    with pytest.raises(NotFound):
        await store.transition(42, EventStatus.SCHEDULED, actor="t")
    with pytest.raises(NotFound):
        await store.history(42)


async def test_customers(store: EventStore) -> None:
    acme = await store.create_customer(CustomerCreate(name="Acme", max_live_events=2))
    assert acme.max_live_events == 2
    assert (await store.get_customer(acme.id)).name == "Acme"
    assert (await store.find_customer("Acme")) == acme
    assert await store.find_customer("nobody") is None
    with pytest.raises(AlreadyExists):
        await store.create_customer(CustomerCreate(name="Acme"))
    assert (await store.ensure_customer("Acme")).id == acme.id
    names = [c.name for c in await store.list_customers()]
    assert names == sorted(names) and "Acme" in names


async def test_full_lifecycle_with_audit(store: EventStore) -> None:
    customer = await default_customer(store)
    event = await store.create_event(new_event(), customer_id=customer, actor="alice")
    for target in (EventStatus.SCHEDULED, EventStatus.READY, EventStatus.LIVE, EventStatus.ENDED):
        event = await store.transition(event.id, target, actor="alice", reason=f"to {target}")
        assert event.status is target
    assert event.version == 5
    history = await store.history(event.id)
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, EventStatus.DRAFT),
        (EventStatus.DRAFT, EventStatus.SCHEDULED),
        (EventStatus.SCHEDULED, EventStatus.READY),
        (EventStatus.READY, EventStatus.LIVE),
        (EventStatus.LIVE, EventStatus.ENDED),
    ]
    assert all(h.actor == "alice" for h in history)
    assert history[-1].reason == "to ENDED"
    assert [h.at for h in history] == sorted(h.at for h in history)


@pytest.mark.parametrize(
    ("path", "illegal"),
    [
        ([], EventStatus.READY),
        ([], EventStatus.LIVE),
        ([EventStatus.SCHEDULED, EventStatus.CANCELLED], EventStatus.SCHEDULED),
        ([EventStatus.SCHEDULED, EventStatus.LIVE, EventStatus.ENDED], EventStatus.SCHEDULED),
        ([EventStatus.SCHEDULED, EventStatus.LIVE, EventStatus.ENDED], EventStatus.CANCELLED),
        ([EventStatus.SCHEDULED, EventStatus.READY], EventStatus.SCHEDULED),
    ],
)
async def test_illegal_transition_changes_nothing(
    store: EventStore, path: list[EventStatus], illegal: EventStatus
) -> None:
    customer = await default_customer(store)
    event = await store.create_event(new_event(), customer_id=customer, actor="t")
    for target in path:
        event = await store.transition(event.id, target, actor="t")
    with pytest.raises(InvalidTransition) as caught:
        await store.transition(event.id, illegal, actor="t")
    assert str(event.status) in str(caught.value) and str(illegal) in str(caught.value)
    assert await store.get_event(event.id) == event
    assert len(await store.history(event.id)) == len(path) + 1


async def test_concurrent_transitions_one_wins(store: EventStore) -> None:
    customer = await default_customer(store)
    event = await store.create_event(new_event(), customer_id=customer, actor="t")
    results = await asyncio.gather(
        *(store.transition(event.id, EventStatus.SCHEDULED, actor=f"a{i}") for i in range(10)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, InvalidTransition) for r in results if isinstance(r, BaseException))
    assert [h.to_status for h in await store.history(event.id)] == [
        EventStatus.DRAFT,
        EventStatus.SCHEDULED,
    ]


async def test_update_with_versions(store: EventStore) -> None:
    customer = await default_customer(store)
    event = await store.create_event(new_event(), customer_id=customer, actor="t")
    updated = await store.update_event(
        event.id, EventPatch(name="Renamed", max_listeners=50), expected_version=1
    )
    assert (updated.name, updated.max_listeners, updated.version) == ("Renamed", 50, 2)
    with pytest.raises(VersionConflict) as caught:
        await store.update_event(event.id, EventPatch(name="Stale"), expected_version=1)
    assert caught.value.details == {
        "event_id": event.id,
        "expected_version": 1,
        "current_version": 2,
    }
    assert (await store.get_event(event.id)).name == "Renamed"


async def test_update_keeps_channel_numbers(store: EventStore) -> None:
    customer = await default_customer(store)
    event = await store.create_event(new_event(), customer_id=customer, actor="t")
    specs = [c for c in event.channels if c.language != "en-US"]
    specs.append(ChannelSpec(language="fr-FR"))
    updated = await store.update_event(event.id, EventPatch(channels=specs))
    assert {c.language: c.number for c in updated.channels} == {
        "ca-ES": 1,
        "es-ES": 3,
        "fr-FR": 2,
    }
    moved = await store.update_event(event.id, EventPatch(source_language="it-IT"))
    assert moved.channel(1) is not None and moved.channel(1).language == "it-IT"  # type: ignore[union-attr]


async def test_invalid_update_is_refused_and_stores_nothing(store: EventStore) -> None:
    customer = await default_customer(store)
    event = await store.create_event(new_event(), customer_id=customer, actor="t")
    with pytest.raises(InvalidInput, match="end after it starts"):
        await store.update_event(event.id, EventPatch(ends_at=START - timedelta(hours=1)))
    with pytest.raises(InvalidInput, match="two channels have the language es-ES"):
        await store.update_event(
            event.id,
            EventPatch(channels=[ChannelSpec(language="es-ES"), ChannelSpec(language="es-ES")]),
        )
    assert await store.get_event(event.id) == event


async def test_final_events_cannot_change(store: EventStore) -> None:
    customer = await default_customer(store)
    event = await store.create_event(new_event(), customer_id=customer, actor="t")
    await store.transition(event.id, EventStatus.CANCELLED, actor="t", reason="venue flooded")
    with pytest.raises(Conflict, match="CANCELLED"):
        await store.update_event(event.id, EventPatch(name="Too late"))


async def test_delete_only_drafts(store: EventStore) -> None:
    customer = await default_customer(store)
    draft = await store.create_event(new_event(), customer_id=customer, actor="t")
    scheduled = await store.create_event(new_event(), customer_id=customer, actor="t")
    await store.transition(scheduled.id, EventStatus.SCHEDULED, actor="t")
    await store.delete_event(draft.id)
    with pytest.raises(NotFound):
        await store.get_event(draft.id)
    with pytest.raises(Conflict, match="only DRAFT"):
        await store.delete_event(scheduled.id)
    assert (await store.get_event(scheduled.id)).status is EventStatus.SCHEDULED


async def test_list_filters_and_pages(store: EventStore) -> None:
    customer = await default_customer(store)
    other = (await store.create_customer(CustomerCreate(name="Other"))).id
    ids = []
    for day in range(6):
        event = await store.create_event(
            new_event(name=f"day {day}", starts_at=START + timedelta(days=day)),
            customer_id=other if day % 3 == 0 else customer,
            actor="t",
        )
        ids.append(event.id)
    await store.transition(ids[1], EventStatus.SCHEDULED, actor="t")
    await store.transition(ids[2], EventStatus.CANCELLED, actor="t")

    everything, total = await store.list_events()
    assert [e.id for e in everything] == ids and total == 6

    page, total = await store.list_events(EventFilter(limit=2, offset=2))
    assert [e.id for e in page] == ids[2:4] and total == 6

    chosen, total = await store.list_events(
        EventFilter(statuses=[EventStatus.SCHEDULED, EventStatus.CANCELLED])
    )
    assert [e.id for e in chosen] == ids[1:3] and total == 2

    theirs, _ = await store.list_events(EventFilter(customer_id=other))
    assert [e.id for e in theirs] == [ids[0], ids[3]]

    window, total = await store.list_events(
        EventFilter(
            starts_from=START + timedelta(days=1),
            # an offset other than UTC must compare as the same instant
            starts_before=(START + timedelta(days=3)).astimezone(
                datetime.now().astimezone().tzinfo
            ),
        )
    )
    assert [e.id for e in window] == ids[1:3] and total == 2


async def test_count_live_events(store: EventStore) -> None:
    customer = await default_customer(store)
    event = await store.create_event(new_event(), customer_id=customer, actor="t")
    assert await store.count_live_events(customer) == 0
    await store.transition(event.id, EventStatus.SCHEDULED, actor="t")
    await store.transition(event.id, EventStatus.LIVE, actor="t")
    assert await store.count_live_events(customer) == 1


async def test_ping(store: EventStore) -> None:
    await store.ping()


async def test_unreachable_postgres_is_a_clear_error() -> None:
    # Port 9 (discard) on loopback: nothing listens there.
    with pytest.raises(Unavailable, match="cannot connect to PostgreSQL") as caught:
        await open_store("postgresql://nobody:secret@127.0.0.1:9/none")
    assert "secret" not in str(caught.value)


@pytest.mark.postgres
async def test_unmigrated_postgres_is_refused(postgres_url: str) -> None:
    name = "livevent_test_unmigrated"
    await _admin(f'DROP DATABASE IF EXISTS "{name}"')
    await _admin(f'CREATE DATABASE "{name}"')
    try:
        with pytest.raises(Unavailable, match="livevent db migrate"):
            await open_store(_with_database(postgres_url, name))
    finally:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_concurrent_starts_respect_the_customers_live_limit(store: EventStore) -> None:
    customer = (await store.create_customer(CustomerCreate(name="Small", max_live_events=1))).id
    events = []
    for _ in range(3):
        event = await store.create_event(new_event(), customer_id=customer, actor="t")
        events.append(await store.transition(event.id, EventStatus.SCHEDULED, actor="t"))
    results = await asyncio.gather(
        *(store.transition(e.id, EventStatus.LIVE, actor="t") for e in events),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, LimitReached) for r in refused)
    assert "its limit" in str(refused[0])
    assert await store.count_live_events(customer) == 1
    live = next(r for r in results if not isinstance(r, BaseException))
    await store.transition(live.id, EventStatus.ENDED, actor="t")
    waiting = next(e for e in events if e.id != live.id)
    assert (
        await store.transition(waiting.id, EventStatus.LIVE, actor="t")
    ).status is EventStatus.LIVE


async def test_a_keyed_segment_written_twice_is_stored_once_with_every_translation(
    store: EventStore,
) -> None:
    event = await store.create_event(
        new_event(), customer_id=await default_customer(store), actor="test"
    )

    def segment(key: str | None, translations: dict[str, str]) -> TranscriptSegment:
        return TranscriptSegment(
            event_id=event.id,
            sequence=1,
            key=key,
            language="ca-ES",
            text="Bon dia a tothom.",
            translations=translations,
            start_seconds=0.5,
            end_seconds=2.0,
            spoken_at=START,
        )

    await store.add_transcript_segment(segment("run-1", {}))
    await store.add_transcript_segment(segment("run-1", {"es-ES": "Buenos días a todos."}))
    await store.add_transcript_segment(segment("run-1", {"en-US": "Good morning everyone."}))
    await store.add_transcript_segment(segment("run-1", {"es-ES": "Buenos días a todos."}))
    [stored] = await store.transcript(event.id)
    assert stored.key == "run-1"
    assert stored.translations == {
        "es-ES": "Buenos días a todos.",
        "en-US": "Good morning everyone.",
    }
    # Without a key nothing is deduplicated (clients of the API from before keys).
    await store.add_transcript_segment(segment(None, {}))
    await store.add_transcript_segment(segment(None, {}))
    assert len(await store.transcript(event.id)) == 3
