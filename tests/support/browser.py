"""Debian's Chromium driven by Playwright, for the page tests.

Screenshots go to $LIVEVENT_SCREENSHOT_DIR (the committed ones in
docs/screenshots come from there), else to the test's tmp dir.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Page tests need Debian's Chromium. Where it is missing they fail, as the PostgreSQL
# tests do without PostgreSQL: a green run must not hide pages nobody opened. Only
# this variable, set on purpose, skips them instead.
OPT_OUT = "LIVEVENT_NO_BROWSER"
needs_chromium = pytest.mark.browser


def check_chromium() -> None:
    """Called before each browser test (conftest.py): fail, or skip when opted out."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get(OPT_OUT) == "1":
        pytest.skip(f"Debian's chromium is not installed, and {OPT_OUT}=1 skips page tests")
    pytest.fail(
        f"Debian's chromium is not installed at {CHROMIUM}: `make setup` installs it"
        f" ({OPT_OUT}=1 skips the page tests on purpose)"
    )


PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def screenshot_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("LIVEVENT_SCREENSHOT_DIR") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def launch(*args: str) -> tuple[Any, Browser]:
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--autoplay-policy=no-user-gesture-required", *args],
    )
    return playwright, browser


async def state(page: Page) -> object:
    return await page.evaluate("window.livevent && window.livevent.stats")


async def wait_for(page: Page, condition: str, within: float = 60.0) -> None:
    """Poll the JavaScript `condition` (on `stats`, `document`...) until it holds.

    Playwright's wait_for_function evaluates inside the page, which the pages'
    Content-Security-Policy rightly forbids; page.evaluate goes through the
    DevTools protocol instead.
    """
    expression = (
        "(() => { const stats = window.livevent && window.livevent.stats;"
        f" try {{ return Boolean({condition}); }} catch {{ return false; }} }})()"
    )
    deadline = asyncio.get_running_loop().time() + within
    while not await page.evaluate(expression):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{condition} did not hold within {within} s: {await state(page)}")
        await asyncio.sleep(0.1)


async def counters(page: Page) -> dict[str, Any]:
    stats: dict[str, Any] = await page.evaluate("window.livevent.stats")
    return stats
