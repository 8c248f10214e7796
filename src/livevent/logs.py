"""Logging set-up: text for people, JSON for collectors; every record names its event and channel.

The event and channel come from context variables that the socket handlers and
the live sessions set, so a log call deep in a pipeline needs no extra argument.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from contextvars import ContextVar

from aiohttp.http_exceptions import HttpProcessingError
from pythonjsonlogger.json import JsonFormatter

from livevent.settings import Settings

EVENT: ContextVar[int | None] = ContextVar("livevent_event", default=None)
CHANNEL: ContextVar[str | None] = ContextVar("livevent_channel", default=None)


class ContextFilter(logging.Filter):
    """Adds `event_id`, `channel` and `instance` to every record."""

    def __init__(self, instance: str | None = None) -> None:
        super().__init__()
        self.instance = instance

    def filter(self, record: logging.LogRecord) -> bool:
        record.event_id = EVENT.get()
        record.channel = CHANNEL.get()
        record.instance = self.instance
        return True


# What a credential looks like wherever it lands in a log line: a query or
# form parameter, a JSON field, an Authorization header, or a bare JWT.
_SECRETS = [
    (re.compile(r"((?:access_|refresh_)?token=)[^&\s\"'\\]+", re.I), r"\1[redacted]"),
    (re.compile(r"(\"(?:access_|refresh_)?token\"\s*:\s*\")[^\"]+", re.I), r"\1[redacted]"),
    (re.compile(r"(bearer\s+)[^\s\"'\\]+", re.I), r"\1[redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[redacted JWT]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Takes tokens out of every record, whatever logger wrote it (aiohttp's too).

    The message, its arguments and any traceback are rendered here and redacted
    as one text, so no formatter ever sees the original.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        elif record.exc_text:
            text += "\n" + record.exc_text
        if record.stack_info:
            text += "\n" + record.stack_info
        record.msg, record.args = redact(text), ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


class QuietParserErrors(logging.Filter):
    """aiohttp logs every request its parser refuses as an ERROR with a traceback and the raw
    line; for a server on the internet that is noise an attacker controls. One redacted
    WARNING line says it instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            reason = redact(str(error).splitlines()[0] if str(error) else type(error).__name__)
            record.msg = "refused a malformed HTTP request from %s: %s"
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.args = (remote, reason[:160])
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


_QUIET = QuietParserErrors()


def quiet_parser_errors() -> None:
    """Installed by the app factories on aiohttp's server logger (once; any handler sees it)."""
    logger = logging.getLogger("aiohttp.server")
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        event, channel = getattr(record, "event_id", None), getattr(record, "channel", None)
        where = [f"event={event}"] if event else []
        if channel:
            where.append(f"channel={channel}")
        return f"{text} [{' '.join(where)}]" if where else text


def configure_logging(settings: Settings, *, instance: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter(instance or settings.instance_name))
    handler.addFilter(RedactSecrets())
    if settings.log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "{asctime}{levelname}{name}{message}{event_id}{channel}{instance}",
                style="{",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # faster-whisper says "Processing audio with duration ..." at INFO for every decode:
    # hundreds of lines a minute of speech, nothing an operator reads. At DEBUG only.
    quiet = logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING
    logging.getLogger("faster_whisper").setLevel(quiet)
