"""Machine translation through a LibreTranslate server (its documented POST /translate).

[engine_options."mt.libretranslate"]
url = "http://127.0.0.1:5000"
api_key = "..."
"""

from __future__ import annotations

from typing import ClassVar

import aiohttp

from livevent.errors import InvalidInput, Unavailable
from livevent.runtime.engines.base import Translator


class LibreTranslateTranslator(Translator):
    name: ClassVar[str] = "libretranslate"

    def __init__(self, *, url: str | None = None, api_key: str | None = None) -> None:
        super().__init__()
        self.url = (url or "").rstrip("/")
        self.api_key = api_key
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if not self.url:
            raise Unavailable(
                'the libretranslate engine needs engine_options."mt.libretranslate".url'
            )
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _translate(self, text: str, source: str, target: str) -> str:
        await self.start()
        assert self._session is not None
        body = {
            "q": text,
            "source": source.split("-")[0],
            "target": target.split("-")[0],
            "format": "text",
        }
        if self.api_key:
            body["api_key"] = self.api_key
        try:
            async with self._session.post(f"{self.url}/translate", json=body) as response:
                payload = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise Unavailable(f"LibreTranslate at {self.url} failed: {error}") from None
        if response.status != 200 or not isinstance(payload, dict):
            detail = payload.get("error") if isinstance(payload, dict) else payload
            if response.status in (400, 403):
                raise InvalidInput(f"LibreTranslate refused the request: {detail}")
            raise Unavailable(f"LibreTranslate answered {response.status}: {detail}")
        return str(payload.get("translatedText", ""))

    def describe(self) -> dict[str, object]:
        return {"url": self.url or "not configured"}
