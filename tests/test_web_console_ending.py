"""The end of an event as the organizer sees it (issue 39, point 1): after End, the console
says the channels are finishing for as long as they speak, then shows the event ended
with its recordings as long as what listeners heard, without a reload.

Three sentences go in at twice real time, with no pause for the machine channel to keep
up, and the organizer ends at once: its Spanish tail lasts seconds after End.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from pytest_aiohttp import AiohttpServer

from livevent.client import ListenerClient, SpeakerClient
from livevent.events.recordings import list_parts
from livevent.model import ChannelKind, ChannelSpec, Event, EventCreate, TranscriptSegment
from livevent.runtime import LiveRuntime
from tests.support.browser import DESKTOP, launch, needs_chromium
from tests.support.console import manager, sign_in
from tests.support.embedded import embedded_runtime, served
from tests.support.live import loud_frames, speaker_token, speech_pcm

pytestmark = needs_chromium
SENTENCES = [
    "Good morning everyone, and welcome to the annual meeting.",
    "This year we opened a new library in the city.",
    "Thank you very much for listening.",
]


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[LiveRuntime]:
    # Shorter than the tail: the ending follows the speaking, not a cap.
    async with embedded_runtime(tmp_path, finish_machine_seconds=5) as opened:
        yield opened


@pytest.fixture
async def server(aiohttp_server: AiohttpServer, runtime: LiveRuntime) -> TestServer:
    return await served(aiohttp_server, runtime)


async def managed_event(runtime: LiveRuntime, manager_email: str, channel: ChannelSpec) -> Event:
    """An English event of a new customer whose manager signs in as `manager_email`."""
    service = runtime.service
    assert service is not None
    customer_id = await manager(runtime, manager_email, manager_email.split("@")[1])
    return await service.create_event(
        EventCreate(
            customer_id=customer_id,
            name="Annual meeting",
            starts_at="2026-12-01T10:00Z",  # type: ignore[arg-type]
            source_language="en-US",
            channels=[channel],
        ),
        actor="test",
    )


async def test_the_console_says_ending_until_the_channels_finish_then_shows_the_files(
    runtime: LiveRuntime, server: TestServer, tmp_path: Path
) -> None:
    service = runtime.service
    assert service is not None
    spanish = ChannelSpec(language="es-ES", kind=ChannelKind.MACHINE, interpretation="consecutive")
    event = await managed_event(runtime, "boss@ending.example", spanish)
    await service.act(event.id, "schedule", actor="test")
    session = await runtime.start(event.id)
    base = f"http://127.0.0.1:{server.port}"
    floor = b"".join(speech_pcm(s, "en-us", tmp_path) for s in SENTENCES)
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=DESKTOP)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
        await sign_in(page, base, "boss@ending.example")
        await page.goto(f"{base}/manage#/events/{event.id}")
        await page.get_by_role("button", name="End the event").wait_for()

        async with ListenerClient.connect(base, event.id, channel="es-ES") as spanish:
            async with SpeakerClient.connect(base, event.id, token=speaker_token(event.id)) as s:
                await s.send(floor, pace=2.0)
            await page.get_by_role("button", name="End the event").click()
            await page.get_by_text("Ending: channels finishing").wait_for(timeout=30_000)
            assert not session.ended.is_set()
            assert not await page.get_by_text("The broadcast, recorded").count()  # not yet
            await page.get_by_text("Ending: channels finishing").wait_for(
                state="detached", timeout=120_000
            )
            assert session.ended.is_set()
            await page.get_by_text("The broadcast, recorded").wait_for(timeout=30_000)
            heard = spanish.heard.seconds

        # Without a reload, the table lists the Spanish recording, as long as it was heard.
        row = page.locator("tr", has_text="es-ES")
        await row.wait_for(timeout=30_000)
        parts = {p.language: p for p in list_parts(runtime.settings.recordings_dir, event.id)}
        recorded = sum(loud_frames(parts["es-ES"].path, above=1000)) / 50
        assert recorded >= 0.6 * heard, (recorded, heard)  # speech, not the pauses between
        finals = " ".join(str(c.get("source_text")) for c in spanish.heard.captions()).lower()
        assert "listening" in finals, finals  # the last sentence was said, not cut
        assert not errors, errors
    finally:
        await browser.close()
        await playwright.stop()


async def test_the_files_view_offers_an_interpreters_transcript_that_arrives_after_the_end(
    runtime: LiveRuntime, server: TestServer
) -> None:
    """An interpreter's recogniser finishes after the floor's: the organizer who opened the
    files view at the end sees its language come without a reload (issue 38, item 4)."""
    service = runtime.service
    assert service is not None
    interpreted = ChannelSpec(language="es-ES", kind=ChannelKind.HUMAN)
    event = await managed_event(runtime, "boss@late.example", interpreted)
    for act in ("schedule", "start", "end"):
        await service.act(event.id, act, actor="test")

    def said(sequence: int, language: str, text: str) -> TranscriptSegment:
        return TranscriptSegment(
            event_id=event.id,
            sequence=sequence,
            language=language,
            text=text,
            start_seconds=float(sequence),
            end_seconds=sequence + 1.0,
            spoken_at=datetime.now(UTC),
        )

    await service.add_transcript_segment(said(1, "en-US", "Thank you for coming."))
    base = f"http://127.0.0.1:{server.port}"
    playwright, browser = await launch()
    try:
        page = await browser.new_page(viewport=DESKTOP)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await sign_in(page, base, "boss@late.example")
        await page.goto(f"{base}/manage#/events/{event.id}")
        languages = page.locator("#transcript-language option")
        await page.locator("#transcript-language option[value='en-US']").wait_for(
            state="attached", timeout=30_000
        )
        assert await languages.count() == 1
        await service.add_transcript_segment(said(2, "es-ES", "Gracias por venir."))
        await page.locator("#transcript-language option[value='es-ES']").wait_for(
            state="attached", timeout=60_000
        )
        await page.get_by_text("Now in the transcript too: es-ES.").wait_for(timeout=10_000)
        assert await page.locator("#transcript-language").input_value() == "en-US"  # kept
        assert not errors, errors
    finally:
        await browser.close()
        await playwright.stop()
