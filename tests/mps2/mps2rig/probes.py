"""Minimal DNS, NTP and TCP clients, written from the RFCs so the rig can
check its own services with what a board sends (no resolver library, no
chronyc), and a command line to run them inside the namespace:

  probes.py dns SERVER NAME      prints the A records of NAME
  probes.py ntp SERVER           prints the server's time (UTC ms) and stratum
  probes.py tcp HOST PORT        connects once

Exit status 0 when the answer came, 1 otherwise (the reason on stderr).
"""
import random
import socket
import struct
import sys
import time

_NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def dns_a(server, name, timeout_s=2.0):
    """The IPv4 addresses of `name` (one UDP query, RFC 1035) from `server`.
    Raises OSError on silence and ValueError on a bad or negative answer."""
    qid = random.randrange(0x10000)
    question = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.split(".")) + b"\0"
    query = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout_s)
        s.sendto(query, (server, 53))
        reply, _ = s.recvfrom(4096)
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", reply[:12])
    if rid != qid or not flags & 0x8000:
        raise ValueError("not an answer to the query")
    if flags & 0xF:
        raise ValueError("rcode %d" % (flags & 0xF))
    pos = 12 + len(question) + 4  # the one question is echoed back
    if qd != 1:
        raise ValueError("%d questions in the answer" % qd)
    addresses = []
    for _ in range(an):
        pos = _skip_name(reply, pos)
        rtype, _, _, rdlen = struct.unpack(">HHIH", reply[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            addresses.append(socket.inet_ntoa(reply[pos:pos + 4]))
        pos += rdlen
    if not addresses:
        raise ValueError("no A record")
    return addresses


def _skip_name(msg, pos):
    while True:
        length = msg[pos]
        if length & 0xC0 == 0xC0:
            return pos + 2
        if length == 0:
            return pos + 1
        pos += 1 + length


def ntp_time(server, timeout_s=2.0):
    """(server time in UTC ms, stratum) from one SNTP client request
    (RFC 4330). Raises OSError on silence, ValueError on an unsynchronised
    or malformed answer."""
    request = bytearray(48)
    request[0] = (4 << 3) | 3  # version 4, client
    sent = time.time()
    transmit = struct.pack(">II", int(sent) + _NTP_EPOCH_OFFSET, int((sent % 1) * 2**32))
    request[40:48] = transmit
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout_s)
        s.sendto(bytes(request), (server, 123))
        reply, _ = s.recvfrom(512)
    if len(reply) < 48:
        raise ValueError("short NTP answer")
    leap, mode, stratum = reply[0] >> 6, reply[0] & 7, reply[1]
    if mode != 4 or reply[24:32] != transmit:
        raise ValueError("not an answer to the request")
    if leap == 3 or stratum == 0 or stratum > 15:
        raise ValueError("server not synchronised (leap %d, stratum %d)" % (leap, stratum))
    secs, frac = struct.unpack(">II", reply[40:48])
    return (secs - _NTP_EPOCH_OFFSET) * 1000 + frac * 1000 // 2**32, stratum


def tcp_connect(host, port, timeout_s=2.0):
    """Opens and closes one TCP connection; raises OSError when refused."""
    with socket.create_connection((host, port), timeout=timeout_s):
        pass


def main(argv):
    try:
        if len(argv) == 3 and argv[0] == "dns":
            print(" ".join(dns_a(argv[1], argv[2])))
        elif len(argv) == 2 and argv[0] == "ntp":
            ms, stratum = ntp_time(argv[1])
            print(ms, stratum)
        elif len(argv) == 3 and argv[0] == "tcp":
            tcp_connect(argv[1], int(argv[2]))
        else:
            print(__doc__.strip(), file=sys.stderr)
            return 2
    except (OSError, ValueError) as e:
        print("%s: %s" % (argv[0], e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
