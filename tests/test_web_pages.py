"""The web pages in a real browser: Debian's Chromium driven by Playwright.

The listener page joins a live event fed by a test speaker and shows captions
while it decodes and plays audio. The speaker page sends Chromium's fake
microphone (an espeak-ng WAV) to the floor, where a Python listener hears it
and the pipeline captions it. Screenshots go to $LIVEVENT_SCREENSHOT_DIR (the
committed ones in docs/screenshots come from there), else to the test's tmp dir.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from pytest_aiohttp import AiohttpServer

from livevent.auth.accounts import Accounts
from livevent.client import ListenerClient
from livevent.model import ChannelKind, ChannelSpec, Role, UserCreate
from livevent.runtime import LiveRuntime
from livevent.runtime.live.session import LiveSession
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support.browser import (
    DESKTOP,
    PHONE,
    counters,
    launch,
    needs_chromium,
    screenshot_dir,
    wait_for,
)
from tests.support.live import (
    Heard,
    listen_until,
    poll,
    scheduled_event,
    speak_to_wav,
    speaker_token,
    speech_pcm,
)

SENTENCE = "Good morning everyone, and welcome to our annual meeting."
pytestmark = needs_chromium


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    # No page here reads an interpreter's own captions (test_runtime_relay_machine.py and
    # test_runtime_ending.py do): a Chromium interpreter's looped file kept a second
    # recogniser busy through every test, and the floor's captions waited behind it.
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'web.db'}",
        joins_per_ip_per_minute=0,
        interpreter_captions=False,
    )
    async with LiveRuntime(settings) as opened:
        yield opened


@pytest.fixture
async def server(aiohttp_server: AiohttpServer, runtime: LiveRuntime) -> TestServer:
    app = create_runtime_app(runtime.settings, runtime=runtime)
    return await aiohttp_server(app, host="127.0.0.1")


@pytest.fixture
async def live(runtime: LiveRuntime) -> LiveSession:
    event_id = await scheduled_event(
        runtime.service,
        ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE),
        ChannelSpec(language="ca-ES", kind=ChannelKind.HUMAN),
    )
    return await runtime.start(event_id)


async def speak(server: TestServer, event_id: int, pcm: bytes) -> None:
    """A test speaker on the floor, sending in real time."""
    client = server.make_url("/")
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(
            client.with_path(f"/speak/{event_id}/1").with_query(token=speaker_token(event_id))
        )
        assert (await ws.receive_json())["type"] == "ready"
        for offset in range(0, len(pcm), 3200):
            await ws.send_bytes(pcm[offset : offset + 3200])
            await asyncio.sleep(0.1)  # pacing: a microphone gives 100 ms every 100 ms
        await ws.send_json({"type": "end"})
        await ws.close()


async def test_listener_page_shows_captions_and_plays_audio(
    server: TestServer, live: LiveSession, tmp_path: Path
) -> None:
    pcm = speech_pcm(SENTENCE, "en-us", tmp_path) + bytes(32000)
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=PHONE)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(str(server.make_url(f"/listen/{live.event_id}")))
        await wait_for(page, "stats && stats.status === 'LIVE'")
        # Keyboard and labels: the channel is a labelled radio, picked with the keyboard.
        await page.get_by_role("radio", name="Español").focus()
        await page.keyboard.press("Space")
        await page.get_by_role("button", name="Start listening").click()
        await wait_for(
            page, f"localStorage.getItem('livevent:{live.event_id}:channel') === 'es-ES'"
        )
        await page.get_by_label("Captions only").is_visible()
        await speak(server, live.event_id, pcm)
        await wait_for(page, "stats.captions >= 1 && stats.samplesPlayed > 16000")
        stats = await counters(page)
        assert stats["decoder"] == "webcodecs-opus"
        assert stats["framesDecoded"] >= 50  # over a second of Opus decoded in the page
        caption = await page.locator("#captions p").last.inner_text()
        assert "buenos" in caption.lower() or "bienvenid" in caption.lower(), caption
        folder = screenshot_dir(tmp_path)
        await page.screenshot(path=folder / "listen-phone.png")
        await page.set_viewport_size(DESKTOP)
        await page.screenshot(path=folder / "listen-desktop.png")
        dark = await browser.new_page(viewport=PHONE, color_scheme="dark")
        await dark.goto(str(server.make_url(f"/listen/{live.event_id}")))
        await wait_for(dark, "stats && stats.status === 'LIVE'")
        await dark.screenshot(path=folder / "listen-phone-dark.png")
        assert not errors, errors
    finally:
        await browser.close()
        await playwright.stop()


async def test_the_link_for_every_language_opens_each_listeners_own(
    server: TestServer, live: LiveSession
) -> None:
    """One link on the door: a Catalan phone lands on Catalan, a Swedish one (no Swedish
    here) on the floor; both can still pick."""
    playwright, browser = await launch()
    try:
        for locale, landed in (("ca-ES", "Català"), ("sv-SE", "English")):
            page = await browser.new_page(viewport=PHONE, locale=locale)
            await page.goto(str(server.make_url(f"/listen/{live.event_id}")))
            await wait_for(page, "stats && stats.status === 'LIVE'")
            await page.get_by_role("radio", name=landed).wait_for()
            assert await page.get_by_role("radio", name=landed).is_checked(), locale
            await page.close()
    finally:
        await browser.close()
        await playwright.stop()


async def test_listener_page_says_when_the_event_ends_and_reconnects(
    server: TestServer, runtime: LiveRuntime, live: LiveSession
) -> None:
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=PHONE)
        await page.goto(str(server.make_url(f"/listen/{live.event_id}")))
        # Its socket is open: the welcome came (a LIVE badge may come from the HTTP read).
        await wait_for(page, "stats && stats.status === 'LIVE' && stats.messages >= 1")
        # The server drops every socket (as a restart would): the page comes back alone.
        for ws in list(server.app[_sockets_key()]):
            await ws.close(code=1001, message=b"server restarting")
        await wait_for(page, "stats.reconnects >= 1 && stats.status === 'LIVE'")
        await runtime.stop(live.event_id, reason="thank you for coming")
        await wait_for(page, "stats.status === 'ENDED'")
        await page.get_by_text("thank you for coming").wait_for()
    finally:
        await browser.close()
        await playwright.stop()


def _sockets_key() -> web.AppKey[Any]:
    from livevent.runtime.appkeys import SOCKETS

    return SOCKETS


async def test_speaker_page_sends_the_microphone_to_listeners(
    server: TestServer, live: LiveSession, tmp_path: Path
) -> None:
    wav = speak_to_wav(SENTENCE, "en-us", tmp_path / "microphone.wav")
    playwright, browser = await launch(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    )
    try:
        async with aiohttp.ClientSession() as session:
            listener = await session.ws_connect(server.make_url(f"/listen/{live.event_id}"))
            page = await browser.new_page(viewport=PHONE)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(str(server.make_url(f"/speak/{live.event_id}/1")))
            await page.get_by_label("Your speaker token").fill(speaker_token(live.event_id))
            await page.screenshot(path=screenshot_dir(tmp_path) / "speak-token.png")
            await page.get_by_role("button", name="Connect microphone").click()
            await wait_for(page, "stats.status === 'on-air' && stats.sent > 32000")
            log = await listen_until(
                listener,
                Heard(),
                lambda log: (
                    log.seconds > 2.0 and any(c.get("final") for c in log.of_type("caption"))
                ),
                within=60,
            )
            finals = [c["text"] for c in log.of_type("caption") if c.get("final")]
            assert any("morning" in text.lower() or "welcome" in text.lower() for text in finals)
            await page.get_by_text("morning", exact=False).first.wait_for(timeout=30_000)
            await page.screenshot(path=screenshot_dir(tmp_path) / "speak-phone.png")
            await page.get_by_role("button", name="Mute").click()
            await wait_for(page, "document.getElementById('on-air').textContent === 'Muted'")
            assert not errors, errors
            await listener.close()
    finally:
        await browser.close()
        await playwright.stop()


async def test_manage_page_signs_in_and_shows_live_listeners(
    server: TestServer, runtime: LiveRuntime, live: LiveSession, tmp_path: Path
) -> None:
    assert runtime.service is not None
    accounts = Accounts.from_settings(
        runtime.settings,
        users=runtime.service.store.users,
        bus=runtime.service.bus,
        verifier=runtime.verifier,
    )
    await accounts.create_user(
        UserCreate(
            email="boss@example.org",
            name="Boss",
            role=Role.MANAGER,
            customer_id=live.config.customer_id,
            password=SecretStr("correct horse battery"),
        )
    )
    playwright, browser = await launch()
    try:
        async with aiohttp.ClientSession() as session:
            listener = await session.ws_connect(
                server.make_url(f"/listen/{live.event_id}").with_query(channel="ca-ES")
            )
            await listen_until(listener, Heard(), lambda log: bool(log.of_type("status")))
            page = await browser.new_page(viewport=DESKTOP)
            await page.goto(str(server.make_url("/manage")))
            await page.get_by_label("Email").fill("boss@example.org")
            await page.get_by_label("Password").fill("wrong password")
            await page.get_by_role("button", name="Sign in").click()
            await page.get_by_text("wrong email or password").wait_for()
            await page.get_by_label("Password").fill("correct horse battery")
            await page.get_by_role("button", name="Sign in").click()
            row = page.locator("#events tr", has_text=str(live.event_id))
            await row.get_by_text("ca-ES: 1").wait_for(timeout=15_000)
            assert await row.get_by_role("link", name="listen").get_attribute("href") == (
                f"/listen/{live.event_id}"
            )
            await page.screenshot(path=screenshot_dir(tmp_path) / "manage-list.png")
            await listener.close()
    finally:
        await browser.close()
        await playwright.stop()


async def test_interpreters_hand_over_from_their_pages(
    server: TestServer, runtime: LiveRuntime, live: LiveSession, tmp_path: Path
) -> None:
    wav = speak_to_wav("Bon dia a tothom.", "ca", tmp_path / "booth.wav")
    playwright, browser = await launch(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    )
    try:
        pages = []
        for standby in (False, True):
            page = await browser.new_page(viewport=PHONE)
            await page.goto(str(server.make_url(f"/speak/{live.event_id}/ca-ES")))
            await page.get_by_label("Your speaker token").fill(speaker_token(live.event_id, 3))
            if standby:
                await page.get_by_label("Join as booth partner (stand by)").check()
            await page.get_by_role("button", name="Connect microphone").click()
            pages.append(page)
        first, partner = pages
        await wait_for(first, "stats.status === 'on-air'")
        await wait_for(partner, "stats.status === 'standby'")
        # The partner standing by has nothing to mute or hand over; the one on air has
        # a clock and their time on air; both read the floor's captions as the floor's.
        assert not await partner.get_by_role("button", name="Mute").is_visible()
        assert not await partner.get_by_role("button", name="Hand over to my partner").is_visible()
        assert await first.get_by_role("button", name="Mute").is_visible()
        await wait_for(first, "stats.onAirSeconds >= 1")
        assert "on air 0:0" in await first.locator("#on-air-for").inner_text()
        assert ":" in await first.locator("#clock").inner_text()
        assert "Captions of the floor" in await partner.locator("#feedback-title").inner_text()
        # An interpreter hears the floor (or a relay channel) in the headphones.
        options = await first.locator("#source option").all_inner_texts()
        assert options[1].startswith("The floor") and "Relay" not in " ".join(options)
        assert await first.locator("#source").input_value() == "en-US"
        # A note to the booth reaches the partner's page.
        await first.get_by_label("Note to your booth and the organizer").fill("Yours at 10:30.")
        await first.get_by_role("button", name="Send", exact=True).click()
        await partner.locator("#notes").get_by_text("Yours at 10:30.").wait_for(timeout=30_000)
        await first.get_by_role("button", name="Hand over to my partner").click()
        await wait_for(partner, "stats.status === 'on-air'")
        await wait_for(first, "stats.status === 'standby'")
        assert live.channels["ca-ES"].speaker is not None
        await partner.screenshot(path=screenshot_dir(tmp_path) / "interpret-phone.png")
        # The one on air leaves: their page no longer says On air, the partner takes over.
        await partner.get_by_role("button", name="Leave").click()
        await wait_for(partner, "document.getElementById('on-air').textContent.includes('Off air')")
        await wait_for(first, "stats.status === 'on-air'")
        assert await first.locator("#on-air").inner_text() == "On air"
        # The event ends: the interpreter is told to finish the sentence, then is off air.
        await runtime.stop(live.event_id, reason="thank you")
        await wait_for(first, "['ending', 'off-air'].includes(stats.status)", within=30)
        await wait_for(first, "document.getElementById('on-air').textContent.includes('Off air')")
    finally:
        await browser.close()
        await playwright.stop()


async def test_an_interpreters_page_shows_each_caption_once_coughs_and_lets_go(
    server: TestServer, runtime: LiveRuntime, live: LiveSession, tmp_path: Path
) -> None:
    """Found by a new interpreter: every floor caption came twice (two floor sockets fed
    one box), mute was only a toggle, and the microphone stayed captured after the end."""
    wav = speak_to_wav("Bon dia a tothom.", "ca", tmp_path / "booth.wav")
    playwright, browser = await launch(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    )
    try:
        page = await browser.new_page(viewport=PHONE)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(str(server.make_url(f"/speak/{live.event_id}/ca-ES")))
        await page.get_by_label("Your speaker token").fill(speaker_token(live.event_id, 3))
        await page.get_by_role("button", name="Connect microphone").click()
        await wait_for(page, "stats.status === 'on-air'")
        await speak(server, live.event_id, speech_pcm(SENTENCE, "en-us", tmp_path))
        await wait_for(page, "stats.captions >= 1", within=90)
        lines = await page.locator("#captions p:not(.partial)").all_inner_texts()
        assert len(lines) == len(set(lines)), f"a caption shown twice: {lines}"

        cough = page.get_by_role("button", name="Cough (hold)")
        base = f"http://127.0.0.1:{server.port}"
        async with ListenerClient.connect(base, live.event_id, channel="ca-ES") as listener:
            await listener.until(lambda heard: heard.of_type("status"))
            await cough.hover()
            await page.mouse.down()
            await wait_for(page, "document.getElementById('on-air').textContent === 'Muted'")
            await wait_for_muted(live, True)
            # A cough is no news to listeners: nobody tells them nobody interprets.
            told = listener.heard.of_type("status")
            assert all(m.get("channel_state") == "live" and m.get("speaker") for m in told), told
        await page.mouse.up()
        await wait_for(page, "document.getElementById('on-air').textContent === 'On air'")
        await wait_for_muted(live, False)

        await runtime.stop(live.event_id, reason="thank you")
        await wait_for(page, "stats.microphone === 'released'")
        await page.get_by_text("Your microphone is off").wait_for(timeout=30_000)
        assert not errors, errors
    finally:
        await browser.close()
        await playwright.stop()


async def wait_for_muted(live: LiveSession, muted: bool) -> None:
    async def arrived() -> bool:
        return live.channels["ca-ES"].muted is muted

    await poll(arrived, within=30)


async def test_the_booth_sees_the_glossary_and_which_relays_are_silent(
    server: TestServer, runtime: LiveRuntime, tmp_path: Path
) -> None:
    from livevent.model import EventCreate, GlossaryEntry

    assert runtime.service is not None
    event = await runtime.service.create_event(
        EventCreate(
            name="Glossary",
            starts_at="2026-12-01T10:00Z",
            source_language="en-US",
            channels=[
                ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN),
                ChannelSpec(language="ca-ES", kind=ChannelKind.HUMAN),
            ],
            glossary=[
                GlossaryEntry(term="annual meeting", translations={"es-ES": "asamblea anual"}),
                GlossaryEntry(term="board", translations={"es-ES": "junta directiva"}),
            ],
        ),
        actor="test",
    )
    await runtime.service.act(event.id, "schedule", actor="test")
    await runtime.start(event.id)
    wav = speak_to_wav("Hola.", "es", tmp_path / "booth.wav")
    playwright, browser = await launch(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}",
    )
    try:
        page = await browser.new_page(viewport=PHONE)
        await page.goto(str(server.make_url(f"/speak/{event.id}/es-ES")))
        await page.get_by_label("Your speaker token").fill(speaker_token(event.id, 2))
        await page.get_by_role("button", name="Connect microphone").click()
        await wait_for(page, "stats.status === 'on-air'")
        glossary = page.locator("#glossary")
        await glossary.get_by_text("asamblea anual").wait_for(timeout=30_000)
        await page.get_by_label("Find a term in the glossary").fill("board")
        await glossary.get_by_text("junta directiva").wait_for()
        assert not await glossary.get_by_text("asamblea anual").is_visible()
        # Nobody interprets Catalan: a relay from it says so before it is chosen.
        options = await page.locator("#source option").all_inner_texts()
        assert any("Catalan" in o and "nobody on air" in o for o in options), options
        await page.locator("#source").select_option(
            label=next(o for o in options if "Catalan" in o)
        )
        await page.get_by_text("Nobody interprets").wait_for()
    finally:
        await browser.close()
        await playwright.stop()


async def test_a_phone_listener_is_told_when_it_starts_why_it_is_quiet_and_that_it_is_over(
    server: TestServer, runtime: LiveRuntime, tmp_path: Path
) -> None:
    """Before: a waiting event showed no start time, an interpreter's channel with nobody
    on it said "Live" over silence, and an ended event still offered "Start listening"."""
    event_id = await scheduled_event(
        runtime.service, ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN)
    )
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=PHONE)
        await page.goto(str(server.make_url(f"/listen/{event_id}?channel=es-ES")))
        countdown = page.locator("#countdown")
        await countdown.wait_for(timeout=30_000)
        assert "Planned for" in await countdown.inner_text() or "Starts" in (
            await countdown.inner_text()
        )
        await runtime.start(event_id)
        await wait_for(page, "stats.status === 'LIVE'")
        await page.get_by_text("Nobody is interpreting this channel right now").wait_for()
        # Listeners read their language's own name, not the English one.
        await page.locator("#channels").get_by_text("Español", exact=True).wait_for()
        assert await page.locator("#status").inner_text() == "Live · quiet"
        assert not await countdown.is_visible()
        await page.screenshot(path=screenshot_dir(tmp_path) / "listen-quiet-phone.png")
        await runtime.stop(event_id, reason="see you next year")
        await wait_for(page, "stats.status === 'ENDED'")
        assert not await page.get_by_role("button", name="Start listening").is_visible()
    finally:
        await browser.close()
        await playwright.stop()
