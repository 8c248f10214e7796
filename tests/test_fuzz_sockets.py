"""Hypothesis throws arbitrary control messages at both sockets: no crash, no stuck session."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from tests.support.live import speaker_token
from tests.support.servers import LIVEVENT, start_serve

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
control = st.one_of(
    st.text(max_size=200),  # not JSON at all, or JSON of any shape
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["hello", "mute", "unmute", "switch", "end", "bogus"])},
        optional={
            "channel": st.one_of(st.text(max_size=10), st.integers(), st.none()),
            "format": st.one_of(st.sampled_from(["opus", "pcm", "mp3"]), json_values),
            # Ending the event is legitimate (and tested elsewhere); here it would
            # leave later examples without a live event to fuzz.
            "end_event": st.just(False),
            "captions_only": json_values,
        },
    ).map(json.dumps),
)
binary = st.binary(max_size=2000)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    folder = tmp_path_factory.mktemp("fuzz")
    env = {**os.environ, "LIVEVENT_DATABASE_URL": f"sqlite:///{folder / 'fuzz.db'}"}
    env.pop("LIVEVENT_CONFIG", None)
    created = subprocess.run(
        [LIVEVENT, "event", "create", "--name", "Fuzz", "--starts-at", "2026-12-01T10:00Z",
         "--source", "en-US", "--channel", "es-ES:human", "--json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    event_id = int(json.loads(created.stdout)["id"])
    subprocess.run([LIVEVENT, "event", "schedule", str(event_id)], env=env, check=True)
    env["LIVEVENT_JOINS_PER_IP_PER_MINUTE"] = "0"
    process, port = start_serve(env)
    try:
        yield f"ws://127.0.0.1:{port}", event_id
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=15)
        assert "Traceback" not in errors, errors[-3000:]


async def _scenario(base: str, event_id: int, messages: list[tuple[int, Any]]) -> None:
    async with aiohttp.ClientSession() as http:
        speaker = await http.ws_connect(
            f"{base}/speak/{event_id}/1?token={speaker_token(event_id)}"
        )
        ready = await speaker.receive_json(timeout=10)
        assert ready["type"] == "ready"
        listener = await http.ws_connect(f"{base}/listen/{event_id}")
        for side, payload in messages:
            target = speaker if side == 0 else listener
            if speaker.closed or listener.closed:
                break
            if isinstance(payload, bytes):
                await target.send_bytes(payload)
            else:
                await target.send_str(payload)
        # Whatever happened, the session still serves a newcomer.
        newcomer = await http.ws_connect(f"{base}/listen/{event_id}?channel=es-ES")
        welcome = await newcomer.receive_json(timeout=10)
        assert welcome["type"] in ("welcome", "status")
        for ws in (newcomer, listener, speaker):
            await ws.close()
            assert ws.close_code != 1011, "the server failed internally"


@given(messages=st.lists(st.tuples(st.integers(0, 1), control | binary), max_size=12))
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_sockets_survive_arbitrary_messages(
    server: tuple[str, int], messages: list[tuple[int, Any]]
) -> None:
    base, event_id = server
    asyncio.run(asyncio.wait_for(_scenario(base, event_id, messages), 30))


ALLOWED_CLOSES = {1000, 4001, 4003, 4004, 4010, 4011, 4029}
path_text = st.text(max_size=24) | st.integers(-(10**20), 10**20).map(str)


async def _connect_anywhere(base: str, path: str) -> None:
    """Whatever the path and query, the answer is a message, a close code, or a 4xx."""
    async with aiohttp.ClientSession() as http:
        try:
            ws = await http.ws_connect(URL(base + path, encoded=True))
        except aiohttp.WSServerHandshakeError as error:
            assert 400 <= error.status < 500, (path[:60], error.status)
            return
        message = await ws.receive(timeout=10)
        if message.type is aiohttp.WSMsgType.CLOSE:
            assert message.data in ALLOWED_CLOSES, (path[:60], message.data, message.extra)
        else:
            assert message.type is aiohttp.WSMsgType.TEXT, (path[:60], message.type)
        await ws.close()


@given(
    socket=st.sampled_from(["listen", "speak"]),
    event=path_text,
    channel=st.none() | path_text,
    token=st.none() | path_text,
)
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_path_or_query_gets_a_close_code_never_a_server_error(
    server: tuple[str, int], socket: str, event: str, channel: str | None, token: str | None
) -> None:
    base, event_id = server
    # Half the time the real event, so that the channel and token are what is hostile.
    target = str(event_id) if len(event) % 2 else quote(event, safe="")
    path = f"/{socket}/{target}"
    query = []
    if socket == "speak":
        path += "/" + (quote(channel, safe="") if channel else "1")
    elif channel is not None:
        query.append(f"channel={quote(channel, safe='')}")
    if token is not None:
        query.append(f"token={quote(token, safe='')}")
    if query:
        path += "?" + "&".join(query)
    asyncio.run(asyncio.wait_for(_connect_anywhere(base, path), 30))
