"""The address people reach this server at, for links, QR codes and mails.

`public_url` when it is set. Without it, the request's own Host is used only when it
cannot be a stranger's name: an IP address, localhost, or one of `allowed_hosts`. Any
other Host is refused, so nobody can make the server print a link (or a QR code on a
poster) that leads to a host of their choosing.
"""

from __future__ import annotations

from aiohttp import web

from livevent.errors import BadRequest
from livevent.http.appkeys import SETTINGS
from livevent.model.hosts import good_host, is_address_or_loopback
from livevent.settings import Settings


def request_base(settings: Settings, scheme: str, host: str) -> str:
    """The base URL for links, or BadRequest when only a configured one would do."""
    if settings.public_url:
        return settings.public_url
    checked = good_host(host)
    if checked and (is_address_or_loopback(checked) or checked.lower() in settings.allowed_hosts):
        return f"{scheme}://{checked}"
    raise BadRequest(
        "links are built on this server's public address: set public_url"
        " (or list this host in allowed_hosts)"
    )


def public_base(request: web.Request) -> str:
    return request_base(request.app[SETTINGS], request.scheme, request.host)
