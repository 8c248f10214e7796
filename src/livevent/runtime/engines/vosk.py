"""Speech-to-text with Vosk (Kaldi): give it a model directory per language.

[engine_options."stt.vosk"]
models = { "en-US" = "/srv/vosk/vosk-model-small-en-us-0.15" }
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, ClassVar

from livevent.errors import Unavailable
from livevent.runtime.engines.base import Recognition, SpeechToText


class VoskSTT(SpeechToText):
    name: ClassVar[str] = "vosk"

    def __init__(self, *, models: dict[str, str] | None = None) -> None:
        super().__init__()
        self.model_dirs = {tag: Path(path) for tag, path in (models or {}).items()}
        self._models: dict[str, Any] = {}

    async def start(self) -> None:
        try:
            import vosk  # noqa: F401
        except ImportError:
            raise Unavailable("the vosk engine needs: pip install vosk") from None

    def _model(self, language: str) -> Any:
        import vosk

        if language not in self._models:
            path = self.model_dirs.get(language) or self.model_dirs.get(language.split("-")[0])
            if path is None:
                raise Unavailable(
                    f"vosk has no model for {language}: download one and set"
                    f' engine_options."stt.vosk".models."{language}" to its directory'
                )
            if not (path / "am").is_dir() and not (path / "conf").is_dir():
                raise Unavailable(f"{path} is not a Vosk model directory")
            vosk.SetLogLevel(-1)
            self._models[language] = vosk.Model(str(path))
        return self._models[language]

    async def _transcribe(
        self,
        pcm: bytes,
        language: str,
        *,
        prompt: str | None = None,
        timestamps: bool = False,
        streaming: bool = False,
    ) -> Recognition:
        import vosk

        model = self._model(language)

        def decode() -> str:
            recognizer = vosk.KaldiRecognizer(model, 16000)
            recognizer.AcceptWaveform(pcm)
            return str(json.loads(recognizer.FinalResult()).get("text", ""))

        text = await asyncio.to_thread(decode)
        return Recognition(text=text, language=language, words=text.split())

    def describe(self) -> dict[str, object]:
        return {"models": sorted(self.model_dirs) or "none configured"}
