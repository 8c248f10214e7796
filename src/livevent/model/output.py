"""Outputs: a live event's channel pushed to a streaming platform's RTMP ingest.

Platforms that take one stream per language (Kaltura, IBM Video, Brightcove, YouTube)
give an ingest address and a stream key; livevent pushes the channel there as
audio-only AAC in FLV for as long as the event is live. The key is a secret: the
address is shown redacted everywhere but to the runtime that pushes.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from livevent.model.language import LanguageTag

PUSH_SCHEMES = ("rtmp", "rtmps")
URL_MAX = 2000


def push_target(url: str) -> str:
    """The address without its stream key (the last path part), credentials or query:
    what logs, the API and the console show."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    application = parts.path.rstrip("/").rsplit("/", 1)[0]
    return f"{parts.scheme}://{host}{port}{application}/***"


def check_push_url(url: str) -> str:
    """An RTMP(S) ingest address with an application and a stream key, or ValueError."""
    url = url.strip()
    if len(url) > URL_MAX or any(c.isspace() or ord(c) < 32 for c in url):
        raise ValueError("an ingest address is one line of at most 2000 characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise ValueError("not an ingest address: rtmp://HOST[:PORT]/APPLICATION/KEY") from None
    if parts.scheme not in PUSH_SCHEMES or not parts.hostname:
        raise ValueError("an ingest address starts rtmp:// or rtmps:// and names its host")
    if len([p for p in parts.path.split("/") if p]) < 2 or parts.fragment:
        raise ValueError("an ingest address is rtmp://HOST[:PORT]/APPLICATION/STREAM-KEY")
    return url


class OutputCreate(BaseModel):
    """Push `channel` to `url` (the platform's ingest address with its stream key)."""

    model_config = ConfigDict(extra="forbid")

    channel: LanguageTag = Field(description="the channel's language tag")
    url: SecretStr = Field(
        description="rtmp://HOST[:PORT]/APPLICATION/STREAM-KEY (or rtmps://): kept secret"
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: SecretStr) -> SecretStr:
        return SecretStr(check_push_url(value.get_secret_value()))


class Output(BaseModel):
    """An output as anyone but the pushing runtime sees it: its address redacted."""

    id: int
    event_id: int
    channel: str
    target: str = Field(description="the ingest address without its stream key")
    created_by: str
    created_at: datetime


class OutputTarget(Output):
    """An output with its whole address: for the runtime that pushes, never shown."""

    url: SecretStr
