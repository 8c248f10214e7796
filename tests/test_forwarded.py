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


async def test_only_the_configured_header_family_is_read(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    """A client's own `Forwarded` next to the proxy's X-Forwarded-For names nobody, however
    it rotates; a deployment whose proxy writes RFC 7239 reads that family instead."""
    api = await api_with(
        aiohttp_client, service, store_url,
        trusted_proxies=["127.0.0.1"], api_requests_per_ip_per_minute=3,
    )  # fmt: skip
    rotating = [{"Forwarded": f"for=198.51.100.{n}"} for n in range(1, 5)]
    codes = [(await api.get("/api/events", headers=h)).status for h in rotating]
    assert codes == [200, 200, 200, 429]  # all four were the proxy's own address
    rfc = await api_with(
        aiohttp_client, service, store_url, trusted_proxies=["127.0.0.1"],
        forwarded_header="forwarded", api_requests_per_ip_per_minute=3,
    )  # fmt: skip
    third = {"Forwarded": 'for="[2001:db8::7]:4711";proto=https'}
    assert await statuses(rfc, third, 4) == [200, 200, 200, 429]
    # There, X-Forwarded-For is the client's word: counted as the proxy, whose minute the
    # rotating requests above used up.
    assert await statuses(rfc, {"X-Forwarded-For": "203.0.113.9"}, 1) == [429]


async def test_ipv6_clients_are_limited_by_their_64(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(
        aiohttp_client, service, store_url,
        trusted_proxies=["127.0.0.1"], api_requests_per_ip_per_minute=2,
    )  # fmt: skip
    spellings = ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9"]
    codes = [(await api.get("/api/events", headers={"X-Forwarded-For": a})).status
             for a in spellings]  # fmt: skip
    assert codes == [200, 200, 429]  # one subscriber's /64, whichever address it picks
    other = {"X-Forwarded-For": "2001:db8:1:3::1"}
    assert await statuses(api, other, 1) == [200]


async def test_a_forged_header_from_an_untrusted_peer_changes_nothing(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(aiohttp_client, service, store_url, api_requests_per_ip_per_minute=3)
    for address in ("203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5"):
        answer = await api.get("/api/events", headers={"X-Forwarded-For": address})
        last = answer.status
    assert last == 429  # one address (the real peer's) whatever each request claimed


@pytest.mark.parametrize(
    ("chain", "hops", "counted_as"),
    [
        ("198.51.100.9, 203.0.113.2", 1, "203.0.113.2"),  # a client's own claim on the left
        ("198.51.100.9, 203.0.113.2, 10.1.2.3", 2, "203.0.113.2"),  # two proxies of ours
        ("unknown, 203.0.113.2", 1, "203.0.113.2"),
    ],
)
async def test_the_client_is_a_fixed_number_of_hops_from_the_right(
    aiohttp_client: AiohttpClient,
    service: EventService,
    store_url: str,
    chain: str,
    hops: int,
    counted_as: str,
) -> None:
    api = await api_with(
        aiohttp_client, service, store_url, trusted_hops=hops,
        trusted_proxies=["127.0.0.1"], api_requests_per_ip_per_minute=2,
    )  # fmt: skip
    assert await statuses(api, {"X-Forwarded-For": chain}, 2) == [200, 200]
    plain = {"X-Forwarded-For": ", ".join([counted_as] + ["10.9.9.9"] * (hops - 1))}
    assert await statuses(api, plain, 1) == [429]  # the same client, however it was spelled


async def test_a_chain_shorter_than_our_proxies_names_nobody(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(
        aiohttp_client, service, store_url, trusted_hops=2,
        trusted_proxies=["127.0.0.1"], api_requests_per_ip_per_minute=2,
    )  # fmt: skip
    claims = [{"X-Forwarded-For": f"203.0.113.{n}"} for n in range(1, 4)]
    codes = [(await api.get("/api/events", headers=h)).status for h in claims]
    assert codes == [200, 200, 429]  # counted as the peer, not as three clients


async def test_links_use_the_public_scheme_and_an_allowed_host(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(
        aiohttp_client, service, store_url,
        trusted_proxies=["127.0.0.1"], allowed_hosts=["live.example.org"],
    )  # fmt: skip
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
    # RFC 7239's host and proto are not the configured family: they change nothing.
    forwarded = {"Forwarded": "for=203.0.113.2;proto=http;host=evil.example"}
    links = await (await api.get(f"/api/events/{event['id']}/links", headers=forwarded)).json()
    assert links["speak"][0]["url"].startswith("http://127.0.0.1:")
    # A host that is no host name is not built into a link.
    odd = {**proxied, "X-Forwarded-Host": "evil.example/<script>"}
    links = await (await api.get(f"/api/events/{event['id']}/links", headers=odd)).json()
    assert links["listen"][0]["url"].startswith("https://127.0.0.1:")


async def test_links_on_a_host_nobody_configured_are_refused(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(aiohttp_client, service, store_url, trusted_proxies=["127.0.0.1"])
    event = await (await api.post("/api/events", json=EVENT)).json()
    forwarded = {"X-Forwarded-For": "203.0.113.2", "X-Forwarded-Host": "evil.example"}
    answer = await api.get(f"/api/events/{event['id']}/links", headers=forwarded)
    assert answer.status == 400
    assert "public_url" in (await answer.json())["detail"]
    for host in ("evil.example", "a" * 2000 + ".example"):
        answer = await api.get(f"/api/events/{event['id']}/links", headers={"Host": host})
        assert answer.status == 400, host
    for host in ("localhost:8080", "[::1]:8080", "192.0.2.10"):
        answer = await api.get(f"/api/events/{event['id']}/links", headers={"Host": host})
        assert answer.status == 200, host
        assert (await answer.json())["everyone"]["url"].startswith(f"http://{host}/listen/")


async def test_public_url_names_every_link_whatever_the_host(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(aiohttp_client, service, store_url, public_url="https://live.example.org/")
    event = await (await api.post("/api/events", json=EVENT)).json()
    answer = await api.get(f"/api/events/{event['id']}/links", headers={"Host": "evil.example"})
    links = await answer.json()
    assert links["everyone"]["url"] == f"https://live.example.org/listen/{event['id']}"


async def test_without_trust_the_forwarded_scheme_and_host_are_ignored(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(aiohttp_client, service, store_url, allowed_hosts=["evil.example"])
    event = await (await api.post("/api/events", json=EVENT)).json()
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    links = await (await api.get(f"/api/events/{event['id']}/links", headers=forged)).json()
    assert links["listen"][0]["url"].startswith("http://127.0.0.1:")


async def test_a_link_too_long_for_a_qr_code_is_a_422(
    aiohttp_client: AiohttpClient, service: EventService, store_url: str
) -> None:
    api = await api_with(
        aiohttp_client, service, store_url, public_url="https://live.example.org/" + "a" * 3000
    )
    event = await (await api.post("/api/events", json=EVENT)).json()
    answer = await api.get(f"/api/events/{event['id']}/links")
    assert answer.status == 422
    assert "too long for a QR code" in (await answer.json())["detail"]


def test_public_url_and_allowed_hosts_are_checked() -> None:
    with pytest.raises(ValidationError, match="not an http"):
        Settings(public_url="live.example.org")
    with pytest.raises(ValidationError, match="query or fragment"):
        Settings(public_url="https://live.example.org/?x=1")
    with pytest.raises(ValidationError, match="not a host name"):
        Settings(allowed_hosts=["evil.example/<x>"])
    assert Settings(allowed_hosts=["Live.Example.org:8443"]).allowed_hosts == [
        "live.example.org:8443"
    ]


def test_trusted_proxies_are_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVEVENT_TRUSTED_PROXIES", '["127.0.0.1", "10.0.0.0/8", "::1"]')
    assert Settings().trusted_proxies == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(trusted_proxies=["proxy.example.org"])
