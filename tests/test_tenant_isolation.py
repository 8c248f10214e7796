"""No spelling of another customer's event id reaches it: every route, every socket, both stores.

The probe that found the hole sent `00000000000222222` where `222222` was refused.
Here every route of the OpenAPI document, the `/live` routes and both sockets get
every spelling of the other customer's id; none may answer with anything of it,
and afterwards the event is exactly as it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from yarl import URL

from livevent.auth import Role, TokenIssuer
from livevent.bus import MemoryBus
from livevent.model import ChannelKind, ChannelSpec, CustomerCreate, EventCreate
from livevent.runtime import LiveRuntime
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.live import Heard, listen_until

Client = TestClient[web.Request, web.Application]


def spellings(event_id: int) -> list[str]:
    """Every way a probe writes a number that is not its one canonical spelling."""
    digits = str(event_id)
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in digits)
    return [
        "0" + digits,
        "0" * 11 + digits,  # 17 characters: the length the old check let through
        "0" * 12 + digits,  # 18
        "0" * 40 + digits,
        "+" + digits,
        "-" + digits,
        " " + digits,
        digits + " ",
        digits + "\n",
        digits + ".0",
        digits + "e0",
        "0x" + format(event_id, "x"),
        fullwidth,
        "\u00b2",  # superscript two: str.isdigit() says yes
        digits + "\u0663",  # an Arabic-Indic digit at the end
        "9" * 5000,
        str(2**53),  # one past the largest id
        digits + "\x00",
    ]


@dataclass
class Tenants:
    runtime: LiveRuntime
    issuer: TokenIssuer
    acme: int
    globex: int
    victim: int  # Globex's private, scheduled event
    draft: int  # Globex's DRAFT

    def manager_of_acme(self) -> str:
        return self.issuer.issue(sub="m", role=Role.MANAGER, ttl=600, customer=self.acme)


@pytest.fixture
async def tenants(store_url: str) -> AsyncIterator[Tenants]:
    settings = Settings(
        database_url=store_url, joins_per_ip_per_minute=0, api_requests_per_ip_per_minute=0
    )
    async with LiveRuntime(settings, bus=MemoryBus()) as runtime:
        service = runtime.service
        assert service is not None
        acme = await service.store.create_customer(CustomerCreate(name="Acme"))
        globex = await service.store.create_customer(CustomerCreate(name="Globex"))
        base: dict[str, Any] = {
            "starts_at": "2026-12-01T10:00Z",
            "source_language": "en-US",
            "customer_id": globex.id,
        }
        victim = await service.create_event(
            EventCreate(
                name="Globex board",
                public=False,
                channels=[ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN)],
                **base,
            ),
            actor="t",
        )
        await service.act(victim.id, "schedule", actor="t")
        draft = await service.create_event(EventCreate(name="Globex draft", **base), actor="t")
        issuer = TokenIssuer(settings.auth_secret.get_secret_value())
        yield Tenants(runtime, issuer, acme.id, globex.id, victim.id, draft.id)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, tenants: Tenants) -> Client:
    runtime = tenants.runtime
    return await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))


def _body(path: str, method: str, event_id: int) -> dict[str, Any] | None:
    """What a real attacker would send on each route, so that a hole would be used."""
    if method == "PATCH":
        return {"name": "taken over"}
    if path.endswith("/channels") and method == "POST":
        return {"language": "fr-FR", "kind": "machine"}
    if path.endswith("/transcript") and method == "POST":
        return {
            "event_id": event_id, "sequence": 1, "language": "en-US", "text": "forged",
            "start_seconds": 0, "end_seconds": 1, "spoken_at": "2026-12-01T10:00:01Z",
        }  # fmt: skip
    if path.endswith(("/notes", "/announce")) and method == "POST":
        return {"text": "forged", "channel": "es-ES"} if path.endswith("/notes") else {"text": "x"}
    if path.endswith("/invitations"):
        return {"channel": 2, "email": "mallory@example.org", "name": "Mallory"}
    if method == "POST":
        return {"reason": "taken over"}
    return None


async def _snapshot(tenants: Tenants, event_id: int) -> tuple[Any, ...]:
    service = tenants.runtime.service
    assert service is not None
    event = await service.get_event(event_id)
    return (
        event.model_dump(),
        len(await service.history(event_id)),
        await service.transcript(event_id),
    )


async def test_no_spelling_of_another_customers_id_reaches_any_route(
    client: Client, tenants: Tenants
) -> None:
    openapi = await (await client.get("/api/openapi.json")).json()
    routes = [
        (method.upper(), path)
        for path, operations in openapi["paths"].items()
        if "{event_id}" in path
        for method in operations
    ]
    routes += [("GET", "/live/{event_id}/channels"), ("GET", "/live/{event_id}/stats")]
    routes += [("POST", "/live/{event_id}/stop"), ("POST", "/live/{event_id}/start")]
    routes += [("GET", "/live/{event_id}/notes"), ("POST", "/live/{event_id}/notes")]
    routes += [("POST", "/live/{event_id}/announce")]
    assert len(routes) >= 14, routes
    headers = {"Authorization": f"Bearer {tenants.manager_of_acme()}", "If-Match": '"2"'}
    before = {e: await _snapshot(tenants, e) for e in (tenants.victim, tenants.draft)}
    tried = 0
    for event_id in (tenants.victim, tenants.draft):
        for spelling in [str(event_id), *spellings(event_id)]:
            for method, template in routes:
                path = (
                    template.replace("{event_id}", quote(spelling, safe=""))
                    .replace("{number}", "2")
                    .replace("{user_id}", "1")
                    .replace("{channel}", "es-ES")
                    .replace("{part}", "20261201T100000.000000Z-i1.ogg")
                    .replace("{output_id}", "1")
                )
                response = await client.request(
                    method,
                    URL(path, encoded=True),
                    json=_body(template, method, event_id),
                    headers=headers,
                )
                body = await response.text()
                tried += 1
                where = f"{method} {path[:60]}"
                assert response.status in (403, 404), (where, response.status, body[:200])
                assert response.content_type == "application/problem+json", where
                assert "Globex" not in body, where
                canonical = spelling == str(event_id)
                assert response.status == (403 if canonical else 404), where
    assert tried > 500
    for event_id, snapshot in before.items():
        assert await _snapshot(tenants, event_id) == snapshot, "the event changed"


async def test_no_spelling_of_an_id_opens_a_socket_to_another_customers_event(
    client: Client, tenants: Tenants
) -> None:
    token = tenants.manager_of_acme()
    for spelling in [str(tenants.victim), *spellings(tenants.victim)]:
        encoded = quote(spelling, safe="")
        for path in (f"/listen/{encoded}?token={token}", f"/speak/{encoded}/1?token={token}"):
            ws = await client.ws_connect(URL(path, encoded=True))
            log = await listen_until(ws, Heard(), lambda log: log.close_code is not None)
            expected = 4003 if spelling == str(tenants.victim) else 4004
            assert log.close_code == expected, (path[:40], log.close_code, log.close_reason)
            assert not any("Globex" in str(m) for m in log.raw)
    service = tenants.runtime.service
    assert service is not None
    assert (await service.get_event(tenants.victim)).status.value == "SCHEDULED"
    assert tenants.victim not in tenants.runtime.sessions


@pytest.mark.parametrize("channel", ["\u00b2", "01", "+1", "1 ", "\uff11", "9" * 400, "1\x00"])
async def test_odd_channel_keys_close_with_not_found(
    client: Client, tenants: Tenants, channel: str
) -> None:
    admin = tenants.issuer.issue(sub="a", role=Role.ADMIN, ttl=600)
    encoded = quote(channel, safe="")
    for path in (
        f"/speak/{tenants.victim}/{encoded}?token={admin}",
        f"/listen/{tenants.victim}?channel={encoded}&token={admin}",
    ):
        ws = await client.ws_connect(URL(path, encoded=True))
        log = await listen_until(ws, Heard(), lambda log: log.close_code is not None)
        assert log.close_code == 4004, (path[:50], log.close_code, log.close_reason)


async def test_live_routes_need_listen_access_for_private_events_and_drafts(
    client: Client, tenants: Tenants
) -> None:
    for event_id in (tenants.victim, tenants.draft):
        for route in ("channels", "stats"):
            anonymous = await client.get(f"/live/{event_id}/{route}")
            assert anonymous.status == 401, route
            assert "Globex" not in await anonymous.text()
            manager = tenants.manager_of_acme()
            other = await client.get(
                f"/live/{event_id}/{route}", headers={"Authorization": f"Bearer {manager}"}
            )
            assert other.status == 403, route
    owner = tenants.issuer.issue(sub="g", role=Role.MANAGER, ttl=600, customer=tenants.globex)
    mine = await client.get(
        f"/live/{tenants.victim}/channels", headers={"Authorization": f"Bearer {owner}"}
    )
    assert mine.status == 200
    assert (await mine.json())["name"] == "Globex board"


async def test_going_live_from_the_console_is_in_the_history_under_the_callers_name(
    client: Client, tenants: Tenants
) -> None:
    owner = tenants.issuer.issue(sub="user:7", role=Role.MANAGER, ttl=600, customer=tenants.globex)
    started = await client.post(
        f"/live/{tenants.victim}/start", headers={"Authorization": f"Bearer {owner}"}
    )
    assert started.status == 201, await started.text()
    service = tenants.runtime.service
    assert service is not None
    moves = [row for row in await service.history(tenants.victim) if row.to_status == "LIVE"]
    assert [row.actor for row in moves] == ["manager:user:7"]
    await tenants.runtime.stop(tenants.victim, reason="test over")
