"""One channel of a live session: its hub, its booth, and whether it is on air."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from livevent.model import Channel, ChannelKind, language_name
from livevent.model.language import own_name
from livevent.runtime.live.booth import Booth
from livevent.runtime.live.fanout import ChannelHub
from livevent.runtime.wire import ChannelInfo, Status


def channel_info(channel: Channel) -> ChannelInfo:
    return ChannelInfo(
        number=channel.number,
        language=channel.language,
        name=language_name(channel.language),
        own_name=own_name(channel.language),
        kind=channel.kind.value,
        label=channel.label,
    )


# A speaker's level older than this is no news (they left, or their page stopped).
LEVEL_FRESH = 3.0
# A machine channel quiet for less than this between two sentences is still on air.
ON_AIR_LINGER = 3.0


@dataclass(slots=True)
class ChannelState:
    hub: ChannelHub
    booth: Booth = field(default_factory=Booth)
    muted: bool = False
    idle_since: float | None = field(default_factory=time.monotonic)
    paused: bool = True
    playing: bool = False  # a machine channel speaking a translation
    quiet_since: float = float("-inf")  # when it last stopped speaking (monotonic)
    problem: str | None = None  # why a machine channel cannot run
    note: str | None = None  # a machine channel that runs captions only, and why
    warning: str | None = None  # a machine channel whose voice is hard to follow
    standing_in: bool = False  # the machine speaks an interpreter's channel (fallback)
    relayed_from: str | None = None  # a relayed channel translating its interpreter now
    remote: Status | None = None  # on a relay: the owner's last status of the channel
    # The active speaker's microphone as their page measures it: (level, peak, when).
    input_level: tuple[float, float, float] | None = None

    def input_now(self) -> tuple[float, float]:
        """(level, peak) of the last second or two; (-1, -1) when none was heard of late."""
        if self.input_level is None or time.monotonic() - self.input_level[2] > LEVEL_FRESH:
            return -1.0, -1.0
        return self.input_level[0], self.input_level[1]

    @property
    def speaker(self) -> str | None:
        return self.booth.active

    @property
    def channel(self) -> Channel:
        return self.hub.channel

    @property
    def machine_speaks(self) -> bool:
        """The machine, not a person, speaks the channel now."""
        if self.remote is not None:
            return bool(self.remote.machine)
        if self.standing_in:
            return True  # no interpreter, or one silent while the floor speaks
        return self.channel.kind is ChannelKind.MACHINE and self.speaker is None

    def on_air(self, *, machine_ready: bool, interpreting: bool = False) -> str:
        """live, waiting, paused or unavailable: what listeners are told of the channel.

        `interpreting`: the machine is at work on speech heard (the speaker goes on): a
        machine channel between two of its sentences is on air however long the gap."""
        if self.remote is not None:
            return self.remote.channel_state or "waiting"
        if self.machine_speaks:
            # Fed by the speech pipeline: without it the channel is honestly off air.
            if not machine_ready or self.problem:
                return "unavailable"
            if self.paused:
                return "paused"
            # Captions only: on air whenever the pipeline runs, there is no voice to wait for.
            lingering = time.monotonic() - self.quiet_since < ON_AIR_LINGER
            on = self.playing or lingering or interpreting or self.note
            return "live" if on else "waiting"
        if self.paused:
            return "paused"
        # Muted (a cough, a sip of water), the interpreter is still at the booth: nobody
        # tells listeners that nobody interprets.
        return "live" if self.speaker is not None else "waiting"
