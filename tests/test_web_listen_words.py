"""The listener page speaks the listener's language (issue 39, point 10): its own words
follow the browser's language for the languages the project's channels offer, the
channel's language when the browser's is not among them, English otherwise; and on a
phone the captions start in the first screenful, not below the fold.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from livevent.model import ChannelKind, ChannelSpec
from livevent.runtime import LiveRuntime
from livevent.runtime.live.session import LiveSession
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.browser import PHONE, launch, needs_chromium, screenshot_dir, wait_for
from tests.support.live import scheduled_event

pytestmark = needs_chromium

# What the page says, by the browser's language: its button, its legend, the live badge.
EXPECTED = {
    "es-ES": ("Empezar a escuchar", "Idioma", "En directo"),
    "ca-ES": ("Comença a escoltar", "Llengua", "En directe"),
    "fr-FR": ("Commencer l'écoute", "Langue", "En direct"),
    "it-IT": ("Inizia ad ascoltare", "Lingua", "In diretta"),
    "pt-PT": ("Começar a ouvir", "Idioma", "Em direto"),
    "de-DE": ("Zuhören", "Sprache", "Live"),
    "en-GB": ("Start listening", "Language", "Live"),
}


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'words.db'}", joins_per_ip_per_minute=0
    )
    async with LiveRuntime(settings) as opened:
        yield opened


@pytest.fixture
async def server(aiohttp_server: AiohttpServer, runtime: LiveRuntime) -> TestServer:
    return await aiohttp_server(create_runtime_app(runtime.settings, runtime=runtime))


@pytest.fixture
async def live(runtime: LiveRuntime) -> LiveSession:
    event_id = await scheduled_event(
        runtime.service,
        ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE),
        ChannelSpec(language="ca-ES", kind=ChannelKind.HUMAN),
        ChannelSpec(language="fr-FR", kind=ChannelKind.MACHINE),
        ChannelSpec(language="de-DE", kind=ChannelKind.MACHINE),
    )
    return await runtime.start(event_id)


async def test_the_listen_page_speaks_the_browsers_language_on_a_phone(
    server: TestServer, live: LiveSession, tmp_path: Path
) -> None:
    playwright, browser = await launch()
    errors: list[str] = []
    try:
        for locale, (start, legend, badge) in EXPECTED.items():
            context = await browser.new_context(locale=locale, viewport=PHONE)
            page = await context.new_page()
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(str(server.make_url(f"/listen/{live.event_id}")))
            await wait_for(page, "stats.status === 'LIVE'")
            assert await page.locator("#play").inner_text() == start, locale
            assert await page.locator("legend").inner_text() == legend, locale
            # The channel chosen for the browser's language may be quiet: "Live · quiet".
            assert (await page.locator("#status").inner_text()).startswith(badge), locale
            assert await page.evaluate("document.documentElement.lang") == locale[:2]
            # Four channels on a phone: the captions still begin in the first screenful.
            box = await page.locator("#captions").bounding_box()
            assert box is not None and box["y"] + 80 <= PHONE["height"], (locale, box)
            if locale == "es-ES":
                await page.screenshot(path=screenshot_dir(tmp_path) / "listen-phone-es.png")
            assert not errors, errors
            await context.close()

        # A browser in a language the page does not have: the channel's language instead.
        context = await browser.new_context(locale="ja-JP", viewport=PHONE)
        page = await context.new_page()
        await page.goto(str(server.make_url(f"/listen/{live.event_id}?channel=ca-ES")))
        await wait_for(page, "stats.status === 'LIVE'")
        assert await page.locator("#play").inner_text() == "Comença a escoltar"
        await context.close()
    finally:
        await browser.close()
        await playwright.stop()
