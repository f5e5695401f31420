"""Independent sublink transport peer: python3-websockets (Debian's 10.4,
run with /usr/bin/python3) behind TLS that requires a client certificate.

It is not the project's code: it checks our TLS, upgrade and framing against
another implementation. Behaviour:
  * TLS 1.2+ with --cert/--key, client certificate required and verified
    against --ca; the client's CN, the TLS version and whether the session
    was resumed are printed ("client CN=SYS-0001 TLSv1.2 reused").
  * --refuse STATUS [--retry-after S]: answer every upgrade with STATUS.
  * --plain: no TLS (a backend behind haproxy).
  * Echoes text and binary; on the text "close:CODE" closes with CODE.

usage: ws_tls_peer.py --port P [--host H] [--cert C --key K --ca CA] [--plain]
                      [--refuse STATUS [--retry-after S]]
"""
import argparse
import asyncio
import http
import ssl

import websockets


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--ca")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--refuse", type=int)
    p.add_argument("--retry-after", type=int)
    return p.parse_args()


async def main(args):
    ctx = None
    if not args.plain:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(args.cert, args.key)
        ctx.load_verify_locations(args.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED

    async def process_request(path, headers):
        print("upgrade", path, "ua=" + headers.get("User-Agent", ""), flush=True)
        if args.refuse:
            extra = []
            if args.retry_after is not None:
                extra.append(("Retry-After", str(args.retry_after)))
            return http.HTTPStatus(args.refuse), extra, b"refused\n"
        return None

    async def handler(ws, path=None):
        sslobj = ws.transport.get_extra_info("ssl_object")
        if sslobj is not None:
            cert = sslobj.getpeercert()
            cn = [v for rdn in cert.get("subject", ()) for (k, v) in rdn if k == "commonName"]
            print("client CN=" + (cn[0] if cn else "?"), sslobj.version(),
                  "reused" if sslobj.session_reused else "new", flush=True)
        print("subprotocol", ws.subprotocol, flush=True)
        async for message in ws:
            if isinstance(message, str) and message.startswith("close:"):
                await ws.close(code=int(message[6:]), reason="asked")
                return
            await ws.send(message)

    async with websockets.serve(handler, args.host, args.port, ssl=ctx, subprotocols=["sublink.v1"],
                                process_request=process_request, ping_interval=None,
                                max_size=1 << 20):
        print("listening", args.port, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(parse()))
