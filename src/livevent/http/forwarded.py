"""Who the client is behind a reverse proxy: its address, and the scheme and host it used.

Only a request whose peer is one of `trusted_proxies` is read for forwarding headers;
from any other peer they are ignored, so a client cannot claim another address. The
client is the right-most address of the chain that is not a trusted proxy (each proxy
appends the peer it saw), taken from `Forwarded` (RFC 7239) when present, else from
`X-Forwarded-For`, with `X-Forwarded-Proto` and `X-Forwarded-Host`. The request is
cloned with them, so every per-address limit, log line, audit row and link after this
middleware sees the public values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from aiohttp import web
from aiohttp.typedefs import Middleware

from livevent.http.problems import Handler

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
# A host name or address with an optional port: what links may be built on.
_HOST = re.compile(r"^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


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
class Origin:
    remote: str
    scheme: str | None = None
    host: str | None = None


def _address(text: str) -> Address | None:
    """`203.0.113.7`, `"[2001:db8::1]:4711"`, `203.0.113.7:80` -> the address; else None."""
    value = text.strip().strip('"')
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else ""
    elif value.count(":") == 1:
        value = value.split(":")[0]
    try:
        return ip_address(value)
    except ValueError:
        return None  # "unknown", an obfuscated identifier, or garbage


def _trusted(address: Address | None, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


def origin_of(request: web.Request, networks: tuple[Network, ...]) -> Origin | None:
    """The client behind the trusted proxies, or None to keep the request as it is."""
    if request.forwarded:
        hops = [
            (_address(element.get("for", "")), element.get("proto"), element.get("host"))
            for element in request.forwarded
        ]
    else:
        chain = ",".join(request.headers.getall("X-Forwarded-For", []))
        if not chain:
            return None
        protos = _values(request.headers.getall("X-Forwarded-Proto", []))
        hosts = _values(request.headers.getall("X-Forwarded-Host", []))
        # The client-facing proxy says how the client connected: the first of each.
        proto = protos[0] if protos else None
        host = hosts[0] if hosts else None
        hops = [(_address(part), proto, host) for part in chain.split(",")]
    for address, proto, host in reversed(hops):
        if address is None:
            return None  # a chain we cannot read names nobody
        if not _trusted(address, networks):
            scheme = proto.lower() if proto and proto.lower() in ("http", "https") else None
            good_host = host if host and len(host) <= 255 and _HOST.match(host) else None
            return Origin(remote=str(address), scheme=scheme, host=good_host)
    return None  # every hop is one of ours: the request came from inside


def _values(headers: list[str]) -> list[str]:
    return [part.strip() for header in headers for part in header.split(",") if part.strip()]


def forwarded_middleware(networks: tuple[Network, ...]) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if networks and _trusted(_peer(request), networks):
            origin = origin_of(request, networks)
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
    return _address(str(peername[0]))
