#!/usr/bin/python3
"""A DNS server on loopback that never answers: it takes every query and
records its name, so a test knows a resolver is waiting on it.

    silent_dns_server.py ADDRESS PORT LOGFILE

It prints "ready" once bound and runs until killed."""
import socket
import sys


def query_name(packet: bytes) -> str:
    """The first question's name of a DNS query, or '?' when it has none."""
    labels, i = [], 12
    while i < len(packet):
        n = packet[i]
        if n == 0:
            return ".".join(labels)
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return "?"


def main() -> None:
    address, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    print("ready", flush=True)
    with open(log, "a", buffering=1) as out:
        while True:
            packet, _ = sock.recvfrom(4096)
            out.write(query_name(packet) + "\n")


if __name__ == "__main__":
    main()
