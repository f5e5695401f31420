"""An independent sublink/1 server, written from PROTOCOL.md alone, for
integration tests of the real daemon. Debian python (/usr/bin/python3) with
python3-websockets 10.4 and python3-cryptography.

What it does (PROTOCOL.md sections 2-5, server side):
  * listens on every --port (loopback) with TLS 1.2 only, ECDHE+AEAD suites,
    and a client certificate required and verified against --ca;
  * upgrade: only GET /sublink/v1 offering the subprotocol sublink.v1
    (else 404/400); a `refuse` control answers upgrades with a status;
  * hello: proto must be 1, system_id must equal the certificate CN and
    customer_id must be --customer (when given), else `error` and close
    1008; an `instance` other than 16 lower-case hex digits closes 1002;
    otherwise `welcome` {time, heartbeat_s, audit_s, session};
  * identity (section 4): one system has at most one link. A completed
    hello replaces the system's older link: `disconnect` {reason: replaced,
    retry_after_s: --replaced-retry-s} and close 1000 on it (journaled
    `replaced` with both instances). More than 3 replacements between two
    different instances within an hour journal `alarm` {alarm:
    duplicate_identity}; a reconnect of the same instance never counts;
  * heartbeat -> heartbeat_ack {time}; license_request -> license_grant
    (features min(requested, entitled), ES256-signed) or license_denied;
    license_audit -> audit_ack {status ok|overuse, over}; event {stream,
    events} -> event_ack {stream, upto}, each event stored once per
    (system, stream, seq) and upto the highest seq stored for that stream
    (duplicates are journaled as such; a `stream` that is not 16 lower-case
    hex digits is a bad message; a batch without `stream`, from a device
    before streams, is kept under "legacy" and acknowledged without one);
    response -> journaled; unknown types journaled and ignored.
    Every answer to a message that carried `id` carries `re`.

Control: the test appends JSON lines to --control FILE; each line is one
object with "cmd" (applies to every open connection unless said otherwise):
  {"cmd":"revoke","serial":S?,"reason":R?,"keep_entitlement":false}
      license_revoke of S (default: the last serial granted; "*" revokes
      whatever license the device holds, PROTOCOL.md section 4); unless
      keep_entitlement, entitlements are cleared so the next request is denied
  {"cmd":"entitle","features":{"name":qty,...}}   replace entitlements
  {"cmd":"grant","features":{...}?,"expires_in_s":N?,"not_before_in_s":N?,
   "replay":N?,"system_id":S?,"bad_signature":false}  unsolicited
      license_grant (no `re`); features also become the entitlement; replay
      re-sends the exact grant number N of those issued so far (0 the first,
      -1 the latest); system_id signs a license for another system;
      bad_signature flips one bit of the signature (a forged license)
  {"cmd":"disconnect","retry_after_s":N,"reason":R?}
  {"cmd":"request","method":M,"params":{...}?,"id":N?}  the answer is the
      journaled `recv` whose msg.re is that id (id is journaled as sent)
  {"cmd":"send","msg":{...}}       any message as is
  {"cmd":"error","code":C,"message":M?,"retry_after_s":N?}  error, close 1008
  {"cmd":"blackhole"}   the open connections go silent: nothing is read or
      sent (no pong, no close answer); they are aborted when the same
      system connects again, or by drop
  {"cmd":"drop"}        abort the TCP connections (no close frame)
  {"cmd":"close","code":N?,"reason":R?}  close handshake (default 1000)
  {"cmd":"stop_listening","drop":false}  close the listening sockets
  {"cmd":"listen"}      listen again on the same ports
  {"cmd":"refuse","status":N|null,"retry_after":N?}  refuse upgrades
  {"cmd":"settings","heartbeat_s":N?,"audit_s":N?,"clock_offset_s":N?}
  {"cmd":"exit"}        stop listening, close connections with 1001, exit 0
  {"cmd":"tunnel","channel":N,"service":S,"operator":O?,"window":W?,
   "request":TEXT?,"request_size":N?,"fin":true,"http":false,"read_delay_s":0,
   "timeout_s":60}  opens a tunnel channel (section 6, sublink1_tunnel.py) on
      the newest link: the request (TEXT, or N random bytes) goes out within
      the device's credit, then FIN; the channel's end is journaled as
      tunnel_result {channel, reason, received, sha256 (of the body after
      the header block when http), head, device_window, violations,
      request_sha256 with request_size}
  {"cmd":"send_binary","hex":H}   one binary message as is

Journal (--journal FILE, JSON lines, flushed per line): {"t": wall ms,
"kind": K, "conn": N?, ...}. Kinds: listening, stopped_listening, upgrade,
refused, connect (port, cn, serial, tls, cipher, resumed, subprotocol,
user_agent), recv (msg), send (msg), bad_message, ignored, event_stored,
event_duplicate, suppressed (a send skipped while blackholed), aborted,
closed (code, reason), control, control_result (ok, detail), tunnel_result, replaced
(system_id, instance, replaced_instance, counted), alarm (system_id, alarm:
duplicate_identity, instances, replacements).

usage: sublink1_server.py --port P [--port P2 ...] --cert C --key K --ca CA
         --license-key L --journal J --control F [--host 127.0.0.1]
         [--heartbeat-s 60] [--audit-s 86400] [--entitle NAME=QTY ...]
         [--customer ID] [--license-days 365] [--backdate-s 60] [--kid KID]
         [--b64-padding] [--replaced-retry-s 60]
"""
import argparse
import asyncio
import base64
import hashlib
import http
import json
import os
import re
import secrets
import signal
import ssl
import sys
import time

import websockets
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sublink1_license import LicenseSigner, license_bytes  # noqa: E402
from sublink1_tunnel import TunnelChannel  # noqa: E402

PATH = "/sublink/v1"
SUBPROTOCOL = "sublink.v1"
INSTANCE = re.compile(r"[0-9a-f]{16}")
REPLACEMENT_WINDOW_S = 3600
MAX_REPLACEMENTS = 3


def flip_one_bit(b64url_text):
    """The base64url text with one bit of the bytes it encodes flipped."""
    padded = b64url_text + "=" * (-len(b64url_text) % 4)
    data = bytearray(base64.urlsafe_b64decode(padded))
    data[len(data) // 2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(data)).decode("ascii").rstrip("=")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description="independent sublink/1 server for tests")
    p.add_argument("--port", type=int, action="append", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--license-key", required=True)
    p.add_argument("--journal", required=True)
    p.add_argument("--control", required=True)
    p.add_argument("--heartbeat-s", type=int, default=60)
    p.add_argument("--audit-s", type=int, default=86400)
    p.add_argument("--entitle", action="append", default=[], metavar="NAME=QTY")
    p.add_argument("--customer")
    p.add_argument("--license-days", type=int, default=365)
    p.add_argument("--backdate-s", type=int, default=60,
                   help="not_before this far before issued (0: valid from the instant of issue)")
    p.add_argument("--kid")
    p.add_argument("--b64-padding", action="store_true")
    p.add_argument("--replaced-retry-s", type=int, default=60,
                   help="retry_after_s of disconnect {reason: replaced}")
    args = p.parse_args(argv)
    entitled = {}
    for item in args.entitle:
        name, sep, qty = item.partition("=")
        if not sep or not name or not qty.isdigit():
            p.error("--entitle wants NAME=QTY, got " + item)
        entitled[name] = int(qty)
    args.entitled = entitled
    return args


class Journal:
    """Append-only JSON-lines record of everything the server saw and did."""

    def __init__(self, path):
        self._f = open(path, "a", encoding="utf-8")

    def write(self, kind, conn=None, **fields):
        rec = {"t": int(time.time() * 1000), "kind": kind}
        if conn is not None:
            rec["conn"] = conn
        rec.update(fields)
        self._f.write(json.dumps(rec, separators=(",", ":")) + "\n")
        self._f.flush()


class Connection:
    """One accepted link: the socket, who is on it and what it was told."""

    def __init__(self, number, ws, port):
        self.number = number
        self.ws = ws
        self.port = port
        self.cn = None
        self.system_id = None
        self.instance = None
        self.replaced = False
        self.probe = False  # a hello with a role other than primary
        self.customer_id = None
        self.welcomed = False
        self.blackholed = False
        self.next_id = 1
        self.tunnels = {}  # channel id -> TunnelChannel

    def take_id(self):
        n = self.next_id
        self.next_id += 1
        return n


def peer_identity(ws):
    """(cn, serial hex, tls version, cipher, resumed) of the TLS peer."""
    sslobj = ws.transport.get_extra_info("ssl_object")
    if sslobj is None:
        return None, None, None, None, False
    cert = sslobj.getpeercert() or {}
    cn = next((v for rdn in cert.get("subject", ()) for (k, v) in rdn if k == "commonName"), None)
    cipher = sslobj.cipher()
    return cn, cert.get("serialNumber"), sslobj.version(), cipher[0] if cipher else None, sslobj.session_reused


def features_map(value):
    """{"name": qty} from either that form or [{"name", "qty"}]."""
    if isinstance(value, dict):
        return {str(k): int(v) for k, v in value.items()}
    return {str(f["name"]): int(f["qty"]) for f in value}


class Server:
    def __init__(self, args):
        self.args = args
        self.journal = Journal(args.journal)
        self.signer = LicenseSigner(args.license_key, args.kid, args.b64_padding)
        self.ssl_context = self._tls_context()
        self.heartbeat_s = args.heartbeat_s
        self.audit_s = args.audit_s
        self.clock_offset_ms = 0
        self.entitled = dict(args.entitled)
        self.refuse_status = None
        self.refuse_retry_after = None
        self.listeners = []
        self.connections = {}
        self.conn_counter = 0
        self.last_issued = 0
        self.grants = []  # (serial, grant fields) of every license issued, oldest first
        self.stored_events = {}  # (system_id, stream) -> {seq: event}
        self.replacements = {}  # system_id -> [time of each counted replacement], oldest first
        self.alarms = set()  # systems with a duplicate_identity alarm
        self.done = asyncio.Event()

    def _tls_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # PROTOCOL.md section 2: TLS 1.2 exactly, ECDHE with AEAD only.
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
        ctx.options |= ssl.OP_NO_RENEGOTIATION
        ctx.load_cert_chain(self.args.cert, self.args.key)
        ctx.load_verify_locations(self.args.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def now_ms(self):
        return int(time.time() * 1000) + self.clock_offset_ms

    # --- listening -------------------------------------------------------

    async def listen(self):
        if self.listeners:
            return
        for port in self.args.port:
            srv = await websockets.serve(
                lambda ws, path=None, port=port: self.handle(ws, port),
                self.args.host, port, ssl=self.ssl_context, subprotocols=[SUBPROTOCOL],
                process_request=self.process_request, ping_interval=None,
                max_size=1 << 20, close_timeout=2)
            self.listeners.append(srv)
        self.journal.write("listening", ports=self.args.port)
        print("listening", " ".join(str(p) for p in self.args.port), flush=True)

    def stop_listening(self):
        # Only the listening sockets: open links stay up unless dropped too.
        for srv in self.listeners:
            srv.server.close()
        self.listeners = []
        self.journal.write("stopped_listening")

    async def process_request(self, path, headers):
        protocols = [p.strip() for p in headers.get("Sec-WebSocket-Protocol", "").split(",")]
        self.journal.write("upgrade", path=path, user_agent=headers.get("User-Agent"),
                           host=headers.get("Host"), protocols=protocols)
        if self.refuse_status is not None:
            extra = []
            if self.refuse_retry_after is not None:
                extra.append(("Retry-After", str(self.refuse_retry_after)))
            self.journal.write("refused", status=self.refuse_status)
            return http.HTTPStatus(self.refuse_status), extra, b"refused by test control\n"
        if path != PATH:
            self.journal.write("refused", status=404)
            return http.HTTPStatus.NOT_FOUND, [], b"not a sublink path\n"
        if SUBPROTOCOL not in protocols:
            self.journal.write("refused", status=400)
            return http.HTTPStatus.BAD_REQUEST, [], b"subprotocol sublink.v1 required\n"
        return None

    # --- one link --------------------------------------------------------

    async def handle(self, ws, port):
        self.conn_counter += 1
        conn = Connection(self.conn_counter, ws, port)
        cn, serial, version, cipher, resumed = peer_identity(ws)
        conn.cn = cn
        self.journal.write("connect", conn.number, port=port, cn=cn, serial=serial, tls=version,
                           cipher=cipher, resumed=resumed, subprotocol=ws.subprotocol,
                           user_agent=ws.request_headers.get("User-Agent"))
        self._abort_blackholed(cn)
        self.connections[conn.number] = conn
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    channel = conn.tunnels.get(int.from_bytes(message[1:3], "big")) if len(message) >= 3 else None
                    if channel is not None:
                        channel.deliver(message)
                    else:
                        self.journal.write("ignored", conn.number, binary=message[:64].hex(), length=len(message))
                    continue
                try:
                    msg = json.loads(message)
                except ValueError:
                    self.journal.write("bad_message", conn.number, text=message[:200], why="json")
                    await ws.close(1007, "invalid JSON")
                    break
                if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
                    self.journal.write("bad_message", conn.number, text=message[:200], why="no type")
                    await ws.close(1002, "message without type")
                    break
                self.journal.write("recv", conn.number, msg=msg)
                await self.dispatch(conn, msg)
        except ConnectionClosed:
            pass
        finally:
            for channel in conn.tunnels.values():
                channel.link_lost()
            self.connections.pop(conn.number, None)
            self.journal.write("closed", conn.number, code=ws.close_code, reason=ws.close_reason)

    def _abort_blackholed(self, cn):
        for other in list(self.connections.values()):
            if other.blackholed and other.cn == cn:
                self.journal.write("aborted", other.number, why="same system connected again")
                other.ws.transport.abort()

    async def send(self, conn, msg):
        if conn.blackholed:
            self.journal.write("suppressed", conn.number, msg=msg)
            return
        try:
            await conn.ws.send(json.dumps(msg, separators=(",", ":")))
            self.journal.write("send", conn.number, msg=msg)
        except ConnectionClosed:
            self.journal.write("send_failed", conn.number, msg=msg)

    async def answer(self, conn, request, msg):
        if "id" in request:
            msg["re"] = request["id"]
        await self.send(conn, msg)

    async def fail(self, conn, request, code, message, retry_after_s=None):
        msg = {"type": "error", "code": code, "message": message}
        if retry_after_s is not None:
            msg["retry_after_s"] = retry_after_s
        await self.answer(conn, request, msg)
        await conn.ws.close(1008, code)

    async def dispatch(self, conn, msg):
        kind = msg["type"]
        if conn.replaced:
            self.journal.write("ignored", conn.number, type=kind, why="replaced")
            return
        if kind == "hello":
            await self.on_hello(conn, msg)
        elif not conn.welcomed:
            # hello comes first; a pipelined message right behind an accepted
            # hello is fine because messages are handled in order.
            await self.fail(conn, msg, "hello_required", "first message must be hello")
        elif kind == "heartbeat":
            await self.answer(conn, msg, {"type": "heartbeat_ack", "time": self.now_ms()})
        elif kind == "license_request":
            await self.on_license_request(conn, msg)
        elif kind == "license_audit":
            await self.on_audit(conn, msg)
        elif kind == "event":
            await self.on_events(conn, msg)
        elif kind == "response":
            pass  # journaled already; the test matches it by `re`
        else:
            self.journal.write("ignored", conn.number, type=kind)

    async def on_hello(self, conn, msg):
        if conn.welcomed:
            return await self.fail(conn, msg, "protocol", "second hello on one link")
        if msg.get("proto") != 1:
            return await self.fail(conn, msg, "unsupported_proto", "this server speaks sublink/1")
        if not isinstance(msg.get("system_id"), str) or msg.get("system_id") != conn.cn:
            return await self.fail(conn, msg, "system_mismatch",
                                   "system_id %r is not the certificate CN %r" % (msg.get("system_id"), conn.cn))
        if self.args.customer is not None and msg.get("customer_id") != self.args.customer:
            return await self.fail(conn, msg, "unknown_customer", "customer %r unknown" % (msg.get("customer_id"),))
        instance = msg.get("instance")
        if instance is not None and (not isinstance(instance, str) or not INSTANCE.fullmatch(instance)):
            self.journal.write("bad_message", conn.number, text=json.dumps(msg)[:200], why="instance")
            return await conn.ws.close(1002, "instance")
        conn.system_id = msg["system_id"]
        conn.customer_id = msg.get("customer_id")
        conn.instance = instance
        conn.probe = msg.get("role") not in (None, "primary")
        conn.welcomed = True
        await self.answer(conn, msg, {"type": "welcome", "time": self.now_ms(), "heartbeat_s": self.heartbeat_s,
                                      "audit_s": self.audit_s, "session": secrets.token_hex(16)})
        if msg.get("role") in (None, "primary"):
            await self.replace_older(conn)  # a probe (the doctor's role) leaves the link alone

    async def replace_older(self, conn):
        """Section 4, identity: the newer link of a system replaces the older."""
        for older in list(self.connections.values()):
            if older is conn or not older.welcomed or older.system_id != conn.system_id or older.probe:
                continue
            older.welcomed = False
            older.replaced = True  # serves nothing more
            counted = conn.instance is not None and older.instance is not None and conn.instance != older.instance
            self.journal.write("replaced", older.number, system_id=conn.system_id, by=conn.number,
                               instance=conn.instance, replaced_instance=older.instance, counted=counted)
            if counted:
                now = time.time()
                times = [t for t in self.replacements.get(conn.system_id, []) if now - t < REPLACEMENT_WINDOW_S]
                times.append(now)
                self.replacements[conn.system_id] = times
                if len(times) > MAX_REPLACEMENTS and conn.system_id not in self.alarms:
                    self.alarms.add(conn.system_id)
                    self.journal.write("alarm", system_id=conn.system_id, alarm="duplicate_identity",
                                       instances=sorted([conn.instance, older.instance]), replacements=len(times))
            if not older.blackholed:
                await self.send(older, {"type": "disconnect", "reason": "replaced",
                                        "retry_after_s": self.args.replaced_retry_s})
                asyncio.ensure_future(older.ws.close(1000, "replaced"))
            else:
                older.ws.transport.abort()

    def make_grant(self, conn, features, expires_in_s=None, not_before_in_s=None, system_id=None):
        """Signs a new license for conn's system (or `system_id`); `features` is [(name, qty)]."""
        now = self.now_ms()
        # `issued` must grow from grant to grant: the agent refuses a grant
        # not newer than the one it holds.
        issued = max(now, self.last_issued + 1)
        self.last_issued = issued
        # The device judges not_before by its estimate of this clock, which
        # lags by the transport delay: a license valid from the instant of
        # issue may look early to it, so by default it is valid a little
        # before (as certificate authorities backdate notBefore).
        if not_before_in_s is None:
            not_before = issued - 1000 * self.args.backdate_s
        else:
            not_before = issued + 1000 * not_before_in_s
        expires = issued + 1000 * (expires_in_s if expires_in_s is not None else self.args.license_days * 86400)
        serial = "L%d" % issued
        data = license_bytes(serial, conn.customer_id, system_id or conn.system_id, issued, not_before, expires,
                             features)
        fields = self.signer.grant_fields(data)
        self.grants.append((serial, fields))
        self.journal.write("license", conn.number, serial=serial, license=json.loads(data))
        return fields

    async def on_license_request(self, conn, msg):
        requested = msg.get("features")
        if not isinstance(requested, list):
            return await self.answer(conn, msg, {"type": "license_denied", "code": "bad_request",
                                                 "message": "features must be a list"})
        granted = []
        for f in requested:
            if not isinstance(f, dict) or not isinstance(f.get("name"), str) or not isinstance(f.get("qty"), int):
                continue
            qty = min(f["qty"], self.entitled.get(f["name"], 0))
            if qty > 0:
                granted.append((f["name"], qty))
        if not granted:
            return await self.answer(conn, msg, {"type": "license_denied", "code": "not_entitled",
                                                 "message": "no requested feature is entitled"})
        grant = {"type": "license_grant"}
        grant.update(self.make_grant(conn, granted))
        await self.answer(conn, msg, grant)

    async def on_audit(self, conn, msg):
        over = []
        for u in msg.get("usage") or []:
            if not isinstance(u, dict):
                continue
            peak = u.get("peak", u.get("in_use", 0))
            allowed = self.entitled.get(u.get("name"), 0)
            if isinstance(peak, int) and peak > allowed:
                over.append({"name": u.get("name"), "peak": peak, "entitled": allowed})
        await self.answer(conn, msg, {"type": "audit_ack", "status": "overuse" if over else "ok", "over": over})

    async def on_events(self, conn, msg):
        stream = msg.get("stream")
        if stream is not None and not (isinstance(stream, str) and len(stream) == 16
                                       and all(c in "0123456789abcdef" for c in stream)):
            self.journal.write("bad_message", conn.number, why="event stream is not 16 lower-case hex digits",
                               stream=stream)
            return
        key = stream if stream is not None else "legacy"
        stored = self.stored_events.setdefault((conn.system_id, key), {})
        for e in msg.get("events") or []:
            seq = e.get("seq") if isinstance(e, dict) else None
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
                self.journal.write("bad_message", conn.number, why="event without a positive integer seq", event=e)
                continue
            if seq in stored:
                self.journal.write("event_duplicate", conn.number, stream=key, seq=seq, event=e)
            else:
                stored[seq] = e
                self.journal.write("event_stored", conn.number, stream=key, seq=seq, event=e)
        if stored:
            ack = {"type": "event_ack", "upto": max(stored)}
            if stream is not None:
                ack["stream"] = stream
            await self.answer(conn, msg, ack)

    # --- control ---------------------------------------------------------

    def open_links(self):
        return [c for c in self.connections.values() if c.welcomed]

    async def control(self, cmd):
        self.journal.write("control", cmd=cmd)
        name = cmd.get("cmd")
        handler = getattr(self, "ctl_" + str(name), None)
        if handler is None:
            return self.journal.write("control_result", ok=False, detail="unknown command %r" % (name,))
        try:
            detail = await handler(cmd)
            self.journal.write("control_result", ok=True, cmd=name, detail=detail)
        except Exception as e:  # a bad control line must not take the server down
            self.journal.write("control_result", ok=False, cmd=name, detail="%s: %s" % (type(e).__name__, e))

    async def ctl_revoke(self, cmd):
        serial = cmd.get("serial") or (self.grants[-1][0] if self.grants else None)
        if not cmd.get("keep_entitlement"):
            self.entitled = {}
        links = self.open_links()
        for c in links:
            await self.send(c, {"type": "license_revoke", "id": c.take_id(), "serial": serial,
                                "reason": cmd.get("reason", "revoked by test")})
        return {"serial": serial, "links": len(links)}

    async def ctl_entitle(self, cmd):
        self.entitled = features_map(cmd.get("features", {}))
        return self.entitled

    async def ctl_grant(self, cmd):
        links = self.open_links()
        for c in links:
            if cmd.get("replay") is not None:
                fields = self.grants[cmd["replay"]][1]
            else:
                if "features" in cmd:
                    self.entitled = features_map(cmd["features"])
                fields = self.make_grant(c, sorted(self.entitled.items()), cmd.get("expires_in_s"),
                                         cmd.get("not_before_in_s"), cmd.get("system_id"))
            msg = {"type": "license_grant"}
            msg.update(fields)
            if cmd.get("bad_signature"):
                msg["sig"] = flip_one_bit(msg["sig"])
            await self.send(c, msg)
        return {"links": len(links)}

    async def ctl_disconnect(self, cmd):
        links = self.open_links()
        for c in links:
            await self.send(c, {"type": "disconnect", "reason": cmd.get("reason", "test"),
                                "retry_after_s": cmd.get("retry_after_s", 0)})
        return {"links": len(links)}

    async def ctl_request(self, cmd):
        links = self.open_links()
        ids = []
        for c in links:
            rid = cmd.get("id") or c.take_id()
            ids.append(rid)
            await self.send(c, {"type": "request", "id": rid, "method": cmd["method"],
                                "params": cmd.get("params", {})})
        return {"ids": ids}

    async def ctl_send(self, cmd):
        links = self.open_links()
        for c in links:
            await self.send(c, cmd["msg"])
        return {"links": len(links)}

    async def ctl_tunnel(self, cmd):
        """Opens channel `channel` to `service` on the newest link and runs it
        in the background; its end is journaled as `tunnel_result`."""
        conn = self.open_links()[-1]
        request = cmd.get("request", "").encode("latin-1")
        if cmd.get("request_size"):
            request = os.urandom(int(cmd["request_size"]))
        channel = TunnelChannel(conn.ws, int(cmd["channel"]), cmd["service"], cmd.get("operator", ""),
                                int(cmd.get("window", 65536)), request, cmd.get("fin", True), cmd.get("http", False),
                                float(cmd.get("read_delay_s", 0)), float(cmd.get("timeout_s", 60)))
        conn.tunnels[channel.channel] = channel

        async def run():
            try:
                result = await channel.run()
            except ConnectionClosed:
                result = {"channel": channel.channel, "reason": "link_lost", "received": channel.received}
            if conn.tunnels.get(channel.channel) is channel:
                del conn.tunnels[channel.channel]
            if cmd.get("request_size"):
                result["request_sha256"] = hashlib.sha256(request).hexdigest()
            self.journal.write("tunnel_result", conn.number, **result)

        asyncio.ensure_future(run())
        return {"conn": conn.number}

    async def ctl_send_binary(self, cmd):
        links = self.open_links()
        for c in links:
            await c.ws.send(bytes.fromhex(cmd["hex"]))
        return {"links": len(links)}

    async def ctl_error(self, cmd):
        links = self.open_links()
        for c in links:
            await self.fail(c, {}, cmd.get("code", "busy"), cmd.get("message", "test"), cmd.get("retry_after_s"))
        return {"links": len(links)}

    async def ctl_blackhole(self, cmd):
        links = list(self.connections.values())
        for c in links:
            c.blackholed = True
            c.ws.transport.pause_reading()
        return {"links": len(links)}

    async def ctl_drop(self, cmd):
        links = list(self.connections.values())
        for c in links:
            self.journal.write("aborted", c.number, why="drop")
            c.ws.transport.abort()
        return {"links": len(links)}

    async def ctl_close(self, cmd):
        links = self.open_links()
        for c in links:
            await c.ws.close(cmd.get("code", 1000), cmd.get("reason", ""))
        return {"links": len(links)}

    async def ctl_stop_listening(self, cmd):
        self.stop_listening()
        if cmd.get("drop"):
            return await self.ctl_drop(cmd)
        return None

    async def ctl_listen(self, cmd):
        await self.listen()

    async def ctl_refuse(self, cmd):
        self.refuse_status = cmd.get("status")
        self.refuse_retry_after = cmd.get("retry_after")

    async def ctl_settings(self, cmd):
        self.heartbeat_s = cmd.get("heartbeat_s", self.heartbeat_s)
        self.audit_s = cmd.get("audit_s", self.audit_s)
        if "clock_offset_s" in cmd:
            self.clock_offset_ms = 1000 * cmd["clock_offset_s"]

    async def ctl_exit(self, cmd):
        self.done.set()

    async def follow_control(self):
        """Tails the control file; only whole lines are commands."""
        path = self.args.control
        open(path, "a").close()
        pending = b""
        with open(path, "rb") as f:
            while not self.done.is_set():
                chunk = f.read()
                if not chunk:
                    await asyncio.sleep(0.02)
                    continue
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    if not line.strip():
                        continue
                    try:
                        cmd = json.loads(line)
                    except ValueError:
                        self.journal.write("control_result", ok=False, detail="not JSON: %r" % line[:200])
                        continue
                    await self.control(cmd)

    async def shutdown(self):
        # Close every link with 1001 (going away), as a server that stops does.
        self.stop_listening()
        for c in list(self.connections.values()):
            if c.blackholed:
                c.ws.transport.abort()
            else:
                await c.ws.close(1001, "server stopping")


async def main(args):
    server = Server(args)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, server.done.set)
    await server.listen()
    control = asyncio.create_task(server.follow_control())
    await server.done.wait()
    await server.shutdown()
    control.cancel()
    server.journal.write("exit")


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
