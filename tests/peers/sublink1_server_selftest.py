"""Checks tests/peers/sublink1_server.py against PROTOCOL.md with a plain
python3-websockets client holding the device certificate, so a failure of
the daemon's integration test can be told apart from a fault of the server.

usage: /usr/bin/python3 sublink1_server_selftest.py [PKI_DIR]
(PKI_DIR as made by tests/pki/make_pki.sh with the default SYS-0001; without
it a fresh one is made in a temporary directory.)
"""
import asyncio
import base64
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

import websockets
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

HERE = os.path.dirname(os.path.abspath(__file__))
PKI = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def client_context(cert="device.crt", key="device.key", tls13=False):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(PKI, "ca.crt"))
    if cert:
        ctx.load_cert_chain(os.path.join(PKI, cert), os.path.join(PKI, key))
    if tls13:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


class ServerProcess:
    """The server under test in its own process, with its journal and control file."""

    def __init__(self, tmp, ports, extra=()):
        self.journal = os.path.join(tmp, "journal.jsonl")
        self.control_path = os.path.join(tmp, "control.jsonl")
        self.ports = ports
        argv = [sys.executable, os.path.join(HERE, "sublink1_server.py"),
                "--cert", os.path.join(PKI, "server.crt"), "--key", os.path.join(PKI, "server.key"),
                "--ca", os.path.join(PKI, "ca.crt"), "--license-key", os.path.join(PKI, "license.key"),
                "--journal", self.journal, "--control", self.control_path,
                "--heartbeat-s", "7", "--audit-s", "11", "--entitle", "seats=10", "--entitle", "trunks=2",
                "--customer", "CUST-1"]
        for p in ports:
            argv += ["--port", str(p)]
        self.proc = subprocess.Popen(argv + list(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening"):
            raise RuntimeError("server did not start: " + line + self.proc.stdout.read().decode())

    def control(self, **cmd):
        with open(self.control_path, "a") as f:
            f.write(json.dumps(cmd) + "\n")

    def records(self):
        with open(self.journal) as f:
            return [json.loads(line) for line in f if line.strip()]

    async def wait_record(self, pred, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for r in self.records():
                if pred(r):
                    return r
            await asyncio.sleep(0.02)
        raise AssertionError("no journal record matched; journal:\n" + open(self.journal).read())

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


HELLO = {"type": "hello", "id": 1, "proto": 1, "customer_id": "CUST-1", "system_id": "SYS-0001",
         "agent": "selftest", "fw": "0", "role": "primary", "boot": 3, "time": None, "state": "unlicensed",
         "grace_elapsed_s": 0, "license_serial": None}


class ServerTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.ports = [free_port(), free_port()]
        self.server = ServerProcess(self.tmp.name, self.ports)

    def tearDown(self):
        self.server.stop()
        self.server.proc.stdout.close()
        self.tmp.cleanup()

    def connect(self, port=None, **kw):
        return websockets.connect("wss://localhost:%d/sublink/v1" % (port or self.ports[0]),
                                  ssl=kw.pop("ssl", None) or client_context(), subprotocols=["sublink.v1"],
                                  ping_interval=None, **kw)

    async def call(self, ws, msg, timeout=3):
        await ws.send(json.dumps(msg))
        return json.loads(await asyncio.wait_for(ws.recv(), timeout))

    async def welcomed(self, port=None):
        ws = await self.connect(port)
        welcome = await self.call(ws, HELLO)
        self.assertEqual(welcome["type"], "welcome", welcome)
        return ws

    def run_async(self, coro):
        asyncio.run(coro)

    def test_welcome_carries_server_settings(self):
        async def go():
            async with self.connect(self.ports[1]) as ws:
                self.assertEqual(ws.subprotocol, "sublink.v1")
                before = int(time.time() * 1000)
                w = await self.call(ws, HELLO)
                self.assertEqual((w["type"], w["re"], w["heartbeat_s"], w["audit_s"]), ("welcome", 1, 7, 11))
                self.assertGreaterEqual(w["time"], before - 1000)
                self.assertTrue(w["session"])
            c = await self.server.wait_record(lambda r: r["kind"] == "connect")
            self.assertEqual((c["cn"], c["tls"], c["port"]), ("SYS-0001", "TLSv1.2", self.ports[1]))
            self.assertTrue(c["serial"])
        self.run_async(go())

    def test_hello_refusals_close_with_1008(self):
        async def go():
            for change, code in (({"system_id": "SYS-9999"}, "system_mismatch"),
                                 ({"proto": 2}, "unsupported_proto"),
                                 ({"customer_id": "CUST-X"}, "unknown_customer")):
                async with self.connect() as ws:
                    err = await self.call(ws, dict(HELLO, **change))
                    self.assertEqual((err["type"], err["code"]), ("error", code))
                    await ws.wait_closed()
                    self.assertEqual(ws.close_code, 1008)
        self.run_async(go())

    def test_grant_is_signed_and_capped_at_entitlement(self):
        async def go():
            ws = await self.welcomed()
            g = await self.call(ws, {"type": "license_request", "id": 2,
                                     "features": [{"name": "seats", "qty": 50}, {"name": "trunks", "qty": 1},
                                                  {"name": "video", "qty": 4}]})
            self.assertEqual((g["type"], g["re"], g["alg"]), ("license_grant", 2, "ES256"))
            data = b64url_decode(g["license"])
            sig = b64url_decode(g["sig"])
            self.assertEqual(len(sig), 64)
            with open(os.path.join(PKI, "license.pub"), "rb") as f:
                pub = serialization.load_pem_public_key(f.read())
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            pub.verify(der, data, ec.ECDSA(hashes.SHA256()))
            with self.assertRaises(InvalidSignature):
                pub.verify(der, data + b" ", ec.ECDSA(hashes.SHA256()))
            lic = json.loads(data)
            self.assertEqual(lic["features"], [{"name": "seats", "qty": 10}, {"name": "trunks", "qty": 1}])
            self.assertEqual((lic["customer_id"], lic["system_id"]), ("CUST-1", "SYS-0001"))
            self.assertLessEqual(lic["not_before"], lic["issued"])
            self.assertGreater(lic["expires"], lic["issued"])
            d = await self.call(ws, {"type": "license_request", "id": 3, "features": [{"name": "video", "qty": 1}]})
            self.assertEqual((d["type"], d["re"], d["code"]), ("license_denied", 3, "not_entitled"))
            # A later grant is issued later (the agent refuses replays).
            g2 = await self.call(ws, {"type": "license_request", "id": 4, "features": [{"name": "seats", "qty": 1}]})
            self.assertGreater(json.loads(b64url_decode(g2["license"]))["issued"], lic["issued"])
            await ws.close()
        self.run_async(go())

    def test_heartbeat_audit_events_and_unknown_types(self):
        async def go():
            ws = await self.welcomed()
            await ws.send(json.dumps({"type": "future_thing", "id": 9}))
            h = await self.call(ws, {"type": "heartbeat", "id": 2, "seq": 1, "uptime_s": 5})
            self.assertEqual((h["type"], h["re"]), ("heartbeat_ack", 2))  # future_thing got no answer
            a = await self.call(ws, {"type": "license_audit", "id": 3, "serial": "x", "from": 0, "to": 1,
                                     "usage": [{"name": "seats", "in_use": 3, "peak": 10}]})
            self.assertEqual((a["type"], a["status"], a["over"]), ("audit_ack", "ok", []))
            a = await self.call(ws, {"type": "license_audit", "id": 4, "serial": "x", "from": 0, "to": 1,
                                     "usage": [{"name": "seats", "in_use": 3, "peak": 12}]})
            self.assertEqual((a["status"], a["over"][0]["name"]), ("overuse", "seats"))
            e = await self.call(ws, {"type": "event", "id": 5, "events": [
                {"seq": 1, "time": 1, "kind": "grace_started"}, {"seq": 2, "time": 2, "kind": "grace_cleared"}]})
            self.assertEqual((e["type"], e["upto"]), ("event_ack", 2))
            e = await self.call(ws, {"type": "event", "id": 6, "events": [
                {"seq": 2, "time": 2, "kind": "grace_cleared"}, {"seq": 3, "time": 3, "kind": "license_applied"}]})
            self.assertEqual(e["upto"], 3)
            await ws.close()
            await self.server.wait_record(lambda r: r["kind"] == "closed")
            stored = [r["seq"] for r in self.server.records() if r["kind"] == "event_stored"]
            dups = [r["seq"] for r in self.server.records() if r["kind"] == "event_duplicate"]
            self.assertEqual((stored, dups), ([1, 2, 3], [2]))
            self.assertTrue(any(r["kind"] == "ignored" and r.get("type") == "future_thing"
                                for r in self.server.records()))
        self.run_async(go())

    def test_events_are_kept_per_stream(self):
        async def go():
            ws = await self.welcomed()
            e = await self.call(ws, {"type": "event", "id": 5, "stream": "00000000000000a1", "events": [
                {"seq": 1, "time": 1, "kind": "grace_started"}, {"seq": 2, "time": 2, "kind": "grace_cleared"}]})
            self.assertEqual((e["type"], e["stream"], e["upto"]), ("event_ack", "00000000000000a1", 2))
            # A wiped device: a new stream from seq 1 is new, not a duplicate.
            e = await self.call(ws, {"type": "event", "id": 6, "stream": "00000000000000b2", "events": [
                {"seq": 1, "time": 3, "kind": "record_damaged"}]})
            self.assertEqual((e["stream"], e["upto"]), ("00000000000000b2", 1))
            e = await self.call(ws, {"type": "event", "id": 7, "stream": "00000000000000a1", "events": [
                {"seq": 2, "time": 2, "kind": "grace_cleared"}]})
            self.assertEqual((e["stream"], e["upto"]), ("00000000000000a1", 2))
            # Before streams: no stream, kept apart and acknowledged without one.
            e = await self.call(ws, {"type": "event", "id": 8, "events": [{"seq": 1, "time": 4, "kind": "link_up"}]})
            self.assertEqual((e["upto"], "stream" in e), (1, False))
            await ws.send(json.dumps({"type": "event", "id": 9, "stream": "NOT-HEX", "events": []}))
            await self.server.wait_record(lambda r: r["kind"] == "bad_message" and r.get("stream") == "NOT-HEX")
            await ws.close()
            await self.server.wait_record(lambda r: r["kind"] == "closed")
            stored = [(r["stream"], r["seq"]) for r in self.server.records() if r["kind"] == "event_stored"]
            dups = [(r["stream"], r["seq"]) for r in self.server.records() if r["kind"] == "event_duplicate"]
            self.assertEqual(stored, [("00000000000000a1", 1), ("00000000000000a1", 2), ("00000000000000b2", 1),
                                      ("legacy", 1)])
            self.assertEqual(dups, [("00000000000000a1", 2)])
        self.run_async(go())

    def test_control_request_revoke_grant_disconnect(self):
        async def go():
            ws = await self.welcomed()
            self.server.control(cmd="request", method="status.get")
            req = json.loads(await asyncio.wait_for(ws.recv(), 3))
            self.assertEqual((req["type"], req["method"]), ("request", "status.get"))
            await ws.send(json.dumps({"type": "response", "re": req["id"], "ok": True, "result": {"state": "x"}}))
            r = await self.server.wait_record(lambda r: r["kind"] == "recv" and r["msg"].get("re") == req["id"])
            self.assertEqual(r["msg"]["result"], {"state": "x"})
            first = await self.call(ws, {"type": "license_request", "id": 2,
                                         "features": [{"name": "seats", "qty": 1}]})
            self.server.control(cmd="revoke", reason="unpaid")
            rv = json.loads(await asyncio.wait_for(ws.recv(), 3))
            self.assertEqual((rv["type"], rv["reason"]), ("license_revoke", "unpaid"))
            self.assertTrue(rv["serial"].startswith("L"))
            d = await self.call(ws, {"type": "license_request", "id": 3, "features": [{"name": "seats", "qty": 1}]})
            self.assertEqual(d["type"], "license_denied")
            self.server.control(cmd="grant", features={"seats": 4})
            g = json.loads(await asyncio.wait_for(ws.recv(), 3))
            self.assertEqual(g["type"], "license_grant")
            self.assertNotIn("re", g)
            self.assertEqual(json.loads(b64url_decode(g["license"]))["features"], [{"name": "seats", "qty": 4}])
            self.server.control(cmd="replay", features={})  # unknown commands are reported, not fatal
            self.server.control(cmd="grant", replay=0)
            again = json.loads(await asyncio.wait_for(ws.recv(), 3))
            self.assertEqual((again["license"], again["sig"]), (first["license"], first["sig"]))
            await self.server.wait_record(lambda r: r["kind"] == "control_result" and not r["ok"])
            self.server.control(cmd="disconnect", retry_after_s=30)
            dc = json.loads(await asyncio.wait_for(ws.recv(), 3))
            self.assertEqual((dc["type"], dc["retry_after_s"]), ("disconnect", 30))
            await ws.close(1000)
            c = await self.server.wait_record(lambda r: r["kind"] == "closed")
            self.assertEqual(c["code"], 1000)
        self.run_async(go())

    def test_blackhole_is_silent_until_the_system_returns(self):
        async def go():
            ws = await self.welcomed()
            self.server.control(cmd="blackhole")
            await self.server.wait_record(lambda r: r["kind"] == "control_result" and r.get("cmd") == "blackhole")
            await ws.send(json.dumps({"type": "heartbeat", "id": 2, "seq": 1, "uptime_s": 1}))
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(ws.recv(), 1.0)
            ws2 = await self.welcomed()
            await self.server.wait_record(lambda r: r["kind"] == "aborted" and r["conn"] == 1)
            await self.server.wait_record(lambda r: r["kind"] == "closed" and r["conn"] == 1)
            h = await self.call(ws2, {"type": "heartbeat", "id": 2, "seq": 1, "uptime_s": 1})
            self.assertEqual(h["type"], "heartbeat_ack")
            await ws2.close()
            ws.transport.abort()
        self.run_async(go())

    def test_drop_stop_listening_and_listen_again(self):
        async def go():
            ws = await self.welcomed()
            self.server.control(cmd="stop_listening", drop=True)
            await ws.wait_closed()
            self.assertEqual(ws.close_code, 1006)  # no close frame: the TCP link just ends
            with self.assertRaises(OSError):
                await self.connect()
            self.server.control(cmd="listen")
            await self.server.wait_record(lambda r: r["kind"] == "listening" and r["t"] > 0 and
                                          sum(1 for x in self.server.records() if x["kind"] == "listening") == 2)
            ws = await self.welcomed(self.ports[1])
            await ws.close(1001)
            c = await self.server.wait_record(lambda r: r["kind"] == "closed" and r["conn"] == 2)
            self.assertEqual(c["code"], 1001)
        self.run_async(go())

    def test_upgrade_and_tls_refusals(self):
        async def go():
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                await websockets.connect("wss://localhost:%d/other" % self.ports[0], ssl=client_context(),
                                         subprotocols=["sublink.v1"])
            self.assertEqual(e.exception.status_code, 404)
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                await websockets.connect("wss://localhost:%d/sublink/v1" % self.ports[0], ssl=client_context())
            self.assertEqual(e.exception.status_code, 400)
            self.server.control(cmd="refuse", status=503, retry_after=9)
            await self.server.wait_record(lambda r: r["kind"] == "control_result" and r.get("cmd") == "refuse")
            with self.assertRaises(websockets.exceptions.InvalidStatusCode) as e:
                await self.connect()
            self.assertEqual(e.exception.status_code, 503)
            self.server.control(cmd="refuse", status=None)
            for ctx in (client_context(cert=None), client_context(tls13=True),
                        client_context(cert="device-other-ca.crt", key="device-other-ca.key")):
                with self.assertRaises((ssl.SSLError, ConnectionError, EOFError,
                                        websockets.exceptions.InvalidMessage)):
                    async with self.connect(ssl=ctx) as ws:
                        await self.call(ws, HELLO)
        self.run_async(go())

    def test_sigterm_closes_links_with_1001(self):
        async def go():
            ws = await self.welcomed()
            self.server.proc.terminate()
            await ws.wait_closed()
            self.assertEqual(ws.close_code, 1001)
            self.assertEqual(self.server.proc.wait(5), 0)
        self.run_async(go())


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as made:
        if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
            PKI = os.path.abspath(sys.argv.pop(1))
        else:
            PKI = os.path.join(made, "pki")
            subprocess.run(["sh", os.path.join(HERE, "..", "pki", "make_pki.sh"), PKI],
                           check=True, stdout=subprocess.DEVNULL)
        unittest.main()
