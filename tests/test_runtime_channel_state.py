"""What listeners are told of a machine channel's state during continuous speech."""

from __future__ import annotations

import asyncio

from livevent.model import Channel, ChannelKind
from livevent.runtime.live.channels import ON_AIR_LINGER, ChannelState
from livevent.runtime.live.fanout import ChannelHub
from livevent.runtime.live.hosting import ChannelHost
from tests.support.live import poll


class Host(ChannelHost):
    """A session's channels as the pipeline sees them, counting what listeners are told."""

    def __init__(self) -> None:
        channel = Channel(number=2, language="es-ES", kind=ChannelKind.MACHINE)
        self.channels = {"es-ES": ChannelState(ChannelHub(channel))}
        self.channels["es-ES"].paused = False
        self.told: list[str] = []

    @property
    def role(self) -> str:
        return "owner"

    def _notify(self, language: str) -> None:
        self.told.append(self.channels[language].on_air(machine_ready=True))


async def test_a_machine_channel_between_two_sentences_stays_on_air() -> None:
    """Issue 30: its state flipped between Waiting and On air every 1-2 s."""
    host = Host()
    host.set_playing("es-ES", True)
    for _ in range(5):  # sentence, breath, sentence...
        host.set_playing("es-ES", False)
        await asyncio.sleep(0.05)  # the gap between two sentences, not a synchronisation
        host.set_playing("es-ES", True)
    assert set(host.told) == {"live"}  # never "waiting" between two sentences
    host.set_playing("es-ES", False)
    assert host.channels["es-ES"].on_air(machine_ready=True) == "live"

    async def told_waiting() -> bool:
        return host.told[-1:] == ["waiting"]

    await poll(told_waiting, within=ON_AIR_LINGER + 10)
    assert host.told.count("waiting") == 1


async def test_a_machine_channel_stays_on_air_while_the_speaker_goes_on() -> None:
    """Issue 39: on long sentences the gap between two translations outlasts the linger,
    and the channel flipped Waiting/On air 15 times in 4 minutes of continuous speech."""

    class Busy(Host):
        speaking = True

        def interpreting(self) -> bool:
            return self.speaking

    host = Busy()
    host.set_playing("es-ES", True)
    host.set_playing("es-ES", False)  # a long sentence: nothing to say for a while
    loop = asyncio.get_running_loop()
    gap_over = loop.create_future()
    loop.call_later(ON_AIR_LINGER + 2, gap_over.set_result, None)
    await gap_over  # a gap longer than the linger, the speaker still talking
    assert host.told == ["live", "live"], host.told
    host.speaking = False  # the speaker stopped, and all was said

    async def told_waiting() -> bool:
        return host.told[-1:] == ["waiting"]

    await poll(told_waiting, within=10)
