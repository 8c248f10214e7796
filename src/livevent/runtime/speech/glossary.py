"""A glossary applied around any translator: protect the terms, translate, put them back.

Each term in the source is replaced by a placeholder that translators pass
through untouched (an unknown, unpronounceable token), and after translation
the placeholder becomes the fixed translation, or the term itself.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from livevent.model import GlossaryEntry


def _placeholder(index: int) -> str:
    return f"ZQX{index}QZ"


def _pattern(term: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(term)}(?!\w)", re.IGNORECASE)


async def translate_with_glossary(
    text: str,
    target: str,
    glossary: list[GlossaryEntry],
    translate: Callable[[str], Awaitable[str]],
) -> str:
    if not glossary:
        return await translate(text)
    protected = text
    used: dict[str, str] = {}
    # Longest terms first, so "annual meeting" wins over "meeting".
    for index, entry in enumerate(sorted(glossary, key=lambda e: -len(e.term))):
        pattern = _pattern(entry.term)
        if pattern.search(protected):
            marker = _placeholder(index)
            protected = pattern.sub(marker, protected)  # the marker has no backslash
            used[marker] = entry.translations.get(target, entry.term)
    translated = await translate(protected)
    if not used:
        return translated
    markers = re.compile("|".join(re.escape(marker) for marker in used), re.IGNORECASE)
    # A function, not a template: a term's translation is literal text (C:\Users,
    # \g<0>), never a backreference or an escape.
    return markers.sub(lambda found: used[found.group(0).upper()], translated)
