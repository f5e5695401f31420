#!/usr/bin/python3
"""bench_tunnel: one tunnel channel (PROTOCOL.md section 6) through the real
programs, sublinkd and sublink-server's `admin forward`, to a local byte
service behind the agent (byte_service.py), against a plain TCP copy of the
same bytes over the same path, in one run:

  loopback        both programs and the service in one network namespace;
                  the peer: the same bytes over one TCP connection on its
                  loopback. Goal: the channel at least 50% of the peer.
  relay           the emulated wire (bench/link/wire.py) at 200 ms RTT and
                  the link rate the Linux default window is sized for; the
                  peer: one TCP connection through the same wire. Goal: at
                  least 80% of the peer, with the default window.
  worst link      the wire at 128 kbit/s and 200 ms. Goal: at least 90% of
                  the link rate (payload bytes against the wire's IP rate).
  memory          sublinkd's resident memory with max_channels channels
                  stalled both ways (the local service and the operator
                  read nothing), per channel, beside TunnelService's stated
                  memory_bound() for Linux and for a board's small window.

Each transfer is timed at the operator's end from its connect to the last
byte (get: the service sends, put: the operator sends and the service
answers once it has every byte), both ways, the tunnel and the peer alike.

Writes a JSON result (--json) and prints a table. Speed never fails it; a
transfer that loses bytes, or a program that does not come up, does (exit 1).
Needs root (network namespaces, /dev/net/tun); exit 77 without.

  bench/tunnel/bench_tunnel.py --server build/host/bin/sublink-server \\
      --sublinkd build/host/bin/sublinkd \\
      --memory-bound build/host/bin/bench_tunnel_memory_bound --json build/bench/tunnel.json
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "link"))
import rig  # noqa: E402
import wire  # noqa: E402
from bench_link import machine  # noqa: E402
from wire import DEVICE_ADDR, SERVER_ADDR, Wire  # noqa: E402

PY = "/usr/bin/python3"
PORTS = (443,)
SERVICE_PORT = 19000   # byte_service.py, in the device's namespace
FORWARD_PORT = 18080   # admin forward, on the server's loopback
# The link the Linux default tunnel_window_bytes is sized for (the comment
# beside the default in firmware/config/device_config.h says the same).
RELAY_RTT_MS = 200
RELAY_RATE_KBIT = 10000
WORST_RTT_MS = 200
WORST_RATE_KBIT = 128
BLOCK = memoryview(bytes(range(256)) * 4096)  # 1 MiB, what byte_service.py sends


class OneHost:
    """One network namespace this process creates: both programs, the
    service and the operator on its loopback (SERVER_ADDR is added to lo so
    rig.Server binds there and the device resolves the server to it)."""

    def __init__(self):
        ns = "slbl-" + str(os.getpid())
        self.names = {"device": ns, "server": ns}

    def __enter__(self):
        ns = self.names["device"]
        try:
            for args in (["netns", "add", ns], ["-n", ns, "link", "set", "lo", "up"],
                         ["-n", ns, "addr", "add", SERVER_ADDR + "/32", "dev", "lo"]):
                subprocess.run(["ip", *args], check=True, capture_output=True)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["ip", "netns", "del", self.names["device"]], capture_output=True)

    def command(self, side, argv):
        return ["ip", "netns", "exec", self.names[side], *argv]


def socket_in(namespace):
    """A TCP socket of `namespace` (made there by this thread, which then
    goes home; the socket stays in the namespace it was made in)."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/var/run/netns/" + namespace, os.O_RDONLY)
    try:
        wire._setns(target)
        return socket.socket()
    finally:
        wire._setns(home)
        os.close(home)
        os.close(target)


def transfer(namespace, address, port, direction, n):
    """Seconds from connect to the last byte of `n` bytes: "get" (the
    service sends them) or "put" (the operator sends them and the service
    says it has them all). Raises when a byte is missing."""
    s = socket_in(namespace)
    with s:
        t0 = time.monotonic()
        s.connect((address, port))
        if direction == "get":
            s.sendall(f"get {n}\n".encode())
            buf = bytearray(1 << 20)
            got = 0
            while True:
                k = s.recv_into(buf)
                if k == 0:
                    break
                got += k
            t1 = time.monotonic()
            if got != n:
                raise RuntimeError(f"get through {address}:{port}: {got} of {n} bytes arrived")
        else:
            s.sendall(f"put {n}\n".encode())
            left = n
            while left > 0:
                k = min(left, len(BLOCK))
                s.sendall(BLOCK[:k])
                left -= k
            answer = b""
            while not answer.endswith(b"\n"):
                b = s.recv(64)
                if not b:
                    break
                answer += b
            t1 = time.monotonic()
            if answer != f"ok {n}\n".encode():
                raise RuntimeError(f"put through {address}:{port}: the service answered {answer!r}")
    return t1 - t0


def cpu_s(pid):
    """User and system CPU seconds `pid` has used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def compare(net, n, runs, peer_address, programs):
    """The channel against the peer, both directions: each the best of
    `runs` (the least disturbed by the rest of the machine), in bytes/s;
    with the CPU seconds sublinkd and sublink-server spent on the best run
    (where the time goes: the programs' own ceiling is n over the larger)."""
    ns = net.names["server"]
    out = {"bytes": n, "runs": runs}
    for direction in ("get", "put"):
        best = None
        for _ in range(runs):
            cpu0 = [cpu_s(p) for p in programs]
            t = transfer(ns, "127.0.0.1", FORWARD_PORT, direction, n)
            cpu = [b - a for a, b in zip(cpu0, (cpu_s(p) for p in programs))]
            if best is None or t < best[0]:
                best = (t, cpu)
        tunnel, (device_cpu, server_cpu) = best
        peer = min(transfer(ns, peer_address, SERVICE_PORT, direction, n) for _ in range(runs))
        out[direction] = {"tunnel_bytes_per_s": n / tunnel, "peer_bytes_per_s": n / peer, "ratio": peer / tunnel,
                          "sublinkd_cpu_s": device_cpu, "server_cpu_s": server_cpu}
    return out


def against_link_rate(net, n, rate_kbit, peer_address):
    """The channel's payload rate, both directions, against the wire's rate
    (and a plain TCP copy beside it, for what TCP itself reaches)."""
    ns = net.names["server"]
    out = {"bytes": n, "rate_kbit": rate_kbit}
    for direction in ("get", "put"):
        tunnel = transfer(ns, "127.0.0.1", FORWARD_PORT, direction, n)
        peer = transfer(ns, peer_address, SERVICE_PORT, direction, n)
        link = rate_kbit * 1000 / 8
        out[direction] = {"tunnel_bytes_per_s": n / tunnel, "peer_bytes_per_s": n / peer,
                          "ratio": n / tunnel / link, "peer_ratio": n / peer / link}
    return out


def rss_kib(pid):
    """VmRSS and RssAnon of `pid`, KiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.split()[0] if v.split() else "0"
    return int(fields["VmRSS"]), int(fields["RssAnon"])


def settled_rss(pid, quiet_s=1.0, timeout_s=20.0):
    """RssAnon once it has not changed for quiet_s."""
    end = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < end:
        now = rss_kib(pid)[1]
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            break
        time.sleep(0.1)
    return last


def stalled_channels(net, device, channels):
    """sublinkd's anonymous resident memory before, and with `channels`
    channels stalled both ways (each direction's queue full: the service
    and the operator read nothing), KiB."""
    before = settled_rss(device.process.pid)
    socks = []
    try:
        for _ in range(channels):
            s = socket_in(net.names["server"])
            s.connect(("127.0.0.1", FORWARD_PORT))
            s.sendall(b"hold\n")
            s.setblocking(False)
            socks.append(s)
        # Every buffer on the way to the device's filled: until no socket
        # took a byte for two seconds
        # (a loaded machine may pause the programs for a second).
        end = time.monotonic() + 30
        last_sent = time.monotonic()
        while time.monotonic() - last_sent < 2.0:
            if time.monotonic() > end:
                raise RuntimeError("the stalled channels never stopped taking bytes")
            for s in socks:
                try:
                    s.send(BLOCK[:65536])
                    last_sent = time.monotonic()
                except BlockingIOError:
                    pass
            time.sleep(0.005)
        after = settled_rss(device.process.pid)
    finally:
        for s in socks:
            s.close()
    return before, after


class Rig:
    """sublink-server, the byte service and sublinkd on `net`, linked, with
    a forward of the service; the Linux default tunnel settings."""

    def __init__(self, net, args, work, pki):
        self.server = rig.Server(net, args.server, work, pki, PORTS)
        self.service = subprocess.Popen(net.command("device", [PY, os.path.join(HERE, "byte_service.py"),
                                                               str(SERVICE_PORT)]),
                                        stdout=subprocess.PIPE, text=True)
        self.device = None
        if self.service.stdout.readline().strip() != "ready":
            self.stop()
            raise RuntimeError("byte_service.py did not start")
        try:
            self.device = rig.Device(net, args.sublinkd, work, pki, PORTS,
                                     services={"bytes": f"127.0.0.1:{SERVICE_PORT}"})
            self.device.wait_line(r"-> licensed", timeout=60)
            self.device.wait_line(r"LINK UP")
            r = self.server.admin("forward", rig.SYSTEM_ID, "bytes", "--listen", f"127.0.0.1:{FORWARD_PORT}",
                                  "--operator", "bench")
            if r.returncode != 0:
                raise RuntimeError("admin forward: " + r.stdout + r.stderr)
        except BaseException:
            self.stop()
            raise

    def pids(self):
        return self.device.process.pid, self.server.process.pid

    def explain(self):
        """The programs' last lines, for a failed measurement."""
        tail = "\n".join(line for _, line in self.device.lines[-20:]) if self.device else ""
        with open(self.server.log.name) as f:
            server = f.read()[-3000:]
        print(f"--- sublinkd (tail) ---\n{tail}\n--- sublink-server (tail) ---\n{server}", file=sys.stderr)

    def stop(self):
        if self.device is not None:
            self.device.stop()
        rig.stop_process(self.service)
        self.server.stop()


def with_hosts(net, body):
    hosts_dir = rig.name_the_server(net)
    try:
        return body()
    finally:
        for f in os.listdir(hosts_dir):
            os.unlink(os.path.join(hosts_dir, f))
        os.rmdir(hosts_dir)


def main():
    parser = argparse.ArgumentParser(description="sublink tunnel benchmarks")
    parser.add_argument("--server", required=True)
    parser.add_argument("--sublinkd", required=True)
    parser.add_argument("--memory-bound", required=True, help="bench_tunnel_memory_bound")
    parser.add_argument("--board-window", type=int, default=2048, help="the board's tunnel window")
    parser.add_argument("--json", help="write the result here")
    parser.add_argument("--short", action="store_true", help="fewer bytes, one run each (ctest)")
    args = parser.parse_args()
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("bench_tunnel: needs root and /dev/net/tun (network namespaces and the emulated wire)")
        return 77
    loop_bytes, loop_runs = (8 << 20, 1) if args.short else (512 << 20, 3)
    relay_bytes, relay_runs = (1 << 20, 1) if args.short else (16 << 20, 2)
    worst_bytes = (8 << 10) if args.short else (320 << 10)

    bound = json.loads(subprocess.run([args.memory_bound, "--board-window", str(args.board_window)],
                                      check=True, capture_output=True, text=True).stdout)
    result = {"benchmark": "tunnel", "machine": machine(), "bound": bound,
              "goals": {"loopback": 0.5, "relay": 0.8, "worst_link": 0.9}}
    with tempfile.TemporaryDirectory(prefix="sublink-bench-") as work:
        pki = rig.make_pki(work)

        with OneHost() as net:
            def loopback():
                # sublinkd as it starts, then with every channel stalled
                # (a rig of its own: the throughput runs touch a channel's
                # queues, which then stay resident).
                r = Rig(net, args, os.path.join(work, "memory"), pki)
                try:
                    before, after = stalled_channels(net, r.device, bound["linux"]["max_channels"])
                    result["memory"] = {"channels": bound["linux"]["max_channels"], "rss_anon_idle_kib": before,
                                        "rss_anon_stalled_kib": after}
                except BaseException:
                    r.explain()
                    raise
                finally:
                    r.stop()
                r = Rig(net, args, os.path.join(work, "loop"), pki)
                try:
                    result["loopback"] = compare(net, loop_bytes, loop_runs, "127.0.0.1", r.pids())
                except BaseException:
                    r.explain()
                    raise
                finally:
                    r.stop()
            with_hosts(net, loopback)

        with Wire(RELAY_RTT_MS, RELAY_RATE_KBIT) as net:
            def relay():
                r = Rig(net, args, os.path.join(work, "wire"), pki)
                try:
                    result["relay"] = compare(net, relay_bytes, relay_runs, DEVICE_ADDR, r.pids())
                    result["relay"].update(rtt_ms=RELAY_RTT_MS, rate_kbit=RELAY_RATE_KBIT)
                    net.shape(WORST_RTT_MS, WORST_RATE_KBIT)
                    time.sleep(1)
                    result["worst_link"] = against_link_rate(net, worst_bytes, WORST_RATE_KBIT, DEVICE_ADDR)
                    result["worst_link"]["rtt_ms"] = WORST_RTT_MS
                except BaseException:
                    r.explain()
                    raise
                finally:
                    r.stop()
            with_hosts(net, relay)

    print_table(result)
    if args.json:
        rig.write_result(args.json, result)
    return 0


def mb(x):
    return f"{x / 1e6:8.2f} MB/s"


def print_table(r):
    b = r["bound"]
    print(f"Linux default window {b['linux']['window']} B, max_channels {b['linux']['max_channels']}")
    for case, goal in (("loopback", "goal >= 0.50"), ("relay", "goal >= 0.80")):
        c = r[case]
        where = "loopback" if case == "loopback" else f"{c['rtt_ms']} ms RTT at {c['rate_kbit']} kbit/s"
        print(f"{case} ({where}, {c['bytes']} B, best of {c['runs']}): channel / plain TCP, {goal}")
        for d in ("get", "put"):
            x = c[d]
            print(f"  {d}: channel {mb(x['tunnel_bytes_per_s'])}  TCP {mb(x['peer_bytes_per_s'])}  ratio {x['ratio']:.3f}"
                  f"  (CPU: sublinkd {x['sublinkd_cpu_s']:.2f} s, sublink-server {x['server_cpu_s']:.2f} s)")
    w = r["worst_link"]
    print(f"worst link ({w['rtt_ms']} ms RTT at {w['rate_kbit']} kbit/s, {w['bytes']} B): payload / link rate, goal >= 0.90")
    for d in ("get", "put"):
        x = w[d]
        print(f"  {d}: channel {x['ratio']:.3f}  (plain TCP {x['peer_ratio']:.3f})")
    m = r["memory"]
    per = (m["rss_anon_stalled_kib"] - m["rss_anon_idle_kib"]) / m["channels"]
    print(f"memory: {m['channels']} channels stalled both ways: sublinkd's anonymous Rss {m['rss_anon_idle_kib']} -> "
          f"{m['rss_anon_stalled_kib']} KiB, {per:.0f} KiB per channel")
    for k in ("linux", "board"):
        x = b[k]
        print(f"  bound ({k}, window {x['window']}): {x['per_channel_bytes']} B per channel + {x['constant_bytes']} B"
              f" = {x['bound_bytes']} B for {x['max_channels']} channels")


if __name__ == "__main__":
    sys.exit(main())
