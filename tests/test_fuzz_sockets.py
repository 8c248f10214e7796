"""Hypothesis throws arbitrary control messages at both sockets: no crash, no stuck session."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.live_helpers import speaker_token
from tests.servers import LIVEVENT, start_serve

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
