"""Signing in over /api/auth: answers that reveal no accounts, lockout, refresh, grants."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from pytest_aiohttp import AiohttpClient

from livevent.api import create_app
from livevent.auth import verifier_for
from livevent.auth.accounts import Accounts
from livevent.events.service import EventService
from livevent.model import Capability, EventCreate, Grant, Role, User, UserCreate
from livevent.settings import Settings

Client = TestClient[web.Request, web.Application]
PASSWORD = "correct horse battery"


@pytest.fixture
def settings(store_url: str) -> Settings:
    return Settings(
        database_url=store_url, login_failures_per_account=3, api_requests_per_ip_per_minute=0
    )


@pytest.fixture
def accounts(settings: Settings, service: EventService) -> Accounts:
    return Accounts.from_settings(
        settings, users=service.store.users, bus=service.bus, verifier=verifier_for(settings)
    )


@pytest.fixture
async def anonymous(
    aiohttp_client: AiohttpClient, settings: Settings, service: EventService
) -> Client:
    return await aiohttp_client(create_app(settings, service=service))


async def make_user(
    accounts: Accounts, email: str, role: Role = Role.SPEAKER, **extra: object
) -> User:
    data = {"email": email, "name": email, "role": role, "password": SecretStr(PASSWORD), **extra}
    return await accounts.create_user(UserCreate.model_validate(data))


async def login(client: Client, email: str, password: str) -> tuple[int, dict[str, object]]:
    response = await client.post("/api/auth/token", json={"email": email, "password": password})
    return response.status, await response.json()


def bearer(token: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_login_gives_tokens_that_carry_the_users_grants(
    anonymous: Client, accounts: Accounts, service: EventService
) -> None:
    event = await service.create_event(
        EventCreate(name="Talk", starts_at="2026-12-01T10:00Z", source_language="en-US"),
        actor="t",
    )
    user = await make_user(accounts, "ana@example.org")
    await accounts.grant(user.id, Grant(event=event.id, can=Capability.INTERPRET, channel=2))
    response = await anonymous.post(
        "/api/auth/token", json={"email": "ANA@example.org", "password": PASSWORD}
    )
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    pair = await response.json()
    assert pair["token_type"] == "Bearer" and pair["expires_in"] == 900
    me = await (await anonymous.get("/api/auth/me", headers=bearer(pair["access_token"]))).json()
    assert me["sub"] == f"user:{user.id}" and me["role"] == "speaker"
    assert me["grants"] == [{"event": event.id, "can": "interpret", "channel": 2}]
    # A speaker's token opens no other door of the API.
    assert (await anonymous.get("/api/events", headers=bearer(pair["access_token"]))).status == 403


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    anonymous: Client, accounts: Accounts
) -> None:
    await make_user(accounts, "ana@example.org")
    wrong = await login(anonymous, "ana@example.org", "not the password")
    unknown = await login(anonymous, "nobody@example.org", "not the password")
    malformed = await login(anonymous, "not an email", "not the password")
    assert wrong == unknown == malformed
    assert wrong[0] == 401 and wrong[1]["detail"] == "wrong email or password"


async def test_lockout_looks_the_same_for_accounts_and_strangers(
    anonymous: Client, accounts: Accounts
) -> None:
    await make_user(accounts, "ana@example.org")
    for email in ("ana@example.org", "nobody@example.org"):
        statuses = [(await login(anonymous, email, "guess"))[0] for _ in range(3)]
        assert statuses == [401, 401, 401]
    answers = []
    for email in ("ana@example.org", "nobody@example.org"):
        response = await anonymous.post(
            "/api/auth/token", json={"email": email, "password": PASSWORD}
        )
        body = await response.json()
        # Each email's lockout runs from its own first failure: only the wait may differ.
        assert 0 < body.pop("retry_after") <= 900
        assert 0 < int(response.headers["Retry-After"]) <= 900
        answers.append((response.status, body))
    assert answers[0] == answers[1]
    assert answers[0][0] == 429  # even the right password waits out the lockout


async def test_concurrent_guesses_cannot_pass_the_limit(
    anonymous: Client, accounts: Accounts
) -> None:
    await make_user(accounts, "ana@example.org")
    statuses = await asyncio.gather(
        *(login(anonymous, "ana@example.org", f"guess {n}") for n in range(12))
    )
    assert sorted(status for status, _ in statuses) == [401] * 3 + [429] * 9


async def test_a_success_clears_the_count(anonymous: Client, accounts: Accounts) -> None:
    await make_user(accounts, "ana@example.org")
    for _ in range(2):
        assert (await login(anonymous, "ana@example.org", "typo"))[0] == 401
    assert (await login(anonymous, "ana@example.org", PASSWORD))[0] == 200
    for _ in range(2):
        assert (await login(anonymous, "ana@example.org", "typo"))[0] == 401
    assert (await login(anonymous, "ana@example.org", PASSWORD))[0] == 200


async def test_refresh_tokens_only_refresh_and_access_tokens_only_access(
    anonymous: Client, accounts: Accounts
) -> None:
    await make_user(accounts, "boss@example.org", Role.ADMIN)
    _, pair = await login(anonymous, "boss@example.org", PASSWORD)
    as_access = await anonymous.get("/api/events", headers=bearer(pair["refresh_token"]))
    assert as_access.status == 401
    assert "refresh token" in (await as_access.json())["detail"]
    as_refresh = await anonymous.post(
        "/api/auth/refresh", json={"refresh_token": pair["access_token"]}
    )
    assert as_refresh.status == 401
    fresh = await anonymous.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert fresh.status == 200
    renewed = await fresh.json()
    assert (
        await anonymous.get("/api/events", headers=bearer(renewed["access_token"]))
    ).status == 200


@pytest.mark.parametrize("change", ["password", "disable", "delete"])
async def test_refresh_ends_when_the_password_or_the_user_does(
    anonymous: Client, accounts: Accounts, service: EventService, change: str
) -> None:
    user = await make_user(accounts, "ana@example.org")
    _, pair = await login(anonymous, "ana@example.org", PASSWORD)
    if change == "password":
        await accounts.set_password(user.id, "a brand new password")
    elif change == "disable":
        await service.store.users.set_disabled(user.id, True)
    else:
        await service.store.users.delete(user.id)
    response = await anonymous.post(
        "/api/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert response.status == 401
    if change == "password":
        status, _ = await login(anonymous, "ana@example.org", "a brand new password")
        assert status == 200
    if change == "disable":  # the right password of a disabled user: the usual answer
        assert await login(anonymous, "ana@example.org", PASSWORD) == await login(
            anonymous, "nobody@example.org", PASSWORD
        )


async def test_a_manage_grant_opens_one_events_routes(
    anonymous: Client, accounts: Accounts, service: EventService
) -> None:
    events = [
        await service.create_event(
            EventCreate(name=name, starts_at="2026-12-01T10:00Z", source_language="en-US"),
            actor="t",
        )
        for name in ("Mine", "Theirs")
    ]
    user = await make_user(accounts, "host@example.org", Role.SPEAKER)
    await accounts.grant(user.id, Grant(event=events[0].id, can=Capability.MANAGE))
    _, pair = await login(anonymous, "host@example.org", PASSWORD)
    headers = bearer(pair["access_token"])
    mine = await anonymous.post(f"/api/events/{events[0].id}/schedule", headers=headers)
    assert mine.status == 200
    theirs = await anonymous.post(f"/api/events/{events[1].id}/schedule", headers=headers)
    assert theirs.status == 403
    history = await service.history(events[0].id)
    assert history[-1].actor == f"speaker:user:{user.id}"


async def test_logins_per_address_are_limited(
    aiohttp_client: AiohttpClient, store_url: str, service: EventService
) -> None:
    settings = Settings(database_url=store_url, login_attempts_per_ip_per_minute=4)
    client = await aiohttp_client(create_app(settings, service=service))
    statuses = [(await login(client, f"u{n}@example.org", "x"))[0] for n in range(6)]
    assert statuses == [401] * 4 + [429] * 2


async def test_no_login_where_another_issuer_signs_tokens(
    aiohttp_client: AiohttpClient, store_url: str, service: EventService, tmp_path: object
) -> None:
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    public = Path(str(tmp_path)) / "issuer.pem"
    public.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    settings = Settings(database_url=store_url, auth_public_key_file=public)
    client = await aiohttp_client(create_app(settings, service=service))
    status, body = await login(client, "ana@example.org", PASSWORD)
    assert status == 404 and "another issuer" in str(body["detail"])


async def test_a_refresh_token_works_once_and_a_replay_signs_everyone_out(
    anonymous: Client, accounts: Accounts
) -> None:
    await make_user(accounts, "ana@example.org")
    _, first = await login(anonymous, "ana@example.org", PASSWORD)

    async def refresh(token: object) -> tuple[int, dict[str, object]]:
        response = await anonymous.post("/api/auth/refresh", json={"refresh_token": token})
        return response.status, await response.json()

    status, second = await refresh(first["refresh_token"])
    assert status == 200
    # A copy of the first token replayed (by a thief, say): refused...
    status, body = await refresh(first["refresh_token"])
    assert status == 401 and "already used" in str(body["detail"])
    # ...and the rightful holder's newer token stops working too: everyone signs in again.
    status, _ = await refresh(second["refresh_token"])
    assert status == 401
    assert (await login(anonymous, "ana@example.org", PASSWORD))[0] == 200
