"""The live runtime end to end: real sockets, real speech, real Opus, on the embedded default."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from livevent.auth import service_token
from livevent.bus import MemoryBus, keys
from livevent.errors import Conflict
from livevent.model import ChannelKind, ChannelSpec, EventCreate, EventPatch, EventStatus
from livevent.runtime import LiveRuntime
from livevent.runtime.storage.gateway import LocalGateway
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.live import (
    Heard,
    listen_until,
    poll,
    scheduled_event,
    send_speech,
    speaker_finished,
    speaker_token,
    speech_pcm,
)

Client = TestClient[web.Request, web.Application]

FLOOR_TEXT = "Good morning everyone, and welcome to the annual meeting of our association."
INTERPRETER_TEXT = "Buenos días a todos, y bienvenidos a la reunión anual de nuestra asociación."


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("speech")
    return {
        "en-US": speech_pcm(FLOOR_TEXT, "en-us", folder),
        "es-ES": speech_pcm(INTERPRETER_TEXT, "es", folder),
    }


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'live.db'}",
        channel_idle_pause=0.5,
        joins_per_ip_per_minute=0,  # the tests join from one address, many times
    )
    async with LiveRuntime(settings, bus=MemoryBus()) as opened:
        yield opened


@pytest.fixture
async def event_id(runtime: LiveRuntime) -> int:
    event_id = await scheduled_event(
        runtime.service,
        ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN),
        ChannelSpec(language="ja-JP", kind=ChannelKind.MACHINE),
    )
    assert runtime.service is not None
    await runtime.service.act(event_id, "ready", actor="test")
    return event_id


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, runtime: LiveRuntime) -> Client:
    return await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))


async def listeners_hash(runtime: LiveRuntime, event_id: int) -> dict[str, str]:
    """The channels with listeners (a channel nobody listens to may read 0 or be absent)."""
    counts = await runtime.bus.hgetall(keys.live_listeners(event_id))
    return {language: count for language, count in counts.items() if count != "0"}


async def test_floor_and_human_channels_end_to_end(
    client: Client, runtime: LiveRuntime, event_id: int, speech: dict[str, bytes], tmp_path: Path
) -> None:
    await runtime.start(event_id)  # the organizer goes live; speakers join
    floor_speaker = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    assert (await floor_speaker.receive_json())["type"] == "ready"
    assert runtime.sessions[event_id].status is EventStatus.LIVE
    assert runtime.service is not None
    assert (await runtime.service.get_event(event_id)).status is EventStatus.LIVE
    interpreter = await client.ws_connect(
        f"/speak/{event_id}/es-ES?token={speaker_token(event_id, 2)}"
    )
    ready = await interpreter.receive_json()
    assert (ready["channel"], ready["language"]) == (2, "es-ES")

    # A second speaker on a busy channel is refused with a reason.
    intruder = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    await intruder.receive()
    assert intruder.close_code == 4009

    floor_a = await client.ws_connect(f"/listen/{event_id}")
    floor_b = await client.ws_connect(f"/listen/{event_id}?channel=en-US")
    spanish = await client.ws_connect(f"/listen/{event_id}?channel=es-ES")
    logs = {name: Heard() for name in ("floor_a", "floor_b", "spanish")}
    for name, ws in (("floor_a", floor_a), ("floor_b", floor_b), ("spanish", spanish)):
        await listen_until(ws, logs[name], lambda log: bool(log.of_type("status")))
        assert logs[name].of_type("welcome")[0]["protocol"] == 1
    # An abrupt listener: a process killed with SIGKILL, no close handshake.
    abrupt = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.abrupt_listener",
        str(client.make_url(f"/listen/{event_id}?channel=es-ES")),
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    assert abrupt.stdout is not None
    async with asyncio.timeout(30):
        assert (await abrupt.stdout.readline()).strip() == b"joined"

    async def counted(expected: dict[str, str]) -> bool:
        return await listeners_hash(runtime, event_id) == expected

    await poll(lambda: counted({"en-US": "2", "es-ES": "2"}))

    await asyncio.gather(
        send_speech(floor_speaker, speech["en-US"]),
        send_speech(interpreter, speech["es-ES"]),
    )

    await asyncio.gather(
        listen_until(floor_a, logs["floor_a"], speaker_finished),
        listen_until(floor_b, logs["floor_b"], speaker_finished),
        listen_until(spanish, logs["spanish"], speaker_finished),
    )
    sent = {language: len(pcm) / 2 / 16000 for language, pcm in speech.items()}
    assert sent["en-US"] > 3 and sent["es-ES"] > 3
    for name, language in (("floor_a", "en-US"), ("floor_b", "en-US"), ("spanish", "es-ES")):
        heard = logs[name].seconds
        assert abs(heard - sent[language]) / sent[language] < 0.05, (name, heard, sent[language])
        sequences = logs[name].sequences
        assert sequences == sorted(sequences) and len(sequences) >= 30

    abrupt.send_signal(signal.SIGKILL)
    await abrupt.wait()
    await floor_b.close()
    # Generous: on a loaded machine the killed listener's socket is seen closed late.
    await poll(lambda: counted({"en-US": "1", "es-ES": "1"}), within=30)
    await floor_a.close()
    await spanish.close()
    await poll(lambda: counted({}))

    await runtime.stop(event_id, reason="done")
    assert (await runtime.service.get_event(event_id)).status is EventStatus.ENDED
    assert await runtime.bus.get(keys.live_state(event_id)) is None
    assert await runtime.bus.hgetall(keys.live_listeners(event_id)) == {}  # cleaned, not zeroed


async def test_cancellation_tells_listeners_why(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    await runtime.start(event_id)
    listener = await client.ws_connect(f"/listen/{event_id}")
    log = await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))
    assert runtime.service is not None
    cancelled_at = time.monotonic()
    await runtime.service.act(event_id, "cancel", actor="test", reason="fire alarm")
    await listen_until(listener, log, lambda log: log.close_code is not None, within=5)
    assert log.closed_at is not None and log.closed_at - cancelled_at < 1.0
    assert log.close_code == 4010
    final = log.of_type("status")[-1]
    assert (final["event_status"], final["reason"]) == ("CANCELLED", "fire alarm")
    await poll(lambda: asyncio.sleep(0, result=event_id not in runtime.sessions))


class SlowAfterFreeing(MemoryBus):
    """A bus under load: once a lock is freed, an owner's renewal period or more passes
    before the next step (closing the session), and it notes whether the lock was
    taken back meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.freed = asyncio.Event()
        self.taken_back = asyncio.Event()

    async def release(self, key: str, owner: str) -> bool:
        released = await super().release(key, owner)
        self.freed.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.taken_back.wait(), 1.0)
        return released

    async def acquire(self, key: str, owner: str, ttl: float) -> bool:
        acquired = await super().acquire(key, owner, ttl)
        if acquired and self.freed.is_set():
            self.taken_back.set()
        return acquired


async def test_an_event_that_ends_leaves_no_owner_lock_behind(tmp_path: Path) -> None:
    """Its owner stops renewing the lock before freeing it: a renewal in between took it
    back, and the key outlived the event by a TTL (beside two CPU hogs, in the CLI's
    cancel-over-Redis test)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'live.db'}", owner_lock_ttl=0.5)
    bus = SlowAfterFreeing()
    async with LiveRuntime(settings, bus=bus) as runtime:
        event_id = await scheduled_event(
            runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN)
        )
        session = await runtime.start(event_id)
        assert runtime.service is not None
        await runtime.service.act(event_id, "cancel", actor="test", reason="fire alarm")
        await asyncio.wait_for(session.ended.wait(), 10)
        assert not bus.taken_back.is_set()
        assert await bus.get(keys.live_owner(event_id)) is None


async def test_listener_switches_channel_without_reconnecting(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    await runtime.start(event_id)
    listener = await client.ws_connect(f"/listen/{event_id}")
    log = await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))
    assert log.of_type("welcome")[0]["channel"] == "en-US"
    await listener.send_json({"type": "switch", "channel": "es-ES"})
    await listen_until(listener, log, lambda log: len(log.of_type("welcome")) == 2)
    assert log.of_type("welcome")[1]["channel"] == "es-ES"

    async def moved() -> bool:
        return await listeners_hash(runtime, event_id) == {"es-ES": "1"}

    await poll(moved)
    await listener.send_json({"type": "switch", "channel": "xx"})
    await listen_until(listener, log, lambda log: bool(log.of_type("error")))
    await listener.send_str("{not json")
    await listen_until(listener, log, lambda log: len(log.of_type("error")) == 2)
    assert await listeners_hash(runtime, event_id) == {"es-ES": "1"}
    await listener.close()


async def test_machine_channel_without_a_language_pair_says_why(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    await runtime.start(event_id)  # en-US -> ja-JP: no Apertium pair, nor a route through one
    listener = await client.ws_connect(f"/listen/{event_id}?channel=ja-JP")
    log = await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))
    status = log.of_type("status")[0]
    assert status["channel_state"] == "unavailable"
    reason = status["channel_reason"]
    assert "eng-jpn" in reason and "apt-get install apertium-eng-jpn" in reason, reason
    await listener.close()


async def test_listener_waits_for_the_event_to_go_live(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    listener = await client.ws_connect(f"/listen/{event_id}")
    log = await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))
    assert log.of_type("status")[0]["event_status"] == "WAITING"
    await runtime.start(event_id)
    await listen_until(listener, log, lambda log: bool(log.of_type("welcome")))
    assert log.of_type("welcome")[0]["event"]["status"] == "LIVE"
    await listener.close()


async def test_bad_targets_close_with_reasons(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    for path, code in (
        ("/listen/999", 4004),
        ("/listen/abc", 4004),
        ("/speak/999/1", 4004),
        (f"/speak/{event_id}/9?token={speaker_token(event_id)}", 4004),
    ):
        ws = await client.ws_connect(path)
        await ws.receive()
        assert ws.close_code == code, path
    assert runtime.service is not None
    draft = await runtime.service.create_event(
        EventCreate(name="d", starts_at="2026-12-01T10:00Z", source_language="en-US"),
        actor="t",
    )
    ws = await client.ws_connect(f"/speak/{draft.id}/1?token={speaker_token(draft.id)}")
    await ws.receive()
    assert ws.close_code == 4011
    page = await client.get(f"/listen/{event_id}")  # a browser without Upgrade: the page
    assert page.status == 200 and page.content_type == "text/html"
    assert page.headers["Referrer-Policy"] == "no-referrer"


async def test_live_endpoints(client: Client, runtime: LiveRuntime, event_id: int) -> None:
    channels = await (await client.get(f"/live/{event_id}/channels")).json()
    assert [c["state"] for c in channels["channels"]] == ["offline"] * 3
    await runtime.start(event_id)
    listener = await client.ws_connect(f"/listen/{event_id}?channel=es-ES")
    await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))

    async def stats_ready() -> bool:
        stats = await (await client.get(f"/live/{event_id}/stats")).json()
        return stats["listeners"].get("es-ES") == 1

    await poll(stats_ready)
    stats = await (await client.get(f"/live/{event_id}/stats")).json()
    assert stats["status"] == "LIVE"
    assert stats["channels"]["es-ES"]["listeners"] == 1
    channels = await (await client.get(f"/live/{event_id}/channels")).json()
    assert {c["language"]: c["state"] for c in channels["channels"]}["ja-JP"] == "unavailable"
    metrics = await client.get("/metrics")
    assert metrics.content_type == "text/plain"
    text = await metrics.text()
    assert f'livevent_listeners{{channel="es-ES",event="{event_id}",role="owner"}} 1.0' in text
    assert "livevent_live_events 1.0" in text
    assert 'livevent_config_cache_lookups_total{level="l1"}' in text
    response = await client.post(f"/live/{event_id}/stop?reason=wrap")
    assert response.status == 401  # stopping an event takes a manager's or admin's token
    response = await client.post(
        f"/live/{event_id}/stop?reason=wrap",
        headers={"Authorization": f"Bearer {service_token(runtime.settings)}"},
    )
    assert (await response.json())["status"] == "ENDED"
    # A latecomer learns that it is over, and why.
    late = await client.ws_connect(f"/listen/{event_id}")
    log = await listen_until(late, Heard(), lambda log: log.close_code is not None)
    assert log.close_code == 4010
    assert (log.of_type("status")[0]["event_status"], log.of_type("status")[0]["reason"]) == (
        "ENDED",
        "wrap",
    )
    assert (await (await client.get("/readyz")).json())["status"] == "ready"
    await listener.close()


async def test_going_live_reads_the_config_from_the_store_once(
    runtime: LiveRuntime, event_id: int
) -> None:
    """The fresh read before the owner lock; the moved event comes back from the move."""
    gateway = runtime.gateway
    assert isinstance(gateway, LocalGateway)
    before = gateway.loads
    session = await runtime.start(event_id)
    assert gateway.loads - before == 1
    assert session.config.status is EventStatus.LIVE
    assert session.config.limits == (await gateway.load(event_id)).limits


async def test_a_thousand_joins_cost_one_store_read(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    """Real WebSocket joins, all at once, on cold caches: one read of the store."""
    await runtime.start(event_id)
    runtime.cache.forget(event_id)
    await runtime.bus.delete(keys.event_config(event_id))
    gateway = runtime.gateway
    assert isinstance(gateway, LocalGateway)
    before = gateway.loads

    url = client.make_url(f"/listen/{event_id}?channel=es-ES")
    # The test client's session caps connections at 100; a listener crowd needs its own.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as crowd:

        async def join() -> aiohttp.ClientWebSocketResponse:
            ws = await crowd.ws_connect(url)
            await listen_until(ws, Heard(), lambda log: bool(log.of_type("status")))
            return ws

        sockets = await asyncio.gather(*(join() for _ in range(1000)))
        assert gateway.loads - before == 1

        async def all_counted() -> bool:
            return (await listeners_hash(runtime, event_id)).get("es-ES") == "1000"

        await poll(all_counted)
        await asyncio.gather(*(ws.close() for ws in sockets))
    assert gateway.loads - before == 1


async def test_an_update_reaches_every_cache_level(runtime: LiveRuntime, event_id: int) -> None:
    assert runtime.service is not None
    assert (await runtime.cache.get(event_id)).name == "Annual meeting"
    assert await runtime.bus.get(keys.event_config(event_id)) is not None
    await runtime.service.update_event(event_id, EventPatch(name="Renamed meeting"))

    async def fresh() -> bool:
        return (await runtime.cache.get(event_id)).name == "Renamed meeting"

    await poll(fresh)


async def test_idle_channel_pauses_and_resumes(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    session = await runtime.start(event_id)

    async def state_is(expected: str) -> bool:
        return session.channel_state("es-ES") == expected

    await poll(lambda: state_is("paused"))  # nobody listened for channel_idle_pause
    listener = await client.ws_connect(f"/listen/{event_id}?channel=es-ES")
    log = await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))
    assert log.of_type("status")[0]["channel_state"] == "waiting"
    await listener.close()
    await poll(lambda: state_is("paused"))


async def test_a_slow_listener_loses_frames_and_never_slows_the_others(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    """Real sockets: one listener never reads; the other hears every message in order."""
    session = await runtime.start(event_id)
    hub = session.channels["en-US"].hub
    hub.max_buffer = 4096  # small, so the test fills it in a fraction of a second
    hub.slow_after = 0.3

    fast = await client.ws_connect(f"/listen/{event_id}?format=pcm")
    fast_log = await listen_until(fast, Heard(), lambda log: bool(log.of_type("status")))
    # The slow one: a raw client that completes the handshake, then stops reading.
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port, limit=1024)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    writer.write(
        f"GET /listen/{event_id}?format=pcm HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    await reader.readuntil(b"\r\n\r\n")

    async def both_joined() -> bool:
        return len(hub.listeners) == 2

    await poll(both_joined)
    slow = list(hub.listeners.values())[1]  # joined second
    # Shrink the server's send buffer for it, so its backlog shows in the transport.
    slow.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)

    speaker_frames = 0
    speaker = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    await speaker.receive_json()
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        await speaker.send_bytes(bytes(range(256)) * 25)  # 6400 bytes = 200 ms
        speaker_frames += 10
        await asyncio.sleep(0.02)
    await speaker.send_json({"type": "end"})

    await listen_until(fast, fast_log, speaker_finished)
    assert fast_log.sequences == list(range(fast_log.sequences[0], fast_log.sequences[-1] + 1))
    assert len(fast_log.audio) == speaker_frames * 640
    assert slow.dropped > 0 and hub.stats.drops == slow.dropped

    async def slow_one_dropped() -> bool:
        return slow.id not in hub.listeners

    await poll(slow_one_dropped)  # closed (4008) once it stayed behind for slow_after
    writer.close()
    await fast.close()


async def test_a_full_event_refuses_listeners_with_a_reason(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    assert runtime.service is not None
    await runtime.service.update_event(event_id, EventPatch(max_listeners=2))
    await runtime.start(event_id)
    admitted = []
    for _ in range(2):
        ws = await client.ws_connect(f"/listen/{event_id}?channel=es-ES")
        await listen_until(ws, Heard(), lambda log: bool(log.of_type("status")))
        admitted.append(ws)
    third = await client.ws_connect(f"/listen/{event_id}?channel=en-US")
    log = await listen_until(third, Heard(), lambda log: log.close_code is not None)
    assert log.close_code == 4029 and "full" in (log.close_reason or "")
    assert await listeners_hash(runtime, event_id) == {"es-ES": "2"}
    await admitted[0].close()

    async def room_again() -> bool:
        return await listeners_hash(runtime, event_id) == {"es-ES": "1"}

    await poll(room_again)
    fourth = await client.ws_connect(f"/listen/{event_id}?channel=en-US")
    log = await listen_until(fourth, Heard(), lambda log: bool(log.of_type("status")))
    assert log.close_code is None
    await fourth.close()
    await admitted[1].close()


async def test_joins_per_address_are_rate_limited(
    aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'rate.db'}", joins_per_ip_per_minute=3)
    async with LiveRuntime(settings, bus=MemoryBus()) as runtime:
        client = await aiohttp_client(create_runtime_app(settings, runtime=runtime))
        codes = []
        for _ in range(4):
            ws = await client.ws_connect("/listen/999")
            await ws.receive()
            codes.append(ws.close_code)
        assert codes == [4004, 4004, 4004, 4029]
        assert await runtime.bus.get(keys.rate_ip("127.0.0.1")) == "4"


async def test_a_channel_added_while_live_opens_at_once(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    assert runtime.service is not None
    session = await runtime.start(event_id)
    listener = await client.ws_connect(f"/listen/{event_id}")
    log = await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))
    event = await runtime.service.get_event(event_id)
    specs = [ChannelSpec(**c.model_dump()) for c in event.channels]
    # Removing or retyping a channel listeners are on is refused, and changes nothing.
    with pytest.raises(Conflict, match="cannot be removed while live"):
        await runtime.service.update_event(event_id, EventPatch(channels=specs[:-1]))
    assert (await runtime.service.get_event(event_id)).version == event.version

    added = [*specs, ChannelSpec(language="ca-ES", kind=ChannelKind.HUMAN, label="Català")]
    await runtime.service.update_event(event_id, EventPatch(channels=added))
    # Listeners learn of it; an interpreter and listeners can use it right away.
    await listen_until(listener, log, lambda log: bool(log.of_type("channels")))
    languages = [c["language"] for c in log.of_type("channels")[-1]["channels"]]
    assert "ca-ES" in languages and "ca-ES" in session.channels
    number = next(
        c["number"] for c in log.of_type("channels")[-1]["channels"] if c["language"] == "ca-ES"
    )
    interpreter = await client.ws_connect(
        f"/speak/{event_id}/{number}?token={speaker_token(event_id, number)}"
    )
    assert (await interpreter.receive_json())["type"] == "ready"
    catalan = await client.ws_connect(f"/listen/{event_id}?channel=ca-ES")
    welcome = await listen_until(catalan, Heard(), lambda log: bool(log.of_type("status")))
    assert welcome.of_type("status")[0]["channel_state"] == "live"
    for ws in (listener, interpreter, catalan):
        await ws.close()


async def test_a_machine_channel_added_while_live_joins_the_pipeline(
    runtime: LiveRuntime, event_id: int
) -> None:
    assert runtime.service is not None
    session = await runtime.start(event_id)
    assert session.pipeline is not None  # ja-JP is a machine channel (with no pair here)
    event = await runtime.service.get_event(event_id)
    specs = [ChannelSpec(**c.model_dump()) for c in event.channels]
    catalan = ChannelSpec(language="ca-ES", kind=ChannelKind.MACHINE)
    await runtime.service.update_event(event_id, EventPatch(channels=[*specs, catalan]))

    async def translating() -> bool:
        return session.pipeline is not None and "ca-ES" in session.pipeline.booths

    await poll(translating)
    assert session.channel_state("ca-ES") != "unavailable"
    assert session.channel_state("ja-JP") == "unavailable"


async def test_a_voice_hard_to_follow_is_said_to_listeners_and_the_organizer(
    client: Client, runtime: LiveRuntime
) -> None:
    """Portuguese has only espeak-ng, which Whisper recognises 3 % of (benchmarks/voices.py):
    its listeners are told to read the captions, and so is the organizer making it."""
    event_id = await scheduled_event(
        runtime.service,
        ChannelSpec(language="pt-PT", kind=ChannelKind.MACHINE),
        ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE),
    )
    await runtime.start(event_id)
    statuses = {}
    for language in ("pt-PT", "es-ES"):
        listener = await client.ws_connect(f"/listen/{event_id}?channel={language}")
        log = await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))
        statuses[language] = log.of_type("status")[-1]
        await listener.close()
    assert "hard to follow" in statuses["pt-PT"]["channel_warning"], statuses["pt-PT"]
    assert statuses["pt-PT"]["channel_state"] != "unavailable"  # it still speaks
    assert statuses["es-ES"].get("channel_warning") is None

    portuguese = await (await client.get("/live/voices/pt_pt")).json()
    assert (portuguese["language"], portuguese["engine"]) == ("pt-PT", "espeak")
    assert portuguese["wer"] > 0.5 and "read the captions" in portuguese["warning"]
    spanish = await (await client.get("/live/voices/es-ES")).json()
    assert spanish["warning"] is None and spanish["wer"] < 0.5
    galician = await (await client.get("/live/voices/gl-ES")).json()
    assert galician["engine"] is None and "captions only" in galician["warning"]
    bad = await client.get("/live/voices/not%20a%20language")
    assert bad.status == 422 and "language tag" in (await bad.json())["detail"]


async def test_staff_feeds_are_not_audience(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    """An interpreter's page listens to the floor (and its captions) with the interpreter's
    token: those feeds are counted apart, never against the event's listener limit."""
    session = await runtime.start(event_id)
    staff = await client.ws_connect(f"/listen/{event_id}?token={speaker_token(event_id, 2)}")
    await listen_until(staff, Heard(), lambda log: bool(log.of_type("status")))
    public = await client.ws_connect(f"/listen/{event_id}")
    await listen_until(public, Heard(), lambda log: bool(log.of_type("status")))

    async def counted() -> bool:
        return await listeners_hash(runtime, event_id) == {"en-US": "1"}

    await poll(counted)
    floor = session.snapshot()["channels"]["en-US"]
    assert (floor["listeners"], floor["staff"]) == (1, 1)
    await staff.close()
    await public.close()


async def test_the_organizer_sees_each_speakers_microphone_level(
    client: Client, runtime: LiveRuntime, event_id: int
) -> None:
    """Issue 27: the speak page measures its input; the live view shows it per channel."""
    await runtime.start(event_id)
    headers = {"Authorization": f"Bearer {service_token(runtime.settings)}"}
    floor = await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    assert (await floor.receive_json())["type"] == "ready"

    async def levels() -> tuple[float, float]:
        stats = await (await client.get(f"/live/{event_id}/stats", headers=headers)).json()
        floor_stats = stats["channels"]["en-US"]
        return float(floor_stats["input_level"]), float(floor_stats["input_peak"])

    assert await levels() == (-1.0, -1.0)  # nothing heard yet
    await floor.send_json({"type": "level", "level": 0.12, "peak": 0.99})

    async def heard() -> bool:
        return await levels() == (0.12, 0.99)

    await poll(heard)
    await floor.send_json({"type": "level", "level": 3, "peak": 0.5})  # not a level
    error = await floor.receive_json()
    assert error["type"] == "error" and "level" in error["message"]
    await floor.close()
