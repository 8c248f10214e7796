"""A listener that joins, says so on stdout, and then waits to be killed (SIGKILL)."""

import asyncio
import sys

import aiohttp

from livevent.client import ListenerClient


async def main(url: str) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        listener = ListenerClient(ws, decode=False, keep_audio=False).start()
        await listener.until(lambda heard: heard.of_type("status"), within=60)
        print("joined", flush=True)
        await listener.closed(within=3600)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
