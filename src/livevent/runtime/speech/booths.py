"""The pipeline's booths: one opened per machine channel with its engines, and one per
interpreter's channel the machine stands in for, closed when the interpreter is back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from livevent.errors import LiveventError
from livevent.model import Channel
from livevent.runtime.engines import Engines
from livevent.runtime.speech.channel_engines import ChannelEngines, engines_for
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.interpreter import ChannelInterpreter, Keep, Mode
from livevent.runtime.speech.player import ChannelPlayer
from livevent.runtime.speech.timing import MediaClock

log = logging.getLogger(__name__)


@dataclass
class OpenBooth:
    booth: ChannelInterpreter
    chosen: ChannelEngines
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


def open_booth(
    host: PipelineHost,
    engines: Engines,
    channel: Channel,
    chosen: ChannelEngines,
    *,
    source: str,
    mode: Mode,
    clock: MediaClock,
    keep: Keep | None,
) -> OpenBooth:
    """The booth of `channel`, interpreting from the next words on, its tasks running."""
    language = channel.language
    booth = ChannelInterpreter(
        host=host,
        language=language,
        source=source,
        mode=mode,
        mt=lambda: engines.mt(chosen.mt),
        tts=None if chosen.tts is None else lambda: engines.tts(chosen.tts),
        player=ChannelPlayer(host, language),
        clock=clock,
        voice=chosen.voice,
        glossary=host.config.glossary,
        keep=keep,
    )
    if chosen.note is not None:
        host.set_note(language, chosen.note)
    if chosen.warning is not None:
        host.set_warning(language, chosen.warning)
    opened = OpenBooth(booth, chosen)
    opened.tasks.append(host.spawn(booth.player.run(), name=f"player:{language}"))
    opened.tasks.append(host.spawn(booth.run(), name=f"booth:{language}"))
    return opened


async def close_booth(host: PipelineHost, opened: OpenBooth) -> None:
    """Stop at once: what it queued is not said (a person speaks the channel now)."""
    for task in opened.tasks:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*opened.tasks, return_exceptions=True)
    language = opened.booth.language
    host.flush(language)
    if opened.booth.player.playing:
        opened.booth.player.playing = False
        host.set_playing(language, False)


class BoothSet:
    """Every open booth of a pipeline, by language."""

    def __init__(
        self,
        host: PipelineHost,
        engines: Engines,
        *,
        source: str,
        clock: Callable[[str], MediaClock],
        keep: Callable[[str], Keep | None],
    ) -> None:
        self.host, self.engines, self.source = host, engines, source
        self.clock = clock  # by the language a booth translates: that recognition's clock
        self.keep = keep  # by the language a booth translates: that transcript's keeper
        self.booths: dict[str, ChannelInterpreter] = {}
        self.chosen: dict[str, ChannelEngines] = {}  # per channel: voice and route, for stats
        self._opened: dict[str, OpenBooth] = {}
        self._switching: dict[str, asyncio.Lock] = {}

    def open(
        self, channel: Channel, chosen: ChannelEngines, mode: Mode, origin: str | None = None
    ) -> None:
        """The channel's booth, translating `origin` (the floor when None)."""
        opened = open_booth(
            self.host,
            self.engines,
            channel,
            chosen,
            source=origin or self.source,
            mode=mode,
            clock=self.clock(origin or self.source),
            keep=self.keep(origin or self.source),
        )
        self.booths[channel.language] = opened.booth
        self.chosen[channel.language] = chosen
        self._opened[channel.language] = opened

    async def stand_in(self, channel: Channel, mode: Mode, still: Callable[[], bool]) -> None:
        """An interpreter's channel with nobody on air: the machine speaks it (fallback),
        unless an interpreter came back meanwhile (`still` says whether it is wanted)."""
        if channel.language in self.booths:
            return
        try:
            chosen = await engines_for(self.engines, self.source, channel)
        except LiveventError as error:
            log.warning("no machine stand-in for %s: %s", channel.language, error)
            return
        if still() and channel.language not in self.booths:
            self.open(channel, chosen, mode)

    async def follow(self, channel: Channel, origin: str, mode: Mode) -> bool:
        """A relayed channel translates `origin` from now on (its interpreter's channel,
        or the floor while nobody interprets there); False if it cannot."""
        # One change at a time per channel: an interpreter who comes and goes quickly
        # must not leave two booths speaking on it.
        async with self._switching.setdefault(channel.language, asyncio.Lock()):
            booth = self.booths.get(channel.language)
            if booth is not None and booth.source == origin:
                return True
            try:
                chosen = await engines_for(self.engines, origin, channel)
            except LiveventError as error:
                log.warning("channel %s cannot translate %s: %s", channel.language, origin, error)
                return False
            await self.stand_down(channel.language)
            self.open(channel, chosen, mode, origin)
            return True

    async def stand_down(self, language: str) -> None:
        """The interpreter is back: the machine stops on the channel at once."""
        self.booths.pop(language, None)
        self.chosen.pop(language, None)
        opened = self._opened.pop(language, None)
        if opened is not None:
            await close_booth(self.host, opened)
