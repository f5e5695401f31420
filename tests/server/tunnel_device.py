"""A test device for sublink-server's tunnels: the device's half of
PROTOCOL.md section 6 in python3-websockets (Debian's, run with
/usr/bin/python3), written from the protocol text alone, so it checks the
server on the wire: every DATA the server sends must fit the window this
device granted (early data behind OPEN at most 4096 bytes), every id the
server opens must be free, every frame well formed. A breach prints a line
starting with VIOLATION (and resets the channel as section 6 says).

It links as SYSTEM with the given certificate, says hello with `services`,
answers heartbeats' worth of contact every --heartbeat seconds, and answers
each OPEN by connecting to the endpoint --service maps the name to. It
prints, one line each:

  welcome
  open CHANNEL SERVICE OPERATOR      (an OPEN arrived)
  rst-sent CHANNEL REASON            (this device reset a channel)
  rst-received CHANNEL REASON
  closed CHANNEL in=N out=N           (both directions finished)
  heartbeat-rtt MS                    (a heartbeat_ack came back after MS)
  VIOLATION ...
  close CODE REASON                   (the link ended)

usage: tunnel_device.py --port P --ca CA --cert C --key K --customer C
       --system S [--service NAME=HOST:PORT ...] [--window N]
       [--max-channels N] [--heartbeat S] [--no-credit] [--probe]
--no-credit: never grant credit beyond the first window (a device whose
local service stalls), to check the server stops reading its operator.
--probe: after welcome, send DATA on channel 77 (never opened: the server
answers RST protocol), then a 2-byte binary message (malformed: the
server closes the link with 1002).
"""
import asyncio
import json
import os
import struct
import sys
import time

import websockets

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hello_client import device_arguments, device_link  # noqa: E402

DATA, WINDOW, FIN, RST, OPEN, OPEN_OK = 1, 2, 3, 4, 5, 6
REASONS = {1: "unknown_service", 2: "not_allowed", 3: "connect_refused", 4: "connect_timeout",
           5: "too_many_channels", 6: "no_memory", 7: "flow_control", 8: "protocol", 9: "idle_timeout",
           10: "local_reset", 11: "shutdown"}
CODES = {name: code for code, name in REASONS.items()}
MAX_DATA = 16384
MAX_EARLY = 4096


def say(*words):
    print(*words, flush=True)


class Channel:
    def __init__(self, cid, service, window):
        self.id = cid
        self.service = service
        self.window = window
        self.granted = window          # credit granted the server so far (window + WINDOWs)
        self.received = 0              # DATA payload received
        self.passed_on = 0             # written to the local service
        self.granted_at = 0            # passed_on when credit was last granted
        self.send_credit = 0           # what the server granted us
        self.sent = 0
        self.accepted = False          # OPEN_OK sent
        self.early = bytearray()       # DATA before OPEN_OK
        self.incoming = asyncio.Queue()
        self.credit_event = asyncio.Event()
        self.writer = None
        self.fin_in = False
        self.fin_out = False
        self.gone = False
        self.tasks = []


class Device:
    def __init__(self, ws, args):
        self.ws = ws
        self.args = args
        self.services = dict(s.split("=", 1) for s in args.service)
        self.channels = {}
        self.probe_answered = False

    async def send_frame(self, kind, cid, body=b""):
        await self.ws.send(struct.pack(">BH", kind, cid) + body)

    async def reset(self, ch_or_id, reason):
        cid = ch_or_id.id if isinstance(ch_or_id, Channel) else ch_or_id
        say("rst-sent", cid, reason)
        await self.send_frame(RST, cid, bytes([CODES[reason]]))
        ch = self.channels.pop(cid, None)
        if ch is not None:
            self.drop(ch)

    def drop(self, ch):
        ch.gone = True
        ch.credit_event.set()
        ch.incoming.put_nowait(None)
        if ch.writer is not None:
            ch.writer.close()

    def maybe_closed(self, ch):
        if ch.fin_in and ch.fin_out and self.channels.get(ch.id) is ch:
            del self.channels[ch.id]
            say("closed", ch.id, "in=%d" % ch.received, "out=%d" % ch.sent)
            self.drop(ch)

    async def on_frame(self, m):
        if len(m) < 3:
            say("VIOLATION frame of", len(m), "bytes")
            return
        kind, cid = struct.unpack(">BH", m[:3])
        body = m[3:]
        if cid == 0:
            say("VIOLATION channel 0")
            return
        if kind == OPEN:
            await self.on_open(cid, body)
            return
        ch = self.channels.get(cid)
        if kind == RST:
            say("rst-received", cid, REASONS.get(body[0], body[0]) if body else "?")
            self.probe_answered = True
            if ch is not None:
                del self.channels[cid]
                self.drop(ch)
            return
        if ch is None:
            await self.send_frame(RST, cid, bytes([CODES["protocol"]]))
            return
        if kind == DATA:
            if not 1 <= len(body) <= MAX_DATA:
                say("VIOLATION DATA of", len(body), "bytes on", cid)
            if ch.fin_in:
                say("VIOLATION DATA after FIN on", cid)
            ch.received += len(body)
            if not ch.accepted:
                ch.early += body
                if len(ch.early) > MAX_EARLY:
                    say("VIOLATION", len(ch.early), "bytes of early data on", cid)
                    await self.reset(ch, "flow_control")
                return
            if ch.received > ch.granted:
                say("VIOLATION window exceeded on", cid, ch.received, ">", ch.granted)
                await self.reset(ch, "flow_control")
                return
            ch.incoming.put_nowait(bytes(body))
        elif kind == WINDOW:
            (inc,) = struct.unpack(">I", body)
            if inc == 0 or ch.send_credit + inc > 0x7FFFFFFF:
                say("VIOLATION WINDOW", inc, "on", cid)
            ch.send_credit += inc
            ch.credit_event.set()
        elif kind == FIN:
            ch.incoming.put_nowait(b"")
        else:
            say("VIOLATION frame type", kind)

    async def on_open(self, cid, body):
        (window,) = struct.unpack(">I", body[:4])
        n = body[4]
        service = body[5:5 + n].decode()
        op = body[5 + n:].decode()
        say("open", cid, service, op or "-")
        if cid in self.channels:
            say("VIOLATION OPEN of channel", cid, "in use")
            await self.reset(cid, "protocol")
            return
        ch = Channel(cid, service, self.args.window)
        ch.send_credit = window
        self.channels[cid] = ch
        if service not in self.services:
            await self.reset(ch, "unknown_service")
            return
        if len(self.channels) > self.args.max_channels:
            await self.reset(ch, "too_many_channels")
            return
        host, port = self.services[service].rsplit(":", 1)
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
        except OSError:
            await self.reset(ch, "connect_refused")
            return
        if ch.gone:
            writer.close()
            return
        ch.writer = writer
        ch.accepted = True
        await self.send_frame(OPEN_OK, cid, struct.pack(">I", self.args.window))
        if ch.early:
            ch.incoming.put_nowait(bytes(ch.early))
            if ch.received > ch.granted:
                say("VIOLATION early data beyond the window on", cid)
        ch.tasks = [asyncio.create_task(self.to_service(ch)), asyncio.create_task(self.from_service(ch, reader))]

    async def to_service(self, ch):
        while True:
            data = await ch.incoming.get()
            if data is None or ch.gone:
                return
            if data == b"":
                ch.fin_in = True
                try:
                    ch.writer.write_eof()
                except OSError:
                    pass
                self.maybe_closed(ch)
                return
            try:
                ch.writer.write(data)
                await ch.writer.drain()
            except (OSError, ConnectionError):
                if not ch.gone:
                    await self.reset(ch, "local_reset")
                return
            ch.passed_on += len(data)
            free = ch.passed_on - ch.granted_at
            if not self.args.no_credit and free >= ch.window // 2 and not ch.gone:
                ch.granted_at = ch.passed_on
                ch.granted += free
                await self.send_frame(WINDOW, ch.id, struct.pack(">I", free))

    async def from_service(self, ch, reader):
        while not ch.gone:
            while ch.send_credit == 0 and not ch.gone:
                ch.credit_event.clear()
                await ch.credit_event.wait()
            if ch.gone:
                return
            try:
                data = await reader.read(min(ch.send_credit, MAX_DATA))
            except (OSError, ConnectionError):
                data = None
            if ch.gone:
                return
            if data is None:
                await self.reset(ch, "local_reset")
                return
            if not data:
                ch.fin_out = True
                await self.send_frame(FIN, ch.id)
                self.maybe_closed(ch)
                return
            ch.send_credit -= len(data)
            ch.sent += len(data)
            await self.send_frame(DATA, ch.id, data)


async def heartbeats(ws, every, sent_at):
    seq = 0
    while True:
        await asyncio.sleep(every)
        seq += 1
        sent_at[100 + seq] = time.monotonic()
        await ws.send(json.dumps({"type": "heartbeat", "id": 100 + seq, "seq": seq, "uptime_s": seq}))


async def probe(ws, device):
    await ws.send(struct.pack(">BH", DATA, 77) + b"x")
    for _ in range(100):
        if device.probe_answered:
            break
        await asyncio.sleep(0.05)
    await ws.send(b"\x01\x00")


async def main():
    p = device_arguments()
    p.add_argument("--service", action="append", default=[])
    p.add_argument("--window", type=int, default=65536)
    p.add_argument("--max-channels", type=int, default=8)
    p.add_argument("--heartbeat", type=float, default=0.5)
    p.add_argument("--no-credit", action="store_true")
    p.add_argument("--probe", action="store_true")
    a = p.parse_args()
    services = [s.split("=", 1)[0] for s in a.service]
    async with device_link(a, agent="tunnel-test", services=services) as ws:
        device = Device(ws, a)
        tasks = []
        sent_at = {}
        try:
            async for m in ws:
                if isinstance(m, bytes):
                    await device.on_frame(m)
                    continue
                message = json.loads(m)
                if message.get("type") == "welcome":
                    say("welcome")
                    tasks.append(asyncio.create_task(heartbeats(ws, a.heartbeat, sent_at)))
                    if a.probe:
                        tasks.append(asyncio.create_task(probe(ws, device)))
                elif message.get("type") == "heartbeat_ack" and message.get("re") in sent_at:
                    say("heartbeat-rtt", int((time.monotonic() - sent_at.pop(message["re"])) * 1000))
        except websockets.ConnectionClosed:
            pass
        for t in tasks:
            t.cancel()
        say("close", ws.close_code, ws.close_reason)


asyncio.run(main())
