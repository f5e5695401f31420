"""The servers the board talks to: dnsmasq (DNS, optionally DHCP), chronyd
(NTP from the machine's clock, never setting it) and sublink-server, each
with its files in the run's temporary directory, and a readiness check
that asks each one what the board will ask."""
import os
import subprocess
import sys
import time

PROBES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "probes.py")


class ServiceFailed(Exception):
    """A service did not start; the message names it and says why."""


def dnsmasq_argv(tmp, device, plan, dhcp):
    """dnsmasq answering only from its own records: `plan.server_name` ->
    server address, no upstream (--no-resolv, no /etc/hosts), on `device`
    only. With dhcp, it leases the board its planned address, gateway, DNS
    and NTP server."""
    # --user/--group root: a change of user or group would clear the
    # die-with-parent signal (children.py), and a killed rig would leave
    # dnsmasq behind.
    argv = ["dnsmasq", "--keep-in-foreground", "--user=root", "--group=root", "--conf-file=/dev/null",
            "--no-resolv", "--no-hosts", "--interface=" + device, "--bind-interfaces",
            "--pid-file=" + os.path.join(tmp, "dnsmasq.pid"), "--log-facility=-", "--log-queries", "--log-dhcp",
            "--host-record=%s,%s" % (plan.server_name, plan.server_address)]
    if dhcp:
        netmask = _netmask(int(plan.board_cidr.split("/")[1]))
        argv += ["--dhcp-range=%s,%s,%s,1h" % (plan.board_address, plan.board_address, netmask),
                 "--dhcp-option=option:router," + plan.gateway,
                 "--dhcp-option=option:dns-server," + ",".join(plan.dns),
                 "--dhcp-option=option:ntp-server," + plan.ntp,
                 "--dhcp-leasefile=" + os.path.join(tmp, "dnsmasq.leases"), "--dhcp-authoritative"]
    return argv


def _netmask(bits):
    value = (0xFFFFFFFF << (32 - bits)) & 0xFFFFFFFF
    return ".".join(str((value >> s) & 0xFF) for s in (24, 16, 8, 0))


def chronyd_argv(chronyd, tmp, plan):
    """chronyd serving NTP on the gateway address from the machine's clock
    at stratum 8. -x: it never adjusts the machine's clock; its pid, drift
    and command socket stay in tmp or are off."""
    conf = os.path.join(tmp, "chrony.conf")
    with open(conf, "w") as f:
        f.write("local stratum 8\n"
                "allow 192.0.2.0/24\n"
                "bindaddress %s\n"
                "cmdport 0\n"
                "bindcmdaddress /\n"
                "pidfile %s\n"
                "driftfile %s\n" % (plan.ntp, os.path.join(tmp, "chronyd.pid"), os.path.join(tmp, "chrony.drift")))
    return [chronyd, "-x", "-d", "-4", "-u", "root", "-f", conf]


def provision_db(server, db, customer_id, system_id, features):
    """A fresh server database with the board's customer, system and
    entitlements (features: [(name, qty)])."""
    steps = [["init-db"], ["add-customer", customer_id], ["add-system", "--customer", customer_id, system_id]]
    steps += [["entitle", system_id, name, str(qty)] for name, qty in features]
    for step in steps:
        result = subprocess.run([server, step[0], "--db", db, *step[1:]], capture_output=True, text=True)
        if result.returncode != 0:
            raise ServiceFailed("sublink-server %s: %s" % (" ".join(step), result.stderr.strip()))


def server_argv(server, db, pki, bind, ports, heartbeat_s):
    """sublink-server on `bind` and `ports` with the run's PKI and db."""
    argv = [server, "--db", db, "--ca", pki.ca, "--cert", pki.server_cert, "--key", pki.server_key,
            "--license-key", pki.license_key, "--bind", bind, "--heartbeat-s", str(heartbeat_s), "--verbose"]
    for port in ports:
        argv += ["--port", str(port)]
    return argv


def probe_argv(*args):
    """The probes command line (run it inside the namespace as needed)."""
    return [sys.executable, PROBES, *args]


def wait_ready(name, proc, argv, timeout_s, log_path):
    """Runs the probe argv until it succeeds; fails naming the service when
    its process exits first or timeout_s passes. Returns the probe's
    output."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        if proc.poll() is not None:
            raise ServiceFailed("%s exited with status %s before answering:\n%s"
                                % (name, proc.returncode, _tail(log_path)))
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode == 0:
            return result.stdout.strip()
        last = result.stderr.strip()
        if time.monotonic() > deadline:
            raise ServiceFailed("%s did not answer within %.0f s (%s):\n%s" % (name, timeout_s, last, _tail(log_path)))
        time.sleep(0.2)


def _tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""
