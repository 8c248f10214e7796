"""A relay's links to its event's owner, on the in-memory bus (no instance, no socket)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from livevent.bus import MemoryBus, keys
from livevent.model import Channel
from livevent.runtime.cluster.scaleout import WANT_STATUS, ScaleOut
from livevent.runtime.live.channels import ChannelState
from livevent.runtime.live.fanout import ChannelHub

EVENT_ID = 123457


async def test_a_relay_on_the_bus_asks_the_owner_for_each_channels_status() -> None:
    """A relay whose line broke (or that never had one) hears the owner over the bus
    from then on; what the owner said meanwhile is lost, so it asks for each channel's
    status again, as it does on a line, rather than wait for the next change."""
    bus = MemoryBus()
    languages = ("es-ES", "ca-ES")
    owner_hears = await bus.subscribe_bytes(*(keys.live_in(EVENT_ID, lang) for lang in languages))
    channels = {
        lang: ChannelState(ChannelHub(Channel(number=n, language=lang)))
        for n, lang in enumerate(languages, start=1)
    }
    tasks: list[asyncio.Task[Any]] = []

    def spawn(work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        tasks.append(asyncio.create_task(work, name=name))
        return tasks[-1]

    relay = ScaleOut(
        bus=bus,
        event_id=EVENT_ID,
        channels=channels,
        role="relay",
        feed_here=lambda *_: None,
        spawn=spawn,
        dialer=None,
    )
    try:
        await relay.open()
        asked: set[str] = set()
        async with asyncio.timeout(10):
            while len(asked) < len(languages):
                message = await owner_hears.get()
                if message.data == WANT_STATUS:
                    asked.add(message.channel)
        assert asked == {keys.live_in(EVENT_ID, lang) for lang in languages}
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await owner_hears.aclose()
