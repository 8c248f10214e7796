"""Who the client is behind a reverse proxy: its address, and the scheme and host it used.

Only a request whose peer is one of `trusted_proxies` is read for forwarding headers;
from any other peer they are ignored, so a client cannot claim another address. Only one
header family is read, the one configured (`forwarded_header`, like nginx's
`real_ip_header`): `x-forwarded-for` (with `X-Forwarded-Proto` and `X-Forwarded-Host`) or
`forwarded` (RFC 7239). A header of the other family is ignored, so a client cannot slip
its own past a proxy that overwrites only the configured one.

The chain is read a fixed number of hops back (`trusted_hops`, the number of proxies of
ours in front): each proxy appends the peer it saw, so the entry `trusted_hops` from the
right is the one our outermost proxy wrote, whatever the client put before it. Fewer
entries than hops means the chain did not pass through all our proxies: nothing is
believed. The request is cloned with the values found, so every per-address limit, log
line and audit row after this middleware sees the client's address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Literal

from aiohttp import web
from aiohttp.typedefs import Middleware

from livevent.http.problems import Handler
from livevent.model.hosts import Address, good_host, parse_address

Network = IPv4Network | IPv6Network
HeaderFamily = Literal["x-forwarded-for", "forwarded"]


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks (`127.0.0.1`, `10.0.0.0/8`, `::1`); ValueError names a bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network") from None
    return tuple(networks)


@dataclass(frozen=True, slots=True)
class Trust:
    """Which peers are our proxies, which header they write, and how many stand in front."""

    networks: tuple[Network, ...]
    header: HeaderFamily = "x-forwarded-for"
    hops: int = 1


@dataclass(frozen=True, slots=True)
class Origin:
    remote: str
    scheme: str | None = None
    host: str | None = None


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def origin_of(request: web.Request, trust: Trust) -> Origin | None:
    """The client in front of our proxies, or None to keep the request as it is."""
    if trust.header == "forwarded":
        elements = request.forwarded
        if len(elements) < trust.hops:
            return None
        element = elements[-trust.hops]
        address = parse_address(element.get("for", ""))
        proto, host = element.get("proto"), element.get("host")
    else:
        chain = _values(request.headers.getall("X-Forwarded-For", []))
        if len(chain) < trust.hops:
            return None
        address = parse_address(chain[-trust.hops])
        # The proxy nearest the client says how the client connected; proxies overwrite
        # these, so the one ours wrote is the last of each.
        protos = _values(request.headers.getall("X-Forwarded-Proto", []))
        hosts = _values(request.headers.getall("X-Forwarded-Host", []))
        proto = protos[-1] if protos else None
        host = hosts[-1] if hosts else None
    if address is None:
        return None  # a chain we cannot read names nobody
    scheme = proto.lower() if proto and proto.lower() in ("http", "https") else None
    return Origin(remote=str(address), scheme=scheme, host=good_host(host))


def _values(headers: list[str]) -> list[str]:
    return [part.strip() for header in headers for part in header.split(",") if part.strip()]


def forwarded_middleware(trust: Trust) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if trust.networks and _trusted(_peer(request), trust.networks):
            origin = origin_of(request, trust)
            if origin is not None:
                changes: dict[str, str] = {"remote": origin.remote}
                if origin.scheme:
                    changes["scheme"] = origin.scheme
                if origin.host:
                    changes["host"] = origin.host
                request = request.clone(**changes)  # type: ignore[arg-type]
        return await handler(request)

    return middleware


def _peer(request: web.Request) -> Address | None:
    """The address of the socket's other end (not a header: what the kernel says)."""
    peername = request.transport.get_extra_info("peername") if request.transport else None
    if not peername or not isinstance(peername, tuple):
        return None  # a Unix socket: no address to trust
    return parse_address(str(peername[0]))
