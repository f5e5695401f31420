"""Relays stdin/stdout to one TCP connection: QEMU's guestfwd=...-cmd: runs
it once per guest connection with the guest's socket as stdin and stdout.

  relay.py HOST PORT        (HOST must be a loopback address)
"""
import ipaddress
import os
import selectors
import socket
import sys


def main(host, port):
    if not ipaddress.ip_address(host).is_loopback:
        return 2  # the test network must never reach beyond this machine
    upstream = socket.create_connection((host, port), timeout=5)
    upstream.settimeout(None)
    guest_in, guest_out = sys.stdin.fileno(), sys.stdout.fileno()
    sel = selectors.DefaultSelector()
    sel.register(guest_in, selectors.EVENT_READ)
    sel.register(upstream, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj == guest_in:
                data = os.read(guest_in, 65536)
                if not data:
                    return 0
                upstream.sendall(data)
            else:
                data = upstream.recv(65536)
                if not data:
                    return 0
                while data:
                    data = data[os.write(guest_out, data):]


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1], int(sys.argv[2])))
    except OSError:
        sys.exit(1)
