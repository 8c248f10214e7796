"""Warm helper processes of the engines (Apertium's pipelines, Festival's voices)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal


async def kill_group(process: asyncio.subprocess.Process | None) -> None:
    """Kill a process started with `start_new_session=True` and everything it started."""
    if process is None:
        return
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    await process.wait()
