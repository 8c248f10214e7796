"""A listener that joins, says so on stdout, and then waits to be killed (SIGKILL)."""

import asyncio
import sys

import aiohttp


async def main(url: str) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        while True:
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.TEXT and '"status"' in message.data:
                print("joined", flush=True)
            elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
