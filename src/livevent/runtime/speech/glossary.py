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
            protected = pattern.sub(marker, protected)
            used[marker] = entry.translations.get(target, entry.term)
    translated = await translate(protected)
    for marker, replacement in used.items():
        translated = re.sub(re.escape(marker), replacement, translated, flags=re.IGNORECASE)
    return translated
