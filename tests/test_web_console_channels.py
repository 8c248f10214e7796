"""The organizer sets what the console did not show (issue 39, points 5, 7 and 9): a relay
and a machine fallback chosen in the event's form without losing a channel's label, a
draft's listener link that says it is not scheduled yet, and a recogniser falling
behind told in the live view, not only in the server log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from livevent.model import (
    ChannelKind,
    ChannelSpec,
    EventCreate,
    EventStatus,
)
from livevent.runtime import LiveRuntime
from tests.support.browser import DESKTOP, PHONE, launch, needs_chromium
from tests.support.console import manager, sign_in
from tests.support.embedded import embedded_runtime, served
from tests.support.live import poll

pytestmark = needs_chromium


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    async with embedded_runtime(tmp_path) as opened:
        yield opened


@pytest.fixture
async def server(aiohttp_server: AiohttpServer, runtime: LiveRuntime) -> TestServer:
    return await served(aiohttp_server, runtime)


async def test_relay_and_fallback_from_the_console_a_draft_link_and_an_overload_told(
    runtime: LiveRuntime, server: TestServer
) -> None:
    service = runtime.service
    assert service is not None
    customer_id = await manager(runtime, "boss@relay.example", "Relay Co")
    event = await service.create_event(
        EventCreate(
            customer_id=customer_id,
            name="Summit",
            starts_at="2026-12-01T10:00Z",  # type: ignore[arg-type]
            source_language="en-US",
            channels=[
                ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN, label="Español (cabina)"),
                ChannelSpec(language="ca-ES", kind=ChannelKind.MACHINE, label="Català"),
            ],
        ),
        actor="test",
    )
    base = f"http://127.0.0.1:{server.port}"
    playwright, browser = await launch()
    try:
        # A listener who got the link early: told it is not on yet, nothing else.
        listener = await browser.new_page(viewport=PHONE)
        await listener.goto(f"{base}/listen/{event.id}")
        await listener.get_by_role("heading", name="Not scheduled yet").wait_for(timeout=30_000)
        assert "Summit" not in await listener.content()

        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, "boss@relay.example")
        await page.goto(f"{base}/manage#/events/{event.id}")
        await page.get_by_role("button", name="Save changes").wait_for()
        spanish = page.locator("fieldset.channel-row", has_text="Channel 2")
        catalan = page.locator("fieldset.channel-row", has_text="Channel 3")
        assert not await catalan.get_by_label("While no interpreter is on air").is_visible()
        await spanish.get_by_label("While no interpreter is on air, the machine interprets").check()
        await catalan.get_by_label("Translates").select_option("es-ES")
        await page.get_by_role("button", name="Save changes").click()

        async def saved() -> bool:
            stored = {c.language: c for c in (await service.get_event(event.id)).channels}
            return stored["ca-ES"].source == "es-ES"

        await poll(saved, within=30)
        stored = {c.language: c for c in (await service.get_event(event.id)).channels}
        assert stored["es-ES"].fallback == "machine"
        assert (stored["es-ES"].label, stored["ca-ES"].label) == ("Español (cabina)", "Català")

        # Live: the recogniser's decodes take five seconds; the live view says so.
        await service.act(event.id, "schedule", actor="test")
        session = await runtime.start(event.id)
        assert session.status is EventStatus.LIVE
        await page.reload()  # the same address: a reload draws the event as it is now
        await page.get_by_role("heading", name="Live now").wait_for()
        pipeline = session.duties.pipeline
        assert pipeline is not None
        for _ in range(6):
            pipeline.pace.decoded(5.0)  # as the pipeline tells it after each slow decode
        assert pipeline.overloaded
        overload = page.locator("#live-overload")
        await overload.wait_for(timeout=30_000)
        assert "overloaded" in await overload.inner_text()
    finally:
        await browser.close()
        await playwright.stop()


async def test_names_not_codes_in_the_console(runtime: LiveRuntime, server: TestServer) -> None:
    """Point 8: a blank form shows all its errors at once; a language typed by its name is
    taken; links, history and the invitation form name languages and people."""
    service = runtime.service
    assert service is not None
    await manager(runtime, "boss@relay.example", "Names Co", name="Berta Boss")
    base = f"http://127.0.0.1:{server.port}"
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, "boss@relay.example")
        await page.get_by_role("link", name="New event").first.click()
        await page.get_by_role("button", name="Create the event").click()
        for error in ("#event-name-error", "#event-starts-error"):
            await page.locator(error).wait_for()
            assert await page.locator(error).inner_text(), error  # both at once
        await page.get_by_label("Name", exact=True).fill("Jahrestagung")
        await page.get_by_label("Starts", exact=True).fill("2026-12-01T10:00")
        await page.get_by_label("Language spoken on the floor").fill("français")
        await page.get_by_role("button", name="Add a machine channel").click()
        await page.locator("#channel-1-language").fill("Deutsch")
        await page.get_by_text("(de-DE)").wait_for()
        await page.get_by_role("button", name="Create the event").click()
        await page.get_by_role("heading", name="Jahrestagung").wait_for()
        (event,) = (await service.list_events())[0]
        assert event.source_language == "fr-FR"
        assert [c.language for c in event.channels] == ["fr-FR", "de-DE"]

        links = page.locator("#links")
        await links.get_by_role("link", name="Listen: Deutsch · German (Germany)").wait_for()
        assert "Listen: de-DE" not in await links.inner_text()
        history = page.locator("#history")
        await history.get_by_text("Berta Boss").first.wait_for()
        assert "manager:user:" not in await history.inner_text()

        # Someone invited now is someone to pick in the Who list next time.
        await page.get_by_label("Their email").fill("ana@interpreters.example")
        await page.get_by_label("Their name").fill("Ana")
        await page.get_by_role("button", name="Invite", exact=True).click()
        await page.get_by_label("Sign-in link").wait_for()
        who = page.get_by_label("Who", exact=True)
        await who.locator("option", has_text="Ana <ana@interpreters.example>").wait_for(
            state="attached"
        )
    finally:
        await browser.close()
        await playwright.stop()
