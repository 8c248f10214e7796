"""Text-to-speech with espeak-ng: ~100 languages, no model files, a process per utterance."""

from __future__ import annotations

import asyncio
import io
import shutil
from typing import ClassVar

from livevent.errors import Unavailable
from livevent.runtime.engines.base import TextToSpeech
from livevent.runtime.engines.processes import communicate
from livevent.runtime.media.audio import decode_file

BASE_WORDS_PER_MINUTE = 175


class EspeakTTS(TextToSpeech):
    name: ClassVar[str] = "espeak"

    def __init__(self, *, executable: str | None = None) -> None:
        super().__init__()
        self.executable = executable or shutil.which("espeak-ng") or "espeak-ng"
        self.voices: set[str] = set()

    async def start(self) -> None:
        if self.voices:
            return
        try:
            process = await asyncio.create_subprocess_exec(
                self.executable, "--voices", stdout=asyncio.subprocess.PIPE
            )
        except FileNotFoundError:
            raise Unavailable(
                "text-to-speech needs espeak-ng (Debian: apt-get install espeak-ng)"
            ) from None
        out, _ = await communicate(process)
        for line in out.decode(errors="replace").splitlines()[1:]:
            fields = line.split()
            if len(fields) >= 2:
                self.voices.add(fields[1].lower())

    def supports(self, language: str, voice: str | None = None) -> bool:
        try:
            self.voice_for(language, voice)
        except Unavailable:
            return False
        return True

    def voice_for(self, language: str, voice: str | None = None) -> str:
        if voice:
            # Only a voice espeak-ng lists: `-v` also reads a path, which no channel may name.
            if voice.lower() not in self.voices:
                raise Unavailable(f"espeak-ng has no voice {voice!r}")
            return voice.lower()
        tag = language.lower()
        primary = tag.split("-")[0]
        for candidate in (tag, primary):
            if candidate in self.voices:
                return candidate
        matches = sorted(v for v in self.voices if v.startswith(primary + "-"))
        if matches:
            return matches[0]
        raise Unavailable(f"espeak-ng has no voice for {language}")

    async def _synthesize(
        self, text: str, language: str, *, voice: str | None = None, rate: float = 1.0
    ) -> bytes:
        await self.start()
        if not text.strip():
            return b""
        process = await asyncio.create_subprocess_exec(
            self.executable,
            "-v",
            self.voice_for(language, voice),
            "-s",
            str(round(BASE_WORDS_PER_MINUTE * rate)),
            "--stdout",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        # The text goes on stdin so that nothing in it is read as an option.
        wav, err = await communicate(process, text.encode())
        if process.returncode != 0 or not wav:
            raise Unavailable(f"espeak-ng failed: {err.decode(errors='replace').strip()}")
        pcm = await asyncio.to_thread(decode_file, io.BytesIO(wav), fmt="wav")
        return pcm

    def describe(self) -> dict[str, object]:
        return {"voices": sorted(self.voices) or "run `espeak-ng --voices`"}
