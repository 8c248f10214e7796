"""The fan-out's own CPU, in user space, per delivered message: livevent's hub against
aiohttp's WebSocket writer, the peer a naive server loops over, in one process and run.

No sockets: each listener's transport takes the bytes and drops them, so what is
timed is only the work in Python around the kernel's send (benchmarks/fanout.py
measures the whole thing over real sockets, where the kernel's share dominates
and the user/system split of a busy VM is noisy). Runs alternate, and the ratio
of the medians is reported.

    python benchmarks/fanout_cpu.py [--listeners 1000] [--messages 2000] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import struct
import time
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType
from aiohttp.http_websocket import WebSocketWriter

from livevent.model import Channel, ChannelKind
from livevent.runtime.live.fanout import ChannelHub, Listener
from livevent.runtime.wire import websocket_frame

RESULTS = Path(__file__).parent / "results"
MESSAGE = struct.pack(">BBIQ", 1, 5, 0, 0) + b"\x55" * 316  # five Opus packets' worth


class NullTransport(asyncio.Transport):
    """A socket that takes everything at once and keeps nothing."""

    def write(self, data: Any) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0


class NullProtocol:
    _paused = False

    async def _drain_helper(self) -> None:
        pass


def time_livevent(listeners: int, messages: int) -> float:
    hub = ChannelHub(Channel(number=1, language="en-US", kind=ChannelKind.FLOOR))
    for index in range(listeners):
        hub.add(Listener(id=str(index), transport=NullTransport()))
    started = time.process_time()
    for _ in range(messages):
        hub._broadcast(websocket_frame(MESSAGE), audio="opus")
    return time.process_time() - started


def time_naive(listeners: int, messages: int) -> float:
    writers = [
        WebSocketWriter(NullProtocol(), NullTransport())  # type: ignore[arg-type]
        for _ in range(listeners)
    ]

    async def loop() -> float:
        started = time.process_time()
        for _ in range(messages):
            for writer in writers:
                await writer.send_frame(MESSAGE, WSMsgType.BINARY)
        return time.process_time() - started

    return asyncio.run(loop())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--results", default="fanout-cpu.json", help="file in benchmarks/results")
    args = parser.parse_args()
    delivered = args.listeners * args.messages
    ours, theirs = [], []
    for _ in range(args.rounds):
        ours.append(time_livevent(args.listeners, args.messages) / delivered * 1e9)
        theirs.append(time_naive(args.listeners, args.messages) / delivered * 1e9)
    row = {
        "listeners": args.listeners,
        "messages": args.messages,
        "livevent_ns_per_delivery": statistics.median(ours),
        "naive_ns_per_delivery": statistics.median(theirs),
    }
    row["ratio"] = row["livevent_ns_per_delivery"] / row["naive_ns_per_delivery"]
    print(
        f"{args.listeners} listeners x {args.messages} messages, median of {args.rounds}:"
        f" livevent {row['livevent_ns_per_delivery']:.0f} ns, aiohttp writer"
        f" {row['naive_ns_per_delivery']:.0f} ns per delivered message: {row['ratio']:.2f}x"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.results).write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
