"""Tokens on both sockets, table-driven: who may speak, who may listen to a private event."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from livevent.auth import Role, TokenIssuer
from livevent.bus import MemoryBus
from livevent.model import (
    Capability,
    ChannelKind,
    ChannelSpec,
    EventCreate,
    EventPatch,
    EventStatus,
    Grant,
)
from livevent.runtime import LiveRuntime
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.live import Heard, listen_until

Client = TestClient[web.Request, web.Application]
OTHER_SECRET = "some-other-secret-that-is-long-enough-for-hmac-sha256-signing!"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'auth.db'}", joins_per_ip_per_minute=0)
    async with LiveRuntime(settings, bus=MemoryBus()) as opened:
        yield opened


@pytest.fixture
async def event(runtime: LiveRuntime) -> tuple[int, int]:
    assert runtime.service is not None
    created = await runtime.service.create_event(
        EventCreate(
            name="Board", starts_at="2026-12-01T10:00Z", source_language="en-US",
            channels=[ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN)],
        ),
        actor="t",
    )  # fmt: skip
    await runtime.service.act(created.id, "schedule", actor="t")
    return created.id, created.customer_id


@pytest.fixture
def issuer(runtime: LiveRuntime) -> TokenIssuer:
    return TokenIssuer(runtime.settings.auth_secret.get_secret_value())


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, runtime: LiveRuntime) -> Client:
    return await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))


async def closed_with(client: Client, path: str) -> tuple[int | None, str]:
    ws = await client.ws_connect(path)
    log = await listen_until(ws, Heard(), lambda log: log.close_code is not None)
    return log.close_code, log.close_reason or ""


def expired(event_id: int) -> str:
    """A speaker token signed with the right secret that expired a minute ago."""
    now = int(time.time())
    payload = {
        "sub": "x", "role": "speaker", "events": [event_id], "channel": 1, "typ": "access",
        "exp": now - 60, "iat": now - 120, "jti": "j", "aud": "livevent", "iss": "livevent",
    }  # fmt: skip
    return jwt.encode(payload, Settings().auth_secret.get_secret_value(), algorithm="HS256")


SPEAK_CASES = [
    ("no-token", lambda i, e, c: None, 4001, "needs a token"),
    ("forged", lambda i, e, c: TokenIssuer(OTHER_SECRET).issue(
        sub="x", role=Role.SPEAKER, ttl=60, events=[e], channel=1), 4001, "invalid"),
    ("alg-none", lambda i, e, c: jwt.encode(
        {"sub": "x", "role": "speaker", "events": [e], "channel": 1, "exp": int(time.time()) + 60,
         "iat": int(time.time()), "jti": "j", "aud": "livevent", "iss": "livevent"},
        None, algorithm="none"), 4001, "algorithm"),
    ("expired", lambda i, e, c: expired(e), 4001, "expired"),
    ("wrong-event", lambda i, e, c: i.issue(
        sub="x", role=Role.SPEAKER, ttl=60, events=[e + 1], channel=1), 4003, "does not grant"),
    ("wrong-channel", lambda i, e, c: i.issue(
        sub="x", role=Role.SPEAKER, ttl=60, events=[e], channel=2), 4003, "channel 2, not 1"),
    ("wrong-role", lambda i, e, c: i.issue(
        sub="x", role=Role.LISTENER, ttl=60, events=[e]), 4003, "cannot speak"),
    ("other-customer-manager", lambda i, e, c: i.issue(
        sub="x", role=Role.MANAGER, ttl=60, customer=c + 1), 4003, "cannot speak"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "make", "code", "reason"), SPEAK_CASES, ids=[c[0] for c in SPEAK_CASES]
)
async def test_speak_refuses_bad_tokens_and_does_not_go_live(
    client: Client, runtime: LiveRuntime, event: tuple[int, int], issuer: TokenIssuer,
    name: str, make: object, code: int, reason: str,
) -> None:  # fmt: skip
    event_id, customer = event
    token = make(issuer, event_id, customer)  # type: ignore[operator]
    path = f"/speak/{event_id}/1" + (f"?token={token}" if token else "")
    got, why = await closed_with(client, path)
    assert got == code, why
    assert reason in why
    assert runtime.service is not None
    assert (await runtime.service.get_event(event_id)).status is EventStatus.SCHEDULED


@pytest.mark.parametrize("role", [Role.SPEAKER, Role.MANAGER, Role.ADMIN])
async def test_speak_accepts_granted_tokens(
    client: Client, event: tuple[int, int], issuer: TokenIssuer, role: Role
) -> None:
    event_id, customer = event
    token = issuer.issue(
        sub="x", role=role, ttl=60, events=[event_id], channel=1, customer=customer
    )
    ws = await client.ws_connect(
        f"/speak/{event_id}/1", headers={"Authorization": f"Bearer {token}"}
    )
    assert (await ws.receive_json())["type"] == "ready"
    await ws.close()


async def test_private_events_need_a_listener_token_and_expired_ones_are_closed(
    client: Client, runtime: LiveRuntime, event: tuple[int, int], issuer: TokenIssuer
) -> None:
    event_id, _ = event
    assert runtime.service is not None
    await runtime.service.update_event(event_id, EventPatch(public=False))
    await runtime.start(event_id)
    code, why = await closed_with(client, f"/listen/{event_id}")
    assert code == 4001 and "not open to the public" in why
    other = issuer.issue(sub="l", role=Role.LISTENER, ttl=60, events=[event_id + 1])
    code, why = await closed_with(client, f"/listen/{event_id}?token={other}")
    assert code == 4003 and "does not grant" in why
    short = issuer.issue(sub="l", role=Role.LISTENER, ttl=2, events=[event_id])
    ws = await client.ws_connect(f"/listen/{event_id}?token={short}")
    log = await listen_until(ws, Heard(), lambda log: log.close_code is not None, within=10)
    assert log.of_type("welcome"), "the listener was admitted first"
    assert log.close_code == 4001 and "expired" in (log.close_reason or "")


async def test_tokens_from_another_issuer_through_the_settings(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    public = tmp_path / "issuer.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'ext.db'}", auth_public_key_file=public
    )
    async with LiveRuntime(settings, bus=MemoryBus()) as runtime:
        assert runtime.service is not None
        created = await runtime.service.create_event(
            EventCreate(name="x", starts_at="2026-12-01T10:00Z", source_language="en-US"),
            actor="t",
        )
        await runtime.service.act(created.id, "schedule", actor="t")
        client = await aiohttp_client(create_runtime_app(settings, runtime=runtime))
        now = int(time.time())
        claims = {
            "sub": "sso-user", "role": "speaker", "events": [created.id], "channel": 1,
            "exp": now + 60, "iat": now, "jti": "x", "aud": "livevent", "iss": "livevent",
        }  # fmt: skip
        token = jwt.encode(claims, key, algorithm="ES256")
        ws = await client.ws_connect(f"/speak/{created.id}/1?token={token}")
        assert (await ws.receive_json())["type"] == "ready"
        await ws.close()
        ours = TokenIssuer(settings.auth_secret.get_secret_value()).issue(
            sub="x", role=Role.SPEAKER, ttl=60, events=[created.id], channel=1
        )
        code, _ = await closed_with(client, f"/speak/{created.id}/1?token={ours}")
        assert code == 4001  # HMAC tokens are not accepted once an issuer's key is set


GRANT_CASES = [
    # (grant capability, its channel, channel spoken on, close code or None for admitted)
    (Capability.SPEAK, None, 1, None),
    (Capability.SPEAK, None, 2, 4003),
    (Capability.INTERPRET, 2, 2, None),
    (Capability.INTERPRET, 2, 1, 4003),
    (Capability.INTERPRET, 3, 2, 4003),
    (Capability.MANAGE, None, 2, None),
    (Capability.LISTEN, None, 1, 4003),
]


@pytest.mark.parametrize(("can", "granted", "spoken", "code"), GRANT_CASES)
async def test_user_grants_decide_who_speaks_where(
    client: Client, event: tuple[int, int], issuer: TokenIssuer,
    can: Capability, granted: int | None, spoken: int, code: int | None,
) -> None:  # fmt: skip
    event_id, _ = event
    grant = Grant(event=event_id, can=can, channel=granted)
    token = issuer.issue(sub="user:7", role=Role.SPEAKER, ttl=60, grants=[grant])
    ws = await client.ws_connect(f"/speak/{event_id}/{spoken}?token={token}")
    log = await listen_until(
        ws, Heard(), lambda log: bool(log.of_type("ready")) or log.close_code is not None
    )
    if code is None:
        assert log.of_type("ready")
    else:
        assert log.close_code == code, log.close_reason
    await ws.close()


async def test_a_listen_grant_opens_a_private_event(
    client: Client, runtime: LiveRuntime, event: tuple[int, int], issuer: TokenIssuer
) -> None:
    event_id, _ = event
    assert runtime.service is not None
    await runtime.service.update_event(event_id, EventPatch(public=False))
    await runtime.start(event_id)
    grant = Grant(event=event_id, can=Capability.LISTEN)
    token = issuer.issue(sub="user:8", role=Role.LISTENER, ttl=60, grants=[grant])
    ws = await client.ws_connect(f"/listen/{event_id}?token={token}")
    log = await listen_until(ws, Heard(), lambda log: bool(log.of_type("welcome")))
    assert log.of_type("welcome")
    await ws.close()
    other = Grant(event=event_id + 1, can=Capability.LISTEN)
    token = issuer.issue(sub="user:8", role=Role.LISTENER, ttl=60, grants=[other])
    code, why = await closed_with(client, f"/listen/{event_id}?token={token}")
    assert code == 4003 and "does not grant" in why


async def test_a_listen_grant_is_a_listener_whatever_the_accounts_role(
    client: Client, runtime: LiveRuntime, event: tuple[int, int], issuer: TokenIssuer
) -> None:
    """Issue 35: a speaker-role user whose only grant was `listen` heard rehearsals and got
    in past max_listeners, as staff."""
    event_id, _ = event
    assert runtime.service is not None
    await runtime.service.update_event(event_id, EventPatch(public=False, max_listeners=1))
    await runtime.start(event_id)
    listening = [Grant(event=event_id, can=Capability.LISTEN)]
    first = issuer.issue(sub="user:8", role=Role.LISTENER, ttl=60, grants=listening)
    ws = await client.ws_connect(f"/listen/{event_id}?token={first}")
    await listen_until(ws, Heard(), lambda log: bool(log.of_type("welcome")))
    second = issuer.issue(sub="user:9", role=Role.SPEAKER, ttl=60, grants=listening)
    code, why = await closed_with(client, f"/listen/{event_id}?token={second}")
    assert code == 4029, why  # audience, counted against the limit
    await ws.close()


async def test_a_staff_token_holds_only_a_few_feeds(
    client: Client, runtime: LiveRuntime, event: tuple[int, int], issuer: TokenIssuer
) -> None:
    event_id, _ = event
    await runtime.start(event_id)
    booth = Grant(event=event_id, can=Capability.INTERPRET, channel=2)
    token = issuer.issue(sub="user:3", role=Role.SPEAKER, ttl=60, grants=[booth])
    feeds = []
    for _ in range(runtime.settings.staff_feeds_per_token):
        ws = await client.ws_connect(f"/listen/{event_id}?token={token}")
        await listen_until(ws, Heard(), lambda log: bool(log.of_type("welcome")))
        feeds.append(ws)
    code, why = await closed_with(client, f"/listen/{event_id}?token={token}")
    assert code == 4029 and "staff feeds" in why
    await feeds.pop().close()
    again = await client.ws_connect(f"/listen/{event_id}?token={token}")
    log = await listen_until(again, Heard(), lambda log: bool(log.of_type("welcome")) or
                             log.close_code is not None)  # fmt: skip
    assert log.of_type("welcome"), log.close_reason  # a closed feed frees its place
    for ws in [*feeds, again]:
        await ws.close()


async def test_anonymous_stats_show_counts_and_state_but_nobody_and_no_levels(
    client: Client, runtime: LiveRuntime, event: tuple[int, int], issuer: TokenIssuer
) -> None:
    """Issue 35: anyone saw who speaks and stands by, microphone levels and rehearsals."""
    event_id, customer = event
    booth = Grant(event=event_id, can=Capability.SPEAK)
    token = issuer.issue(sub="user:ana", role=Role.SPEAKER, ttl=60, grants=[booth])
    ws = await client.ws_connect(f"/speak/{event_id}/1?token={token}")
    await listen_until(ws, Heard(), lambda log: bool(log.of_type("ready")))  # a rehearsal
    anonymous = await (await client.get(f"/live/{event_id}/stats")).json()
    assert anonymous["status"] == "SCHEDULED" and "rehearsal" not in anonymous
    floor = anonymous["channels"]["en-US"]
    assert floor["state"] == "offline" and floor["listeners"] == 0
    assert not {"who", "standby_who", "input_level", "input_peak", "speaker"} & set(floor)
    assert "user:ana" not in json.dumps(anonymous) and "instances" not in anonymous
    boss = issuer.issue(sub="user:1", role=Role.MANAGER, ttl=60, customer=customer)
    organizer = await (
        await client.get(f"/live/{event_id}/stats", headers={"Authorization": f"Bearer {boss}"})
    ).json()
    assert organizer["rehearsal"] is True
    assert organizer["channels"]["en-US"]["who"] == "user:ana"
    await ws.close()


async def test_a_drafts_listener_link_says_it_is_not_scheduled_yet(
    client: Client, runtime: LiveRuntime
) -> None:
    """Issue 39: a listener who got the link early read "Event not found ... needs a
    token". The draft's name and channels stay the organizer's until it is scheduled."""
    assert runtime.service is not None
    draft = await runtime.service.create_event(
        EventCreate(name="Secret plans", starts_at="2026-12-01T10:00Z", source_language="en-US"),  # type: ignore[arg-type]
        actor="t",
    )
    response = await client.get(f"/live/{draft.id}/channels")
    body = await response.json()
    assert response.status == 401 and body["draft"] is True, body
    assert "not scheduled yet" in body["detail"] and "Secret" not in str(body)
    code, why = await closed_with(client, f"/listen/{draft.id}")
    assert code == 4001 and "not scheduled yet" in why
