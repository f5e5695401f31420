#!/usr/bin/python3
"""A minimal sublink/1 client on python3-websockets (Debian's, run with
/usr/bin/python3), the second peer bench_link_memory.py holds beside
sublinkd: mutual TLS 1.2, the upgrade with sublink.v1, one hello, then the
link held idle. Prints "welcome", then "held" after --hold-s seconds.
"""
import argparse
import asyncio
import json
import ssl
import sys

import websockets


async def main():
    p = argparse.ArgumentParser()
    for name in ("--ca", "--cert", "--key", "--customer", "--system"):
        p.add_argument(name, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--hold-s", type=float, default=5)
    a = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    async with websockets.connect(f"wss://localhost:{a.port}/sublink/v1", ssl=ctx, subprotocols=["sublink.v1"],
                                  ping_interval=None) as ws:
        hello = {"type": "hello", "id": 1, "proto": 1, "customer_id": a.customer, "system_id": a.system,
                 "agent": "py-bench", "fw": "0", "role": "primary", "boot": 1, "time": None,
                 "state": "unlicensed", "grace_elapsed_s": 0, "license_serial": None}
        await ws.send(json.dumps(hello))
        while json.loads(await asyncio.wait_for(ws.recv(), 20)).get("type") != "welcome":
            pass
        print("welcome", flush=True)
        await asyncio.sleep(a.hold_s)
        if ws.closed:
            sys.exit("py_client: the server closed the link")
        print("held", flush=True)


asyncio.run(main())
