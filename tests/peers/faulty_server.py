"""A misbehaving sublink/1 server for the fault matrix (tests/fault_matrix):
one fault per run, on one loopback port, written with the standard library
only (ssl and raw sockets), so it can break TLS, the upgrade and RFC 6455
framing in ways a correct WebSocket library refuses to.

Every connection gets the same fault (--fault):
  tcp_no_tls      accepts TCP and never speaks: no ServerHello
  slowloris       TLS, then the 101 answer one byte a second
  tls11_only      a server that speaks TLS 1.1 at most
  weak_cipher     TLS 1.2 with only CBC-SHA1 suites (no AEAD)
  tls_ok          a correct TLS handshake with --cert (used with a bad
                  certificate: expired, not yet valid, wrong name, other CA)
                  and a correct 101, then silence
  no_101          answers the upgrade with 200 OK
  wrong_accept    101 with a Sec-WebSocket-Accept of another key
  no_subprotocol  101 without Sec-WebSocket-Protocol
  oversized       after 101: a text frame announcing 2^20 bytes
  fragmented_ping after 101: a ping frame without FIN
  masked          after 101: a masked text frame (a server must not mask)
  invalid_utf8    after 101: a text frame that is not UTF-8
  invalid_json    after 101: a text frame that is not JSON
  tls_alert       after 101: a TLS close_notify alert, then TCP open
  rst_mid_frame   after 101: the first half of a frame, then RST
  proxy_502       no TLS: an HTTP proxy whose upstream failed, answering
                  every CONNECT with 502 Bad Gateway

It prints "listening PORT" once it listens, "accepted N" for each
connection and "conn N fault F done" (or the error that ended it), flushed.

usage: faulty_server.py --port P --fault F --cert C --key K --ca CA
"""
import argparse
import base64
import hashlib
import socket
import ssl
import struct
import threading
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
AFTER_UPGRADE = {"oversized", "fragmented_ping", "masked", "invalid_utf8", "invalid_json", "tls_alert",
                 "rst_mid_frame", "tls_ok"}
FAULTS = {"tcp_no_tls", "proxy_502", "slowloris", "tls11_only", "weak_cipher", "no_101", "wrong_accept",
          "no_subprotocol"} | AFTER_UPGRADE


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--fault", required=True, choices=sorted(FAULTS))
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--ca", required=True)
    return p.parse_args()


def tls_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.load_verify_locations(args.ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    if args.fault == "tls11_only":
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if args.fault == "weak_cipher":
        ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0")
    return ctx


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    headers = {}
    for line in data.split(b"\r\n")[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            headers[k.strip().lower().decode()] = v.strip().decode()
    return headers


def accept_of(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def upgrade_answer(fault, headers):
    key = headers.get("sec-websocket-key", "")
    if fault == "no_101":
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    if fault == "wrong_accept":
        key = base64.b64encode(b"another key 1234").decode()
    lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Accept: " + accept_of(key)]
    if fault != "no_subprotocol":
        lines.append("Sec-WebSocket-Protocol: sublink.v1")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def frame(opcode, payload, fin=True, mask=None, announced=None):
    first = (0x80 if fin else 0) | opcode
    length = len(payload) if announced is None else announced
    mask_bit = 0x80 if mask else 0
    if length < 126:
        head = struct.pack("!BB", first, mask_bit | length)
    elif length < 65536:
        head = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, length)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def after_upgrade(fault, tls, raw):
    if fault == "oversized":
        tls.sendall(frame(0x1, b"{" * 1024, announced=1 << 20))
    elif fault == "fragmented_ping":
        tls.sendall(frame(0x9, b"ping", fin=False))
    elif fault == "masked":
        tls.sendall(frame(0x1, b'{"type":"heartbeat_ack"}', mask=b"\x01\x02\x03\x04"))
    elif fault == "invalid_utf8":
        tls.sendall(frame(0x1, b'{"type":"welcome","x":"\xc3\x28"}'))
    elif fault == "invalid_json":
        tls.sendall(frame(0x1, b'{"type":"welcome",'))
    elif fault == "tls_alert":
        tls.unwrap()  # sends close_notify; the TCP connection stays open
        return raw
    elif fault == "rst_mid_frame":
        tls.sendall(frame(0x1, b'{"type":"welcome","time":1}')[:8])
        time.sleep(0.2)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.close()
        return None
    return tls


def serve(number, raw, args, ctx):
    keep = raw
    try:
        if args.fault == "tcp_no_tls":
            while raw.recv(4096):
                pass
            return
        if args.fault == "proxy_502":
            if read_request(raw) is not None:
                raw.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            print("conn %d fault %s done" % (number, args.fault), flush=True)
            return
        tls = ctx.wrap_socket(raw, server_side=True)
        keep = tls
        headers = read_request(tls)
        if headers is None:
            return
        answer = upgrade_answer(args.fault, headers)
        if args.fault == "slowloris":
            for b in answer:
                tls.sendall(bytes([b]))
                time.sleep(1.0)
        else:
            tls.sendall(answer)
        if args.fault in AFTER_UPGRADE:
            keep = after_upgrade(args.fault, tls, raw)
        print("conn %d fault %s done" % (number, args.fault), flush=True)
        # Hold the connection until the client leaves.
        if keep is not None:
            while keep.recv(4096):
                pass
    except (OSError, ssl.SSLError) as e:
        print("conn %d fault %s: %s" % (number, args.fault, e), flush=True)
    finally:
        if keep is not None:
            try:
                keep.close()
            except OSError:
                pass


def main(args):
    ctx = None if args.fault in ("tcp_no_tls", "proxy_502") else tls_context(args)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(16)
    print("listening", args.port, flush=True)
    number = 0
    while True:
        raw, _ = listener.accept()
        number += 1
        print("accepted %d" % number, flush=True)
        threading.Thread(target=serve, args=(number, raw, args, ctx), daemon=True).start()


if __name__ == "__main__":
    main(parse())
