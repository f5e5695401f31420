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


def server_links_section(r):
    out = ["## The server holding a fleet (`bench_server_links`)", "",
           "One `sublink-server` on loopback takes on links from a load client in the same run (mutual TLS, the",
           "upgrade, hello and a signed license per link, each device its own certificate), then holds them idle",
           "with heartbeats going. The rate of links per CPU-second of the server is set against this machine's",
           "ECDSA P-256 signing rate and against the floor of Mbed TLS's own server handshake plus one license",
           "signature, both measured in the same run.", "",
           "```", f"build/host/bin/bench_server_links --server build/host/bin/sublink-server --links {r['links']:.0f} \\",
           "    --json build/bench/server_links.json", "```", "",
           "| figure | measured | goal |", "|---|---:|---:|",
           f"| links held after {r['hold_s']:.0f} s idle | {r['links_held']:.0f} of {r['links']:.0f} | all |"]
    if "links_per_signature" in r:
        out += [f"| server CPU per link | {r['server_cpu_ms_per_link']:.2f} ms | |",
                f"| links per CPU-second / signatures per CPU-second | {r['links_per_signature']:.3f} "
                f"({r['links_per_cpu_s']:.0f} / {r['signatures_per_cpu_s']:.0f}) | at least 0.2 |",
                f"| a link in signatures of CPU | {1 / r['links_per_signature']:.1f} | at most 5 |",
                f"| the floor (Mbed TLS server handshake {r['floor_handshake_ms']:.2f} ms + one signature) "
                f"| {r['floor_ms_per_link']:.2f} ms = {r['floor_signatures_per_link']:.1f} signatures | |",
                f"| a link against the floor | {r['server_cpu_ms_per_link'] / r['floor_ms_per_link']:.2f} x | |"]
    if "memory_per_link_kib" in r:
        out.append(f"| server memory per link | {r['memory_per_link_kib']:.1f} KiB (floor: an idle Mbed TLS session, "
                   f"{r['memory_floor_kib']:.1f} KiB) | |")
    if "hold_cpu_percent" in r:
        out.append(f"| holding, heartbeat every {r['heartbeat_s']:.0f} s | {r['hold_cpu_percent']:.1f}% of a core | |")
    if "floor_signatures_per_link" in r:
        out += ["", "The goal of 0.2 links per signature (5 signatures a link) is below the floor this Mbed TLS allows:",
                "its own server handshake (ECDHE, the server's signature, the client certificate's verification)",
                f"costs {r['floor_signatures_per_link'] - 1:.1f} signatures of CPU before sublink does anything, and the",
                "license grant one more. What is left above the floor is sublink's share."]
    out.append("")
    return out


def fleet_sim_section(r):
    out = ["## A simulated fleet through one day (`bench_fleet_sim`)", "",
           f"{r['devices']} devices, each the real agent with real TLS and its own certificate, through one simulated",
           f"day in one process: {r['flaps_per_device']} link flaps per device (10 s to 4 min) and a server restart",
           "at noon, every device's day checked (licensed, linked, no alarm, no grace running, no event left, every",
           "outage followed by a link, the model's invariants at every step).", "",
           "```", f"build/host/bin/bench_fleet_sim --devices {r['devices']} --json build/bench/fleet_sim.json", "```", "",
           "| figure | measured | goal |", "|---|---:|---:|",
           f"| the day, wall time | {r['day_wall_s']:.1f} s ({r['day_cpu_s']:.1f} s CPU) = "
           f"{r['day_wall_s'] / r['goal_s']:.2f} x the goal | under {r['goal_s']:.0f} s |",
           f"| links | {r['links']} ({r['resumed']} resumed TLS), {r['min_links']}..{r['max_links']} per device | |",
           f"| devices that missed their day | {r['devices_missed']} | 0 |",
           f"| grace alarms | {r['alarms']} | 0 |",
           f"| invariants broken | {r['invariants_broken']} | 0 |", ""]
    return out


def storm_sim_section(r):
    out = ["## A reconnection storm (`bench_storm_sim`)", "",
           f"{r['devices']} simulated devices (the real agent, real TLS, each its own certificate) linked to the",
           f"simulated server, which then stops for {r['outage_s'] / 3600:.0f} h as a real process would: connections",
           "reset and its TLS sessions forgotten, so every device comes back with a full handshake, retrying with",
           "the agent's own backoff and jitter. The server's sustainable rate is links per CPU-second of its own",
           "work in this run (TLS, WebSocket, hello, license signed), metered apart from the devices'.", "",
           "```", f"build/host/bin/bench_storm_sim --devices {r['devices']} --json build/bench/storm_sim.json", "```", "",
           "| figure | measured | goal |", "|---|---:|---:|",
           f"| peak links taken on in one second / sustainable | {r['peak_links_1s']} / "
           f"{r['sustainable_links_per_s']:.0f} = {r['peak_ratio']:.2f} x | at most {r['goal_peak_ratio']:.0f} x |",
           f"| peak over 10 s | {r['peak_links_per_s_10s']:.1f} links/s | |",
           f"| all back after the server's return | {r['all_back_s']:.0f} s | within {r['goal_all_back_s']:.0f} s |",
           f"| links after the return | {r['links_after_return']} ({r['resumed']} resumed) | |",
           f"| devices not licensed and linked at the end | {r['devices_missed']} | 0 |", ""]
    return out


def footprint_section(text):
    """The mps2-an385 image against its goals: the tail of tools/footprint's report."""
    # Paths as the repository names them, not this checkout's.
    text = text.replace(os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/", "")
    text = text.replace("(/tmp/", "(").replace("run-time peaks (", "run-time peaks (console log ")
    start = text.find("run-time peaks")
    head = text.split("\n\nbiggest items")[0].strip()
    return ["## Footprint of the mps2-an385 image (`tools/footprint/footprint.py`)", "",
            "The board's image from the `mps2-an385` preset, with the run-time peaks of a run under QEMU",
            "(`tests/mps2/mps2_net_test.py`, its console log), as CI prints them on every run:", "",
            "```", "tests/mps2/mps2_net_test.py --server build/host/bin/sublink-server \\",
            "    --image build/mps2-an385/bin/sublink-mps2.elf --console-log build/mps2-an385/net-test-console.log",
            "tools/footprint/footprint.py build/mps2-an385/bin/sublink-mps2.map \\",
            "    --console build/mps2-an385/net-test-console.log > build/bench/footprint.txt", "```", "",
            "```", head, "", text[start:].strip() if start >= 0 else "(no run-time peaks: no console log given)",
            "```", ""]


def measured(r):
    m = r.get("machine")
    if not m:
        return []
    return [f"Measured {m['date_utc']} UTC, load average {m['load_average_at_start']:.1f} at the start.", ""]


def tunnel_section(r):
    b = r["bound"]
    g = r["goals"]
    out = ["## Tunnels (`bench/tunnel/bench_tunnel.py`)", "",
           "One tunnel channel through the real programs, `sublink-server admin forward` and `sublinkd`, to a local",
           "byte service behind the agent, against a plain TCP copy of the same bytes over the same path (one TCP",
           "connection, through the same emulated wire for the relay cases). Each transfer is timed at the operator's",
           "end from its connect to its last byte; get: the service sends, put: the operator sends. The channel",
           "rides the link's TCP connection, already open and past its slow start, where the peer's connection",
           "starts cold: so at 200 ms the channel can pass the peer. The Linux default",
           f"window ({b['linux']['window'] // 1024} KiB) throughout.", "",
           "```", "bench/tunnel/bench_tunnel.py --server build/host/bin/sublink-server \\",
           "    --sublinkd build/host/bin/sublinkd \\",
           "    --memory-bound build/host/bin/bench_tunnel_memory_bound --json build/bench/tunnel.json", "```", "",
           "| path | direction | channel | plain TCP | channel / TCP | goal |", "|---|---|---:|---:|---:|---:|"]
    for case, goal in (("loopback", g["loopback"]), ("relay", g["relay"])):
        c = r[case]
        where = "loopback" if case == "loopback" else f"{c['rtt_ms']} ms RTT, {c['rate_kbit'] / 1000:g} Mbit/s"
        for d in ("get", "put"):
            x = c[d]
            out.append(f"| {where}, {c['bytes'] >> 20} MiB | {d} | {x['tunnel_bytes_per_s'] / 1e6:.2f} MB/s "
                       f"| {x['peer_bytes_per_s'] / 1e6:.2f} MB/s | {pct(x['ratio'])} | at least {goal} |")
    w = r["worst_link"]
    out += ["", f"The seed's worst link, {w['rtt_ms']} ms RTT at {w['rate_kbit']} kbit/s, {w['bytes'] >> 10} KiB each way"
            f" (goal: the channel's payload at least {g['worst_link']} of the link rate, which counts IP bytes):", "",
            "| direction | channel / link rate | plain TCP / link rate |", "|---|---:|---:|"]
    for d in ("get", "put"):
        out.append(f"| {d} | {pct(w[d]['ratio'])} | {pct(w[d]['peer_ratio'])} |")
    lo = r["loopback"]
    busy = max(max(lo[d]["sublinkd_cpu_s"], lo[d]["server_cpu_s"]) * lo[d]["tunnel_bytes_per_s"] / lo["bytes"]
               for d in ("get", "put"))
    out += ["", "Where the time goes on loopback (CPU seconds of the best run, for "
            f"{lo['bytes'] >> 20} MiB: "
            + "; ".join(f"{d} sublinkd {lo[d]['sublinkd_cpu_s']:.2f} s, sublink-server {lo[d]['server_cpu_s']:.2f} s"
                        for d in ("get", "put")) + "). The channel carries every byte through TLS twice (sealed by one",
            "program, opened by the other) where the peer copies it once. `perf record -g -p` of both programs during",
            "a 256 MiB get: 62% of their samples in Mbed TLS's AES-GCM (`mbedtls_aesni_gcm_mult`,",
            "`mbedtls_aesni_crypt_ecb`, `gcm_mult`, `mbedtls_gcm_update`: GHASH one 16-byte block at a time), 25% in",
            "the kernel's loopback TCP (TLS records are 2 KiB from the device and 4 KiB from the server, the size of",
            "their ciphertext queues, each one `send` and one `recv`), 9% in the WebSocket masking (a byte at a",
            "time, both ends) and under 1% in the tunnel table. In this run each program was busy at most "
            f"{busy:.0%} of",
            "the transfer's time: four processes (the operator, the server, the agent, the service) take turns on",
            "the machine's cores with whatever else runs. So the loopback goal is out of reach with this TLS: a",
            "faster GHASH or larger records on Linux would move it, the tunnel code would not.", ""]
    mem = r["memory"]
    per = (mem["rss_anon_stalled_kib"] - mem["rss_anon_idle_kib"]) / mem["channels"]
    out += ["### Memory per open channel", "",
            f"Measured: `sublinkd`'s anonymous resident memory went from {mem['rss_anon_idle_kib']} KiB to "
            f"{mem['rss_anon_stalled_kib']} KiB with {mem['channels']} channels stalled both ways (the service and the",
            f"operator read nothing, so each channel holds what its credit lets in): {per:.0f} KiB per channel.",
            "A stalled channel holds between half its window and all of it (credit is renewed once half the window",
            "is free, so up to half of what was passed on is not yet renewed when it stalls): the measured figure lies",
            "between half the bound per channel and the bound, with the pages the queues are resident in and what",
            "else the agent did meanwhile (the channels' events). Stated (`TunnelService::memory_bound()`: the channel table's queues and slots, the",
            "service and its per-channel records), from the host build: for the board an upper bound, as its 32-bit",
            "records are smaller and its send queue holds one lwIP read, not a 16 KiB socket read (the board's own",
            "figure is in its footprint report):", "",
            "| configuration | window | send queue | per channel | constant | channels | bound |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for k, name in (("linux", "Linux default"), ("board", "board")):
        x = b[k]
        out.append(f"| {name} | {x['window']} B | {x['send_queue']} B | {x['per_channel_bytes']} B "
                   f"| {x['constant_bytes']} B | {x['max_channels']} | {x['bound_bytes']} B |")
    return out + [""]


# The order of the sections: the link, then tunnels, then the server and fleets.
ORDER = ["link", "link_cpu", "link_memory", "tunnel", "server_links", "fleet_sim", "storm_sim"]
SECTIONS = {"link": link_section, "link_memory": link_memory_section, "link_cpu": link_cpu_section,
            "server_links": server_links_section, "fleet_sim": fleet_sim_section, "storm_sim": storm_sim_section,
            "tunnel": tunnel_section}


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: bench/report.py RESULTS_DIR > docs/performance.md")
    results = []
    for name in sorted(os.listdir(argv[1])):
        if name.endswith(".json"):
            with open(os.path.join(argv[1], name)) as f:
                results.append(json.load(f))
    results = [r for r in results if r.get("benchmark") in SECTIONS]
    results.sort(key=lambda r: ORDER.index(r["benchmark"]))
    if not results:
        sys.exit(f"bench/report.py: no benchmark results in {argv[1]}")
    m = next(r["machine"] for r in results if "machine" in r)
    out = ["# Performance", "",
           "Every figure is a ratio against a floor or a peer measured in the same run; regenerate with the",
           "benchmark's command, then `bench/report.py build/bench > docs/performance.md`.", "",
           f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gib']} GiB, Linux {m['kernel']}, Debian {m['debian']};"
           f" measured {m['date_utc']} UTC with a load average of {m['load_average_at_start']:.1f} at the start"
           " (each section below names its own run).", ""]
    for r in results:
        out += SECTIONS[r["benchmark"]](r) + measured(r)
    footprint = os.path.join(argv[1], "footprint.txt")
    if os.path.exists(footprint):
        with open(footprint) as f:
            out += footprint_section(f.read())
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv)
