"""Interpreters and machines together: every interpreter's channel is captioned from the
interpreter's own voice (and written to the transcript in that language), and a machine
channel may be relayed from an interpreter (`source`): it translates the interpreter,
not the floor, and falls back to the floor while nobody interprets there.

The floor and the interpreter say different things here, so a caption shows which it
came from. Real sockets, Whisper, Apertium, espeak-ng.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from livevent.bus import MemoryBus
from livevent.client import ListenerClient, SpeakerClient
from livevent.model import ChannelKind, ChannelSpec, build_channels
from livevent.runtime import LiveRuntime
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.live import poll, scheduled_event, speaker_token, speech_pcm

Client = TestClient[web.Request, web.Application]

SILENCE = bytes(32000)  # a second: the utterance ends


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'relay.db'}")
    async with LiveRuntime(settings, bus=MemoryBus()) as opened:
        yield opened


def test_a_relay_names_an_interpreters_channel_of_the_event() -> None:
    with pytest.raises(ValueError, match="only a machine channel is relayed"):
        ChannelSpec(language="ca-ES", kind=ChannelKind.HUMAN, source="es-ES")
    with pytest.raises(ValueError, match="not an interpreter's channel"):
        build_channels(
            "en-US",
            [
                ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE),
                ChannelSpec(language="ca-ES", kind=ChannelKind.MACHINE, source="es-ES"),
            ],
        )


def final_text(listener: ListenerClient) -> str:
    return " ".join(str(c["text"]) for c in listener.heard.captions()).lower()


async def test_a_relay_translates_the_interpreter_and_the_interpreter_is_captioned(
    runtime: LiveRuntime, aiohttp_client: AiohttpClient, tmp_path: Path
) -> None:
    event_id = await scheduled_event(
        runtime.service,
        ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN),
        ChannelSpec(language="ca-ES", kind=ChannelKind.MACHINE, source="es-ES"),
    )
    client: Client = await aiohttp_client(create_runtime_app(runtime.settings, runtime=runtime))
    await runtime.start(event_id)
    spanish = ListenerClient(await client.ws_connect(f"/listen/{event_id}?channel=es-ES"))
    catalan = ListenerClient(await client.ws_connect(f"/listen/{event_id}?channel=ca-ES"))
    for listener in (spanish, catalan):
        listener.start()
        await listener.until(lambda heard: heard.of_type("status"))
    floor = SpeakerClient(
        await client.ws_connect(f"/speak/{event_id}/1?token={speaker_token(event_id)}")
    )
    assert (await floor.greeted())["type"] == "ready"

    # Nobody interprets Spanish yet: the relay translates the floor, and says so.
    assert catalan.heard.of_type("status")[-1].get("relayed_from") is None
    weather = speech_pcm("The weather is very nice today.", "en-us", tmp_path)
    await floor.send(weather + SILENCE, pace=2.0)
    await catalan.until(lambda heard: bool(heard.captions()), 60)
    from_floor = catalan.heard.captions()[-1]
    assert from_floor["translated_from"] == "en-US", from_floor
    assert "temps" in str(from_floor["text"]).lower(), from_floor

    # The interpreter speaks (the floor is silent): Catalan translates the Spanish.
    interpreter = SpeakerClient(
        await client.ws_connect(f"/speak/{event_id}/2?token={speaker_token(event_id, 2)}")
    )
    assert (await interpreter.greeted())["type"] == "ready"
    await catalan.until(lambda heard: heard.of_type("status")[-1].get("relayed_from") == "es-ES")
    # The interpreter's booth is open a while before they speak: their channel's media
    # time runs ahead of the floor's, which has been quiet since.
    await interpreter.send(bytes(12 * 32000), pace=8.0)
    before = len(catalan.heard.captions())
    library = speech_pcm("Bienvenidos a la nueva biblioteca de la ciudad.", "es", tmp_path)
    await interpreter.send(library + SILENCE, pace=2.0)
    await catalan.until(lambda heard: len(heard.captions()) > before, 60)
    relayed = catalan.heard.captions()[-1]
    assert relayed["translated_from"] == "es-ES", relayed
    assert "biblioteca" in str(relayed["text"]).lower(), relayed
    assert "temps" not in str(relayed["text"]).lower()

    # Its lag is measured on the interpreter's clock (it was read on the floor's, which
    # gave -12.5 s): behind the interpreter, never below zero, never absurd.
    async def catalan_view() -> dict[str, Any]:
        async with client.get(f"/live/{event_id}/stats") as response:
            view: dict[str, Any] = (await response.json())["channels"]["ca-ES"]
            return view

    async def lag_measured() -> bool:
        return (await catalan_view()).get("evs_s") is not None

    await poll(lag_measured, within=60)
    view = await catalan_view()
    assert view["evs_from"] == "es-ES", view
    assert 0 <= view["evs_s"] < 8, view

    # The interpreter's own channel is captioned from their voice, in Spanish.
    await spanish.until(lambda heard: "biblioteca" in final_text(spanish), 60)
    service = runtime.service
    assert service is not None

    async def kept() -> bool:  # the spool drains into the store in the background
        said = [s for s in await service.transcript(event_id) if s.language == "es-ES"]
        return bool(said) and "ca-ES" in said[-1].translations

    await poll(kept, within=30)
    segments = await service.transcript(event_id)
    spanish_said = [s for s in segments if s.language == "es-ES"]
    assert "biblioteca" in spanish_said[-1].text.lower(), segments
    assert "biblioteca" in spanish_said[-1].translations["ca-ES"].lower()
    floor_said = [s for s in segments if s.language == "en-US"]
    assert all("biblioteca" not in s.text.lower() for s in floor_said), floor_said
    for listener in (spanish, catalan):
        await listener.close()
