"""A tiny SNTP server (RFC 4330) on loopback for the doctor's clock check.

It answers every client request with its own idea of the time: the system
clock plus --offset-s seconds, so a test can make the device clock look
wrong without touching it. Written from the RFC, not from the project's
client.

usage: sntp_responder.py --port P [--host 127.0.0.1] [--offset-s S]
                         [--stratum N] [--kiss CODE]
Prints "listening P" once bound; one line per answered request.
"""
import argparse
import socket
import struct
import time

NTP_TO_UNIX = 2208988800


def ntp_timestamp(unix_seconds):
    seconds = int(unix_seconds)
    fraction = int((unix_seconds - seconds) * (1 << 32)) & 0xFFFFFFFF
    return ((seconds + NTP_TO_UNIX) & 0xFFFFFFFF) << 32 | fraction


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--offset-s", type=float, default=0.0)
    p.add_argument("--stratum", type=int, default=2)
    p.add_argument("--kiss", help="answer with stratum 0 and this kiss code (e.g. DENY)")
    args = p.parse_args()

    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((args.host, args.port))
    print("listening", args.port, flush=True)
    while True:
        data, peer = sock.recvfrom(512)
        received = time.time() + args.offset_s
        if len(data) < 48 or data[0] & 7 != 3:
            continue  # not a client request
        client_version = (data[0] >> 3) & 7
        originate = data[40:48]  # the client's transmit timestamp, echoed
        stratum = 0 if args.kiss else args.stratum
        ref_id = (args.kiss or "LOCL").encode()[:4].ljust(4, b"\0")
        header = struct.pack("!BBbb", (0 << 6) | (client_version << 3) | 4, stratum, 6, -20)
        root = struct.pack("!II", 0, 0)
        reference = struct.pack("!Q", ntp_timestamp(received - 16))
        answer = (header + root + ref_id + reference + originate + struct.pack("!Q", ntp_timestamp(received)) +
                  struct.pack("!Q", ntp_timestamp(time.time() + args.offset_s)))
        sock.sendto(answer, peer)
        print("answered", peer[0], flush=True)


if __name__ == "__main__":
    main()
