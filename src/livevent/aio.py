"""Small asyncio helpers."""

from __future__ import annotations

import asyncio


def raise_if_cancelled() -> None:
    """Re-raise a cancellation a library swallowed (redis-py can, mid-command).

    Called at the top of every loop in a task that livevent cancels to stop it;
    without it, such a loop would carry on for ever and its owner wait for ever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
