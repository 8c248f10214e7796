"""No one signs in as someone else: what an invitation hands out, and what a link opens.

Each test here is a finding of the outside probe (issue 25) that today's code must
refuse; on both stores, over a real socket.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from aiosmtpd.controller import Controller
from pytest_aiohttp import AiohttpClient

from livevent.api import create_app
from livevent.auth import Role, service_token
from livevent.auth.accounts import Accounts
from livevent.auth.grants import add_grant
from livevent.auth.signing import verifier_for
from livevent.errors import Forbidden
from livevent.events.service import EventService
from livevent.model import Capability, Grant, User, UserCreate
from livevent.settings import Settings
from tests.test_api_people import EVENT, channel_of, customer_with_event, invite, manager

Client = TestClient[web.Request, web.Application]
PASSWORD = "a long enough password"
PUBLIC_URL = "https://live.acme.example"


async def admin_api(
    aiohttp_client: AiohttpClient, settings: Settings, service: EventService
) -> Client:
    """The event API with these settings, over a real socket, with an admin token."""
    return await aiohttp_client(
        create_app(settings, service=service),
        headers={"Authorization": f"Bearer {service_token(settings)}"},
    )


def accounts_for(settings: Settings, service: EventService) -> Accounts:
    return Accounts.from_settings(settings, users=service.store.users, bus=service.bus)


async def person(
    settings: Settings, service: EventService, email: str, customer: int, *grants: Grant
) -> User:
    accounts = accounts_for(settings, service)
    user = await accounts.create_user(
        UserCreate(
            email=email, name=email.split("@")[0], role=Role.SPEAKER, customer_id=customer,
            password=PASSWORD,  # type: ignore[arg-type]
        )
    )  # fmt: skip
    for grant in grants:
        user = await accounts.grant(user.id, grant)
    return user


def bearer_of(settings: Settings, service: EventService, user: User) -> dict[str, str]:
    token = accounts_for(settings, service).tokens_for(user).access_token
    return {"Authorization": f"Bearer {token}"}


async def second_event(api: Client, customer: int, **extra: Any) -> dict[str, Any]:
    body = {**EVENT, "name": "Private board", "customer_id": customer, **extra}
    response = await api.post("/api/events", json=body)
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def spend(api: Client, link: str) -> Any:
    code = link.partition("#code=")[2]
    return await api.post("/api/auth/link", json={"code": code}, headers={"Authorization": ""})


@pytest.fixture
async def acme(api: Client) -> dict[str, Any]:
    return await customer_with_event(api, "Acme")


async def test_inviting_an_existing_account_gives_the_inviter_no_credential_for_it(
    api: Client, settings: Settings, service: EventService, acme: dict[str, Any]
) -> None:
    """The probe's high finding: a one-event delegate became user 5 and used their grants."""
    a1 = acme["event"]["id"]
    a2 = (await second_event(api, acme["customer"], public=False))["id"]
    victim = await person(
        settings, service, "victim@acme.example", acme["customer"],
        Grant(event=a2, can=Capability.MANAGE),
    )  # fmt: skip
    delegate = await person(
        settings, service, "delegate@acme.example", acme["customer"],
        Grant(event=a1, can=Capability.MANAGE),
    )  # fmt: skip
    as_delegate = bearer_of(settings, service, delegate)
    # Issue 35: a delegate invites by email only (user ids walked the directory).
    by_id = await invite(api, as_delegate, a1, channel=1, user_id=victim.id)
    assert by_id.status == 403, await by_id.text()
    response = await invite(api, as_delegate, a1, channel=1, email="victim@acme.example")
    assert response.status == 201, await response.text()
    invitation = await response.json()
    assert invitation["delivery"] == "account"
    assert invitation["link"] is None and "sign in as they usually do" in invitation["message"]
    # The answer shows the grant made, not what the victim holds elsewhere.
    assert invitation["user"]["grants"] == [{"event": a1, "can": "speak", "channel": None}]
    async with service.store.database.read() as connection:
        assert await connection.fetch("SELECT code_hash FROM sign_in_links") == []
    # The victim's private event stays closed to the delegate.
    assert (await api.get(f"/api/events/{a2}", headers=as_delegate)).status == 403
    history = await (await api.get(f"/api/events/{a1}/history")).json()
    assert any(
        row["actor"] == f"speaker:user:{delegate.id}" and f"user {victim.id}" in row["change"]
        for row in history["items"]
        if row["change"]
    ), history


async def test_a_link_opens_only_its_invitation_never_the_accounts_other_grants(
    api: Client, settings: Settings, service: EventService, acme: dict[str, Any]
) -> None:
    event = acme["event"]
    spanish = channel_of(event, "es-ES")
    invitation = await (
        await invite(
            api, manager(settings, acme["customer"]), event["id"],
            email="new@acme.example", name="New", channel=spanish,
        )
    ).json()  # fmt: skip
    assert invitation["delivery"] == "link"
    # Before the link is used, the person gains more (an admin makes them manage another event).
    other = (await second_event(api, acme["customer"], public=False))["id"]
    accounts = accounts_for(settings, service)
    await accounts.grant(invitation["user"]["id"], Grant(event=other, can=Capability.MANAGE))

    signed = await spend(api, invitation["link"])
    assert signed.status == 200
    tokens = await signed.json()
    claims = verifier_for(settings).verify(tokens["access_token"])
    scope = {"event": event["id"], "can": "interpret", "channel": spanish}
    assert claims.role is Role.SPEAKER
    assert [g.model_dump(mode="json") for g in claims.grants] == [scope]
    assert claims.scope is not None and claims.scope.model_dump(mode="json") == scope
    as_link = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await api.get(f"/api/events/{other}", headers=as_link)).status == 403
    assert (await api.get(f"/api/events/{event['id']}", headers=as_link)).status == 403
    me = await (await api.get("/api/auth/me", headers=as_link)).json()
    assert me["scope"] == scope

    refreshed = await api.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]},
        headers={"Authorization": ""},
    )  # fmt: skip
    assert refreshed.status == 200
    again = verifier_for(settings).verify((await refreshed.json())["access_token"])
    assert again.grants == claims.grants and again.scope == claims.scope


async def test_another_customers_user_gets_a_grant_only_when_an_admin_asks_and_is_seen_there(
    api: Client, settings: Settings, service: EventService, acme: dict[str, Any]
) -> None:
    globex = await customer_with_event(api, "Globex")
    b_event = globex["event"]["id"]
    guest = await person(settings, service, "guest@acme.example", acme["customer"])
    accounts = accounts_for(settings, service)
    speak = Grant(event=b_event, can=Capability.SPEAK)
    with pytest.raises(Forbidden, match="across customers"):
        await add_grant(accounts, service.store, guest, speak, actor="admin:cli")
    await add_grant(accounts, service.store, guest, speak, actor="admin:cli", across_customers=True)
    history = await service.history(b_event)
    assert any("across customers" in (row.change or "") for row in history)

    # Acme's manager cannot turn the guest into a way into Globex's event.
    ours = manager(settings, acme["customer"])
    response = await invite(api, ours, acme["event"]["id"], user_id=guest.id, channel=1)
    assert (await response.json())["link"] is None

    # Globex's manager sees the guest (with Globex's grant only) and removes them.
    theirs = manager(settings, globex["customer"])
    people = await (await api.get(f"/api/events/{b_event}/people", headers=theirs)).json()
    assert [(p["email"], p["grants"]) for p in people["items"]] == [
        ("guest@acme.example", [{"event": b_event, "can": "speak", "channel": None}])
    ]
    removed = await api.delete(f"/api/events/{b_event}/people/{guest.id}", headers=theirs)
    assert removed.status == 204
    left = await accounts.users.get(guest.id)
    assert [g.event for g in left.grants] == [acme["event"]["id"]]


@pytest.mark.parametrize("ending", ["removal", "cancel", "end", "delete"])
async def test_a_link_dies_with_its_grant(
    api: Client, settings: Settings, service: EventService, acme: dict[str, Any], ending: str
) -> None:
    headers = manager(settings, acme["customer"])
    event_id = (await second_event(api, acme["customer"]))["id"]
    made = []
    for email in ("one@acme.example", "two@acme.example"):
        answer = await invite(api, headers, event_id, email=email, name="X", channel=1)
        made.append(await answer.json())
    # The first link was spent before the ending; its session must not outlive it either.
    session = await (await spend(api, made[0]["link"])).json()
    if ending == "removal":
        for invitation in made:
            path = f"/api/events/{event_id}/people/{invitation['user']['id']}"
            assert (await api.delete(path, headers=headers)).status == 204
    elif ending == "delete":
        assert (await api.delete(f"/api/events/{event_id}")).status == 204
    else:
        if ending == "end":
            await service.act(event_id, "schedule", actor="t")
            await service.act(event_id, "start", actor="t")
        answer = await api.post(f"/api/events/{event_id}/{ending}", json={"reason": "over"})
        assert answer.status == 200, await answer.text()
    assert (await spend(api, made[1]["link"])).status == 401
    refreshed = await api.post(
        "/api/auth/refresh", json={"refresh_token": session["refresh_token"]},
        headers={"Authorization": ""},
    )  # fmt: skip
    assert refreshed.status == 401


async def test_invitations_and_removals_are_in_the_history_with_who_did_them(
    api: Client, settings: Settings, acme: dict[str, Any]
) -> None:
    headers = manager(settings, acme["customer"])
    event_id = acme["event"]["id"]
    invitation = await (
        await invite(api, headers, event_id, email="h@acme.example", name="H", channel=1)
    ).json()
    user_id = invitation["user"]["id"]
    await api.delete(f"/api/events/{event_id}/people/{user_id}", headers=headers)
    rows = (await (await api.get(f"/api/events/{event_id}/history")).json())["items"]
    notes = [(row["actor"], row["change"]) for row in rows if row["change"]]
    assert notes[-2:] == [
        ("manager:user:99", f"invited user {user_id} <h@acme.example> to speak event {event_id}"),
        ("manager:user:99", f"removed user {user_id} <h@acme.example>: speak event {event_id}"),
    ]


async def test_each_customer_may_create_only_so_many_people_an_hour(
    aiohttp_client: AiohttpClient, store_url: str, service: EventService
) -> None:
    settings = Settings(database_url=store_url, new_people_per_customer_per_hour=2)
    api = await admin_api(aiohttp_client, settings, service)
    acme = await customer_with_event(api, "Acme")
    headers = manager(settings, acme["customer"])
    event_id = acme["event"]["id"]
    for n in range(2):
        answer = await invite(api, headers, event_id, email=f"p{n}@a.example", name="P", channel=1)
        assert answer.status == 201
    third = await invite(api, headers, event_id, email="p3@a.example", name="P", channel=1)
    assert third.status == 429
    assert third.headers["Content-Type"].startswith("application/problem+json")
    assert int(third.headers["Retry-After"]) > 0
    assert "2 new people an hour" in (await third.json())["detail"]
    users = await (await api.get("/api/users")).json()
    assert sorted(u["email"] for u in users["items"]) == ["p0@a.example", "p1@a.example"]
    # Another customer has its own count.
    globex = await customer_with_event(api, "Globex")
    other = await invite(
        api, manager(settings, globex["customer"]), globex["event"]["id"],
        email="g@g.example", name="G", channel=1,
    )  # fmt: skip
    assert other.status == 201


class Inbox:
    """What a real SMTP server (aiosmtpd) on this machine received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.arrived = asyncio.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.arrived.set()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, Inbox]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
async def mailing_api(
    aiohttp_client: AiohttpClient,
    store_url: str,
    service: EventService,
    smtp: tuple[Controller, Inbox],
) -> AsyncIterator[tuple[Client, Settings, Inbox]]:
    controller, inbox = smtp
    settings = Settings(
        database_url=store_url,
        smtp_url=f"smtp://{controller.hostname}:{controller.port}",  # type: ignore[arg-type]
        smtp_from="events@acme.example",
        public_url=PUBLIC_URL,
    )
    api = await admin_api(aiohttp_client, settings, service)
    yield api, settings, inbox


async def test_with_smtp_the_link_goes_to_the_invitee_and_never_to_the_inviter(
    mailing_api: tuple[Client, Settings, Inbox], service: EventService
) -> None:
    api, settings, inbox = mailing_api
    acme = await customer_with_event(api, "Acme")
    headers = manager(settings, acme["customer"])
    event_id = acme["event"]["id"]
    answer = await invite(api, headers, event_id, email="mia@acme.example", name="Mia", channel=1)
    assert answer.status == 201, await answer.text()
    invitation = await answer.json()
    assert invitation["delivery"] == "mail" and invitation["link"] is None
    assert invitation["sent_to"] == "mia@acme.example"
    assert "/signin#code=" not in await answer.text()
    await asyncio.wait_for(inbox.arrived.wait(), 30)
    (mail,) = inbox.messages
    assert mail["To"] == "mia@acme.example" and mail["From"] == "events@acme.example"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    link = next(word for word in body.split() if "/signin#code=" in word)
    assert link.startswith(f"{PUBLIC_URL}/signin#code=")  # never the Host the inviter sent
    signed = await spend(api, link)
    assert signed.status == 200
    assert (await signed.json())["next"] == f"/speak/{event_id}/1"

    # An existing account is told by mail too: its owner gets the link, nobody else.
    inbox.arrived.clear()
    spanish = channel_of(acme["event"], "es-ES")
    user_id = invitation["user"]["id"]
    again = await invite(api, headers, event_id, user_id=user_id, channel=spanish)
    assert (await again.json())["delivery"] == "mail"
    await asyncio.wait_for(inbox.arrived.wait(), 30)
    assert [m["To"] for m in inbox.messages] == ["mia@acme.example"] * 2


async def test_a_mail_that_cannot_be_sent_invites_nobody(
    aiohttp_client: AiohttpClient, store_url: str, service: EventService
) -> None:
    # Nothing listens on port 9 of this machine.
    settings = Settings(
        database_url=store_url,
        smtp_url="smtp://127.0.0.1:9",  # type: ignore[arg-type]
        public_url=PUBLIC_URL,
    )
    api = await admin_api(aiohttp_client, settings, service)
    acme = await customer_with_event(api, "Acme")
    headers = manager(settings, acme["customer"])
    event_id = acme["event"]["id"]
    answer = await invite(api, headers, event_id, email="z@acme.example", name="Z", channel=1)
    assert answer.status == 503
    assert "could not be sent" in (await answer.json())["detail"]
    people = await (await api.get(f"/api/events/{event_id}/people", headers=headers)).json()
    assert people["items"] == []
    async with service.store.database.read() as connection:
        assert await connection.fetch("SELECT code_hash FROM sign_in_links") == []


async def test_a_lost_link_is_replaced_by_inviting_again_and_the_old_one_dies(
    api: Client, settings: Settings, service: EventService, acme: dict[str, Any]
) -> None:
    """Issue 30: re-inviting said "already may interpret", and the person had no way in."""
    event = acme["event"]
    spanish = channel_of(event, "es-ES")
    boss = manager(settings, acme["customer"])
    asked = {"email": "lost@acme.example", "name": "Lost", "channel": spanish}
    first = await (await invite(api, boss, event["id"], **asked)).json()
    again = await invite(api, boss, event["id"], **asked)
    assert again.status == 201, await again.text()
    second = await again.json()
    assert second["delivery"] == "link" and second["link"] != first["link"]
    assert "no longer works" in second["message"]
    assert (await spend(api, first["link"])).status == 401  # the old link died
    assert (await spend(api, second["link"])).status == 200
    # No password opens an account invitations made, and the refusal says nothing more.
    login = {"email": "lost@acme.example", "password": "anything at all, 12 chars"}
    refused = await api.post("/api/auth/token", json=login, headers={"Authorization": ""})
    assert refused.status == 401
    assert "wrong email or password" in (await refused.json())["detail"]
    history = await (await api.get(f"/api/events/{event['id']}/history")).json()
    assert any("a new link for user" in (row["change"] or "") for row in history["items"])


async def test_a_person_with_a_password_is_never_handed_a_link_by_a_reinvitation(
    api: Client, settings: Settings, service: EventService, acme: dict[str, Any]
) -> None:
    event = acme["event"]
    spanish = channel_of(event, "es-ES")
    boss = manager(settings, acme["customer"])
    asked = {"email": "own@acme.example", "name": "Own", "channel": spanish}
    invited = await (await invite(api, boss, event["id"], **asked)).json()
    await accounts_for(settings, service).set_password(invited["user"]["id"], "their own secret!")
    again = await invite(api, boss, event["id"], **asked)
    assert again.status in (201, 409), await again.text()
    if again.status == 201:
        assert (await again.json())["link"] is None
    assert (await spend(api, invited["link"])).status == 200  # theirs, not the inviter's


async def welcome(api: Client, code: str, password: str) -> Any:
    body = {"code": code, "password": password}
    return await api.post("/api/auth/welcome", json=body, headers={"Authorization": ""})


async def test_a_new_manager_chooses_their_own_password_through_a_one_time_link(
    api: Client, settings: Settings, acme: dict[str, Any]
) -> None:
    """Issue 30: managers were made with the CLI only. Added in the console, nobody but
    the new manager ever knows their password."""
    added = await api.post(
        "/api/users",
        json={
            "email": "new.boss@acme.example",
            "name": "New Boss",
            "customer_id": acme["customer"],
        },
    )
    assert added.status == 201, await added.text()
    assert added.headers["Cache-Control"] == "no-store"
    answer = await added.json()
    assert answer["user"]["role"] == "manager" and answer["user"]["customer_id"] == acme["customer"]
    code = answer["link"].partition("/signin#welcome=")[2]
    assert len(code) >= 40

    login = {"email": "new.boss@acme.example", "password": "a password they chose"}
    token = "/api/auth/token"
    refused = await api.post(token, json=login, headers={"Authorization": ""})
    assert refused.status == 401  # no password opens it before they choose one
    short = await welcome(api, code, "short")
    assert short.status == 422  # refused by the rules: the link still works
    assert (await welcome(api, code, "a password they chose")).status == 200
    assert (await welcome(api, code, "another password!!")).status == 401  # once only
    signed = await api.post(token, json=login, headers={"Authorization": ""})
    assert signed.status == 200, await signed.text()
    claims = verifier_for(settings).verify((await signed.json())["access_token"])
    assert (claims.role, claims.customer) == (Role.MANAGER, acme["customer"])


async def test_managers_add_colleagues_to_their_own_customer_only_and_links_keep_their_kind(
    api: Client, settings: Settings, acme: dict[str, Any], service: EventService
) -> None:
    globex = await customer_with_event(api, "Globex")
    boss = manager(settings, acme["customer"])
    theirs = {"email": "spy@globex.example", "name": "Spy", "customer_id": globex["customer"]}
    assert (await api.post("/api/users", json=theirs, headers=boss)).status == 403
    mine = {"email": "colleague@acme.example", "name": "Colleague"}
    added = await api.post("/api/users", json=mine, headers=boss)
    assert added.status == 201, await added.text()
    welcome_code = (await added.json())["link"].partition("#welcome=")[2]
    # A welcome link is not an invitation, and an invitation is not a welcome.
    assert (await spend(api, f"/signin#code={welcome_code}")).status == 401
    spanish = channel_of(acme["event"], "es-ES")
    asked = {"email": "ana@acme.example", "name": "Ana", "channel": spanish}
    invitation = await (await invite(api, boss, acme["event"]["id"], **asked)).json()
    invitation_code = invitation["link"].partition("#code=")[2]
    assert (await welcome(api, invitation_code, "a long enough password")).status == 401
    assert (await spend(api, invitation["link"])).status == 200  # still unspent, still good
    assert (await welcome(api, welcome_code, "a long enough password")).status == 200


async def test_without_public_url_no_invitation_is_mailed(
    aiohttp_client: AiohttpClient,
    store_url: str,
    service: EventService,
    smtp: tuple[Controller, Inbox],
) -> None:
    """Issue 35: the platform's own mail carried a link to whatever host the inviter sent."""
    controller, inbox = smtp
    settings = Settings(
        database_url=store_url,
        smtp_url=f"smtp://{controller.hostname}:{controller.port}",  # type: ignore[arg-type]
        allowed_hosts=["evil.example"],
    )
    api = await admin_api(aiohttp_client, settings, service)
    acme = await customer_with_event(api, "Acme")
    event_id = acme["event"]["id"]
    answer = await api.post(
        f"/api/events/{event_id}/invitations",
        json={"email": "z@acme.example", "name": "Z", "channel": 1},
        headers={**manager(settings, acme["customer"]), "Host": "evil.example"},
    )
    assert answer.status == 503
    assert "public_url" in (await answer.json())["detail"]
    assert inbox.messages == []
    people = await (await api.get(f"/api/events/{event_id}/people")).json()
    assert people["items"] == []
    async with service.store.database.read() as connection:
        assert await connection.fetch("SELECT code_hash FROM sign_in_links") == []


async def test_an_event_name_with_line_breaks_is_mailed_on_one_subject_line(
    mailing_api: tuple[Client, Settings, Inbox],
) -> None:
    api, settings, inbox = mailing_api
    acme = await customer_with_event(api, "Acme")
    event_id = acme["event"]["id"]
    renamed = await api.patch(
        f"/api/events/{event_id}",
        json={"name": "Board\r\nBcc: all@example.org"},
        headers={"If-Match": f'"{acme["event"]["version"]}"'},
    )
    assert renamed.status == 200, await renamed.text()
    headers = manager(settings, acme["customer"])
    answer = await invite(api, headers, event_id, email="cr@acme.example", name="Cr", channel=1)
    assert answer.status == 201, await answer.text()
    await asyncio.wait_for(inbox.arrived.wait(), 30)
    (mail,) = inbox.messages
    assert mail["Subject"] == "Your invitation: Board Bcc: all@example.org"
    assert mail["Bcc"] is None


async def add_manager(api: Client, email: str, customer: int) -> dict[str, Any]:
    body = {"email": email, "name": email.split("@")[0], "customer_id": customer}
    added = await api.post("/api/users", json=body)
    assert added.status == 201, await added.text()
    return dict(await added.json())


async def test_a_welcome_link_dies_once_the_account_has_a_password_another_way(
    api: Client, settings: Settings, service: EventService, acme: dict[str, Any]
) -> None:
    """Issue 35: a link kept working after `livevent user password`: whoever held it took
    the account for 7 days."""
    added = await add_manager(api, "taken@acme.example", acme["customer"])
    code = added["link"].partition("#welcome=")[2]
    accounts = accounts_for(settings, service)
    await accounts.set_password(added["user"]["id"], "the owner's own password")
    assert (await welcome(api, code, "an intruder's password")).status == 401
    login = {"email": "taken@acme.example", "password": "the owner's own password"}
    owner = await api.post("/api/auth/token", json=login, headers={"Authorization": ""})
    assert owner.status == 200  # the password is still the owner's
    # Disabling kills an unspent link too; a link is never spent on a disabled account.
    other = await add_manager(api, "off@acme.example", acme["customer"])
    await accounts.set_disabled(other["user"]["id"], True)
    await accounts.set_disabled(other["user"]["id"], False)
    other_code = other["link"].partition("#welcome=")[2]
    assert (await welcome(api, other_code, "a long enough password")).status == 401


async def test_a_lost_welcome_link_is_replaced_and_the_account_keeps_a_history(
    api: Client, settings: Settings, acme: dict[str, Any]
) -> None:
    boss = manager(settings, acme["customer"])
    added = await add_manager(api, "lost.boss@acme.example", acme["customer"])
    user_id = added["user"]["id"]
    renewed = await api.post(f"/api/users/{user_id}/welcome", headers=boss)
    assert renewed.status == 201, await renewed.text()
    assert renewed.headers["Cache-Control"] == "no-store"
    new_code = (await renewed.json())["link"].partition("#welcome=")[2]
    old_code = added["link"].partition("#welcome=")[2]
    assert (await welcome(api, old_code, "a long enough password")).status == 401
    assert (await welcome(api, new_code, "a long enough password")).status == 200
    # Chosen: no link is needed any more.
    again = await api.post(f"/api/users/{user_id}/welcome", headers=boss)
    assert again.status == 409
    assert "no welcome link is needed" in (await again.json())["detail"]
    history = await (await api.get(f"/api/users/{user_id}/history", headers=boss)).json()
    assert [(row["actor"], row["change"]) for row in history["items"]] == [
        ("admin:livevent-service", f"added as a manager of customer {acme['customer']}"),
        ("manager:user:99", "a new welcome link"),
        (f"user:{user_id}", "chose their password"),
    ]
    # Another customer's manager knows no such user.
    globex = await customer_with_event(api, "Globex")
    stranger = manager(settings, globex["customer"])
    for path in (f"/api/users/{user_id}/history", f"/api/users/{user_id}/welcome"):
        method = api.get if path.endswith("history") else api.post
        assert (await method(path, headers=stranger)).status == 404


async def test_refused_invitations_count_for_nothing_and_delegates_have_their_own_cap(
    aiohttp_client: AiohttpClient, store_url: str, service: EventService
) -> None:
    """Issue 35: 200 bad requests from one delegate stopped a customer's invitations."""
    settings = Settings(
        database_url=store_url,
        invitations_per_customer_per_hour=3,
        invitations_per_delegate_per_hour=1,
    )
    api = await admin_api(aiohttp_client, settings, service)
    acme = await customer_with_event(api, "Acme")
    event_id = acme["event"]["id"]
    boss = manager(settings, acme["customer"])
    for body in ({"channel": 99, "email": "x@acme.example", "name": "X"},  # 422
                 {"channel": 1, "user_id": 424242},  # 404
                 {"channel": 1, "email": "not an email"}):  # fmt: skip
        refused = await api.post(f"/api/events/{event_id}/invitations", json=body, headers=boss)
        assert refused.status in (404, 422), await refused.text()
    delegate = await person(
        settings, service, "helper@acme.example", acme["customer"],
        Grant(event=event_id, can=Capability.MANAGE),
    )  # fmt: skip
    as_delegate = bearer_of(settings, service, delegate)
    first = await invite(api, as_delegate, event_id, email="d1@acme.example", name="D", channel=1)
    assert first.status == 201, await first.text()
    second = await invite(api, as_delegate, event_id, email="d2@acme.example", name="D", channel=1)
    assert second.status == 429
    assert "your 1 invitations an hour" in (await second.json())["detail"]
    # The customer's own managers still have two of their three.
    for n in range(2):
        made = await invite(api, boss, event_id, email=f"m{n}@acme.example", name="M", channel=1)
        assert made.status == 201, await made.text()
    over = await invite(api, boss, event_id, email="m9@acme.example", name="M", channel=1)
    assert over.status == 429


async def test_a_managers_directory_shows_grants_on_its_own_customers_events_only(
    api: Client, settings: Settings, service: EventService, acme: dict[str, Any]
) -> None:
    globex = await customer_with_event(api, "Globex")
    shared = await person(
        settings, service, "shared@acme.example", acme["customer"],
        Grant(event=acme["event"]["id"], can=Capability.SPEAK),
    )  # fmt: skip
    # An admin granted them something on another customer's event.
    await accounts_for(settings, service).grant(
        shared.id, Grant(event=globex["event"]["id"], can=Capability.SPEAK)
    )
    boss = manager(settings, acme["customer"])
    users = await (await api.get("/api/users", headers=boss)).json()
    (listed,) = [u for u in users["items"] if u["email"] == "shared@acme.example"]
    assert [g["event"] for g in listed["grants"]] == [acme["event"]["id"]]


async def test_a_delegate_cannot_duplicate_their_event_into_more_events(
    api: Client, settings: Settings, service: EventService, acme: dict[str, Any]
) -> None:
    """Issue 35: a one-event delegate could make events without limit by duplicating."""
    event_id = acme["event"]["id"]
    delegate = await person(
        settings, service, "runner@acme.example", acme["customer"],
        Grant(event=event_id, can=Capability.MANAGE),
    )  # fmt: skip
    path = f"/api/events/{event_id}/duplicate"
    refused = await api.post(path, json={}, headers=bearer_of(settings, service, delegate))
    assert refused.status == 403, await refused.text()
    assert "only the customer's managers" in (await refused.json())["detail"]
    made = await api.post(path, json={}, headers=manager(settings, acme["customer"]))
    assert made.status == 201, await made.text()
