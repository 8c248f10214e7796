"""Machine interpretation of one live event: the floor's speech (recognition.py) and the
booths that interpret it; the interpreters' channels recognised too, for their captions,
the transcript, and the machine channels relayed from them.

    floor -> Recognition -> units, sentences -> booths (source: the floor)
    interpreter's channel -> Recognition -> its captions, transcript
        -> booths relayed from it (`source` on a machine channel)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from livevent.errors import LiveventError
from livevent.model import Channel, ChannelKind
from livevent.runtime.engines import Engines
from livevent.runtime.speech.booths import BoothSet
from livevent.runtime.speech.channel_engines import engines_for, recogniser_of
from livevent.runtime.speech.finals import Recorder, TranscriptKeeper
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.interpreter import ChannelInterpreter, Keep, Mode
from livevent.runtime.speech.pace import MIN_CHUNK
from livevent.runtime.speech.recognition import Recognition
from livevent.runtime.speech.stats import pipeline_stats
from livevent.runtime.speech.timing import MediaClock

log = logging.getLogger(__name__)


class MachinePipeline(Recognition):
    def __init__(
        self,
        host: PipelineHost,
        engines: Engines,
        *,
        record: Recorder | None = None,
        mode: Mode = "simultaneous",
        interpreters: bool = False,
        origin: float | None = None,
        decode_every: float = MIN_CHUNK,
    ) -> None:
        source = host.config.source_language
        self.record = record
        # The transcript's clock: seconds since the recordings began (monotonic), so that
        # an SRT lines up with its channel's recording.
        self.origin = time.monotonic() if origin is None else origin
        self.default_mode: Mode = mode
        self.targets = [c for c in host.config.channels if c.kind is ChannelKind.MACHINE]
        clock = MediaClock()
        super().__init__(
            host,
            engines,
            source,
            clock=clock,
            keeper=self._keeper(host, source, clock),
            booths=lambda: self.booths_of(source),
            mode_of=self.mode_of,
            stt_name=recogniser_of(self.targets),
            decode_every=decode_every,
        )
        self.set = BoothSet(host, engines, source=source, clock=self._clock_of, keep=self._keep_for)
        self.booths = self.set.booths  # the same dicts: booths open and close in the set
        self.chosen = self.set.chosen
        # Each interpreter's channel, recognised in its language (`interpreters`).
        self.channels: dict[str, Recognition] = {}
        self._interpreters = interpreters

    def _keeper(
        self, host: PipelineHost, language: str, clock: MediaClock
    ) -> TranscriptKeeper | None:
        """The transcript of `language`: its media times (`clock`) on the recordings' clock."""
        if self.record is None:
            return None

        def on_recording(media_time: float, starting: bool) -> float:
            # The origin is read at each sentence: going live after a rehearsal moves it.
            return clock.wall(media_time, starting=starting) - self.origin

        return TranscriptKeeper(
            self.record,
            host.event_id,
            language,
            timeline=on_recording,
            recording_time=lambda moment: moment - self.origin,
        )

    def _keep_for(self, origin: str) -> Keep | None:
        """Where a booth translating `origin` writes its translations: that transcript."""
        recognition = self if origin == self.source else self.channels.get(origin)
        keeper = recognition.keeper if recognition is not None else None
        return None if keeper is None else keeper.translation

    def _clock_of(self, origin: str) -> MediaClock:
        """The media clock of what a booth translating `origin` hears: its recognition's
        (an interpreter's media times mean nothing on the floor's clock)."""
        recognition = self if origin == self.source else self.channels.get(origin)
        return (recognition or self).clock

    def booths_of(self, source: str) -> list[ChannelInterpreter]:
        """The booths that interpret `source` (the floor, or an interpreter's channel)."""
        return [b for b in self.booths.values() if b.source == source]

    # -- input (called on the event loop for every frame, in order) --------------------

    def on_floor_frame(self, frame: bytes) -> None:
        self.on_frame(frame)

    def on_channel_frame(self, language: str, frame: bytes) -> None:
        """An interpreter's frame: recognised for the channel's captions and relays."""
        recognition = self.channels.get(language)
        if recognition is not None:
            recognition.on_frame(frame)

    def channel_speech_ended(self, language: str) -> None:
        recognition = self.channels.get(language)
        if recognition is not None:
            recognition.end_of_speech()

    # -- start ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Load the engines, then start the booths; a channel that cannot run says why."""
        await self.open()
        for channel in list(self.targets):
            await self.add_target(channel, starting=True)
        self.host.spawn(self.run(), name=f"pipeline:{self.host.event_id}")
        if self._interpreters:
            for channel in self.host.config.channels:
                if channel.kind is ChannelKind.HUMAN:
                    await self.recognise(channel.language)

    async def recognise(self, language: str) -> None:
        """An interpreter's channel, recognised from its interpreter's voice."""
        if language in self.channels:
            return
        clock = MediaClock()
        recognition = Recognition(
            self.host,
            self.engines,
            language,
            clock=clock,
            keeper=self._keeper(self.host, language, clock),
            booths=lambda: self.booths_of(language),
            mode_of=self.mode_of,
            stt_name=self.stt_name,
            decode_every=self.pace.min_chunk,
        )
        await recognition.open()
        self.channels[language] = recognition
        self.host.spawn(recognition.run(), name=f"recognition:{language}")

    async def add_target(self, channel: Channel, *, starting: bool = False) -> None:
        """A machine channel (one added while live is translated from the next words on)."""
        try:
            chosen = await engines_for(self.engines, self.source, channel)
        except LiveventError as error:
            log.warning("channel %s unavailable: %s", channel.language, error)
            self.host.set_problem(channel.language, str(error))
            if channel in self.targets:
                self.targets.remove(channel)
            return
        if not starting:
            self.targets.append(channel)
        self.set.open(channel, chosen, self.mode_of(channel))

    async def stand_in(self, channel: Channel, still: Callable[[], bool]) -> None:
        """An interpreter's channel with nobody on air: the machine speaks it (booths.py)."""
        await self.set.stand_in(channel, self.mode_of(channel), still)

    async def stand_down(self, language: str) -> None:
        await self.set.stand_down(language)

    async def follow(self, channel: Channel, origin: str) -> None:
        """A relayed channel translates `origin` now (booths.py), and says which."""
        if await self.set.follow(channel, origin, self.mode_of(channel)):
            self.host.set_relay(channel.language, None if origin == self.source else origin)

    def mode_of(self, channel: Channel) -> Mode:
        if self.recognizer is None:
            return "consecutive"  # no word times: whole utterances only
        config = self.host.config
        return channel.interpretation or config.interpretation or self.default_mode

    async def settle(self) -> None:
        """Leaving with speech still being recognised: the floor's and the interpreters'
        words heard so far are final as they are (`Recognition.keep_as_heard`)."""
        for recognition in [self, *self.channels.values()]:
            if recognition.recognising:
                await recognition.keep_as_heard()

    # -- state ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Speech heard but not yet captioned, translated and queued for speaking."""
        return (
            self.recognising
            or any(r.recognising for r in self.channels.values())
            or any(b.busy for b in self.booths.values())
        )

    @property
    def finished(self) -> bool:
        """Everything heard is captioned and spoken: nothing queued, nothing playing."""
        return not self.busy and all(b.player.idle for b in self.booths.values())

    def snapshot(self) -> dict[str, Any]:
        return pipeline_stats(self)
