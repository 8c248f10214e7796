"""Text-to-speech with Festival: its Catalan "ona" HTS voice, and any other it has.

Festival takes a second to start and loads a voice in more; a sentence takes a
fraction of that. So each voice gets one warm `festival --pipe` process, fed
Scheme commands on stdin: synthesise, save the wave to a file, print a marker.
A process that dies is started again on the next sentence. Festival reads
Latin-1, so text is encoded to it here (characters outside it are dropped).

    Debian: apt-get install festival festival-ca festvox-ca-ona-hts
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import ClassVar

from livevent.errors import Unavailable
from livevent.runtime.engines.base import TextToSpeech
from livevent.runtime.engines.processes import kill_group
from livevent.runtime.media.audio import decode_file, speed_up

VOICES_DIR = Path("/usr/share/festival/voices")
# Festival's voices that livevent knows the language of, best first per language.
KNOWN_VOICES: dict[str, str] = {
    "upc_ca_ona_hts": "ca",
    "upc_ca_pau_hts": "ca",
    "kal_diphone": "en",
    "ked_diphone": "en",
    "el_diphone": "es",
}
ANSWER_TIMEOUT = 30.0


def installed_voices(folder: Path = VOICES_DIR) -> dict[str, str]:
    """Voice name -> primary language, for the known voices installed."""
    found = {path.name for path in folder.glob("*/*") if path.is_dir()}
    return {name: language for name, language in KNOWN_VOICES.items() if name in found}


def scheme_string(text: str) -> str:
    """Text as a Scheme string literal: one line, quotes and backslashes escaped."""
    flat = " ".join(text.split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _WarmVoice:
    """One `festival --pipe` with one voice loaded, used for one sentence at a time."""

    def __init__(self, executable: str, voice: str, folder: Path) -> None:
        self.executable = executable
        self.voice = voice
        self.folder = folder
        self.process: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()
        self.starts = 0  # processes started, for the tests and `livevent engines`

    async def _ensure(self) -> asyncio.subprocess.Process:
        if self.process is None or self.process.returncode is not None:
            self.process = await asyncio.create_subprocess_exec(
                self.executable,
                "--pipe",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
                start_new_session=True,
            )
            self.starts += 1
            assert self.process.stdin is not None
            self.process.stdin.write(f"(voice_{self.voice})\n".encode())
        return self.process

    async def say(self, text: str) -> bytes:
        async with self.lock:
            process = await self._ensure()
            assert process.stdin is not None and process.stdout is not None
            wave = self.folder / f"{uuid.uuid4().hex}.wav"
            marker = f"LIVEVENT-{uuid.uuid4().hex}"
            command = (
                f"(set! livevent_utt (Utterance Text {scheme_string(text)}))\n"
                "(utt.synth livevent_utt)\n"
                f'(utt.save.wave livevent_utt "{wave}" (quote riff))\n'
                f'(format t "{marker}\\n")\n'
                "(fflush nil)\n"  # stdout is a pipe: block-buffered until flushed
            )
            try:
                process.stdin.write(command.encode("latin-1", errors="ignore"))
                await process.stdin.drain()
                async with asyncio.timeout(ANSWER_TIMEOUT):
                    while marker not in (await process.stdout.readline()).decode("latin-1"):
                        if process.stdout.at_eof():
                            raise ConnectionError("festival exited")
            except (ConnectionError, TimeoutError) as error:
                await self.aclose()
                raise Unavailable(f"festival ({self.voice}) stopped answering: {error}") from None
            try:
                return await asyncio.to_thread(decode_file, wave)
            finally:
                wave.unlink(missing_ok=True)

    async def aclose(self) -> None:
        process, self.process = self.process, None
        await kill_group(process)


class FestivalTTS(TextToSpeech):
    name: ClassVar[str] = "festival"

    def __init__(self, *, executable: str | None = None, voices_dir: Path = VOICES_DIR) -> None:
        super().__init__()
        self.executable = executable or shutil.which("festival") or "festival"
        self.voices = installed_voices(voices_dir)
        self._warm: dict[str, _WarmVoice] = {}
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._last: tuple[str, str, bytes] = ("", "", b"")  # voice, text, speech at rate 1

    async def start(self) -> None:
        if shutil.which(self.executable) is None:
            raise Unavailable(
                "the festival engine needs Festival"
                " (Debian: apt-get install festival festival-ca festvox-ca-ona-hts)"
            )
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="livevent-festival-")

    def voice_for(self, language: str, voice: str | None = None) -> str | None:
        if voice:
            return voice if voice in self.voices else None
        primary = language.lower().split("-")[0]
        return next((name for name, lang in self.voices.items() if lang == primary), None)

    def supports(self, language: str, voice: str | None = None) -> bool:
        return self.voice_for(language, voice) is not None

    async def _synthesize(
        self, text: str, language: str, *, voice: str | None = None, rate: float = 1.0
    ) -> bytes:
        await self.start()
        assert self._folder is not None
        name = self.voice_for(language, voice)
        if name is None:
            raise Unavailable(f"festival has no voice for {language} (installed: {self.voices})")
        if not text.strip():
            return b""
        warm = self._warm.get(name)
        if warm is None:
            warm = self._warm[name] = _WarmVoice(self.executable, name, Path(self._folder.name))
        if self._last[:2] == (name, text):
            pcm = self._last[2]  # a channel pacing a phrase asks again at another rate
        else:
            pcm = await warm.say(text)
            self._last = (name, text, pcm)
        if rate != 1.0:
            # HTS voices ignore Festival's duration stretch: change the tempo afterwards.
            pcm = await asyncio.to_thread(speed_up, pcm, rate)
        return pcm

    async def aclose(self) -> None:
        for warm in self._warm.values():
            await warm.aclose()
        self._warm.clear()
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def describe(self) -> dict[str, object]:
        return {"voices": [f"{name} ({lang})" for name, lang in self.voices.items()]}
