"""Host names and addresses as people and requests name them: one parser for both."""

from __future__ import annotations

import re
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

Address = IPv4Address | IPv6Address
# A host name or a bracketed IPv6 address, with an optional port.
_HOST = re.compile(r"^(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
MAX_HOST_LENGTH = 255
LOOPBACK_NAMES = ("localhost",)


def good_host(host: str | None) -> str | None:
    """A host[:port] as a request may name it, or None for anything else."""
    if host and len(host) <= MAX_HOST_LENGTH and _HOST.match(host):
        return host
    return None


def host_name(host: str) -> str:
    """`example.org:8443` -> `example.org`; `[::1]:80` -> `::1` (of a good host)."""
    if host.startswith("["):
        return host[1 : host.index("]")]
    return host.rsplit(":", 1)[0] if ":" in host else host


def is_address_or_loopback(host: str) -> bool:
    """Whether a good host names an IP address or this machine (not a name DNS resolves)."""
    name = host_name(host).lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        ip_address(name)
    except ValueError:
        return False
    return True


def parse_address(text: str) -> Address | None:
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


def address_key(remote: str) -> str:
    """What per-address limits count: an IPv4 address, or an IPv6 address's /64.

    One IPv6 subscriber holds a whole /64 and picks any address in it at will, so
    counting single addresses would give them 2**64 allowances.
    """
    address = parse_address(remote)
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ip_network(f"{address}/64", strict=False))
    return str(address) if address is not None else remote
