"""The one parser for ids that arrive as text: URL paths, queries, socket messages, CLI arguments.

An id has exactly one spelling: ASCII digits, no sign, no spaces, no leading
zero, at most 2**53 - 1. Anything else (`007`, `+7`, ` 7`, a fullwidth
or superscript digit, a thousand digits) is not an id at all, so the access check and the handler
can never read two different numbers out of one string.
"""

from __future__ import annotations

import re

from livevent.model.event import MAX_EVENT_ID, MAX_ID

# [0-9], not \d: \d also matches the digits of every other script.
_CANONICAL = re.compile(r"[1-9][0-9]{0,15}")
_VERSION = re.compile(r"[1-9][0-9]{0,8}")


def parse_id(raw: object, *, maximum: int = MAX_ID) -> int | None:
    """The id `raw` spells, or None when it is not the canonical spelling of one."""
    if not isinstance(raw, str) or _CANONICAL.fullmatch(raw) is None:
        return None
    value = int(raw)
    return value if value <= maximum else None


def parse_event_id(raw: object) -> int | None:
    return parse_id(raw, maximum=MAX_EVENT_ID)


def parse_version(raw: str) -> int | None:
    """An event version (a positive 32-bit count), as an ETag or `--version` spells it."""
    return int(raw) if _VERSION.fullmatch(raw) else None


def channel_key(raw: str) -> int | str:
    """A channel named in a URL or message: its number when `raw` spells one, else a tag."""
    number = parse_id(raw, maximum=99)
    return raw if number is None else number
