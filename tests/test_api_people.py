"""Inviting speakers and interpreters: grants, one-time sign-in links, customers kept apart.

Both stores, over a real socket, with the manager tokens the console sends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from livevent.auth import Role, TokenIssuer
from livevent.auth.access import may_speak
from livevent.auth.invitations import code_hash
from livevent.auth.signing import verifier_for
from livevent.events.service import EventService
from livevent.model import TranscriptSegment
from livevent.settings import Settings

Client = TestClient[web.Request, web.Application]
EVENT: dict[str, Any] = {
    "name": "Board meeting",
    "starts_at": "2026-12-01T10:00:00Z",
    "source_language": "en-US",
    "channels": [
        {"language": "es-ES", "kind": "human"},
        {"language": "fr-FR", "kind": "machine"},
    ],
}


def manager(settings: Settings, customer: int) -> dict[str, str]:
    token = TokenIssuer(settings.auth_secret.get_secret_value()).issue(
        sub="user:99", role=Role.MANAGER, ttl=300, customer=customer
    )
    return {"Authorization": f"Bearer {token}"}


async def customer_with_event(api: Client, name: str) -> dict[str, Any]:
    customer = await (await api.post("/api/customers", json={"name": name})).json()
    event = await (
        await api.post("/api/events", json={**EVENT, "customer_id": customer["id"]})
    ).json()
    return {"customer": customer["id"], "event": event}


@pytest.fixture
async def acme(api: Client) -> dict[str, Any]:
    return await customer_with_event(api, "Acme")


@pytest.fixture
async def globex(api: Client) -> dict[str, Any]:
    return await customer_with_event(api, "Globex")


def channel_of(event: dict[str, Any], language: str) -> int:
    return next(c["number"] for c in event["channels"] if c["language"] == language)


async def invite(api: Client, headers: dict[str, str], event_id: int, **body: Any) -> Any:
    return await api.post(f"/api/events/{event_id}/invitations", json=body, headers=headers)


async def test_an_invited_interpreter_signs_in_once_and_may_speak_on_that_channel_only(
    api: Client, settings: Settings, service: EventService, acme: dict[str, Any]
) -> None:
    event = acme["event"]
    spanish = channel_of(event, "es-ES")
    response = await invite(
        api,
        manager(settings, acme["customer"]),
        event["id"],
        email="Ana@Example.org",
        name="Ana Interpreter",
        channel=spanish,
    )
    assert response.status == 201, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    invitation = await response.json()
    assert invitation["user"]["role"] == "speaker"
    assert invitation["user"]["customer_id"] == acme["customer"]
    assert invitation["grant"] == {"event": event["id"], "can": "interpret", "channel": spanish}
    base, _, code = invitation["link"].partition("/signin#code=")
    assert base == str(api.make_url("/")).rstrip("/") and len(code) >= 40
    # Only the hash is stored: the code itself is nowhere in the store.
    async with service.store.database.read() as connection:
        stored = await connection.fetch("SELECT code_hash FROM sign_in_links")
    assert [row["code_hash"] for row in stored] == [code_hash(code)]

    signed = await api.post("/api/auth/link", json={"code": code}, headers={"Authorization": ""})
    assert signed.status == 200, await signed.text()
    assert signed.headers["Cache-Control"] == "no-store"
    tokens = await signed.json()
    assert tokens["next"] == f"/speak/{event['id']}/{spanish}"
    config = await service.get_config(event["id"])
    verifier = verifier_for(settings)
    claims = may_speak(verifier, tokens["access_token"], config, config.channel(spanish))  # type: ignore[arg-type]
    assert claims.sub == f"user:{invitation['user']['id']}"
    with pytest.raises(Exception, match="do not include speaking"):
        may_speak(verifier, tokens["access_token"], config, config.channel(1))  # type: ignore[arg-type]

    again = await api.post("/api/auth/link", json={"code": code}, headers={"Authorization": ""})
    assert again.status == 401
    assert "not valid" in (await again.json())["detail"]

    # The refresh token from the link works like a login's.
    refreshed = await api.post(
        "/api/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
        headers={"Authorization": ""},
    )
    assert refreshed.status == 200


async def test_inviting_an_existing_person_reuses_the_account(
    api: Client, settings: Settings, acme: dict[str, Any]
) -> None:
    headers = manager(settings, acme["customer"])
    event = acme["event"]
    first = await (
        await invite(api, headers, event["id"], email="bo@example.org", name="Bo", channel=1)
    ).json()
    assert first["grant"] == {"event": event["id"], "can": "speak", "channel": None}
    second = await invite(
        api, headers, event["id"], user_id=first["user"]["id"], channel=channel_of(event, "es-ES")
    )
    assert second.status == 201
    people = await (await api.get(f"/api/events/{event['id']}/people", headers=headers)).json()
    assert [p["email"] for p in people["items"]] == ["bo@example.org"]
    assert len(people["items"][0]["grants"]) == 2
    users = await (await api.get("/api/users", headers=headers)).json()
    assert [u["email"] for u in users["items"]] == ["bo@example.org"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"channel": 2}, 422, None),  # nobody named
        ({"channel": 3, "email": "x@example.org", "name": "X"}, 422, "channel"),  # machine
        ({"channel": 42, "email": "x@example.org", "name": "X"}, 422, "channel"),  # none such
        ({"channel": 2, "email": "x@example.org"}, 422, "name"),
        ({"channel": 2, "email": "not an email", "name": "X"}, 422, "email"),
        ({"channel": 2, "user_id": 1, "email": "x@example.org"}, 422, None),
    ],
)
async def test_bad_invitations_say_which_field(
    api: Client,
    settings: Settings,
    acme: dict[str, Any],
    body: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    response = await invite(api, manager(settings, acme["customer"]), acme["event"]["id"], **body)
    assert response.status == status
    problem = await response.json()
    if field is not None:
        assert field in problem["fields"], problem
    users = await (await api.get("/api/users")).json()
    assert users["items"] == []  # nothing was created on the way to the error


async def test_a_manager_cannot_reach_another_customers_people(
    api: Client, settings: Settings, acme: dict[str, Any], globex: dict[str, Any]
) -> None:
    theirs = manager(settings, globex["customer"])
    ours = manager(settings, acme["customer"])
    victim = await (
        await invite(
            api, theirs, globex["event"]["id"], email="eve@globex.example", name="Eve", channel=1
        )
    ).json()
    victim_id = victim["user"]["id"]
    # Their users, their event's people, inviting or removing there: all closed.
    assert (await api.get(f"/api/users?customer={globex['customer']}", headers=ours)).status == 403
    mine = await (await api.get("/api/users", headers=ours)).json()
    assert mine["items"] == []
    event_id = globex["event"]["id"]
    assert (await api.get(f"/api/events/{event_id}/people", headers=ours)).status == 403
    assert (await api.get(f"/api/events/{event_id}/links", headers=ours)).status == 403
    stolen = await invite(api, ours, event_id, email="mallory@example.org", name="M", channel=1)
    assert stolen.status == 403
    removed = await api.delete(f"/api/events/{event_id}/people/{victim_id}", headers=ours)
    assert removed.status == 403
    # Their user into our event: unknown by id, refused by email, and nothing changes.
    ours_event = acme["event"]["id"]
    by_id = await invite(api, ours, ours_event, user_id=victim_id, channel=1)
    assert by_id.status == 404
    by_email = await invite(api, ours, ours_event, email="eve@globex.example", name="E", channel=1)
    assert by_email.status == 409
    assert "email" in (await by_email.json())["fields"]
    eve = await (await api.get(f"/api/events/{event_id}/people", headers=theirs)).json()
    assert eve["items"][0]["grants"] == [{"event": event_id, "can": "speak", "channel": None}]


async def test_an_expired_link_signs_nobody_in(
    api: Client, service: EventService, acme: dict[str, Any], settings: Settings
) -> None:
    invitation = await (
        await invite(
            api,
            manager(settings, acme["customer"]),
            acme["event"]["id"],
            email="late@example.org",
            name="Late",
            channel=1,
        )
    ).json()
    await service.store.links.add(
        code_hash("x" * 43),
        user_id=invitation["user"]["id"],
        event_id=acme["event"]["id"],
        channel=1,
        created_by="test",
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    response = await api.post("/api/auth/link", json={"code": "x" * 43})
    assert response.status == 401
    assert (await api.post("/api/auth/link", json={"code": "short"})).status == 422


async def test_nobody_is_invited_to_an_event_that_is_over(
    api: Client, settings: Settings, acme: dict[str, Any]
) -> None:
    event_id = acme["event"]["id"]
    assert (await api.post(f"/api/events/{event_id}/cancel", json={"reason": "x"})).status == 200
    response = await invite(
        api,
        manager(settings, acme["customer"]),
        event_id,
        email="z@example.org",
        name="Z",
        channel=1,
    )
    assert response.status == 409
    assert "CANCELLED" in (await response.json())["detail"]


async def test_removing_a_person_takes_back_their_grants(
    api: Client, settings: Settings, acme: dict[str, Any]
) -> None:
    headers = manager(settings, acme["customer"])
    event_id = acme["event"]["id"]
    invitation = await (
        await invite(api, headers, event_id, email="cy@example.org", name="Cy", channel=1)
    ).json()
    user_id = invitation["user"]["id"]
    assert (
        await api.delete(f"/api/events/{event_id}/people/{user_id}", headers=headers)
    ).status == 204
    people = await (await api.get(f"/api/events/{event_id}/people", headers=headers)).json()
    assert people["items"] == []
    again = await api.delete(f"/api/events/{event_id}/people/{user_id}", headers=headers)
    assert again.status == 404


async def test_links_carry_qr_codes_of_the_public_address(
    api: Client, settings: Settings, acme: dict[str, Any]
) -> None:
    event = acme["event"]
    links = await (await api.get(f"/api/events/{event['id']}/links")).json()
    base = str(api.make_url("/")).rstrip("/")
    assert [link["url"] for link in links["listen"]] == [
        f"{base}/listen/{event['id']}?channel={c['language']}" for c in event["channels"]
    ]
    assert all(link["qr"].startswith("data:image/svg+xml") for link in links["listen"])
    # One link for everyone: the page picks each listener's language.
    assert links["everyone"]["url"] == f"{base}/listen/{event['id']}"
    assert links["everyone"]["qr"].startswith("data:image/svg+xml")
    # Machine channels have nobody to speak on them.
    assert [s["language"] for s in links["speak"]] == ["en-US", "es-ES"]


async def test_transcripts_download_as_files(
    api: Client, service: EventService, acme: dict[str, Any]
) -> None:
    event_id = acme["event"]["id"]
    await service.add_transcript_segment(
        TranscriptSegment(
            event_id=event_id,
            sequence=1,
            language="en-US",
            text="Good morning.",
            translations={"es-ES": "Buenos días."},
            start_seconds=0.5,
            end_seconds=1.7,
            spoken_at=datetime(2026, 12, 1, 10, 0, 1, tzinfo=UTC),
        )
    )
    response = await api.get(f"/api/events/{event_id}/transcript?format=srt&language=es-ES")
    assert response.status == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="event-{event_id}-es-ES.srt"'
    )
    assert "00:00:00,500 --> 00:00:01,700\nBuenos días." in await response.text()
    bad = await api.get(f"/api/events/{event_id}/transcript?format=doc")
    assert bad.status == 400
    missing = await api.get(f"/api/events/{event_id}/transcript?format=vtt&language=de-DE")
    assert missing.status == 422
