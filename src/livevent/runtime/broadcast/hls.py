"""A live event as one HLS stream: each channel an audio rendition, each channel with
captions a subtitle rendition, one master playlist naming them in their languages.

The owner broadcasts from the moment the event is live (a rehearsal never is). Each
owner's run has a folder of its own (a takeover starts a new run, so nothing a player
holds is overwritten); the master playlist at the event's folder names the current
run. Files:

    {hls_dir}/{event}/master.m3u8
    {hls_dir}/{event}/{run}/{language}/audio.m3u8, a00000.ts ...
    {hls_dir}/{event}/{run}/{language}/subs.m3u8, s00000.vtt ...

After a takeover, the event's runs are stitched into one archive (stitch.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from livevent.files import replace_private_text
from livevent.model import Channel, EventConfig
from livevent.model.language import own_name
from livevent.runtime.broadcast.packager import AAC_BITRATE, ChannelPackager
from livevent.runtime.broadcast.packager import PLAYLIST as AUDIO
from livevent.runtime.broadcast.stitch import ARCHIVE, end_orphaned_runs, write_archive
from livevent.runtime.broadcast.subtitles import PLAYLIST as SUBTITLES
from livevent.runtime.broadcast.subtitles import ChannelSubtitles
from livevent.runtime.live.fanout import ChannelHub
from livevent.runtime.wire import Caption
from livevent.settings import Settings

log = logging.getLogger(__name__)

MASTER = "master.m3u8"
TICK_SECONDS = 0.25


def hls_root(settings: Settings) -> Path:
    return settings.hls_dir or settings.recordings_dir / "hls"


def master_playlist(config: EventConfig, run: str, captioned: set[str]) -> str:
    """The event's renditions: audio per channel (the floor the default), subtitles per
    channel with captions, each named in its own language."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for channel in config.channels:
        floor = channel.language == config.source_language
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="{channel.language}",'
            f'NAME="{_name(channel)}",DEFAULT={"YES" if floor else "NO"},AUTOSELECT=YES,'
            f'CHANNELS="1",URI="{run}/{channel.language}/{AUDIO}"'
        )
    for channel in config.channels:
        if channel.language in captioned:
            lines.append(
                f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="{channel.language}",'
                f'NAME="{_name(channel)}",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,'
                f'URI="{run}/{channel.language}/{SUBTITLES}"'
            )
    subtitles = ',SUBTITLES="subs"' if captioned else ""
    lines.append(
        f'#EXT-X-STREAM-INF:BANDWIDTH={AAC_BITRATE + 16_000},CODECS="mp4a.40.2",'
        f'AUDIO="audio"{subtitles}'
    )
    lines.append(f"{run}/{config.source_language}/{AUDIO}")
    return "\n".join(lines) + "\n"


def _name(channel: Channel) -> str:
    name = channel.label or own_name(channel.language)
    return name.replace('"', "'")


class EventBroadcast:
    """The HLS renditions of one live event on its owner."""

    def __init__(self, settings: Settings, config: EventConfig, instance: str) -> None:
        self.settings = settings
        self.config = config
        self.started = time.monotonic()
        stamp = int(time.time())
        digest = abs(hash((instance, stamp, id(self)))) % 0xFFFFFF
        self.run = f"{stamp:010d}-{digest:06x}"
        self.folder = hls_root(settings) / str(config.id)
        self.audio: dict[str, ChannelPackager] = {}
        self.subtitles: dict[str, ChannelSubtitles] = {}
        self._ticker: asyncio.Task[None] | None = None
        self.captioned: set[str] = set()

    def start(self, channels: dict[str, ChannelHub], captioned: set[str]) -> None:
        """Broadcast every channel; those in `captioned` (the languages captions will come
        in) get subtitles too."""
        self.captioned = captioned
        try:
            if end_orphaned_runs(self.folder, self.run):
                log.info("event %s: the broadcast of the owner before ended", self.config.id)
        except OSError as error:
            log.warning("event %s: earlier HLS runs not ended: %s", self.config.id, error)
        for language, hub in channels.items():
            self.add(language, hub)
        self._write_master()
        self._ticker = asyncio.create_task(self._tick(), name=f"hls:{self.config.id}")

    def add(self, language: str, hub: ChannelHub) -> None:
        """Broadcast this channel from now on (a channel added while live starts here)."""
        if language in self.audio:
            return
        folder = self.folder / self.run / language
        seconds = self.settings.hls_segment_seconds
        try:
            self.audio[language] = ChannelPackager(
                folder, segment_seconds=seconds, started=self.started
            )
            if language in self.captioned:
                self.subtitles[language] = ChannelSubtitles(folder, segment_seconds=seconds)
        except OSError as error:
            log.error("event %s: channel %s not broadcast: %s", self.config.id, language, error)
            return
        hub.taps.append(self.audio[language].frame)
        hub.on_caption = lambda caption: self._caption(language, caption)

    def reconfigured(
        self, config: EventConfig, channels: dict[str, ChannelHub], captioned: set[str]
    ) -> None:
        self.config = config
        self.captioned = captioned
        for language, hub in channels.items():
            self.add(language, hub)
        self._write_master()

    def close(self, *, over: bool = False) -> None:
        """Every playlist ends; when the event is `over`, its runs become one archive."""
        if self._ticker is not None:
            self._ticker.cancel()
        now = time.monotonic() - self.started
        for packager in self.audio.values():
            packager.tick()
            packager.close()
        for subtitles in self.subtitles.values():
            subtitles.close(now)
        if over:
            self._archive()

    def _archive(self) -> None:
        languages = [channel.language for channel in self.config.channels]
        try:
            if not write_archive(self.folder, languages, (AUDIO, SUBTITLES)):
                return  # one run: its playlists are the archive as they are
            archived = self.folder / ARCHIVE
            captioned = {lang for lang in languages if (archived / lang / SUBTITLES).is_file()}
            text = master_playlist(self.config, ARCHIVE, captioned)
            replace_private_text(self.folder / MASTER, text)
        except OSError as error:
            log.error("event %s: the HLS archive not stitched: %s", self.config.id, error)

    def _caption(self, language: str, caption: Caption) -> None:
        subtitles = self.subtitles.get(language)
        if subtitles is None or not caption.final:
            return
        spoken = None
        if caption.start is not None and caption.end is not None:
            spoken = caption.end - caption.start
        subtitles.caption(caption.text, time.monotonic() - self.started, spoken)

    def _write_master(self) -> None:
        captioned = set(self.subtitles)
        try:
            replace_private_text(
                self.folder / MASTER, master_playlist(self.config, self.run, captioned)
            )
        except OSError as error:
            log.error("event %s: HLS master playlist not written: %s", self.config.id, error)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)  # the clock of silence and subtitle segments
            now = time.monotonic()
            for packager in self.audio.values():
                packager.tick(now)
            for subtitles in self.subtitles.values():
                with contextlib.suppress(OSError):
                    subtitles.advance(now - self.started)
