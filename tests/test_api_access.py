"""Roles and customers on /api, table-driven: who gets 401, 403, or their own events only."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from livevent.api import create_app
from livevent.auth import Role, TokenIssuer, service_token
from livevent.events.service import EventService
from livevent.settings import Settings

Client = TestClient[web.Request, web.Application]
EVENT = {"name": "x", "starts_at": "2026-12-01T10:00:00Z", "source_language": "en-US"}


def bearer(settings: Settings, role: Role, *, customer: int | None = None) -> dict[str, str]:
    token = TokenIssuer(settings.auth_secret.get_secret_value()).issue(
        sub="t", role=role, ttl=300, customer=customer, events="*" if role is Role.LISTENER else []
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def two_customers(api: Client, service: EventService) -> tuple[int, int, int, int]:
    ids = []
    for name in ("Acme", "Globex"):
        customer = await (await api.post("/api/customers", json={"name": name})).json()
        event = await (
            await api.post("/api/events", json={**EVENT, "customer_id": customer["id"]})
        ).json()
        ids += [customer["id"], event["id"]]
    return ids[0], ids[1], ids[2], ids[3]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Authorization": ""}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ],
)
async def test_no_usable_token_is_401(api: Client, headers: dict[str, str], status: int) -> None:
    response = await api.get(
        "/api/events", headers={**headers, "Authorization": headers.get("Authorization", "")}
    )
    assert response.status == status
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await api.get("/api/openapi.json", headers={"Authorization": ""})).status == 200


@pytest.mark.parametrize("role", [Role.LISTENER, Role.SPEAKER])
async def test_audience_roles_are_403(api: Client, settings: Settings, role: Role) -> None:
    response = await api.get("/api/events", headers=bearer(settings, role))
    assert response.status == 403


async def test_managers_see_and_change_only_their_customer(
    api: Client, settings: Settings, two_customers: tuple[int, int, int, int]
) -> None:
    acme, acme_event, globex, globex_event = two_customers
    manager = bearer(settings, Role.MANAGER, customer=acme)
    listed = await (await api.get("/api/events", headers=manager)).json()
    assert [e["id"] for e in listed["items"]] == [acme_event]
    assert (await api.get(f"/api/events/{acme_event}", headers=manager)).status == 200
    for method, path in [
        ("GET", f"/api/events/{globex_event}"),
        ("POST", f"/api/events/{globex_event}/cancel"),
        ("DELETE", f"/api/events/{globex_event}"),
        ("GET", f"/api/events?customer={globex}"),
        ("GET", f"/api/customers/{globex}"),
        ("GET", "/api/customers"),
    ]:
        response = await api.request(method, path, headers=manager)
        assert response.status == 403, (method, path)
    created = await (await api.post("/api/events", json=EVENT, headers=manager)).json()
    assert created["customer_id"] == acme
    refused = await api.post("/api/events", json={**EVENT, "customer_id": globex}, headers=manager)
    assert refused.status == 403
    history = await (await api.get(f"/api/events/{created['id']}/history", headers=manager)).json()
    assert history["items"][0]["actor"] == "manager:t"
    # The other customer's event is untouched.
    assert (await (await api.get(f"/api/events/{globex_event}")).json())["status"] == "DRAFT"


async def test_too_many_requests_get_429_with_retry_after(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    settings = Settings(database_url=store_url, api_requests_per_ip_per_minute=3)
    client = await aiohttp_client(
        create_app(settings, service=service),
        headers={"Authorization": f"Bearer {service_token(settings)}"},
    )
    statuses = [(await client.get("/api/events")).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = await client.get("/api/events")
    assert response.status == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert (await response.json())["status"] == 429
    assert (await client.get("/healthz")).status == 200  # only /api is metered
