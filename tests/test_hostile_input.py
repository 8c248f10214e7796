"""Hostile input gets a 4xx problem or a close code, never a 500 or a traceback in the log.

Each case is one the outside probe sent; the app runs in this process so that
every log record it writes is seen by `caplog`, on both stores.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from yarl import URL

from livevent.auth import Role, TokenIssuer
from livevent.bus import MemoryBus
from livevent.model import ChannelKind, ChannelSpec
from livevent.runtime import LiveRuntime
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.live import Heard, listen_until, scheduled_event, speaker_token

Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def runtime(store_url: str) -> AsyncIterator[LiveRuntime]:
    settings = Settings(
        database_url=store_url, joins_per_ip_per_minute=0, api_requests_per_ip_per_minute=0
    )
    async with LiveRuntime(settings, bus=MemoryBus()) as opened:
        yield opened


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, runtime: LiveRuntime) -> Client:
    return await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))


@pytest.fixture
async def event_id(runtime: LiveRuntime) -> int:
    return await scheduled_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN)
    )


def admin(runtime: LiveRuntime) -> dict[str, str]:
    token = TokenIssuer(runtime.settings.auth_secret.get_secret_value()).issue(
        sub="a", role=Role.ADMIN, ttl=600
    )
    return {"Authorization": f"Bearer {token}"}


def no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage()[:200] for r in bad]


DEEP = "[" * 3000 + "]" * 3000
LOGIN = "/api/auth/token"
BODIES: list[tuple[str, str, str]] = [
    ("deep-login", LOGIN, DEEP),
    ("deep-object-login", LOGIN, '{"email":' + '{"a":' * 3000 + "1" + "}" * 3001),
    ("long-int-login", LOGIN, '{"email": "a@b.co", "password": ' + "9" * 4400 + "}"),
    ("surrogate-password", LOGIN, '{"email": "a@b.co", "password": "\\ud800"}'),
    ("nul-email", LOGIN, '{"email": "a\\u0000@b.co", "password": "xxxxxxxx"}'),
    ("deep-refresh", "/api/auth/refresh", DEEP),
    ("long-int-refresh", "/api/auth/refresh", '{"refresh_token": ' + "1" * 5000 + "}"),
    ("nul-name", "/api/events", '{"name": "a\\u0000", "starts_at": "2026-12-01T10:00Z",'
     ' "source_language": "en-US"}'),
    ("overflow-start", "/api/events", '{"name": "a", "starts_at": "9999-12-31T23:59:59-14:00",'
     ' "source_language": "en-US"}'),
    ("underflow-start", "/api/events", '{"name": "a", "starts_at": "0001-01-01T00:00:00+14:00",'
     ' "source_language": "en-US"}'),
]  # fmt: skip


@pytest.mark.parametrize(("name", "path", "body"), BODIES, ids=[b[0] for b in BODIES])
async def test_hostile_bodies_are_4xx_problems(
    client: Client, runtime: LiveRuntime, caplog: pytest.LogCaptureFixture,
    name: str, path: str, body: str,
) -> None:  # fmt: skip
    headers = {"Content-Type": "application/json", **admin(runtime)}
    response = await client.post(path, data=body.encode(), headers=headers)
    assert 400 <= response.status < 500, (response.status, await response.text())
    assert response.content_type == "application/problem+json"
    no_tracebacks(caplog)


@pytest.mark.parametrize(
    "query",
    ["from=9999-12-31T23:59:59-14:00", "to=0001-01-01T00:00:00%2B14:00", "customer=%C2%B2",
     "customer=" + "9" * 5000, "limit=%EF%BC%91", "status=%00", "from=%00"],
)  # fmt: skip
async def test_hostile_queries_are_400(
    client: Client, runtime: LiveRuntime, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    response = await client.get(URL(f"/api/events?{query}", encoded=True), headers=admin(runtime))
    assert response.status == 400, await response.text()
    assert response.content_type == "application/problem+json"
    no_tracebacks(caplog)


@pytest.mark.parametrize("if_match", ["\u00b2", "9" * 5000, '"1""', "W/", '"-1"', '"0"', ""])
async def test_hostile_if_match_is_400(
    client: Client, runtime: LiveRuntime, event_id: int, caplog: pytest.LogCaptureFixture,
    if_match: str,
) -> None:  # fmt: skip
    response = await client.patch(
        f"/api/events/{event_id}",
        json={"name": "x"},
        headers={**admin(runtime), "If-Match": if_match},
    )
    assert response.status == 400, await response.text()
    assert response.content_type == "application/problem+json"
    no_tracebacks(caplog)


async def test_a_request_the_parser_refuses_is_one_quiet_line(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp's own 400 for a header past its limit, logged as one WARNING, token-free."""
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0." + "x" * 9000
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(f"GET /api/events?token={token} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    status_line = await reader.readline()
    writer.close()
    assert int(status_line.split()[1]) == 400

    def logged() -> str:
        return "\n".join(r.getMessage() for r in caplog.records)

    assert "malformed HTTP request" in logged()
    assert "eyJ" not in logged() and "xxxxxxxxxxxxxxxx" not in logged()
    no_tracebacks(caplog)


@pytest.mark.parametrize(
    "header",
    [b"Bearer \xff\xfe", b"\xff", b"Bearer " + b"a" * 5000, b"Bearer a.b c", b"Bearer ",
     b"Bearer \xc3\xa9.\xc3\xa9.\xc3\xa9"],
)  # fmt: skip
async def test_raw_bytes_in_authorization_are_401(
    client: Client, caplog: pytest.LogCaptureFixture, header: bytes
) -> None:
    """Sent on a raw socket: an HTTP client library would refuse to send these bytes."""
    for path in (b"/api/events", b"/api/auth/me", b"/live/1/channels"):
        reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
        writer.write(
            b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            b"Authorization: " + header + b"\r\n\r\n"
        )
        status_line = await reader.readline()
        rest = await reader.read()
        writer.close()
        status = int(status_line.split()[1])
        assert status in (401, 404), (path, status_line, rest[-300:])
        assert b"application/problem+json" in rest
    no_tracebacks(caplog)


async def test_a_switch_to_a_hostile_channel_is_an_error_message_not_a_close(
    client: Client, runtime: LiveRuntime, event_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    await runtime.start(event_id)
    ws = await client.ws_connect(f"/listen/{event_id}")
    log = await listen_until(ws, Heard(), lambda log: bool(log.of_type("status")))
    for channel in ["\u00b2", "\uff11", "9" * 300, "01", "1\x00"]:
        await ws.send_json({"type": "switch", "channel": channel})
        log = await listen_until(ws, log, lambda log: bool(log.of_type("error")))
        assert "no channel" in log.of_type("error")[-1]["message"]
        log.raw.clear()
        log.messages.clear()
    await ws.send_json({"type": "switch", "channel": "2"})
    log = await listen_until(ws, log, lambda log: bool(log.of_type("welcome")))
    assert log.of_type("welcome")[-1]["channel"] == "es-ES"
    assert log.close_code is None
    await ws.close()
    no_tracebacks(caplog)


async def test_limits_are_inclusive(client: Client, runtime: LiveRuntime, event_id: int) -> None:
    """docs/protocol.md: audio messages up to 1 s (32,000 bytes), listener messages up to 4 KiB."""
    await runtime.start(event_id)
    speaker = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    assert (await speaker.receive_json())["type"] == "ready"
    await speaker.send_bytes(b"\0" * 32_000)
    await speaker.send_json({"type": "mute"})
    await speaker.send_bytes(b"\0" * 32_001)
    closed = await listen_until(speaker, Heard(), lambda log: log.close_code is not None)
    assert closed.close_code == 1009
    assert runtime.sessions[event_id].channels["en-US"].hub.stats.frames_in == 50

    listener = await client.ws_connect(f"/listen/{event_id}")
    log = await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))
    exactly = '{"type": "switch", "channel": "2"}'
    await listener.send_str(exactly + " " * (4096 - len(exactly)))
    log = await listen_until(listener, log, lambda log: len(log.of_type("status")) >= 2)
    await listener.send_str(exactly + " " * (4097 - len(exactly)))
    log = await listen_until(listener, log, lambda log: log.close_code is not None)
    assert log.close_code == 1009


async def test_a_long_non_ascii_cancel_reason_is_cut_between_characters(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    await runtime.start(event_id)
    ws = await client.ws_connect(f"/listen/{event_id}")
    log = await listen_until(ws, Heard(), lambda log: bool(log.of_type("status")))
    reason = "La sala está cerrada por obras: disculpen las molestias ocasionadas " * 3 + "ñ" * 80
    assert runtime.service is not None
    await runtime.service.act(event_id, "cancel", actor="t", reason=reason)
    log = await listen_until(ws, log, lambda log: log.close_code is not None)
    assert log.close_code == 4010
    assert log.close_reason is not None and len(log.close_reason.encode()) <= 123
    assert f"CANCELLED: {reason}".startswith(log.close_reason)


async def test_a_hostile_token_on_a_socket_is_4001(
    client: Client, event_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    for token in ["%C3%A9", "a" * 5000, "a.b%20c", "%FF%FE", "a.b.c" * 1000]:
        for path in (f"/listen/{event_id}?token={token}", f"/speak/{event_id}/1?token={token}"):
            ws = await client.ws_connect(URL(path, encoded=True))
            log = await listen_until(ws, Heard(), lambda log: log.close_code is not None)
            assert log.close_code == 4001, (path[:40], log.close_code, log.close_reason)
    no_tracebacks(caplog)


async def _history(runtime: LiveRuntime, event_id: int) -> list[dict[str, Any]]:
    assert runtime.service is not None
    return [c.model_dump() for c in await runtime.service.history(event_id)]


async def test_every_change_is_audited_with_who(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    headers = admin(runtime)
    renamed = await client.patch(
        f"/api/events/{event_id}", json={"name": "Renamed"}, headers={**headers, "If-Match": '"2"'}
    )
    assert renamed.status == 200, await renamed.text()
    added = await client.post(
        f"/api/events/{event_id}/channels", json={"language": "fr-FR"}, headers=headers
    )
    assert added.status == 201
    await runtime.start(event_id)
    stopped = await client.post(f"/live/{event_id}/stop?reason=done", headers=headers)
    assert stopped.status == 200
    changes = await _history(runtime, event_id)
    edits = [c for c in changes if c["change"]]
    assert "name 'Annual meeting' -> 'Renamed'" in edits[0]["change"]
    assert "channels added 3:fr-FR:machine" in edits[1]["change"]
    assert all(c["actor"] == "admin:a" for c in edits)
    ended = changes[-1]
    assert (ended["to_status"], ended["actor"], ended["reason"]) == ("ENDED", "admin:a", "done")


async def test_a_deleted_event_leaves_a_trace_and_its_id_is_never_reused(
    client: Client, runtime: LiveRuntime
) -> None:
    headers = admin(runtime)
    body = {"id": 424242, "name": "Draft", "starts_at": "2026-12-01T10:00Z", "source_language": "en-US"}  # fmt: skip  # noqa: E501
    assert (await client.post("/api/events", json=body, headers=headers)).status == 201
    assert (await client.delete("/api/events/424242", headers=headers)).status == 204
    assert runtime.service is not None
    trace = await runtime.service.store.deleted_event(424242)
    assert trace is not None and trace.actor == "admin:a" and trace.name == "Draft"
    assert [c.to_status.value for c in trace.history] == ["DRAFT"]
    again = await client.post("/api/events", json=body, headers=headers)
    assert again.status == 409
    assert "never reused" in (await again.json())["detail"]
