"""Booth partners' sockets in tests: read up to a message, sync, swap."""

from __future__ import annotations

import aiohttp

from tests.support.live import Heard, listen_until

WS = aiohttp.ClientWebSocketResponse


async def next_of(ws: WS, *types: str) -> dict[str, object]:
    log = await listen_until(ws, Heard(), lambda log: any(log.of_type(t) for t in types), 30)
    return next(m for m in log.raw if m["type"] in types)


async def synced(ws: WS) -> None:
    """The server has handled (and forwarded) all this socket sent before."""
    await ws.send_str("{}")  # unreadable: answered with an error, in order
    await next_of(ws, "error")


async def hands_over(active: WS, partner: WS) -> None:
    """The active one yields: the partner gets `ready`, the active one `standby`."""
    await active.send_json({"type": "handover"})
    assert (await next_of(partner, "ready"))["channel"] == 2
    assert (await next_of(active, "standby"))["reason"] == "handed over"
