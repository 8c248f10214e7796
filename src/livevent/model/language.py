"""BCP-47 language tags, checked against the IANA registry and written in canonical case."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

import langcodes
from pydantic import AfterValidator


@lru_cache(maxsize=4096)
def normalize_language(tag: str) -> str:
    """Return `tag` in canonical form (`ca_es` -> `ca-ES`) or raise ValueError."""
    cleaned = tag.strip().replace("_", "-")
    if not cleaned or not langcodes.tag_is_valid(cleaned):
        raise ValueError(f"unknown language tag {tag!r} (expected a BCP-47 tag such as ca-ES)")
    return str(langcodes.standardize_tag(cleaned))


def language_name(tag: str) -> str:
    """A human name for the tag, in English, for tables and pages."""
    try:
        return str(langcodes.Language.get(tag).display_name())
    except (ValueError, LookupError):
        return tag


def own_name(tag: str) -> str:
    """The language's name in itself, for its listeners: "Català", "Español", "Deutsch"."""
    try:
        language = langcodes.Language.get(tag)
        name = str(language.language_name(language.language or "und"))
    except (ValueError, LookupError):
        return tag
    return name[:1].upper() + name[1:] if name else tag


LanguageTag = Annotated[str, AfterValidator(normalize_language)]
