"""The server's side of one tunnel channel (PROTOCOL.md section 6), written
from the protocol alone, for the independent server's `tunnel` control.

A channel opens with OPEN (the window this side grants, the service, the
operator) and up to 4096 bytes of early data, sends the rest of its request
within the device's credit (OPEN_OK's window plus WINDOW increments), then
FIN; it reads until the device's FIN or RST, granting new credit once half
the window is passed on. It checks the device's side of the rules as it
goes: DATA beyond what was granted, or DATA after FIN, is recorded as a
violation.

The result (one dict) says how the channel ended (`reason`: "fin", an RST
reason name, "link_lost" or "timeout"), what arrived (`received` bytes,
`sha256` of them, or of the body after the HTTP header block when `http`),
the window the device granted, and `violations`.
"""
import asyncio
import hashlib
import struct

DATA, WINDOW, FIN, RST, OPEN, OPEN_OK = 1, 2, 3, 4, 5, 6
MAX_DATA = 16384
MAX_EARLY = 4096
RESETS = {1: "unknown_service", 2: "not_allowed", 3: "connect_refused", 4: "connect_timeout",
          5: "too_many_channels", 6: "no_memory", 7: "flow_control", 8: "protocol", 9: "idle_timeout",
          10: "local_reset", 11: "shutdown"}


def frame(kind, channel, body=b""):
    return struct.pack(">BH", kind, channel) + body


class TunnelChannel:
    """Frames for this channel arrive through `deliver` (the connection's
    reader); `run` drives the channel to its end."""

    def __init__(self, ws, channel, service, operator="", window=65536, request=b"", fin=True,
                 http=False, read_delay_s=0.0, timeout_s=60.0):
        self.ws = ws
        self.channel = channel
        self.service = service.encode()
        self.operator = operator.encode()
        self.window = window
        self.request = request
        self.fin = fin
        self.http = http
        self.read_delay_s = read_delay_s
        self.timeout_s = timeout_s
        self.frames = asyncio.Queue()
        self.received = 0

    def deliver(self, message):
        self.frames.put_nowait(message)

    def link_lost(self):
        self.frames.put_nowait(None)

    async def run(self):
        result = {"channel": self.channel, "violations": []}
        body_hash = hashlib.sha256()
        header = bytearray()
        in_body = not self.http
        await self.ws.send(frame(OPEN, self.channel, struct.pack(">IB", self.window, len(self.service))
                                 + self.service + self.operator))
        sent = min(len(self.request), MAX_EARLY)
        if sent:
            await self.ws.send(frame(DATA, self.channel, self.request[:sent]))
        credit = None   # the device's window, once OPEN_OK says it
        granted = self.window
        fin_sent = fin_received = False
        head = bytearray()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_s
        while True:
            if credit is not None:
                while sent < len(self.request) and credit - sent > 0:
                    n = min(MAX_DATA, len(self.request) - sent, credit - sent)
                    await self.ws.send(frame(DATA, self.channel, self.request[sent:sent + n]))
                    sent += n
                if sent >= len(self.request) and self.fin and not fin_sent:
                    await self.ws.send(frame(FIN, self.channel))
                    fin_sent = True
                if fin_sent and fin_received:
                    result["reason"] = "fin"
                    break
            try:
                message = await asyncio.wait_for(self.frames.get(), max(0.01, deadline - loop.time()))
            except asyncio.TimeoutError:
                result["reason"] = "timeout"
                break
            if message is None:
                result["reason"] = "link_lost"
                break
            kind = message[0]
            if kind == OPEN_OK:
                credit = struct.unpack(">I", message[3:7])[0]
                result["device_window"] = credit
            elif kind == WINDOW:
                credit += struct.unpack(">I", message[3:7])[0]
            elif kind == RST:
                result["reason"] = RESETS.get(message[3], "unknown")
                break
            elif kind == FIN:
                fin_received = True
            elif kind == DATA:
                payload = message[3:]
                if fin_received:
                    result["violations"].append("DATA after FIN")
                self.received += len(payload)
                if self.received > granted:
                    result["violations"].append("DATA beyond the window: %d > %d" % (self.received, granted))
                if len(head) < 200:
                    head += payload[:200 - len(head)]
                if in_body:
                    body_hash.update(payload)
                else:
                    header += payload
                    end = header.find(b"\r\n\r\n")
                    if end >= 0:
                        in_body = True
                        body_hash.update(bytes(header[end + 4:]))
                        result["status_line"] = bytes(header[:header.find(b"\r\n")]).decode("latin-1")
                if self.read_delay_s:
                    await asyncio.sleep(self.read_delay_s)
                # Everything received is passed on: renew once half the window is free.
                if self.received + self.window - granted >= self.window // 2:
                    increment = self.received + self.window - granted
                    await self.ws.send(frame(WINDOW, self.channel, struct.pack(">I", increment)))
                    granted += increment
        result["received"] = self.received
        result["sha256"] = body_hash.hexdigest()
        result["head"] = bytes(head).decode("latin-1")
        return result
