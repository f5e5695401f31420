#!/usr/bin/python3
"""Writes docs/performance.md from the benchmarks' JSON results.

  bench/report.py build/bench > docs/performance.md

Each result names its benchmark ("benchmark": "link", ...) and the machine
it ran on; a section is written for each result present.
"""
import json
import os
import sys


def pct(x):
    return f"{x:.3f}"


def link_section(r):
    out = ["## The link (`bench/link/bench_link.py`)", "",
           "A real `sublinkd` and a real `sublink-server` in two network namespaces joined by an emulated wire",
           "(`bench/link/wire.py`: every IP packet delayed by half the RTT and paced at the link rate, the TCP",
           "handshake included).", "",
           "```", "bench/link/bench_link.py --server build/host/bin/sublink-server \\",
           "    --sublinkd build/host/bin/sublinkd --json build/bench/link.json", "```", ""]
    t = r["time_to_licensed"]
    out += ["### Time to licensed, in round trips", "",
            f"Floors: cold 5 RTT (TCP, two for TLS 1.2, the upgrade, hello and license pipelined), resumed 4 RTT;",
            f"plus the CPU and process time of the same run at 0 ms (cold {t['cpu_cold_s']*1000:.0f} ms, "
            f"resumed {t['cpu_resumed_s']*1000:.0f} ms). Goal: within 5% (ratio at most 1.05). Median of the runs.", "",
            "| RTT | cold | RTTs | ratio to floor | resumed | RTTs | ratio to floor |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for row in t["rows"]:
        out.append(f"| {row['rtt_ms']} ms | {row['cold_s']*1000:.0f} ms | {row['cold_rtts']:.2f} | {pct(row['cold_ratio'])} "
                   f"| {row['resumed_s']*1000:.0f} ms | {row['resumed_rtts']:.2f} | {pct(row['resumed_ratio'])} |")
    wl = r["worst_link"]
    b = wl["bytes"]
    certs = wl["certificates_der_bytes"]
    out += ["", "### The seed's worst link: 128 kbit/s, 200 ms RTT", "",
            f"Licensed in {wl['time_to_licensed_s']:.2f} s against a floor of {wl['floor_s']:.2f} s (5 RTT plus every byte",
            f"of the handshake at the link rate): ratio {pct(wl['ratio'])}.", "",
            "| direction | IP bytes | packets | TLS handshake records | application records, in order |",
            "|---|---:|---:|---:|---|"]
    for d, name in (("device_to_server", "device to server"), ("server_to_device", "server to device")):
        out.append(f"| {name} | {b[d]['ip_bytes']} | {b[d]['packets']} | {b[d]['tls_handshake_bytes']} "
                   f"| {', '.join(str(n) for n in b[d]['application_records'])} |")
    out += ["", "Certificates in the handshake (DER): " + "; ".join(f"{k}: {v} B" for k, v in certs.items()) + ".",
            "The application records are, device to server: the upgrade request, hello, then the license",
            "request and the first events; server to device: the 101 response, welcome, the license grant.", "",
            "What a vendor can do to shrink them: ECDSA P-256 chains (an RSA-2048 certificate is about 3 times the",
            "size of these), no intermediate certificate (each adds about 400 B each way), short names in the",
            "certificates, and no extra extensions. TLS records are already as small as the messages.", ""]
    f = r["failover"]
    out += ["### Failover with the first port blackholed", "",
            f"Extra time to licensed when port 443 drops every packet, at 50 ms RTT: sublink's stagger "
            f"{f['stagger_s']:.2f} s, the strict sequential policy (`stagger_ms` 0) {f['sequential_s']:.2f} s. "
            f"Goal: {f['goal']}.", ""]
    i = r["idle"]
    out += ["### Bytes on the wire of an idle link", "",
            f"IP bytes both ways per heartbeat: {i['sublink_bytes_per_heartbeat']:.0f} B, "
            f"{i['sublink_bytes_per_day']/1000:.1f} kB a day at the default 60 s; a bare WebSocket ping/pong over",
            f"the same TLS at the same interval (python3-websockets both ends): {i['ws_ping_bytes_per_interval']:.0f} B,"
            f" {i['ws_ping_bytes_per_day']/1000:.1f} kB a day. Ratio {i['ratio']:.2f}, goal at most 1.5.",
            f"(Measured at a {i['interval_measured_s']} s interval for {i['seconds_captured']:.0f} s; each "
            "heartbeat costs the same at 60 s.)", ""]
    return out


def link_memory_section(r):
    out = ["## Memory holding a link (`bench/link_memory/bench_link_memory.py`)", "",
           "`sublinkd` licensed and idle on its link to a `sublink-server` on loopback, then, on the same link to the",
           "same server, a minimal client on Debian's libwebsockets (`bench/link_memory/lws_client.c`, OpenSSL) and",
           "one on python3-websockets, each measured while it holds the link. Goal: `sublinkd` below both.", "",
           "```", "bench/link_memory/bench_link_memory.py --server build/host/bin/sublink-server \\",
           "    --sublinkd build/host/bin/sublinkd --lws-client build/host/bin/bench_lws_client \\",
           "    --json build/bench/link_memory.json", "```", "",
           "| client | Rss KiB | anonymous KiB | [heap] KiB | sublinkd's Rss / this | sublinkd's anonymous / this |",
           "|---|---:|---:|---:|---:|---:|"]
    me = r["sublinkd"]
    for k, name in (("sublinkd", "sublinkd"), ("libwebsockets", "libwebsockets client"),
                    ("python3_websockets", "python3-websockets client")):
        m = r[k]
        out.append(f"| {name} | {m['rss_kib']} | {m['anonymous_kib']} | {m['heap_kib']} "
                   f"| {me['rss_kib'] / m['rss_kib']:.2f} | {me['anonymous_kib'] / m['anonymous_kib']:.2f} |")
    return out + [""]


def link_cpu_section(r):
    out = ["## CPU instructions (`bench/link_cpu/bench_link_cpu.py`)", "",
           "`sublinkd` under callgrind (Debian's valgrind) against a `sublink-server` on loopback; each phase dumped",
           "at a quiet moment. Self cost of every function, by where its source lives. Goal: the whole at most 5%",
           "beyond Mbed TLS on a handshake (total / Mbed TLS at most 1.05). A call to `memset`, `memcpy` and the like is",
           "charged to the code that made it (Mbed TLS zeroizes and copies its buffers through them).", "",
           "```", "bench/link_cpu/bench_link_cpu.py --server build/host/bin/sublink-server \\",
           "    --sublinkd build/host/bin/sublinkd --json build/bench/link_cpu.json", "```", "",
           "| phase | instructions | Mbed TLS | sublink | cJSON | C library and the rest | total / Mbed TLS |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for phase, name in (("cold", "cold handshake, to licensed"), ("resumed", "resumed handshake, to welcome"),
                        ("heartbeat", f"one heartbeat (mean of {r['heartbeats']})")):
        p = r[phase]
        out.append(f"| {name} | {p['total']:,.0f} | {p['mbedtls']:,.0f} | {p['sublink']:,.0f} | {p['cjson']:,.0f} "
                   f"| {p['libc_and_rest']:,.0f} | {p['total'] / p['mbedtls']:.3f} |")
    return out + [""]


SECTIONS = {"link": link_section, "link_memory": link_memory_section, "link_cpu": link_cpu_section}


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: bench/report.py RESULTS_DIR > docs/performance.md")
    results = []
    for name in sorted(os.listdir(argv[1])):
        if name.endswith(".json"):
            with open(os.path.join(argv[1], name)) as f:
                results.append(json.load(f))
    results = [r for r in results if r.get("benchmark") in SECTIONS]
    if not results:
        sys.exit(f"bench/report.py: no benchmark results in {argv[1]}")
    m = results[0]["machine"]
    out = ["# Performance", "",
           "Every figure is a ratio against a floor or a peer measured in the same run; regenerate with the",
           "benchmark's command, then `bench/report.py build/bench > docs/performance.md`.", "",
           f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB, Linux {m['kernel']}, Debian {m['debian']};"
           f" measured {m['date_utc']} UTC with a load average of {m['load_average_at_start']:.1f} at the start.", ""]
    for r in results:
        out += SECTIONS[r["benchmark"]](r)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv)
