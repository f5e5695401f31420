#!/usr/bin/python3
"""The floor for an idle link: a bare WebSocket over the same mutually
authenticated TLS 1.2, kept alive by a ping/pong every INTERVAL seconds and
nothing else (python3-websockets at both ends).

  ws_ping_peer.py server ADDR PORT PKI
  ws_ping_peer.py client NAME PORT PKI INTERVAL SECONDS
"""
import asyncio
import ssl
import sys

import websockets


def context(purpose, pki, cert, key):
    c = ssl.create_default_context(purpose, cafile=pki + "/ca.crt")
    c.minimum_version = c.maximum_version = ssl.TLSVersion.TLSv1_2
    c.load_cert_chain(pki + "/" + cert, pki + "/" + key)
    if purpose == ssl.Purpose.CLIENT_AUTH:
        c.verify_mode = ssl.CERT_REQUIRED
    return c


async def serve(addr, port, pki):
    async def hold(ws, *_):
        await ws.wait_closed()

    tls = context(ssl.Purpose.CLIENT_AUTH, pki, "bench-server.crt", "bench-server.key")
    async with websockets.serve(hold, addr, port, ssl=tls, ping_interval=None, subprotocols=["sublink.v1"]):
        print("ready", flush=True)
        await asyncio.Future()


async def client(name, port, pki, interval, seconds):
    tls = context(ssl.Purpose.SERVER_AUTH, pki, "device.crt", "device.key")
    async with websockets.connect(f"wss://{name}:{port}/sublink/v1", ssl=tls, ping_interval=None,
                                  subprotocols=["sublink.v1"]) as ws:
        print("open", flush=True)
        pongs = 0
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            await asyncio.sleep(interval)
            await (await ws.ping())
            pongs += 1
        print(f"pongs {pongs}", flush=True)


def main(argv):
    if len(argv) >= 5 and argv[1] == "server":
        asyncio.run(serve(argv[2], int(argv[3]), argv[4]))
    elif len(argv) >= 7 and argv[1] == "client":
        asyncio.run(client(argv[2], int(argv[3]), argv[4], float(argv[5]), float(argv[6])))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
