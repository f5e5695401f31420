"""A bare sublink/1 client for sublink-server tests: python3-websockets
(Debian's 10.4, run with /usr/bin/python3), so it can claim any system_id,
which the real agent refuses to do. Connects with the given certificate,
sends one hello and prints every message received, then the close code:

  recv {...}
  close 1008 system_mismatch

usage: hello_client.py --port P --ca CA --cert C --key K --customer C --system S
"""
import argparse
import asyncio
import json
import ssl

import websockets


def device_arguments():
    """The parser of the options every test device takes (more may be added)."""
    p = argparse.ArgumentParser()
    for name in ("--ca", "--cert", "--key", "--customer", "--system"):
        p.add_argument(name, required=True)
    p.add_argument("--port", type=int, required=True)
    return p


def device_link(a, **fields):
    """The device's link to the server on loopback port a.port with its
    certificate (TLS 1.2), and its hello sent: as `async with`."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    uri = "wss://127.0.0.1:%d/sublink/v1" % a.port
    hello = {"type": "hello", "id": 1, "proto": 1, "customer_id": a.customer, "system_id": a.system,
             "agent": "test", "fw": "test", "role": "primary", "boot": 1, "time": None,
             "state": "unlicensed", "grace_elapsed_s": 0, "license_serial": None}
    hello.update(fields)

    class Link:
        async def __aenter__(self):
            self.ws = await websockets.connect(uri, ssl=ctx, subprotocols=["sublink.v1"], max_size=None)
            await self.ws.send(json.dumps(hello))
            return self.ws

        async def __aexit__(self, *exc):
            await self.ws.close()

    return Link()


async def main():
    a = device_arguments().parse_args()
    async with device_link(a) as ws:
        try:
            while True:
                print("recv", await asyncio.wait_for(ws.recv(), 10), flush=True)
        except websockets.ConnectionClosed as closed:
            print("close", closed.code, closed.reason, flush=True)


if __name__ == "__main__":
    asyncio.run(main())
