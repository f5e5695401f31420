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


async def main():
    p = argparse.ArgumentParser()
    for name in ("--ca", "--cert", "--key", "--customer", "--system"):
        p.add_argument(name, required=True)
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    uri = "wss://127.0.0.1:%d/sublink/v1" % a.port
    async with websockets.connect(uri, ssl=ctx, subprotocols=["sublink.v1"]) as ws:
        hello = {"type": "hello", "id": 1, "proto": 1, "customer_id": a.customer, "system_id": a.system,
                 "agent": "test", "fw": "test", "role": "primary", "boot": 1, "time": None,
                 "state": "unlicensed", "grace_elapsed_s": 0, "license_serial": None}
        await ws.send(json.dumps(hello))
        try:
            while True:
                print("recv", await asyncio.wait_for(ws.recv(), 10), flush=True)
        except websockets.ConnectionClosed as closed:
            print("close", closed.code, closed.reason, flush=True)


asyncio.run(main())
