#!/usr/bin/python3
"""bench_link: the link of a real sublinkd to a real sublink-server over an
emulated wire (wire.py: two network namespaces this program creates, every
packet delayed and paced), against the floors the protocol allows, in one run:

  time to licensed     cold (TCP + 2 for TLS 1.2 + upgrade + hello/license:
                       5 RTT) and resumed (4 RTT), at 50, 100 and 200 ms,
                       against the floor plus the CPU time of the same run
                       at 0 ms; goal within 5%
  the seed's worst link  128 kbit/s and 200 ms: time to licensed against
                       5 RTT plus the bytes' serialization, and the bytes of
                       each part of the handshake (certificates, TLS, upgrade,
                       hello, grant)
  failover             the first port blackholed: sublink's stagger against
                       the strict sequential policy (stagger_ms 0);
                       goal under 1 s against over 5 s
  idle bytes per day   at the default heartbeat (60 s), against a bare
                       WebSocket ping/pong over the same TLS at that interval;
                       goal at most 1.5x

Writes a JSON result (--json) and prints a table. Speed never fails it; a
link that does not come up, or a measurement that cannot be made, does
(exit 1). Needs root (network namespaces, /dev/net/tun); exit 77 without.

  bench/link/bench_link.py --server build/host/bin/sublink-server \\
      --sublinkd build/host/bin/sublinkd --json build/bench/link.json
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rig  # noqa: E402
import tls_records  # noqa: E402
from wire import SERVER_ADDR, Wire  # noqa: E402

PORTS = (443, 8443)
DEFAULT_HEARTBEAT_S = 60
PY = "/usr/bin/python3"


def cold_and_resumed(w, args, work, pki, rtt_ms, runs):
    """Median seconds from the first connect to licensed (cold, fresh
    state), and from the reconnect's connect to LINK UP (resumed)."""
    w.shape(rtt_ms)
    cold, resumed, was_resumed = [], [], []
    for _ in range(runs):
        d = rig.Device(w, args.sublinkd, work, pki, PORTS[:1])
        try:
            t0, _ = d.wait_line(r"attempt #1: connecting")
            t1, _ = d.wait_line(r"-> licensed")
            cold.append(t1 - t0)
            mark = d.mark()
            d.wait_line(r"LINK UP")
            r = args.server_handle.admin("drop", rig.SYSTEM_ID)
            if r.returncode != 0:
                raise RuntimeError("admin drop: " + r.stderr)
            t2, _ = d.wait_line(r"attempt #\d+: connecting", after=mark)
            mark = d.mark()
            t3, line = d.wait_line(r"LINK UP", after=mark)
            resumed.append(t3 - t2)
            was_resumed.append("resum" in line)
        finally:
            d.stop()
    return statistics.median(cold), statistics.median(resumed), all(was_resumed)


def worst_link(w, args, work, pki):
    """Time to licensed at 128 kbit/s and 200 ms with every packet kept."""
    w.shape(200, 128)
    w.start_capture()
    d = rig.Device(w, args.sublinkd, work, pki, PORTS[:1])
    try:
        t0, _ = d.wait_line(r"attempt #1: connecting")
        t1, _ = d.wait_line(r"-> licensed")
        time.sleep(0.5)  # the last ACKs
    finally:
        packets = w.stop_capture()
        d.stop()
    conns = tls_records.connections(packets)
    # The connection that carried the link (a stagger attempt that lost the
    # race, or the previous run's closing packets, may show up beside it).
    link = max(conns.values(), key=lambda c: sum(p.size for p in c))
    others = {port: sum(p.size for p in c) for port, c in conns.items() if c is not link}
    s = tls_records.summary(link)
    s["other_connections_ip_bytes"] = others
    on_wire = s["device_to_server"]["ip_bytes"] + s["server_to_device"]["ip_bytes"]
    floor = 5 * 0.200 + on_wire * 8 / 128000
    return {
        "time_to_licensed_s": t1 - t0,
        "floor_s": floor,
        "ratio": (t1 - t0) / floor,
        "bytes": s,
        "certificates_der_bytes": {
            "server (bench-server.crt, no intermediate)": rig.der_size(pki + "/bench-server.crt"),
            "device (device.crt)": rig.der_size(pki + "/device.crt"),
        },
    }


def failover(w, args, work, pki, stagger_ms):
    """Seconds from the first connect to licensed with the first port
    blackholed, minus the same with no port blackholed."""
    w.shape(50)
    times = []
    for blackholed in (False, True):
        w.blackhole_port(PORTS[0], blackholed)
        extra = {} if stagger_ms is None else {"stagger_ms": stagger_ms}
        d = rig.Device(w, args.sublinkd, work, pki, PORTS, **extra)
        try:
            t0, _ = d.wait_line(r"attempt #1: connecting")
            t1, _ = d.wait_line(r"-> licensed", timeout=90)
            times.append(t1 - t0)
        finally:
            d.stop()
    w.blackhole_port(PORTS[0], False)
    return times[1] - times[0]


def idle_bytes(packets):
    """IP bytes, both directions, per exchange (a heartbeat and its ack, or a
    ping and its pong, with their ACKs): the captured bytes over the number
    of messages the device sent. Also per day at the default heartbeat."""
    exchanges = sum(1 for p in packets if p.to_server and p.payload)
    if exchanges == 0:
        raise RuntimeError("no exchange captured on the idle link")
    per_exchange = sum(p.size for p in packets) / exchanges
    return per_exchange, per_exchange * 86400 / DEFAULT_HEARTBEAT_S


def idle_link(w, args, work, pki, interval_s, seconds):
    w.shape(50)
    # sublink: a server telling a short heartbeat interval, so a day's count
    # is measured in seconds; each heartbeat costs the same at 60 s.
    server = rig.Server(w, args.server, os.path.join(work, "hb"), pki, PORTS[:1], heartbeat_s=interval_s)
    d = rig.Device(w, args.sublinkd, work, pki, PORTS[:1])
    try:
        d.wait_line(r"-> licensed")
        time.sleep(interval_s + 0.5)  # past the audit and event traffic of the start
        w.start_capture()
        time.sleep(seconds)
        sublink = w.stop_capture()
    finally:
        d.stop()
        server.stop()
    # the floor: a bare WebSocket ping/pong over the same TLS
    peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ws_ping_peer.py")
    srv = subprocess.Popen(w.command("server", [PY, peer, "server", SERVER_ADDR, str(PORTS[1]), pki]),
                           stdout=subprocess.PIPE, text=True)
    try:
        if srv.stdout.readline().strip() != "ready":
            raise RuntimeError("the WebSocket ping/pong peer did not start")
        cli = subprocess.Popen(w.command("device", [PY, peer, "client", rig.SERVER_NAME, str(PORTS[1]), pki,
                                                    str(interval_s), str(seconds + interval_s + 1)]),
                               stdout=subprocess.PIPE, text=True)
        if cli.stdout.readline().strip() != "open":
            raise RuntimeError("the WebSocket ping/pong client did not connect")
        time.sleep(interval_s + 0.5)
        w.start_capture()
        time.sleep(seconds)
        bare = w.stop_capture()
        cli.wait(seconds + 30)
    finally:
        srv.terminate()
        srv.wait()
    s_int, s_day = idle_bytes(sublink)
    b_int, b_day = idle_bytes(bare)
    return {"sublink_bytes_per_heartbeat": s_int, "sublink_bytes_per_day": s_day,
            "ws_ping_bytes_per_interval": b_int, "ws_ping_bytes_per_day": b_day, "ratio": s_int / b_int,
            "interval_measured_s": interval_s, "seconds_captured": seconds}


def main():
    parser = argparse.ArgumentParser(description="sublink link benchmarks over an emulated wire")
    parser.add_argument("--server", required=True)
    parser.add_argument("--sublinkd", required=True)
    parser.add_argument("--json", help="write the result here")
    parser.add_argument("--runs", type=int, default=3, help="runs per RTT (median)")
    parser.add_argument("--idle-s", type=float, default=20.0, help="seconds of idle link captured")
    args = parser.parse_args()
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        print("bench_link: needs root and /dev/net/tun (network namespaces and the emulated wire)")
        return 77

    result = {"benchmark": "link", "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="sublink-bench-") as work, Wire() as w:
        hosts_dir = rig.name_the_server(w)
        try:
            pki = rig.make_pki(work)
            args.server_handle = rig.Server(w, args.server, work, pki, PORTS)
            try:
                rows = []
                base_cold, base_res, _ = cold_and_resumed(w, args, work, pki, 0, args.runs)
                for rtt in (50, 100, 200):
                    cold, res, was_resumed = cold_and_resumed(w, args, work, pki, rtt, args.runs)
                    if not was_resumed:
                        raise RuntimeError(f"the reconnect at {rtt} ms did not resume the TLS session")
                    rows.append({
                        "rtt_ms": rtt,
                        "cold_s": cold, "cold_rtts": (cold - base_cold) / (rtt / 1000),
                        "cold_ratio": cold / (5 * rtt / 1000 + base_cold),
                        "resumed_s": res, "resumed_rtts": (res - base_res) / (rtt / 1000),
                        "resumed_ratio": res / (4 * rtt / 1000 + base_res),
                    })
                result["time_to_licensed"] = {"cpu_cold_s": base_cold, "cpu_resumed_s": base_res, "rows": rows,
                                              "goal_ratio": 1.05}
                result["worst_link"] = worst_link(w, args, work, pki)
                result["failover"] = {"stagger_s": failover(w, args, work, pki, None),
                                      "sequential_s": failover(w, args, work, pki, 0),
                                      "goal": "stagger under 1 s, sequential over 5 s"}
            finally:
                args.server_handle.stop()
            result["idle"] = idle_link(w, args, work, pki, 2, args.idle_s)
        finally:
            for f in os.listdir(hosts_dir):
                os.unlink(os.path.join(hosts_dir, f))
            os.rmdir(hosts_dir)

    print_table(result)
    if args.json:
        rig.write_result(args.json, result)
    return 0


def machine():
    """What the figures were measured on."""
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    debian = open("/etc/debian_version").read().strip() if os.path.exists("/etc/debian_version") else "?"
    return {"cpu": model, "cpus": os.cpu_count(), "memory_gib": round(mem_kib / 1048576, 1),
            "kernel": os.uname().release, "debian": debian, "load_average_at_start": os.getloadavg()[0],
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}


def print_table(r):
    t = r["time_to_licensed"]
    print(f"time to licensed (CPU and processes at 0 ms: cold {t['cpu_cold_s']*1000:.0f} ms, "
          f"resumed {t['cpu_resumed_s']*1000:.0f} ms)")
    print("  RTT    cold       RTTs  /floor   resumed   RTTs  /floor   (floor 5 and 4 RTT + CPU; goal <= 1.05)")
    for row in t["rows"]:
        print(f"  {row['rtt_ms']:3d} ms {row['cold_s']*1000:7.0f} ms {row['cold_rtts']:5.2f} {row['cold_ratio']:6.3f}"
              f"  {row['resumed_s']*1000:7.0f} ms {row['resumed_rtts']:5.2f} {row['resumed_ratio']:6.3f}")
    wl = r["worst_link"]
    b = wl["bytes"]
    print(f"128 kbit/s, 200 ms: licensed in {wl['time_to_licensed_s']:.2f} s, floor {wl['floor_s']:.2f} s "
          f"(5 RTT + bytes at the link rate), ratio {wl['ratio']:.3f}")
    for d in ("device_to_server", "server_to_device"):
        print(f"  {d}: {b[d]['ip_bytes']} B on the wire in {b[d]['packets']} packets; TLS handshake "
              f"{b[d]['tls_handshake_bytes']} B; application records {b[d]['application_records']}")
    print(f"  certificates (DER): {wl['certificates_der_bytes']}")
    f = r["failover"]
    print(f"failover, first port blackholed: stagger {f['stagger_s']:.2f} s, sequential {f['sequential_s']:.2f} s "
          f"({f['goal']})")
    i = r["idle"]
    print(f"idle link: {i['sublink_bytes_per_heartbeat']:.0f} B per heartbeat = {i['sublink_bytes_per_day']/1000:.1f} kB/day;"
          f" WebSocket ping/pong {i['ws_ping_bytes_per_interval']:.0f} B = {i['ws_ping_bytes_per_day']/1000:.1f} kB/day;"
          f" ratio {i['ratio']:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    sys.exit(main())
