"""The speech work of one live event, wherever it runs: the machine pipeline started and
fed the event's channels, machine stand-ins for silent interpreters, relays that follow
whoever is on air.

The owner runs it in-process (`speech = "local"`); a speech worker runs the same code
for an owner elsewhere (runtime/workers/job.py), on a mirror of the owner's channels.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Protocol

from livevent.errors import LiveventError
from livevent.model import Channel, ChannelKind, EventConfig, TranscriptSegment
from livevent.runtime.engines import Engines
from livevent.runtime.speech.channel_engines import engines_for, recogniser_of
from livevent.runtime.speech.finals import Recorder
from livevent.runtime.speech.host import PipelineHost
from livevent.runtime.speech.interpreter import Mode
from livevent.runtime.speech.pace import MIN_CHUNK
from livevent.runtime.speech.pipeline import MachinePipeline
from livevent.settings import Settings

log = logging.getLogger(__name__)

SILENCE_CHECK = 0.5  # seconds between looks at the interpreters' silence
# A relay loads the engines ahead once it has relayed this long: one that serves an
# event for a moment (a listener who came and went) does not load Whisper for nothing.
LOAD_AHEAD_AFTER = 10.0


class SpeechChannel(Protocol):
    """A channel as the speech work sees it (a live `ChannelState`, or a worker's mirror)."""

    standing_in: bool  # the machine speaks an interpreter's channel (fallback)

    @property
    def speaker(self) -> str | None: ...

    @property
    def channel(self) -> Channel: ...


class SpeechSession(PipelineHost, Protocol):
    rehearsing: bool  # a rehearsal is neither recorded nor transcribed

    @property
    def channels(self) -> Mapping[str, SpeechChannel]: ...


def needs_machine(channel: Channel, *, interpreter_captions: bool) -> bool:
    """A machine channel, an interpreter's the machine stands in for, or one whose
    interpreter is captioned."""
    return (
        channel.kind is ChannelKind.MACHINE
        or channel.fallback == "machine"
        or (channel.kind is ChannelKind.HUMAN and interpreter_captions)
    )


async def load_ahead(engines: Engines, config: EventConfig, settings: Settings) -> None:
    """A relay loads the engines the event's machine channels need, as its owner did, so
    that taking the event over does not wait for them; what cannot load is left to the
    takeover, which says why."""
    captions = settings.interpreter_captions
    if not any(needs_machine(c, interpreter_captions=captions) for c in config.channels):
        return
    await asyncio.sleep(LOAD_AHEAD_AFTER)  # a relay that stays, not one passing through
    machine = [c for c in config.channels if c.kind is ChannelKind.MACHINE]
    try:
        await engines.stt(recogniser_of(machine))
        for channel in machine:
            await engines_for(engines, config.source_language, channel)
    except LiveventError as error:
        log.info("event %s: engines not loaded ahead: %s", config.id, error)


class SpeechDuties:
    """The machine pipeline of one session, and what it does as speakers come and go."""

    def __init__(
        self,
        session: SpeechSession,
        engines: Engines,
        *,
        record: Recorder | None,
        mode: Mode,
        interpreter_captions: bool,
        fallback_after_silence: float,
        decode_every: float = MIN_CHUNK,
    ) -> None:
        self.session = session
        self.decode_every = decode_every
        self.engines = engines
        self.record = record
        self.mode: Mode = mode
        self.interpreter_captions = interpreter_captions
        self.fallback_after_silence = fallback_after_silence
        self.pipeline: MachinePipeline | None = None
        self.problem: str | None = None  # why the machine channels cannot run
        self._begun = False

    @property
    def ready(self) -> bool:
        return self.pipeline is not None

    def needed(self, channels: list[Channel]) -> bool:
        captions = self.interpreter_captions
        return any(needs_machine(c, interpreter_captions=captions) for c in channels)

    async def begin(self, origin: float | None) -> None:
        """Start the pipeline (transcripts on the recordings' clock from `origin`)."""
        session = self.session
        if self.needed(session.config.channels):
            await self.start_pipeline(origin)
            for language in session.channels:
                self.speaker_changed(language)
            if any(c.fallback == "machine" for c in session.config.channels):
                session.spawn(self._watch_silence(), name=f"silence:{session.event_id}")
        self._begun = True  # channels added from now on get their booths here

    def go_live(self, origin: float) -> None:
        if self.pipeline is not None:
            self.pipeline.origin = origin

    async def _transcribe(self, segment: TranscriptSegment) -> None:
        if self.record is not None and not self.session.rehearsing:
            await self.record(segment)  # a rehearsal leaves no transcript

    async def start_pipeline(self, origin: float | None) -> None:
        pipeline = MachinePipeline(
            self.session,
            self.engines,
            record=self._transcribe,
            mode=self.mode,
            interpreters=self.interpreter_captions,
            origin=origin,
            decode_every=self.decode_every,
        )
        try:
            await pipeline.start()
        except LiveventError as error:
            # The floor and human channels go on; machine channels say why they are off.
            self.problem = str(error)
            log.error("event %s: machine channels unavailable: %s", self.session.event_id, error)
            return
        self.pipeline, self.problem = pipeline, None

    async def channels_added(self, added: list[Channel]) -> None:
        """Channels added while live: the machine ones interpreted."""
        machine = [
            c for c in added if needs_machine(c, interpreter_captions=self.interpreter_captions)
        ]
        if not machine or not self._begun:
            return
        if self.pipeline is None:
            await self.start_pipeline(None)
        else:
            for channel in machine:
                if channel.kind is ChannelKind.MACHINE:
                    await self.pipeline.add_target(channel)
                elif self.interpreter_captions:
                    await self.pipeline.recognise(channel.language)
        for channel in machine:
            self.speaker_changed(channel.language)
            if channel.source is not None:
                self.speaker_changed(channel.source)

    def speaker_changed(self, language: str) -> None:
        """Who speaks the channel changed: a machine stand-in starts or stops, and the
        channels relayed from it translate the interpreter, or the floor without one."""
        self.stand_in(language)
        pipeline = self.pipeline
        if pipeline is None:
            return
        heard = pipeline.channels.get(language)
        if heard is not None:
            heard.last_voice = time.monotonic()  # a new interpreter has the grace too
        channels = self.session.channels
        on_air = channels[language].speaker is not None
        origin = language if on_air else self.session.config.source_language
        for state in channels.values():
            if state.channel.source == language:
                following = pipeline.follow(state.channel, origin)
                self.session.spawn(following, name=f"relay:{state.channel.language}")

    def stand_in(self, language: str, *, silent: bool = False) -> None:
        """An interpreter's channel with a machine fallback: the machine speaks it while
        no interpreter is on air (or the one on air is `silent` while the floor speaks),
        and stops the moment one speaks."""
        state = self.session.channels[language]
        pipeline = self.pipeline
        if pipeline is None or state.channel.fallback != "machine":
            return
        wanted = state.speaker is None or silent
        if wanted == state.standing_in:
            return
        state.standing_in = wanted
        if wanted:
            standing = pipeline.stand_in(state.channel, lambda: state.standing_in)
            self.session.spawn(standing, name=f"stand-in:{language}")
        else:
            self.session.spawn(pipeline.stand_down(language), name=f"stand-down:{language}")

    async def _watch_silence(self) -> None:
        """An interpreter on air but silent while the floor speaks, for longer than
        `fallback_after_silence`: the machine stands in until they speak again."""
        limit = self.fallback_after_silence
        while True:
            await asyncio.sleep(SILENCE_CHECK)  # the watch's period, not a synchronisation
            pipeline = self.pipeline
            if pipeline is None or limit <= 0:
                continue
            now = time.monotonic()
            floor_speaks = now - pipeline.last_voice < SILENCE_CHECK * 4
            for language, state in self.session.channels.items():
                heard = pipeline.channels.get(language)
                if state.speaker is None or heard is None:
                    continue
                silent = now - heard.last_voice > limit
                if silent != state.standing_in and (floor_speaks or not silent):
                    self.stand_in(language, silent=silent)
