"""The glossary around the real Apertium translator, and stored with the event."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from livevent.model import EventCreate, EventPatch, GlossaryEntry
from livevent.runtime.engines.apertium import ApertiumTranslator
from livevent.runtime.speech.glossary import translate_with_glossary
from livevent.store import EventStore

GLOSSARY = [
    GlossaryEntry(term="annual meeting", translations={"es-ES": "asamblea anual"}),
    GlossaryEntry(term="livevent"),
]


@pytest.fixture
async def apertium() -> AsyncIterator[ApertiumTranslator]:
    translator = ApertiumTranslator()
    await translator.start()
    yield translator
    await translator.aclose()


async def test_terms_are_kept_or_fixed(apertium: ApertiumTranslator) -> None:
    text = "Welcome to the annual meeting of Livevent."

    async def spanish(protected: str) -> str:
        return await apertium.translate(protected, "en-US", "es-ES")

    plain = await spanish(text)
    assert "asamblea anual" not in plain
    fixed = await translate_with_glossary(text, "es-ES", GLOSSARY, spanish)
    assert "asamblea anual" in fixed and "livevent" in fixed
    assert fixed.startswith("Bienvenido")

    async def catalan(protected: str) -> str:
        return await apertium.translate(protected, "en-US", "ca-ES")

    kept = await translate_with_glossary(text, "ca-ES", GLOSSARY, catalan)
    assert "annual meeting" in kept  # no Catalan translation given: the term stays


async def test_no_glossary_is_the_plain_translation(apertium: ApertiumTranslator) -> None:
    async def spanish(protected: str) -> str:
        return await apertium.translate(protected, "en-US", "es-ES")

    text = "Thank you very much."
    assert await translate_with_glossary(text, "es-ES", [], spanish) == await spanish(text)


async def test_the_glossary_is_stored_with_the_event(store: EventStore) -> None:
    customer = (await store.ensure_customer("default")).id
    event = await store.create_event(
        EventCreate(
            name="x", starts_at="2026-12-01T10:00Z", source_language="en-US", glossary=GLOSSARY
        ),
        customer_id=customer,
        actor="t",
    )
    assert (await store.get_event(event.id)).glossary == GLOSSARY
    updated = await store.update_event(event.id, EventPatch(glossary=GLOSSARY[:1]))
    assert updated.glossary == GLOSSARY[:1]
    assert (await store.get_event(event.id)).glossary == GLOSSARY[:1]


@pytest.mark.parametrize("replacement", ["C:\\Users", "\\g<0>", "\\t and \\1", "a\\b"])
async def test_a_terms_translation_is_put_back_as_written(replacement: str) -> None:
    """A translation is literal text, never a `re.sub` template (the probe's findings)."""
    glossary = [GlossaryEntry(term="home folder", translations={"es-ES": replacement})]

    async def echo(protected: str) -> str:
        return f"Abre {protected.lower()}."  # a translator may change the marker's case

    fixed = await translate_with_glossary("the home folder", "es-ES", glossary, echo)
    assert fixed == f"Abre the {replacement}."
