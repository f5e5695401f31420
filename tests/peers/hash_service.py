"""A loopback TCP service that answers only after its input's end, for the
tunnels' half-close tests (PROTOCOL.md section 6, FIN both ways).

  answer  : reads until the client half-closes, waits DELAY seconds, then
            sends the SHA-256 of what it read (hex and a newline) and closes.
  receipt : sends "ready\\n", half-closes its own side at once, then reads
            until the client's end and writes "SIZE SHA256" to RECEIPT.

Prints "listening PORT" when ready.

usage: hash_service.py PORT answer DELAY
       hash_service.py PORT receipt RECEIPT
"""
import asyncio
import hashlib
import socket
import sys


async def read_all(reader):
    digest, size = hashlib.sha256(), 0
    while True:
        data = await reader.read(65536)
        if not data:
            return digest.hexdigest(), size
        digest.update(data)
        size += len(data)


async def answer(reader, writer, delay):
    hexdigest, _ = await read_all(reader)
    await asyncio.sleep(delay)
    writer.write((hexdigest + "\n").encode())
    await writer.drain()
    writer.close()


async def receipt(reader, writer, path):
    writer.write(b"ready\n")
    await writer.drain()
    writer.get_extra_info("socket").shutdown(socket.SHUT_WR)
    hexdigest, size = await read_all(reader)
    with open(path, "w") as f:
        f.write("%d %s\n" % (size, hexdigest))
    writer.close()


async def main(port, mode, arg):
    if mode == "answer":
        handler = lambda r, w: answer(r, w, float(arg))
    elif mode == "receipt":
        handler = lambda r, w: receipt(r, w, arg)
    else:
        sys.exit("hash_service.py: unknown mode %r (answer or receipt)" % mode)
    server = await asyncio.start_server(handler, "127.0.0.1", port)
    print("listening %d" % port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
