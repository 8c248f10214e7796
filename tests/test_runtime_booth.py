"""Booth partners on one interpretation channel: standby, explicit handover, takeover."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from livevent.bus import MemoryBus
from livevent.model import Channel, ChannelKind, ChannelSpec
from livevent.runtime import LiveRuntime
from livevent.runtime.cluster import promotion as promotion_module
from livevent.runtime.cluster.messages import BoothCommand
from livevent.runtime.cluster.speakers import Speakers
from livevent.runtime.live.channels import ChannelState
from livevent.runtime.live.fanout import ChannelHub
from livevent.runtime.live.session import LiveSession
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.booth import hands_over, next_of, synced
from tests.support.live import Heard, listen_until, scheduled_event, speaker_token

Client = TestClient[web.Request, web.Application]
WS = aiohttp.ClientWebSocketResponse
SILENCE = bytes(3200)  # 100 ms


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'booth.db'}", joins_per_ip_per_minute=0
    )
    async with LiveRuntime(settings, bus=MemoryBus()) as opened:
        yield opened


@pytest.fixture
async def live(runtime: LiveRuntime) -> LiveSession:
    event_id = await scheduled_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN), name="Booth"
    )
    return await runtime.start(event_id)


@pytest.fixture
async def client(aiohttp_client: AiohttpClient, runtime: LiveRuntime) -> Client:
    return await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))


async def interpreter(client: Client, event_id: int, *, standby: bool = False) -> tuple[WS, str]:
    query = f"token={speaker_token(event_id, 2)}" + ("&standby=1" if standby else "")
    ws = await client.ws_connect(f"/speak/{event_id}/2?{query}")
    first = await ws.receive_json()
    return ws, first["type"]


async def test_a_second_interpreter_is_refused_unless_standing_by(
    client: Client, live: LiveSession
) -> None:
    first, kind = await interpreter(client, live.event_id)
    assert kind == "ready"
    second = await client.ws_connect(
        f"/speak/{live.event_id}/2?token={speaker_token(live.event_id, 2)}"
    )
    log = await listen_until(second, Heard(), lambda log: log.close_code is not None)
    assert log.close_code == 4009 and "standby" in (log.close_reason or "")
    await first.close()


async def test_partners_swap_and_only_the_active_one_is_heard(
    client: Client, live: LiveSession
) -> None:
    hub = live.channels["es-ES"].hub
    ana, kind = await interpreter(client, live.event_id)
    assert kind == "ready"
    ben, kind = await interpreter(client, live.event_id, standby=True)
    assert kind == "standby"

    await ben.send_bytes(SILENCE * 5)
    await synced(ben)
    assert hub.stats.frames_in == 0  # a partner standing by reaches nobody
    await ana.send_bytes(SILENCE * 5)
    await synced(ana)
    assert hub.stats.frames_in == 25

    await hands_over(ana, ben)
    await ana.send_bytes(SILENCE)
    await synced(ana)
    await ben.send_bytes(SILENCE)
    await synced(ben)
    assert hub.stats.frames_in == 30  # Ben's 5 frames; Ana's were dropped

    # The active one leaves: the partner standing by takes over by itself.
    await ben.close()
    assert (await next_of(ana, "ready"))["channel"] == 2
    await ana.send_json({"type": "handover"})
    assert "no booth partner" in str((await next_of(ana, "error"))["message"])
    await ana.close()


async def test_a_standby_partner_cannot_hand_over_or_mute(
    client: Client, live: LiveSession
) -> None:
    ana, _ = await interpreter(client, live.event_id)
    ben, _ = await interpreter(client, live.event_id, standby=True)
    await ben.send_json({"type": "handover"})
    assert "only the active speaker" in str((await next_of(ben, "error"))["message"])
    await ben.send_json({"type": "mute"})
    await synced(ben)
    assert not live.channels["es-ES"].muted
    await ben.close()
    await ana.close()


def _relay_speakers(
    owner: list[bool], tasks: list[asyncio.Task[Any]]
) -> tuple[Speakers, dict[str, ChannelState]]:
    """A relay's Speakers for one channel, on an in-memory bus; `owner[0]` says its role,
    and what it spawns goes to `tasks`."""

    def spawn(coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        tasks.append(asyncio.create_task(coroutine, name=name))
        return tasks[-1]

    channel = Channel(language="es-ES", kind=ChannelKind.HUMAN, number=2)
    channels = {"es-ES": ChannelState(ChannelHub(channel))}
    speakers = Speakers(
        bus=MemoryBus(),
        event_id=123457,
        instance="here",
        channels=channels,
        is_owner=lambda: owner[0],
        changed=lambda language: None,
        muted=lambda language, muted: None,
        spawn=spawn,
    )
    return speakers, channels


@pytest.mark.parametrize("comes_back", [True, False])
async def test_a_new_owner_keeps_the_channel_for_a_relays_active_speaker(
    comes_back: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ben (active, on another relay) must not lose the channel to Cara, a partner standing
    by on the instance that wins the takeover; if Ben's instance died too, Cara goes on."""
    monkeypatch.setattr(promotion_module, "RESUME_GRACE", 0.2)
    owner, tasks = [False], []
    speakers, channels = _relay_speakers(owner, tasks)
    turns: list[bool] = []
    speakers._local["cara"] = ("es-ES", turns.append)  # standing by here
    speakers._active["es-ES"] = "ben"  # the dead owner's last word: Ben is on air
    owner[0] = True
    speakers.promote()
    booth = channels["es-ES"].booth
    assert booth.active == "ben" and turns == []
    if comes_back:
        speakers._command(BoothCommand(op="enter", language="es-ES", speaker="ben", resume=True))
    (grace,) = [task for task in tasks if task.get_name().startswith("resume:")]
    await asyncio.wait_for(grace, 10)
    assert booth.active == ("ben" if comes_back else "cara")
    assert turns == ([] if comes_back else [True])
