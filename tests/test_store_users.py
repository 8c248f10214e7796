"""Users and grants in the store: one contract on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from livevent.errors import AlreadyExists, NotFound
from livevent.model import Capability, EventCreate, Grant, Role, UserCreate
from livevent.store import EventStore


def person(email: str = "Ana@Example.org", **overrides: object) -> UserCreate:
    data: dict[str, object] = {
        "email": email,
        "name": "Ana",
        "role": Role.SPEAKER,
        "password": SecretStr("correct horse battery"),
        **overrides,
    }
    return UserCreate.model_validate(data)


async def an_event(store: EventStore) -> int:
    customer = await store.ensure_customer("default")
    event = await store.create_event(
        EventCreate(name="Talk", starts_at="2026-12-01T10:00Z", source_language="en-US"),
        customer_id=customer.id,
        actor="t",
    )
    return event.id


async def test_create_find_and_unique_emails(store: EventStore) -> None:
    created = await store.users.create(person(), password_hash="h1")
    assert created.email == "ana@example.org"  # one account per address, whatever the case
    assert (await store.users.find(" ANA@example.org ")).id == created.id
    with pytest.raises(AlreadyExists):
        await store.users.create(person("ana@EXAMPLE.org"), password_hash="h2")
    credentials = await store.users.credentials("ana@example.org")
    assert credentials is not None and credentials.password_hash == "h1"
    assert await store.users.credentials("nobody@example.org") is None
    assert "password" not in created.model_dump()


async def test_a_manager_needs_an_existing_customer(store: EventStore) -> None:
    with pytest.raises(ValueError, match="customer_id"):
        person(role=Role.MANAGER)
    with pytest.raises(NotFound):
        await store.users.create(person(role=Role.MANAGER, customer_id=999), password_hash="h")
    assert await store.users.list_users() == []


async def test_grants_are_added_listed_and_revoked(store: EventStore) -> None:
    event_id = await an_event(store)
    user = await store.users.create(person(), password_hash="h")
    interpret = Grant(event=event_id, can=Capability.INTERPRET, channel=2)
    listen = Grant(event=event_id, can=Capability.LISTEN)
    await store.users.grant(user.id, interpret)
    got = await store.users.grant(user.id, listen)
    assert set(got.grants) == {interpret, listen}
    with pytest.raises(AlreadyExists):
        await store.users.grant(user.id, interpret)
    with pytest.raises(NotFound, match="event"):
        await store.users.grant(user.id, Grant(event=event_id + 1, can=Capability.SPEAK))
    assert (await store.users.revoke(user.id, interpret)).grants == [listen]
    with pytest.raises(NotFound):
        await store.users.revoke(user.id, interpret)
    listed = await store.users.list_users()
    assert [u.grants for u in listed] == [[listen]]


async def test_grants_go_with_their_event_and_their_user(store: EventStore) -> None:
    event_id = await an_event(store)
    one = await store.users.create(person("one@example.org"), password_hash="h")
    two = await store.users.create(person("two@example.org"), password_hash="h")
    for user in (one, two):
        await store.users.grant(user.id, Grant(event=event_id, can=Capability.SPEAK))
    await store.users.delete(one.id)
    with pytest.raises(NotFound):
        await store.users.get(one.id)
    await store.delete_event(event_id)  # a DRAFT: deleting it takes its grants along
    assert (await store.users.get(two.id)).grants == []


async def test_password_changes_and_disabling_move_the_generation(store: EventStore) -> None:
    user = await store.users.create(person(), password_hash="h")
    assert user.generation == 0
    await store.users.set_password(user.id, password_hash="h2")
    await store.users.set_disabled(user.id, True)
    again = await store.users.get(user.id)
    assert again.generation == 2 and again.disabled
    credentials = await store.users.credentials(user.email)
    assert credentials is not None and credentials.password_hash == "h2"
    with pytest.raises(NotFound):
        await store.users.set_password(user.id + 100, password_hash="x")
