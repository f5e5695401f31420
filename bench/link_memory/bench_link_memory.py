#!/usr/bin/python3
"""bench_link_memory: the memory it takes to hold one link. sublinkd holds
its mutually authenticated TLS 1.2 WebSocket link to a sublink-server on
loopback, licensed and idle; then, one at a time (they share the device's
identity, so the server would replace one link by the next), a minimal
client on Debian's libwebsockets (lws_client.c, OpenSSL) and one on
python3-websockets hold the same link to the same server. Each is measured
while it holds the link: resident set (Rss), anonymous memory (heap, stacks
and anonymous maps: what the process itself allocated) and its [heap].
Goal: sublinkd below both peers. Writes a JSON result (--json) and prints a
table; a client that does not hold its link fails it (exit 1).

  bench/link_memory/bench_link_memory.py --server build/host/bin/sublink-server \\
      --sublinkd build/host/bin/sublinkd --lws-client build/host/bin/bench_lws_client \\
      --json build/bench/link_memory.json
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "link"))
import rig  # noqa: E402
from bench_link import machine  # noqa: E402

PY = "/usr/bin/python3"


def memory(pid):
    """{rss_kib, anonymous_kib, heap_kib} of a live process."""
    out = {"rss_kib": 0, "anonymous_kib": 0, "heap_kib": 0}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key == "Rss":
                out["rss_kib"] = int(rest.split()[0])
            elif key == "Anonymous":
                out["anonymous_kib"] = int(rest.split()[0])
    in_heap = False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if "-" in line.split(" ", 1)[0] and not line.startswith(("Rss", "Size")):
                in_heap = line.rstrip().endswith("[heap]")
            elif in_heap and line.startswith("Rss:"):
                out["heap_kib"] += int(line.split()[1])
    return out


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def hold_peer(argv, settle_s):
    """Runs a client, waits for its welcome, measures it mid-hold."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
        if line != "welcome":
            raise RuntimeError(f"{argv[0]} did not get welcome: {line} {p.stderr.read() if p.poll() is not None else ''}")
        time.sleep(settle_s)
        m = memory(p.pid)
        if p.stdout.readline().strip() != "held" or p.wait(30) != 0:
            raise RuntimeError(f"{argv[0]} did not hold its link: {p.stderr.read()}")
        return m
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    parser = argparse.ArgumentParser(description="memory holding one link: sublinkd and two peers")
    parser.add_argument("--server", required=True)
    parser.add_argument("--sublinkd", required=True)
    parser.add_argument("--lws-client", required=True)
    parser.add_argument("--json")
    parser.add_argument("--settle-s", type=float, default=2.0, help="seconds into the hold before measuring")
    args = parser.parse_args()
    result = {"benchmark": "link_memory", "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="sublink-bench-") as work:
        pki = os.path.join(work, "pki")
        subprocess.run(["sh", os.path.join(ROOT, "tests/pki/make_pki.sh"), pki], check=True, capture_output=True)
        db = rig.provision(args.server, work)
        port = free_port()
        log = open(os.path.join(work, "server.log"), "w")
        server = subprocess.Popen([args.server, "--db", db, "--ca", pki + "/ca.crt", "--cert", pki + "/server.crt",
                                   "--key", pki + "/server.key", "--license-key", pki + "/license.key",
                                   "--bind", "127.0.0.1", "--port", str(port)], stderr=log)
        try:
            config = os.path.join(work, "sublinkd.json")
            with open(config, "w") as f:
                json.dump({"server": "localhost", "ports": [port], "customer_id": "CUST-1", "system_id": "SYS-0001",
                           "ca_file": pki + "/ca.crt", "cert_file": pki + "/device.crt",
                           "key_file": pki + "/device.key", "license_key_file": pki + "/license.pub",
                           "state_dir": os.path.join(work, "state"), "features": [{"name": "trunks", "qty": 4}]}, f)
            d = subprocess.Popen([args.sublinkd, "--config", config], stderr=subprocess.PIPE, text=True)
            try:
                for line in d.stderr:
                    if "-> licensed" in line:
                        break
                else:
                    raise RuntimeError("sublinkd never became licensed")
                time.sleep(args.settle_s)
                result["sublinkd"] = memory(d.pid)
            finally:
                d.terminate()
                d.wait(10)
            credentials = ["--port", str(port), "--ca", pki + "/ca.crt", "--cert", pki + "/device.crt",
                           "--key", pki + "/device.key", "--system", "SYS-0001", "--customer", "CUST-1",
                           "--hold-s", str(args.settle_s + 2)]
            result["libwebsockets"] = hold_peer([args.lws_client, *credentials], args.settle_s)
            result["python3_websockets"] = hold_peer([PY, os.path.join(HERE, "py_client.py"), *credentials],
                                                     args.settle_s)
        finally:
            server.terminate()
            server.wait(10)
            log.close()
    print(f"{'client':<20} {'Rss KiB':>8} {'anon KiB':>9} {'[heap] KiB':>10}")
    for k in ("sublinkd", "libwebsockets", "python3_websockets"):
        m = result[k]
        print(f"{k:<20} {m['rss_kib']:>8} {m['anonymous_kib']:>9} {m['heap_kib']:>10}")
    for peer in ("libwebsockets", "python3_websockets"):
        r = result["sublinkd"]["rss_kib"] / result[peer]["rss_kib"]
        print(f"sublinkd / {peer}: Rss {r:.2f}, anonymous "
              f"{result['sublinkd']['anonymous_kib'] / result[peer]['anonymous_kib']:.2f} (goal below 1)")
    if args.json:
        rig.write_result(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
