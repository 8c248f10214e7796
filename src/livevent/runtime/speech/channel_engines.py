"""The engines one machine channel runs on, chosen and checked before it starts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from livevent.errors import Unavailable
from livevent.model import Channel
from livevent.runtime.engines import Engines
from livevent.runtime.engines.apertium import ApertiumTranslator
from livevent.runtime.engines.voices import voice_warning

# A channel that asks for no voice (`voice="none"`) is captioned, not spoken.
NO_VOICE = "none"


@dataclass(frozen=True, slots=True)
class ChannelEngines:
    mt: str | None  # None: the default translator
    tts: str | None  # None: captions only (no voice for the language, or none asked for)
    voice: str | None  # the engine's own voice; None: its voice for the language
    route: str | None = None  # the translator's hops, where it has several: eng>spa>fra
    note: str | None = None  # what listeners are told of a captions-only channel
    warning: str | None = None  # what listeners are told of a voice hard to follow

    @property
    def voice_label(self) -> str:
        if self.tts is None:
            return "captions only"
        return f"{self.tts}:{self.voice}" if self.voice else self.tts


def recogniser_of(channels: Iterable[Channel]) -> str | None:
    """The recogniser the machine channels ask for (the first that names one); None: the
    default. One recogniser hears the floor for all of them."""
    return next((c.engines["stt"] for c in channels if "stt" in c.engines), None)


async def engines_for(engines: Engines, source: str, channel: Channel) -> ChannelEngines:
    """What translates `source` into the channel's language and speaks it.

    Raises Unavailable with the reason the channel shows when it cannot run: no
    route between the languages, or a voice it names that is not here. A language
    no installed voice speaks is still translated: captions only, and it says so.
    """
    language = channel.language
    mt_name = channel.engines.get("mt")
    mt = await engines.mt(mt_name)
    if not mt.supports(source, language):
        raise Unavailable(mt.unsupported(source, language))
    hops = mt.route(source, language) if isinstance(mt, ApertiumTranslator) else None
    route = ">".join([hops[0][0], *(b for _, b in hops)]) if hops else None
    if channel.voice == NO_VOICE:
        note = "captions only, as the organizer chose"
        return ChannelEngines(mt=mt_name, tts=None, voice=None, route=route, note=note)
    tts_name, voice = await engines.choose_voice(
        language, channel.voice, channel.engines.get("tts")
    )
    tts = await engines.tts(tts_name)
    if not tts.supports(language, voice):
        if channel.voice or channel.engines.get("tts"):
            raise Unavailable(f"{tts.name} has no voice for {language}")
        note = f"captions only: no voice for {language} is installed"
        return ChannelEngines(mt=mt_name, tts=None, voice=None, route=route, note=note)
    warning = voice_warning(language, tts_name)
    return ChannelEngines(mt=mt_name, tts=tts_name, voice=voice, route=route, warning=warning)
