"""A sublink-server and a sublinkd on the two sides of a Wire: the test PKI
with a server certificate for the wire's name, a provisioned database, the
device's configuration, and the device's log lines stamped as they arrive
(on the same monotonic clock as the wire's packets)."""
import json
import os
import re
import shutil
import subprocess
import threading
import time

from wire import SERVER_ADDR

SERVER_NAME = "sublink.bench"  # resolved through the device namespace's /etc/hosts
SYSTEM_ID = "SYS-0001"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def make_pki(directory):
    """tests/pki/make_pki.sh, plus a server certificate for SERVER_NAME."""
    pki = os.path.join(directory, "pki")
    subprocess.run(["sh", os.path.join(ROOT, "tests/pki/make_pki.sh"), pki], check=True, capture_output=True)
    key, csr, crt = (os.path.join(pki, "bench-server." + e) for e in ("key", "csr", "crt"))
    ext = os.path.join(pki, "bench-server.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=DNS:{SERVER_NAME}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
    run("req", "-new", "-key", key, "-subj", "/CN=" + SERVER_NAME, "-out", csr)
    run("x509", "-req", "-in", csr, "-CA", os.path.join(pki, "ca.crt"), "-CAkey", os.path.join(pki, "ca.key"),
        "-set_serial", "4242", "-days", "30", "-sha256", "-extfile", ext, "-out", crt)
    return pki


def der_size(pem_file):
    """Bytes of the DER certificate in a PEM file (what TLS sends)."""
    out = subprocess.run(["openssl", "x509", "-in", pem_file, "-outform", "DER"], check=True, capture_output=True)
    return len(out.stdout)


def stop_process(process, grace_s=10):
    """SIGTERM, then SIGKILL after grace_s: a process this benchmark started."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def provision(server_binary, directory):
    """A fleet database for SYSTEM_ID of CUST-1, entitled to trunks x4, made
    with the server's own offline commands; returns its path."""
    os.makedirs(directory, exist_ok=True)
    db = os.path.join(directory, "fleet.db")
    for args in (["init-db"], ["add-customer", "CUST-1"], ["add-system", "--customer", "CUST-1", SYSTEM_ID],
                 ["entitle", SYSTEM_ID, "trunks", "4"]):
        subprocess.run([server_binary, args[0], "--db", db, *args[1:]], check=True, capture_output=True)
    return db


def write_result(path, result):
    """The benchmark's JSON result, for bench/report.py."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)


class Device:
    """sublinkd in the device namespace; every stderr line kept with the
    monotonic time it arrived."""

    def __init__(self, wire, sublinkd, directory, pki, ports, **extra):
        self.wire = wire
        self.lines = []
        self._cond = threading.Condition()
        self.config = os.path.join(directory, "sublinkd.json")
        state = os.path.join(directory, "state")
        shutil.rmtree(state, ignore_errors=True)
        config = {
            "server": SERVER_NAME, "ports": list(ports), "customer_id": "CUST-1", "system_id": SYSTEM_ID,
            "ca_file": pki + "/ca.crt", "cert_file": pki + "/device.crt", "key_file": pki + "/device.key",
            "license_key_file": pki + "/license.pub", "state_dir": state,
            "features": [{"name": "trunks", "qty": 4}], "retry_min_s": 1, "retry_max_s": 2,
        }
        config.update(extra)
        with open(self.config, "w") as f:
            json.dump(config, f)
        self.process = subprocess.Popen(wire.command("device", [sublinkd, "--config", self.config]),
                                        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.process.stderr:
            with self._cond:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_line(self, pattern, after=0, timeout=60.0):
        """(time, line) of the first line from index `after` on matching the
        regular expression; raises when it does not come."""
        regex = re.compile(pattern)
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                for t, line in self.lines[after:]:
                    if regex.search(line):
                        return t, line
                left = end - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    tail = "\n".join(l for _, l in self.lines[-15:])
                    raise RuntimeError(f"sublinkd never logged /{pattern}/:\n{tail}")
                self._cond.wait(min(left, 0.5))

    def mark(self):
        with self._cond:
            return len(self.lines)

    def stop(self):
        stop_process(self.process)
        self._reader.join(5)


class Server:
    """sublink-server in the server namespace, listening on SERVER_ADDR."""

    def __init__(self, wire, binary, directory, pki, ports, heartbeat_s=None):
        self.binary = binary
        self.db = os.path.join(directory, "fleet.db")
        self.control = os.path.join(directory, "server.sock")
        if not os.path.exists(self.db):
            provision(binary, directory)
        argv = [binary, "--db", self.db, "--ca", pki + "/ca.crt", "--cert", pki + "/bench-server.crt",
                "--key", pki + "/bench-server.key", "--license-key", pki + "/license.key", "--bind", SERVER_ADDR,
                "--control", self.control]
        for p in ports:
            argv += ["--port", str(p)]
        if heartbeat_s is not None:
            argv += ["--heartbeat-s", str(heartbeat_s)]
        self.log = open(os.path.join(directory, "server.log"), "a")
        self.process = subprocess.Popen(wire.command("server", argv), stderr=self.log, stdout=subprocess.DEVNULL)
        end = time.monotonic() + 20
        while not os.path.exists(self.control):
            if time.monotonic() > end or self.process.poll() is not None:
                raise RuntimeError("sublink-server did not start: see " + self.log.name)
            time.sleep(0.05)

    def admin(self, *args):
        return subprocess.run([self.binary, "admin", "--control", self.control, *args], capture_output=True, text=True)

    def stop(self):
        stop_process(self.process)
        self.log.close()


def name_the_server(wire):
    """The device namespace resolves SERVER_NAME to the wire's server side
    (ip netns exec mounts /etc/netns/NAME/hosts over /etc/hosts)."""
    d = os.path.join("/etc/netns", wire.names["device"])
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "hosts"), "w") as f:
        f.write(f"127.0.0.1 localhost\n{SERVER_ADDR} {SERVER_NAME}\n")
    return d
