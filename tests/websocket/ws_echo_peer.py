"""Independent RFC 6455 peer for the WsClient interop test.

python3-websockets 10.4 from Debian (run with /usr/bin/python3) on
127.0.0.1 over plain TCP. It only accepts the sublink.v1 subprotocol,
echoes text and binary messages, and on the text "finish" sends a
fragmented message and a ping, then closes with 4000 "pong-ok" when the
client answered the ping (4001 "no-pong" otherwise). A client close is
echoed by the library with the client's code.

usage: ws_echo_peer.py PORT
"""
import asyncio
import sys

import websockets


async def handler(ws, path=None):
    if ws.subprotocol != "sublink.v1":
        await ws.close(code=4002, reason="no-subprotocol")
        return
    async for message in ws:
        if message == "finish":
            await ws.send(["frag-", "ment-", "ed"])
            pong = await ws.ping(b"are-you-there")
            try:
                await asyncio.wait_for(pong, timeout=5)
                await ws.close(code=4000, reason="pong-ok")
            except asyncio.TimeoutError:
                await ws.close(code=4001, reason="no-pong")
            return
        await ws.send(message)


async def main(port):
    async with websockets.serve(handler, "127.0.0.1", port, subprotocols=["sublink.v1"],
                                max_size=1 << 20, ping_interval=None):
        print("listening", port, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
