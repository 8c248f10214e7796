"""What an edit changed, in words, for the audit trail."""

from __future__ import annotations

from livevent.model.channel import Channel
from livevent.model.event import Event, EventFields

_SHOWN = 60  # characters of a changed value kept in the audit text


def _short(value: object) -> str:
    text = str(value)
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def _channel(channel: Channel) -> str:
    return f"{channel.number}:{channel.language}:{channel.kind.value}"


def describe_changes(current: Event, fields: EventFields) -> str | None:
    """One line naming each field the edit changes, with old and new values; None if none."""
    parts: list[str] = []
    for name in ("name", "starts_at", "ends_at", "timezone", "source_language"):
        before, after = getattr(current, name), getattr(fields, name)
        if before != after:
            parts.append(f"{name} {_short(before)} -> {_short(after)}")
    for name in ("max_listeners", "public", "interpretation", "broadcast"):
        before, after = getattr(current, name), getattr(fields, name)
        if before != after:
            parts.append(f"{name} {before} -> {after}")
    old = {_channel(c): c for c in current.channels}
    new = {_channel(c): c for c in fields.channels}
    added = [key for key in new if key not in old]
    removed = [key for key in old if key not in new]
    relabelled = [
        key
        for key in new
        if key in old
        and (new[key].label, new[key].voice, new[key].engines, new[key].interpretation)
        != (old[key].label, old[key].voice, old[key].engines, old[key].interpretation)
    ]
    if added:
        parts.append(f"channels added {', '.join(added)}")
    if removed:
        parts.append(f"channels removed {', '.join(removed)}")
    if relabelled:
        parts.append(f"channels relabelled {', '.join(relabelled)}")
    if current.glossary != fields.glossary:
        parts.append(f"glossary {len(current.glossary)} -> {len(fields.glossary)} terms")
    return "; ".join(parts) or None
