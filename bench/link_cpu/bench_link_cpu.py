#!/usr/bin/python3
"""bench_link_cpu: CPU instructions sublinkd spends per cold handshake (to
licensed), per resumed handshake (to LINK UP) and per heartbeat, counted by
callgrind (Debian's valgrind), split into Mbed TLS, sublink's own code,
cJSON, and the C library and the rest. Goal: the agent (all but Mbed TLS)
at most 5% beyond Mbed TLS on a handshake.

The daemon runs under callgrind against a sublink-server on loopback; each
phase is dumped at a quiet moment (callgrind_control --dump):
  startup    configuration, keys, the state, a first attempt to a port the
             server keeps closed (not counted)
  cold       the port opened: TCP, full TLS 1.2 handshake, upgrade, hello,
             the license verified and applied, its event
  resumed    the link dropped by the server, the reconnect with the TLS
             session resumed, to welcome
  heartbeats N heartbeats at a 2 s interval, divided by N

  bench/link_cpu/bench_link_cpu.py --server build/host/bin/sublink-server \\
      --sublinkd build/host/bin/sublinkd --json build/bench/link_cpu.json
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "bench", "link"))
import rig  # noqa: E402
from bench_link import machine  # noqa: E402

HEARTBEAT_S = 2
HEARTBEATS = 5


class Log:
    """The daemon's stderr lines with their arrival times."""

    def __init__(self, stream):
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        for line in stream:
            with self.cond:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.lines)

    def wait(self, pattern, after=0, timeout=500):
        regex = re.compile(pattern)
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, line in self.lines[after:]:
                    if regex.search(line):
                        return t
                if time.monotonic() > end:
                    raise RuntimeError(f"sublinkd never logged /{pattern}/: " +
                                       " | ".join(l for _, l in self.lines[-8:]))
                self.cond.wait(0.5)


def classify(path):
    path = os.path.normpath(path)  # build/host/../../firmware/x.cpp -> firmware/x.cpp
    if "/mbedtls/" in path:
        return "mbedtls"
    if "/cjson/" in path:
        return "cjson"
    if path.startswith(ROOT + "/"):
        path = os.path.relpath(path, ROOT)
    if path.split("/", 1)[0] in ("firmware", "net", "hal", "boards", "tools"):
        return "sublink"
    return "libc_and_rest"


# Leaf routines of the C library that the code calling them is charged for:
# Mbed TLS zeroizes and copies its buffers through them.
CHARGED_TO_CALLER = re.compile(r"^(__)?(memset|memcpy|memmove|memcmp|bcmp)")


def split(dump):
    """Instructions of one callgrind dump (written with --compress-strings=no
    --compress-pos=no) by component: every function's self cost by where its
    source lives, except that a call to memset, memcpy and the like is
    charged to the component that made it."""
    parts = {"mbedtls": 0, "sublink": 0, "cjson": 0, "libc_and_rest": 0}
    total = None
    file = called = None
    in_call = False
    with open(dump) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("summary:"):
                total = int(line.split()[1])
            elif line.startswith("fl="):
                file = line[3:]
            elif line.startswith("fn="):
                pass
            elif line.startswith("cfn="):
                called = line[4:]
            elif line.startswith("calls="):
                in_call = True
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                cost = int(line.split()[1]) if len(line.split()) > 1 else 0
                if in_call:
                    in_call = False
                    if CHARGED_TO_CALLER.match(called or ""):
                        parts["libc_and_rest"] -= cost
                        parts[classify(file)] += cost
                else:
                    parts[classify(file)] += cost
    if total is None:
        raise RuntimeError(f"{dump}: no summary line")
    counted = sum(parts.values())
    if counted != total:
        raise RuntimeError(f"{dump}: functions add up to {counted} instructions of {total}")
    parts["total"] = total
    return parts


def main():
    parser = argparse.ArgumentParser(description="CPU instructions per handshake and per heartbeat")
    parser.add_argument("--server", required=True)
    parser.add_argument("--sublinkd", required=True)
    parser.add_argument("--json")
    parser.add_argument("--keep", help="keep the callgrind dumps in this folder (callgrind_annotate them)")
    args = parser.parse_args()
    result = {"benchmark": "link_cpu", "machine": machine(), "heartbeat_interval_s": HEARTBEAT_S,
              "heartbeats": HEARTBEATS}
    with tempfile.TemporaryDirectory(prefix="sublink-bench-") as work:
        pki = os.path.join(work, "pki")
        subprocess.run(["sh", os.path.join(ROOT, "tests/pki/make_pki.sh"), pki], check=True, capture_output=True)
        db = rig.provision(args.server, work)
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        control = os.path.join(work, "server.sock")
        slog = open(os.path.join(work, "server.log"), "w")
        server = subprocess.Popen([args.server, "--db", db, "--ca", pki + "/ca.crt", "--cert", pki + "/server.crt",
                                   "--key", pki + "/server.key", "--license-key", pki + "/license.key",
                                   "--bind", "127.0.0.1", "--port", str(port), "--control", control,
                                   "--heartbeat-s", str(HEARTBEAT_S)], stderr=slog)
        admin = lambda *a: subprocess.run([args.server, "admin", "--control", control, *a],
                                          capture_output=True, text=True, check=True)
        daemon = None
        try:
            end = time.monotonic() + 20
            while not os.path.exists(control):
                if time.monotonic() > end:
                    raise RuntimeError("sublink-server did not start")
                time.sleep(0.05)
            admin("port", str(port), "stop")
            config = os.path.join(work, "sublinkd.json")
            with open(config, "w") as f:
                json.dump({"server": "localhost", "ports": [port], "customer_id": "CUST-1", "system_id": "SYS-0001",
                           "ca_file": pki + "/ca.crt", "cert_file": pki + "/device.crt",
                           "key_file": pki + "/device.key", "license_key_file": pki + "/license.pub",
                           "state_dir": os.path.join(work, "state"), "features": [{"name": "trunks", "qty": 4}],
                           "retry_min_s": 4, "retry_max_s": 5}, f)
            out = os.path.join(work, "callgrind.out")
            daemon = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                                       "--dump-instr=no", "--compress-strings=no", "--compress-pos=no", args.sublinkd, "--config", config],
                                      stderr=subprocess.PIPE, text=True)
            log = Log(daemon.stderr)
            dump = lambda: subprocess.run(["callgrind_control", "--dump", str(daemon.pid)], capture_output=True,
                                          check=True)
            log.wait(r"attempt #1 .*FAILED|attempt #1: .*refused")
            time.sleep(0.5)
            dump()  # startup
            admin("port", str(port), "start")
            up = log.wait(r"LINK UP")
            log.wait(r"-> licensed")
            # quiet: mid-way between two heartbeats (they fire every
            # HEARTBEAT_S from welcome), so the next window holds exactly
            # HEARTBEATS of them
            time.sleep((HEARTBEAT_S / 2 - (time.monotonic() - up)) % HEARTBEAT_S)
            dump()  # cold
            time.sleep(HEARTBEATS * HEARTBEAT_S)
            dump()  # heartbeats
            mark = log.mark()
            admin("drop", "SYS-0001")
            log.wait(r"LINK UP", after=mark)
            time.sleep(HEARTBEAT_S / 2)
            dump()  # resumed
            resumed_line = [l for _, l in log.lines[mark:] if "LINK UP" in l][0]
            result["resumed_tls"] = "resum" in resumed_line
        finally:
            if daemon is not None and daemon.poll() is None:
                daemon.terminate()
                daemon.wait(60)
            server.terminate()
            server.wait(10)
            slog.close()
        dumps = sorted(glob.glob(out + ".*"), key=lambda p: int(p.rsplit(".", 1)[1]))
        if len(dumps) < 4:
            raise RuntimeError(f"expected four callgrind dumps, found {len(dumps)}")
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            for d, name in zip(dumps, ("startup", "cold", "heartbeats", "resumed")):
                subprocess.run(["cp", d, os.path.join(args.keep, "callgrind." + name)], check=True)
        _, cold, beats, resumed = (split(d) for d in dumps[:4])
        result["cold"] = cold
        result["resumed"] = resumed
        result["heartbeat"] = {k: v / HEARTBEATS for k, v in beats.items()}
    print(f"{'phase':<12} {'total Ir':>12} {'Mbed TLS':>12} {'sublink':>10} {'cJSON':>8} {'libc+rest':>10} "
          f"{'total/Mbed TLS':>15}")
    for phase in ("cold", "resumed", "heartbeat"):
        p = result[phase]
        ratio = p["total"] / p["mbedtls"] if p["mbedtls"] else float("inf")
        print(f"{phase:<12} {p['total']:>12.0f} {p['mbedtls']:>12.0f} {p['sublink']:>10.0f} {p['cjson']:>8.0f} "
              f"{p['libc_and_rest']:>10.0f} {ratio:>15.3f}")
    print("goal: total / Mbed TLS at most 1.05 on a handshake")
    if args.json:
        rig.write_result(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
