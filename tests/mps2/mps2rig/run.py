"""One run of the network test: set up the network and servers, start the
board, follow its console through link, license and heartbeat, fetch its
status page through the server (status_page.py), then server stop and
grace, and take everything down again whatever happened."""
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Optional

from . import board, netns, pki, plan, services, status_page, steps
from .children import Children
from .console import Console, StepFailed

TAP = "tap0"


@dataclass
class Options:
    """What main() parsed; see mps2_net_test.py --help."""
    server: str
    image: Optional[str]          # None: the stand-in board
    qemu: str = "qemu-system-arm"
    chronyd: str = "chronyd"
    net: str = "netns"            # or "user"
    dhcp: bool = False
    no_clock: bool = False        # user network, no clock and no NTP answer
    heartbeat_s: int = 5
    scale: float = 1.0
    console_log: Optional[str] = None
    keep: bool = False
    verbose: bool = False


class Run:
    """The state of one run; run() returns the exit status."""

    def __init__(self, options, out):
        self.o = options
        self.out = out                      # where the report goes (text stream)
        if options.net == "netns":
            self.plan = plan.NETNS
        else:
            self.plan = plan.USER_NO_CLOCK if options.no_clock else plan.USER
        self.tmp = tempfile.mkdtemp(prefix="sublink-mps2-")
        self.children = Children()
        self.ns = None
        self.logs = {}                      # service name -> log path

    def say(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    def run(self):
        try:
            return self._run()
        except StepFailed as e:
            self.say("FAIL: %s" % e)
            self._show_logs()
            return 1
        except (services.ServiceFailed, subprocess.CalledProcessError, RuntimeError) as e:
            detail = getattr(e, "stderr", "") or ""
            self.say("FAIL: setting up the test network: %s %s" % (e, detail.strip()))
            self._show_logs()
            return 1
        finally:
            self.children.stop_all()
            if self.ns:
                self.ns.delete()
            if self.o.keep:
                self.say("kept %s" % self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)

    def _run(self):
        keys = pki.make(os.path.join(self.tmp, "pki"), board.SYSTEM_ID, self.plan.server_sans)
        db = os.path.join(self.tmp, "server.db")
        services.provision_db(self.o.server, db, board.CUSTOMER_ID, board.SYSTEM_ID, board.FEATURES)
        if self.o.net == "netns":
            nic = self._start_namespace(keys, db)
        else:
            nic = self._start_user_network(keys, db)

        config = os.path.join(self.tmp, "board.json")
        deadline_s = int(300 * self.o.scale)
        board.write_config(config, self.plan, keys, os.path.join(self.tmp, "flash.bin"), self.o.dhcp, deadline_s)
        if self.o.image:
            argv = board.qemu_argv(self.o.qemu, os.path.abspath(self.o.image), config, nic)
        else:
            argv = board.standin_argv(config)
        if self.ns:
            argv = self.ns.exec_argv(argv)
        console_log = self.o.console_log or os.path.join(self.tmp, "console.log")
        self.logs["console"] = console_log
        with open(console_log, "w") as log:
            proc = self.children.start("board", argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            console = Console(proc.stdout, log, echo=(lambda line: self.say("| " + line)) if self.o.verbose else None)
            self._follow(console, proc, db)
        return 0

    def _follow(self, console, proc, db):
        link = steps.link_phase(self.plan, self.o.heartbeat_s, self.o.scale)
        grace = steps.grace_phase(self.o.scale)
        console.wait(link, known=grace)
        self.say("ok: %s" % ", ".join("%s (%.1f s)" % (m.name, console.seen[m.name][1]) for m in link))
        if self.o.image:  # the stand-in board serves no tunnels
            wrap = self.ns.exec_argv if self.ns else (lambda argv: argv)
            self.say("ok: status page: " + status_page.check(self.o.server, db, board.SYSTEM_ID, board.FEATURES, wrap,
                                                             15 * self.o.scale))

        status = self.children.stop("server")
        if status != 0:
            raise StepFailed("server stop", "sublink-server exited with %s on SIGTERM" % status)
        console.wait(grace, known=())
        self.say("ok: server stopped; %s" % ", ".join(
            "%s (%.1f s)" % (m.name, console.seen[m.name][1]) for m in grace))

        problem = steps.license_on_record(db, board.SYSTEM_ID, console.seen["licensed"][0].group(1))
        if problem:
            raise StepFailed("license on record", problem)
        if not console.drain(30 * self.o.scale):
            raise StepFailed("board exit", "the board said exit 0 but did not stop within %.0f s"
                             % (30 * self.o.scale))
        status = proc.wait()
        if status != 0:
            raise StepFailed("board exit", "exit status %s (the board said exit 0)" % status)
        peaks = ", ".join("%s %d" % kv for kv in sorted(console.values.items())) or "no peaks reported"
        self.say("PASS: the board linked, was licensed, acked heartbeats and went into grace; "
                 "exit status 0; %s" % peaks)

    def _start_namespace(self, keys, db):
        for name in netns.remove_stale():
            self.say("removed a namespace left by a killed run: %s" % name)
        self.ns = netns.Namespace.create()
        self.ns.add_tap(TAP, plan.NETNS_GATEWAY_CIDR)
        self.ns.add_local_address(self.plan.server_address)
        scale = self.o.scale
        p = self._start("dnsmasq", services.dnsmasq_argv(self.tmp, TAP, self.plan, self.o.dhcp))
        services.wait_ready("dnsmasq", p, self.ns.exec_argv(
            services.probe_argv("dns", self.plan.dns[0], self.plan.server_name)), 10 * scale, self.logs["dnsmasq"])
        p = self._start("chronyd", services.chronyd_argv(self.o.chronyd, self.tmp, self.plan))
        services.wait_ready("chronyd", p, self.ns.exec_argv(services.probe_argv("ntp", self.plan.ntp)), 20 * scale,
                            self.logs["chronyd"])
        self._start_server(keys, db, self.plan.server_address, self.plan.ports)
        return board.tap_nic(TAP)

    def _start_user_network(self, keys, db):
        local_ports = [_free_port() for _ in self.plan.ports]
        self._start_server(keys, db, "127.0.0.1", local_ports)
        return board.user_nic(self.plan, list(zip(self.plan.ports, local_ports)))

    def _start_server(self, keys, db, address, ports):
        p = self._start("server", services.server_argv(self.o.server, db, keys, address, ports, self.o.heartbeat_s))
        for port in ports:
            probe = services.probe_argv("tcp", address, str(port))
            services.wait_ready("sublink-server", p, self.ns.exec_argv(probe) if self.ns else probe,
                                10 * self.o.scale, self.logs["server"])

    def _start(self, name, argv):
        """Starts a service (inside the namespace if there is one), its
        stdout and stderr in its own log."""
        path = os.path.join(self.tmp, name + ".log")
        self.logs[name] = path
        with open(path, "w") as log:
            return self.children.start(name, self.ns.exec_argv(argv) if self.ns else argv, stdout=log, stderr=log)

    def _show_logs(self):
        for name, path in self.logs.items():
            try:
                with open(path, errors="replace") as f:
                    lines = f.readlines()[-25:]
            except OSError:
                continue
            self.say("--- %s (last %d lines of %s)" % (name, len(lines), path))
            for line in lines:
                self.say("  " + line.rstrip("\n"))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
