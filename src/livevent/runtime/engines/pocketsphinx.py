"""Speech-to-text with pocketsphinx: light, American English only (its wheel ships the model).

A fallback for machines where Whisper is too heavy; expect a high error rate.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from livevent.errors import Unavailable
from livevent.runtime.engines.base import Recognition, SpeechToText


class PocketsphinxSTT(SpeechToText):
    name: ClassVar[str] = "pocketsphinx"

    def __init__(self) -> None:
        super().__init__()
        self._decoder: Any = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        if self._decoder is None:
            try:
                from pocketsphinx import Decoder
            except ImportError:
                raise Unavailable(
                    "the pocketsphinx engine needs: pip install pocketsphinx"
                ) from None
            self._decoder = await asyncio.to_thread(Decoder, samprate=16000)

    async def _transcribe(
        self,
        pcm: bytes,
        language: str,
        *,
        prompt: str | None = None,
        timestamps: bool = False,
        streaming: bool = False,
    ) -> Recognition:
        if not language.lower().startswith("en"):
            raise Unavailable(f"pocketsphinx's bundled model is American English, not {language}")
        await self.start()
        async with self._lock:
            text = await asyncio.to_thread(self._decode, pcm)
        return Recognition(text=text, language=language, words=text.split())

    def _decode(self, pcm: bytes) -> str:
        self._decoder.start_utt()
        self._decoder.process_raw(pcm, full_utt=True)
        self._decoder.end_utt()
        hypothesis = self._decoder.hyp()
        return str(hypothesis.hypstr) if hypothesis is not None else ""

    def describe(self) -> dict[str, object]:
        return {"languages": ["en-US"]}
