"""The engines one machine channel runs on, chosen and checked before it starts."""

from __future__ import annotations

from dataclasses import dataclass

from livevent.errors import Unavailable
from livevent.model import Channel
from livevent.runtime.engines import Engines
from livevent.runtime.engines.apertium import ApertiumTranslator


@dataclass(frozen=True, slots=True)
class ChannelEngines:
    mt: str | None  # None: the default translator
    tts: str
    voice: str | None  # the engine's own voice; None: its voice for the language
    route: str | None = None  # the translator's hops, where it has several: eng>spa>fra

    @property
    def voice_label(self) -> str:
        return f"{self.tts}:{self.voice}" if self.voice else self.tts


async def engines_for(engines: Engines, source: str, channel: Channel) -> ChannelEngines:
    """What translates `source` into the channel's language and speaks it.

    Raises Unavailable with the reason the channel shows when it cannot run:
    no route between the languages, or no voice.
    """
    language = channel.language
    mt_name = channel.engines.get("mt")
    mt = await engines.mt(mt_name)
    if not mt.supports(source, language):
        raise Unavailable(mt.unsupported(source, language))
    tts_name, voice = await engines.choose_voice(
        language, channel.voice, channel.engines.get("tts")
    )
    tts = await engines.tts(tts_name)
    if not tts.supports(language, voice):
        raise Unavailable(f"{tts.name} has no voice for {language}")
    hops = mt.route(source, language) if isinstance(mt, ApertiumTranslator) else None
    route = ">".join([hops[0][0], *(b for _, b in hops)]) if hops else None
    return ChannelEngines(mt=mt_name, tts=tts_name, voice=voice, route=route)
