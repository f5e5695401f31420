"""A network namespace of the rig's own, named with the rig's PID, so the
board's network is isolated from the machine: nothing in it has a route out,
and deleting it removes every interface and address the rig made."""
import os
import re
import subprocess

PREFIX = "slmps2-"


def _ip(*args, check=True):
    return subprocess.run(["ip", *args], check=check, capture_output=True, text=True)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale():
    """Deletes namespaces an earlier rig left when it was killed before its
    cleanup: only names of this rig's pattern whose PID is gone and which no
    process uses any more. Returns the names removed."""
    removed = []
    listing = _ip("netns", "list", check=False).stdout
    for line in listing.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.fullmatch(re.escape(PREFIX) + r"(\d+)", name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        if _ip("netns", "pids", name, check=False).stdout.strip():
            continue
        if _ip("netns", "delete", name, check=False).returncode == 0:
            removed.append(name)
    return removed


class Namespace:
    """One network namespace; create() makes it, delete() removes it."""

    def __init__(self, name):
        self.name = name

    @classmethod
    def create(cls):
        """Creates the namespace PREFIX<pid> with its loopback up."""
        ns = cls(PREFIX + str(os.getpid()))
        _ip("netns", "add", ns.name)
        ns.ip("link", "set", "lo", "up")
        return ns

    def ip(self, *args):
        """Runs `ip -n NAME ARGS...`; a failure raises with ip's message."""
        result = _ip("-n", self.name, *args, check=False)
        if result.returncode != 0:
            raise RuntimeError("ip -n %s %s: %s" % (self.name, " ".join(args), result.stderr.strip()))
        return result.stdout

    def exec_argv(self, argv):
        """argv run inside the namespace (ip execs it: the PID is argv's)."""
        return ["ip", "netns", "exec", self.name, *argv]

    def add_tap(self, device, address_cidr):
        """Creates tap `device` for QEMU with address_cidr on it, up."""
        self.ip("tuntap", "add", "dev", device, "mode", "tap")
        self.ip("addr", "add", address_cidr, "dev", device)
        self.ip("link", "set", device, "up")

    def add_local_address(self, address):
        """An address of the namespace itself on no link: reachable from the
        board only through its default route (the gateway on the tap)."""
        self.ip("addr", "add", address + "/32", "dev", "lo")

    def delete(self):
        """Removes the namespace with every interface in it."""
        _ip("netns", "delete", self.name, check=False)
