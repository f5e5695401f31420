"""A stand-in for the mps2-an385 image: reads the same board.json, uses the
same network services the same way (SNTP, DNS, then TLS 1.2 with the device
certificate and a sublink/1 WebSocket on the ports in order) and prints the
board's console milestones, so the rig can be checked without the image.
It is not the agent: it verifies the license's ids, not its signature.

  standin_board.py BOARD_JSON      exit status as the board's: 0 on grace
"""
import asyncio
import base64
import json
import os
import ssl
import sys
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import probes  # noqa: E402


def say(text):
    print("[mps2] " + text, flush=True)


def utc_iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


async def connect(config, address):
    """The first port that completes TLS and the upgrade, in order."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(config["ca_file"])
    ctx.load_cert_chain(config["cert_file"], config["key_file"])
    for port in config["ports"]:
        try:
            ws = await websockets.connect("wss://%s:%d/sublink/v1" % (address, port), ssl=ctx,
                                          server_hostname=config["server"], subprotocols=["sublink.v1"],
                                          open_timeout=config.get("connect_timeout_s", 5))
            return ws, port
        except (OSError, asyncio.TimeoutError, websockets.InvalidHandshake) as e:
            print("port %d: %s" % (port, e), flush=True)
    return None, None


async def hold_link(config, ws):
    """hello and license_request, then heartbeats until the server goes."""
    features = config.get("features", [])
    await ws.send(json.dumps({"type": "hello", "id": 1, "proto": 1, "customer_id": config["customer_id"],
                              "system_id": config["system_id"], "agent": "standin", "fw": "standin",
                              "role": "primary", "boot": 1, "time": int(time.time() * 1000),
                              "state": "unlicensed", "grace_elapsed_s": 0, "license_serial": None}))
    await ws.send(json.dumps({"type": "license_request", "id": 2, "features": features}))
    seq, next_id, heartbeat_s, acked = 0, 3, None, False
    while True:
        timeout = heartbeat_s if heartbeat_s else 30
        try:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        except asyncio.TimeoutError:
            msg = {"type": "(heartbeat due)"}
        kind = msg.get("type")
        if kind == "welcome":
            heartbeat_s = msg.get("heartbeat_s", 60)
        elif kind == "license_grant":
            padded = msg["license"] + "=" * (-len(msg["license"]) % 4)
            lic = json.loads(base64.urlsafe_b64decode(padded))
            if (lic["customer_id"], lic["system_id"]) != (config["customer_id"], config["system_id"]):
                print("license for %s/%s refused" % (lic["customer_id"], lic["system_id"]), flush=True)
                return 3
            say("licensed " + lic["serial"])
        elif kind == "heartbeat_ack" and not acked:
            acked = True
            say("heartbeat acked")
        if heartbeat_s and (kind in ("welcome", "(heartbeat due)")):
            seq += 1
            await ws.send(json.dumps({"type": "heartbeat", "id": next_id, "seq": seq,
                                      "uptime_s": int(time.monotonic())}))
            next_id += 1


async def run(config):
    say("ip " + config["ip"].split("/")[0])
    ms, _ = probes.ntp_time(config["ntp"])
    say("time synced " + utc_iso(ms))
    address = config["server"]
    if not address.replace(".", "").isdigit():
        address = probes.dns_a(config["dns"][0], config["server"])[0]
        say("resolved %s %s" % (config["server"], address))
    ws, port = await connect(config, address)
    if ws is None:
        return 4, "no port linked"
    say("link up port %d" % port)
    try:
        status = await hold_link(config, ws)
        return status, "license refused"
    except websockets.ConnectionClosed as closed:
        say("link down")
        print("closed %s %s" % (closed.code, closed.reason), flush=True)
    say("grace")
    return 0, "grace"


def main(path):
    with open(path) as f:
        config = json.load(f)
    try:
        status, why = asyncio.run(asyncio.wait_for(run(config), config.get("deadline_s", 120)))
    except asyncio.TimeoutError:
        status, why = 5, "deadline"
    except (OSError, ValueError) as e:
        status, why = 6, str(e)
    say("exit %d %s" % (status, why))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
