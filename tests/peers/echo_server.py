"""A loopback TCP echo server for tunnel tests: every connection gets back
what it sends, and is closed once the client has finished sending (its
half-close) and everything is echoed. Prints "listening PORT" when ready.

usage: echo_server.py PORT
"""
import asyncio
import sys


async def echo(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(echo, "127.0.0.1", port)
    print("listening %d" % port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
