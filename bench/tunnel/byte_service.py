#!/usr/bin/python3
"""The local service behind the agent in bench_tunnel, and the far end of
its plain TCP peer: one TCP port, every connection starts with one line.

  get N\\n   the service sends N bytes, then closes
  put N\\n   the service reads N bytes, answers "ok N\\n", then closes
  hold\\n    the service writes whenever its socket has room and never reads
            (a stalled service: what the agent then holds is measured)

  byte_service.py PORT      (listens on 0.0.0.0:PORT, prints "ready")
"""
import socket
import sys
import threading

BLOCK = memoryview(bytes(range(256)) * 4096)  # 1 MiB


def read_line(conn):
    line = b""
    while not line.endswith(b"\n"):
        b = conn.recv(1)
        if not b:
            return None
        line += b
    return line.decode().split()


def serve(conn):
    try:
        answer(conn)
    except ConnectionError:
        pass  # the channel was reset (hold ends so): the peer went
    finally:
        conn.close()


def answer(conn):
    """Serves one connection's request (see the module's text)."""
    words = read_line(conn)
    if not words:
        return
    if words[0] == "get":
        left = int(words[1])
        while left > 0:
            n = min(left, len(BLOCK))
            conn.sendall(BLOCK[:n])
            left -= n
    elif words[0] == "put":
        want = int(words[1])
        got = 0
        buf = bytearray(1 << 20)
        while got < want:
            n = conn.recv_into(buf)
            if n == 0:
                break
            got += n
        conn.sendall(f"ok {got}\n".encode())
    elif words[0] == "hold":
        while True:  # blocks while the socket is full; never reads
            conn.sendall(BLOCK)


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[1])))
    s.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
