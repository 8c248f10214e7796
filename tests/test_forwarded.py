"""Clients behind a trusted reverse proxy are told apart by their own address; a forwarding
header from any other peer changes nothing. Over a real socket, on the API's own limits
and links (the test client's peer is 127.0.0.1)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import ValidationError
from pytest_aiohttp import AiohttpClient

from livevent.api import create_app
from livevent.auth import service_token
from livevent.events.service import EventService
from livevent.settings import Settings

Client = TestClient[web.Request, web.Application]
EVENT = {"name": "x", "starts_at": "2026-12-01T10:00:00Z", "source_language": "en-US"}


async def api_with(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str, **options: Any
) -> Client:
    settings = Settings(database_url=store_url, **options)
    return await aiohttp_client(
        create_app(settings, service=service),
        headers={"Authorization": f"Bearer {service_token(settings)}"},
    )


async def statuses(api: Client, headers: dict[str, str], count: int) -> list[int]:
    return [(await api.get("/api/events", headers=headers)).status for _ in range(count)]


async def test_behind_a_trusted_proxy_each_client_has_its_own_limit(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(
        aiohttp_client, service, store_url,
        trusted_proxies=["127.0.0.1"], api_requests_per_ip_per_minute=3,
    )  # fmt: skip
    first = {"X-Forwarded-For": "203.0.113.2"}
    second = {"X-Forwarded-For": "203.0.113.3"}
    assert await statuses(api, first, 4) == [200, 200, 200, 429]
    assert await statuses(api, second, 3) == [200, 200, 200]
    # RFC 7239's header counts the same way.
    third = {"Forwarded": 'for="[2001:db8::7]:4711";proto=https'}
    assert await statuses(api, third, 4) == [200, 200, 200, 429]


async def test_a_forged_header_from_an_untrusted_peer_changes_nothing(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(aiohttp_client, service, store_url, api_requests_per_ip_per_minute=3)
    for address in ("203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5"):
        answer = await api.get("/api/events", headers={"X-Forwarded-For": address})
        last = answer.status
    assert last == 429  # one address (the real peer's) whatever each request claimed


@pytest.mark.parametrize(
    ("chain", "counted_as"),
    [
        ("198.51.100.9, 203.0.113.2", "203.0.113.2"),  # a client's own claim on the left
        ("203.0.113.2, 10.1.2.3", "203.0.113.2"),  # through a second proxy of ours
        ("unknown, 203.0.113.2", "203.0.113.2"),
    ],
)
async def test_the_client_is_the_right_most_address_that_is_no_proxy_of_ours(
    aiohttp_client: AiohttpClient,
    service: EventService,
    store_url: str,
    chain: str,
    counted_as: str,
) -> None:
    api = await api_with(
        aiohttp_client, service, store_url,
        trusted_proxies=["127.0.0.1", "10.0.0.0/8"], api_requests_per_ip_per_minute=2,
    )  # fmt: skip
    assert await statuses(api, {"X-Forwarded-For": chain}, 2) == [200, 200]
    plain = {"X-Forwarded-For": counted_as}
    assert await statuses(api, plain, 1) == [429]  # the same client, however it was spelled


async def test_links_use_the_public_scheme_and_host(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(aiohttp_client, service, store_url, trusted_proxies=["127.0.0.1"])
    event = await (await api.post("/api/events", json=EVENT)).json()
    proxied = {
        "X-Forwarded-For": "203.0.113.2",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "live.example.org",
    }
    links = await (await api.get(f"/api/events/{event['id']}/links", headers=proxied)).json()
    assert (
        links["listen"][0]["url"] == f"https://live.example.org/listen/{event['id']}?channel=en-US"
    )
    forwarded = {"Forwarded": "for=203.0.113.2;proto=https;host=live.example.org:8443"}
    links = await (await api.get(f"/api/events/{event['id']}/links", headers=forwarded)).json()
    assert links["speak"][0]["url"].startswith("https://live.example.org:8443/speak/")
    # A host that is no host name is not built into a link.
    odd = {**proxied, "X-Forwarded-Host": "evil.example/<script>"}
    links = await (await api.get(f"/api/events/{event['id']}/links", headers=odd)).json()
    assert links["listen"][0]["url"].startswith("https://127.0.0.1:")


async def test_without_trust_the_forwarded_scheme_and_host_are_ignored(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(aiohttp_client, service, store_url)
    event = await (await api.post("/api/events", json=EVENT)).json()
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    links = await (await api.get(f"/api/events/{event['id']}/links", headers=forged)).json()
    assert links["listen"][0]["url"].startswith("http://127.0.0.1:")


def test_trusted_proxies_are_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEVENT_TRUSTED_PROXIES", '["127.0.0.1", "10.0.0.0/8", "::1"]')
    assert Settings().trusted_proxies == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(trusted_proxies=["proxy.example.org"])
