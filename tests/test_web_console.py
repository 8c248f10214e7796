"""The organizer's console in Chromium: an event from creation to its recordings.

A manager signs in, creates an event with two channels (a validation error shown
beside its input first), schedules it, loses an edit to a colleague's without
overwriting it, invites an interpreter whose one-time link opens a working speak
page, takes the event live, sees a listener counted and the interpreter present,
ends it, and downloads a recording and a transcript. A second test does the
console's main path with the keyboard alone, checks every input has a real label,
that another customer's event stays closed, and takes light and dark screenshots.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import av
import pytest
import zxingcpp
from aiohttp.test_utils import TestServer
from playwright.async_api import Page
from pytest_aiohttp import AiohttpServer

from livevent.model import (
    ChannelKind,
    ChannelSpec,
    EventCreate,
    EventFilter,
    EventPatch,
    EventStatus,
    Role,
)
from livevent.runtime import LiveRuntime
from livevent.server import create_runtime_app
from livevent.settings import Settings
from tests.support import console
from tests.support.browser import DESKTOP, PHONE, launch, needs_chromium, screenshot_dir, wait_for
from tests.support.console import PASSWORD, manager, user
from tests.support.live import listening, speak_to_wav

pytestmark = needs_chromium
marks = logging.getLogger("livevent.test")
INTERPRETER_SAYS = "Buenos días a todos y bienvenidos a nuestra reunión anual."
# Every form control the console shows has a label a screen reader reads out.
UNLABELLED = """
[...document.querySelectorAll('input, select, textarea, button')]
  .filter((e) => e.offsetParent !== null && e.type !== 'hidden')
  .filter((e) => e.tagName === 'BUTTON'
    ? !(e.textContent.trim() || e.getAttribute('aria-label'))
    : !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
  .map((e) => e.outerHTML.slice(0, 120))
"""


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'console.db'}",
        joins_per_ip_per_minute=0,
        recordings_dir=tmp_path / "recordings",
    )
    async with LiveRuntime(settings) as opened:
        yield opened


@pytest.fixture
async def server(aiohttp_server: AiohttpServer, runtime: LiveRuntime) -> TestServer:
    app = create_runtime_app(runtime.settings, runtime=runtime)
    return await aiohttp_server(app, host="127.0.0.1")


async def sign_in(page: Page, server: TestServer, email: str) -> None:
    await console.sign_in(page, str(server.make_url("/")).rstrip("/"), email)


async def until(condition: Any, within: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "condition did not hold in time"
        await asyncio.sleep(0.2)


async def test_an_event_from_the_console_to_its_recording(
    server: TestServer, runtime: LiveRuntime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="livevent")
    caplog.set_level(logging.DEBUG, logger="livevent.runtime.speech")
    service = runtime.service
    assert service is not None
    await manager(runtime, "boss@acme.example", "Acme")
    wav = speak_to_wav(INTERPRETER_SAYS, "es", tmp_path / "interpreter.wav", pause=1.0)
    playwright, browser = await launch()
    errors: list[str] = []
    try:
        page = await browser.new_page(viewport=DESKTOP, accept_downloads=True)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await sign_in(page, server, "boss@acme.example")

        # Create: the server's validation message lands beside the input it names.
        await page.get_by_role("link", name="New event").first.click()
        await page.get_by_label("Name", exact=True).fill("Acme annual meeting")
        await page.get_by_label("Starts", exact=True).fill("2026-12-01T10:00")
        await page.get_by_label("Time zone").fill("Europe/Madrid")
        await page.get_by_label("Language spoken on the floor").fill("en-US")
        # A new event has its floor only: the organizer adds the channels it needs.
        assert await page.locator("#channel-1-language").count() == 0
        await page.get_by_role("button", name="Add an interpreter channel").click()
        await page.locator("#channel-1-language").fill("es-ES")
        await page.get_by_text("Español · Spanish (Spain)").wait_for()
        await page.get_by_label("Listener cap").fill("0")
        await page.get_by_role("button", name="Create the event").click()
        cap_error = page.locator("#event-cap-error")
        await cap_error.wait_for()
        assert "greater than or equal to 1" in await cap_error.inner_text()
        assert await page.get_by_label("Listener cap").get_attribute("aria-invalid") == "true"
        await page.get_by_label("Listener cap").fill("")
        # Fixed, the field is no longer marked wrong.
        assert await cap_error.inner_text() == ""
        assert await page.get_by_label("Listener cap").get_attribute("aria-invalid") is None
        await page.get_by_role("button", name="Add a machine channel").click()
        await page.locator("#channel-2-language").fill("fr-FR")
        assert await page.locator("#channel-2-kind").input_value() == "machine"
        await page.locator("#channel-2-voice").fill("espeak")
        glossary = tmp_path / "glossary.csv"
        glossary.write_text('term,es-ES,fr-FR\nAcme,Acme,Acme\n"board, the",junta,conseil\n')
        await page.get_by_label("Or read a CSV file").set_input_files(glossary)
        await page.get_by_text("2 terms read from glossary.csv").wait_for()
        # The terms show in a table, and are edited there.
        assert await page.get_by_label("Term 2", exact=True).input_value() == "board, the"
        await page.get_by_label("Term 2 in es-ES").fill("junta directiva")
        await page.get_by_role("button", name="Add a term").click()
        await page.get_by_label("Term 3", exact=True).fill("AGM")
        await page.get_by_label("Term 3 in fr-FR").fill("AG")
        await page.get_by_role("button", name="Create the event").click()
        await page.get_by_role("heading", name="Acme annual meeting").wait_for()
        events, _ = await service.list_events(EventFilter())
        (event,) = events
        assert [(c.language, c.kind.value) for c in event.channels] == [
            ("en-US", "floor"),
            ("es-ES", "human"),
            ("fr-FR", "machine"),
        ]
        assert event.timezone == "Europe/Madrid" and event.starts_at.hour == 9  # 10:00 CET
        assert event.channel("fr-FR").voice == "espeak"  # type: ignore[union-attr]
        assert [(g.term, g.translations) for g in event.glossary] == [
            ("Acme", {"es-ES": "Acme", "fr-FR": "Acme"}),
            ("board, the", {"es-ES": "junta directiva", "fr-FR": "conseil"}),
            ("AGM", {"fr-FR": "AG"}),
        ]

        await page.get_by_role("button", name="Schedule").click()
        await page.get_by_role("button", name="Go live").wait_for()
        assert (await service.get_event(event.id)).status is EventStatus.SCHEDULED

        # A colleague changes the name first: the stale edit is refused and offers a reload.
        current = await service.get_event(event.id)
        await service.update_event(
            event.id,
            EventPatch(name="Acme AGM"),
            expected_version=current.version,
            actor="manager:colleague",
        )
        await page.get_by_label("Name", exact=True).fill("My own name")
        await page.get_by_role("button", name="Save changes").click()
        await page.get_by_text("Someone else changed this event").wait_for()
        assert (await service.get_event(event.id)).name == "Acme AGM"
        await page.get_by_role("button", name="Reload the event").click()
        await page.get_by_role("heading", name="Acme AGM").wait_for()
        assert await page.get_by_label("Name", exact=True).input_value() == "Acme AGM"

        # Invite an interpreter for the Spanish channel; follow the link in a fresh browser.
        await page.get_by_label("Where").select_option(
            label="Español · Spanish (Spain) (channel 2)"
        )
        await page.get_by_label("Their email").fill("ana@interpreters.example")
        await page.get_by_label("Their name").fill("Ana")
        await page.get_by_role("button", name="Invite", exact=True).click()
        lost = await page.get_by_label("Sign-in link").input_value()
        assert "/signin#code=" in lost
        await page.locator("ul.people").get_by_text("Ana <ana@interpreters.example>").wait_for()
        # Ana lost it: a new link, and the first one dies.
        await page.get_by_role("button", name="A new link for Ana").click()
        await page.get_by_text("The link made before no longer works.").wait_for()
        link = await page.get_by_label("Sign-in link").input_value()
        assert link != lost and "/signin#code=" in link

        booth = await launch(
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}",
        )
        try:
            speaker = await booth[1].new_page(viewport=PHONE)
            await speaker.goto(link)
            await speaker.wait_for_url(f"**/speak/{event.id}/2")
            await speaker.get_by_text("You are signed in.").wait_for()
            assert not await speaker.get_by_label("Your speaker token").is_visible()
            await speaker.get_by_role("button", name="Connect microphone").click()
            # Before the organizer goes live, the interpreter rehearses: nobody else hears.
            await wait_for(speaker, "document.getElementById('on-air').textContent === 'Rehearsal'")
            await page.get_by_text("Rehearsal: 1 channel with a speaker").wait_for(timeout=30_000)
            for spent_or_dead in (link, lost):  # a link signs in once; the lost one never
                again = await booth[1].new_page()
                await again.goto(spent_or_dead)
                await again.get_by_text("not valid").wait_for()
                await again.close()

            async with aiohttp.ClientSession() as http:
                listener = listening(
                    await http.ws_connect(
                        server.make_url(f"/listen/{event.id}").with_query(channel="es-ES")
                    )
                )
                waiting = (await listener.until(lambda log: log.raw)).raw[0]
                assert waiting["event_status"] == "WAITING"
                assert (await service.get_event(event.id)).status is EventStatus.SCHEDULED

                marks.info("go live")
                await page.get_by_role("button", name="Go live").click()
                await page.get_by_role("heading", name="Live now").wait_for()
                # What the click answered shows on screen, not at the foot of the page.
                said = page.locator("#message", has_text="The event is live")
                box = await said.bounding_box()
                assert box is not None and 0 <= box["y"] <= DESKTOP["height"] - box["height"]
                await wait_for(
                    speaker, "document.getElementById('on-air').textContent === 'On air'"
                )
                # Two seconds of the interpreter, live: what the recording must hold.
                heard = await listener.until(lambda log: log.seconds >= 2.0, within=60)
                assert heard.audio, "the interpreter's voice reached no listener"
                # And a sentence of theirs said live in the transcript (one that ended in
                # the rehearsal is not kept).
                await until(lambda: transcribed(service, event.id), within=90)
                row = page.locator("#live-channels tr[data-channel='es-ES']")
                # Who speaks, by name, and their microphone as their page hears it.
                await row.get_by_text("Ana").wait_for(timeout=30_000)
                await row.locator("meter.input-meter").wait_for(timeout=30_000)
                listeners = row.locator("td").nth(4)
                await until(lambda: _text_is(listeners, "1"))
                await page.locator(".plot").first.wait_for()
                await page.screenshot(path=screenshot_dir(tmp_path) / "console-live.png")
                await listener.close()
            marks.info("leave")
            await speaker.get_by_role("button", name="Leave").click()
        finally:
            await booth[1].close()
            await booth[0].stop()

        marks.info("end")
        await page.get_by_role("button", name="End the event").click()
        await page.get_by_text("The event has ended.").wait_for(timeout=30_000)
        marks.info("ended")
        assert (await service.get_event(event.id)).status is EventStatus.ENDED

        # The Spanish channel's recording, and the transcript, download from the console.
        download_button = page.get_by_role("button", name="Download es-ES", exact=False)
        await download_button.first.wait_for(timeout=30_000)
        async with page.expect_download() as recording_download:
            await download_button.first.click()
        recording = tmp_path / "es-ES.ogg"
        await (await recording_download.value).save_as(recording)
        with av.open(str(recording)) as container:
            assert container.streams.audio[0].codec_context.name == "opus"
            assert container.duration and container.duration > 1_000_000  # more than 1 s

        await page.reload()
        await page.get_by_label("Transcript format").select_option("vtt")
        async with page.expect_download() as transcript_download:
            await page.get_by_role("button", name="Download the transcript").click()
        transcript = tmp_path / "transcript.vtt"
        await (await transcript_download.value).save_as(transcript)
        assert transcript.read_text().startswith("WEBVTT")
        assert not errors, errors
    finally:
        await browser.close()
        await playwright.stop()


def read_qr(png: bytes) -> str:
    """The text of the one QR code in a PNG screenshot (zxing-cpp, PyAV decoding)."""
    with av.open(io.BytesIO(png), format="png_pipe") as container:
        image = next(container.decode(video=0)).to_ndarray(format="gray")
    (code,) = zxingcpp.read_barcodes(image)
    return str(code.text)


async def transcribed(service: Any, event_id: int) -> bool:
    """Whether the event's transcript has a segment (the runtime's log, captured at
    INFO and the speech's at DEBUG, shows with a failure)."""
    return bool(await service.transcript(event_id))


async def _text_is(locator: Any, text: str) -> bool:
    return bool(await locator.inner_text() == text)


async def tab_to(page: Page, selector: str, presses: int = 80, *, text: str | None = None) -> None:
    """Move the focus with Tab alone until `selector` (saying `text`) has it: reachable by
    keyboard."""
    wanted = f"document.activeElement.matches({selector!r})"
    if text is not None:
        wanted += f" && document.activeElement.textContent.trim() === {text!r}"
    for _ in range(presses):
        if await page.evaluate(wanted):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} {text or ''} cannot be reached with Tab")


async def test_the_console_by_keyboard_with_labels_and_customers_apart(
    server: TestServer, runtime: LiveRuntime, tmp_path: Path
) -> None:
    service = runtime.service
    assert service is not None
    acme = await manager(runtime, "boss@acme.example", "Acme")
    globex = await manager(runtime, "boss@globex.example", "Globex")
    theirs = (
        await service.create_event(
            EventCreate(
                customer_id=globex,
                name="Globex secrets",
                starts_at="2026-12-01T10:00Z",  # type: ignore[arg-type]
                source_language="en-US",
                channels=[ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN)],
            ),
            actor="test",
        )
    ).id
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=DESKTOP, locale="en-US")
        await page.goto(str(server.make_url("/manage")))
        await tab_to(page, "#email")
        await page.keyboard.type("boss@acme.example")
        await page.keyboard.press("Tab")
        await page.keyboard.type(PASSWORD)
        await page.keyboard.press("Enter")
        await page.get_by_role("heading", name="Events", exact=True).wait_for()
        assert await page.evaluate("document.activeElement.id") == "view-title"
        assert await page.evaluate(UNLABELLED) == []

        await tab_to(page, "a.button[href='#/new']")
        await page.keyboard.press("Enter")
        await page.get_by_role("heading", name="New event", exact=True).first.wait_for()
        assert await page.evaluate(UNLABELLED) == []
        await tab_to(page, "#event-name")
        await page.keyboard.type("Keyboard only")
        await tab_to(page, "#event-starts")
        # Chromium's datetime-local: month, day and year typed, an arrow to the time.
        await page.keyboard.type("12012026")
        await page.keyboard.press("ArrowRight")
        await page.keyboard.type("1000A")
        await tab_to(page, "#add-interpreter")
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "channel-1-language"
        await page.keyboard.type("ca-ES")
        await page.get_by_text("Català · Catalan (Spain)").wait_for()
        await tab_to(page, "button[type=submit]")
        await page.keyboard.press("Enter")
        await page.get_by_role("heading", name="Keyboard only").wait_for()
        assert await page.evaluate(UNLABELLED) == []
        for scheme in ("light", "dark"):
            await page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            await page.screenshot(
                path=screenshot_dir(tmp_path) / f"console-{scheme}.png", full_page=True
            )
        # A phone's camera reads each QR code as the listener link beside it: first the
        # one for every language, then each channel's.
        for index, ending in ((0, "/listen/"), (1, "?channel=en-US")):
            qr = page.locator(".qr-codes li").nth(index)
            shown = await qr.locator(".url").inner_text()
            assert read_qr(await qr.locator("img").screenshot()) == shown
            assert ending in shown and (index or shown.rsplit("/", 1)[1].isdigit()), shown
            assert await qr.get_by_role("button", name="Copy").is_visible()
        # Printed, the links section alone: QR codes to put on a door or a seat.
        await page.evaluate("document.body.classList.add('printing-links')")
        await page.emulate_media(media="print", color_scheme="light")
        assert await page.locator(".qr-codes img").first.is_visible()
        assert not await page.locator("#details").is_visible()
        assert not await page.get_by_role("navigation").is_visible()
        await page.evaluate("document.body.classList.remove('printing-links')")
        await page.emulate_media(media="screen", color_scheme="light")
        await page.set_viewport_size(PHONE)
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await page.screenshot(path=screenshot_dir(tmp_path) / "console-phone.png")

        # Another customer's event, asked for by its address: nothing of it shows.
        await page.goto(str(server.make_url(f"/manage#/events/{theirs}")))
        await page.get_by_role("heading", name="Event not available").wait_for()
        assert "Globex" not in await page.content()
        await page.goto(str(server.make_url("/manage#/")))
        await page.get_by_role("heading", name="Events", exact=True).wait_for()
        await wait_for(page, "window.livevent.rows === 1")
        assert "Globex" not in await page.content()
        # On the phone, by keyboard still: schedule, go live (far from its start: asked
        # twice), end, and download what was recorded; each answer shows on screen.
        events, _ = await service.list_events(EventFilter(customer_id=acme))
        (mine,) = [e for e in events if e.name == "Keyboard only"]
        await page.goto(str(server.make_url(f"/manage#/events/{mine.id}")))
        await page.get_by_role("heading", name="Keyboard only").wait_for()
        await tab_to(page, "#invite-email", 300)
        await page.keyboard.type("joan@interpreters.example")
        await page.keyboard.press("Tab")
        await page.keyboard.type("Joan")
        await tab_to(page, "button[type=submit]", 10, text="Invite")
        await page.keyboard.press("Enter")
        await page.get_by_label("Sign-in link").wait_for()
        assert await page.evaluate("document.activeElement.id") == "invite-link"
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        for action, answer in (
            ("Schedule", "Scheduled."),
            ("Go live", "The event is live"),
            ("End the event", "The event has ended."),
        ):
            await page.evaluate("document.activeElement.blur(); window.scrollTo(0, 0)")
            await tab_to(page, "button", 200, text=action)
            await page.keyboard.press("Enter")
            said = page.locator("#message", has_text=answer)
            await said.wait_for(timeout=30_000)
            box = await said.bounding_box()
            assert box is not None and 0 <= box["y"] <= PHONE["height"] - box["height"], action
        await tab_to(page, "button[aria-label^='Download en-US']", 300)
        async with page.expect_download() as recording:
            await page.keyboard.press("Enter")
        assert (await recording.value).suggested_filename.endswith(".ogg")

    finally:
        await browser.close()
        await playwright.stop()


async def test_an_admin_keeps_customers_and_sees_every_customers_events(
    server: TestServer, runtime: LiveRuntime
) -> None:
    service = runtime.service
    assert service is not None
    await user(runtime, "root@livevent.example", Role.ADMIN, None)
    acme = await manager(runtime, "boss@acme.example", "Acme")
    await service.create_event(
        EventCreate(
            customer_id=acme,
            name="Acme kickoff",
            starts_at="2026-12-01T10:00Z",  # type: ignore[arg-type]
            source_language="en-US",
        ),
        actor="test",
    )
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, server, "root@livevent.example")
        await page.get_by_role("link", name="Customers").click()
        await page.get_by_label("Name", exact=True).fill("Initech")
        await page.get_by_label("Live events at once").fill("0")
        await page.get_by_role("button", name="Create the customer").click()
        await page.locator("#customer-live-error").get_by_text("greater than").wait_for()
        await page.get_by_label("Live events at once").fill("2")
        await page.get_by_role("button", name="Create the customer").click()
        await page.get_by_role("cell", name="Initech").wait_for()
        assert [c.name for c in await service.list_customers()] == ["Acme", "Initech"]
        initech = (await service.list_customers())[-1].id
        # A manager for Initech, made here: they get a link and choose their own password.
        await page.get_by_label("Customer", exact=True).select_option(str(initech))
        await page.get_by_label("Their email").fill("boss@initech.example")
        await page.get_by_label("Their name").fill("Bill")
        await page.get_by_role("button", name="Add the manager").click()
        first_link = await page.get_by_label("Welcome link", exact=True).input_value()
        assert "/signin#welcome=" in first_link
        # The link got lost: a new one, and the first dies (issue 35).
        await page.get_by_role("button", name="New welcome link for Bill").click()
        await page.get_by_text("the one made before no longer works").wait_for()
        link = await page.get_by_label("Welcome link", exact=True).input_value()
        assert "/signin#welcome=" in link and link != first_link
        async with aiohttp.ClientSession() as http:
            dead = await http.post(
                str(server.make_url("/api/auth/welcome")),
                json={"code": first_link.partition("#welcome=")[2], "password": PASSWORD},
            )
            assert dead.status == 401
        newcomer = await browser.new_page(viewport=PHONE)
        await newcomer.goto(link)
        await newcomer.get_by_label("Your new password").fill(PASSWORD)
        await newcomer.get_by_role("button", name="Set my password").click()
        await newcomer.wait_for_url("**/manage")
        await sign_in(newcomer, server, "boss@initech.example")
        assert not await newcomer.get_by_role("link", name="Customers").is_visible()
        # With a password of their own, nobody is handed a link for the account.
        await page.get_by_role("button", name="New welcome link for Bill").click()
        await page.get_by_text("has chosen a password").wait_for()
        row = page.locator("tr", has_text="Acme")
        await row.get_by_role("link", name="events").click()
        await page.locator("#events tr", has_text="Acme kickoff").wait_for()
        assert await page.get_by_label("Customer").input_value() == str(acme)
    finally:
        await browser.close()
        await playwright.stop()
