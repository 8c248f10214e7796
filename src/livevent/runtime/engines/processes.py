"""Helper processes of the engines: warm ones (Apertium's pipelines, Festival's voices)
and one-shot ones (espeak-ng)."""

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


async def communicate(
    process: asyncio.subprocess.Process, data: bytes | None = None
) -> tuple[bytes, bytes]:
    """`process.communicate(data)`; cancelled (a booth closed mid-sentence, the event
    over), the process is killed and reaped instead of left to finish on its own."""
    try:
        return await process.communicate(data)
    except BaseException:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        with contextlib.suppress(asyncio.CancelledError):
            await process.communicate()  # to its end: the pipes closed, the process reaped
        raise
