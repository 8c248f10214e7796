"""Real servers that tests start as processes: `livevent serve` on a free port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

LIVEVENT = str(Path(sys.executable).parent / "livevent")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, what: str, within: float = 30.0) -> None:
    """Poll until something accepts connections on the port, with a deadline."""
    deadline = time.monotonic() + within
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not start"
            time.sleep(0.1)


def start_serve(
    env: dict[str, str], *, log: Path | None = None
) -> tuple[subprocess.Popen[str], int]:
    """`livevent serve` on a free port, its stderr kept for the test to read.

    With `log`, stderr goes to that file: a pipe nobody reads fills up and stops a chatty server.
    """
    port = free_port()
    stderr: int | IO[str] = subprocess.PIPE if log is None else log.open("w")
    try:
        process = subprocess.Popen(
            [LIVEVENT, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            text=True,
        )
    finally:
        if not isinstance(stderr, int):
            stderr.close()  # the child has its own copy of the descriptor
    wait_for_port(port, "livevent serve")
    return process, port
