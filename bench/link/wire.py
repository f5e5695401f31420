"""A wire between two network namespaces that this process creates: every IP
packet from one side to the other passes through here, delayed by half the
round-trip time, paced at the link rate and counted. Real TCP, TLS and
WebSocket run over it unchanged (the TCP handshake is delayed too, which a
TCP relay cannot do), so time to licensed can be counted in round trips.

    with Wire(rtt_ms=200, rate_kbit=128) as w:
        w.run_in("device", [...])          # a process in the device namespace
        w.blackhole_port(443)              # packets to this TCP port vanish

The device side has address DEVICE_ADDR, the server side SERVER_ADDR, on TUN
interfaces (point to point). Needs root, /dev/net/tun and iproute2.
"""
import ctypes
import errno
import fcntl
import heapq
import os
import select
import struct
import subprocess
import threading
import time

DEVICE_ADDR = "10.77.0.2"
SERVER_ADDR = "10.77.0.1"

_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000
_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _setns(fd):
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _open_tun(namespace, name):
    """Opens TUN interface `name` from inside `namespace` (setns affects this
    thread only; it is switched back before returning)."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open("/var/run/netns/" + namespace, os.O_RDONLY)
    try:
        _setns(target)
        fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", name.encode(), _IFF_TUN | _IFF_NO_PI))
        return fd
    finally:
        _setns(home)
        os.close(home)
        os.close(target)


class Packet:
    """One IPv4 packet as it crossed the wire."""
    __slots__ = ("t", "to_server", "size", "src_port", "dst_port", "flags", "payload")

    def __init__(self, t, to_server, data):
        self.t = t
        self.to_server = to_server
        self.size = len(data)
        self.src_port = self.dst_port = self.flags = 0
        self.payload = b""
        if len(data) >= 20 and data[0] >> 4 == 4 and data[9] == 6:  # IPv4, TCP
            ihl = (data[0] & 0x0F) * 4
            tcp = data[ihl:]
            if len(tcp) >= 20:
                self.src_port, self.dst_port = struct.unpack("!HH", tcp[:4])
                self.flags = tcp[13]
                self.payload = bytes(tcp[(tcp[12] >> 4) * 4:])


class Wire:
    """The two namespaces, their TUN interfaces and the thread that carries
    packets between them."""

    def __init__(self, rtt_ms=0.0, rate_kbit=0, tag=None):
        self.tag = tag or str(os.getpid())
        self.names = {"device": "slbd-" + self.tag, "server": "slbs-" + self.tag}
        self.rtt_ms = rtt_ms
        self.rate_kbit = rate_kbit
        self.blackholed = set()
        self.packets = []
        self.capture = False
        self._lock = threading.Lock()
        self._stop = False
        self._thread = None
        self._fds = {}

    # -- setup -------------------------------------------------------------
    def __enter__(self):
        try:
            for side, ns in self.names.items():
                _ip("netns", "add", ns)
                _ip("-n", ns, "link", "set", "lo", "up")
                _ip("-n", ns, "tuntap", "add", "dev", "wire0", "mode", "tun")
                mine, peer = (DEVICE_ADDR, SERVER_ADDR) if side == "device" else (SERVER_ADDR, DEVICE_ADDR)
                _ip("-n", ns, "addr", "add", mine, "peer", peer, "dev", "wire0")
                _ip("-n", ns, "link", "set", "wire0", "up")
                self._fds[side] = _open_tun(ns, "wire0")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self._thread = threading.Thread(target=self._carry, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        if self._thread is not None:
            self._thread.join()
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        for ns in self.names.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)

    def command(self, side, argv):
        """argv run inside the namespace of `side` ("device" or "server")."""
        return ["ip", "netns", "exec", self.names[side], *argv]

    # -- controls ------------------------------------------------------------
    def shape(self, rtt_ms, rate_kbit=0):
        """Sets the round-trip time (half on each way) and the rate of each
        direction (0: unlimited) for the packets that enter from now on."""
        with self._lock:
            self.rtt_ms, self.rate_kbit = rtt_ms, rate_kbit

    def blackhole_port(self, port, on=True):
        """Packets to TCP `port` on the server side vanish (no RST, no ICMP)."""
        with self._lock:
            (self.blackholed.add if on else self.blackholed.discard)(port)

    def start_capture(self):
        with self._lock:
            self.packets = []
            self.capture = True

    def stop_capture(self):
        with self._lock:
            self.capture = False
            return list(self.packets)

    # -- the wire ----------------------------------------------------------
    def _carry(self):
        # The wire's timing is what is measured: it runs ahead of the build
        # and test processes that may share the machine (root only).
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(10))
        except OSError:
            pass
        due = []  # heap of (time, seq, side to write, bytes)
        free_at = {"device": 0.0, "server": 0.0}  # when each direction's line is free again
        seq = 0
        peer = {"device": "server", "server": "device"}
        poller = select.poll()
        by_fd = {}
        for side, fd in self._fds.items():
            poller.register(fd, select.POLLIN)
            by_fd[fd] = side
        while not self._stop:
            now = time.monotonic()
            while due and due[0][0] <= now:
                _, _, side, data = heapq.heappop(due)
                try:
                    os.write(self._fds[side], data)
                except OSError as e:
                    if e.errno not in (errno.EAGAIN, errno.EIO, errno.EINVAL):
                        raise
            timeout_ms = 50 if not due else max(0, min(50, (due[0][0] - time.monotonic()) * 1000))
            for fd, _ in poller.poll(timeout_ms):
                side = by_fd[fd]
                while True:
                    try:
                        data = os.read(fd, 65536)
                    except BlockingIOError:
                        break
                    now = time.monotonic()
                    with self._lock:
                        packet = Packet(now, side == "device", data)
                        if packet.to_server and packet.dst_port in self.blackholed:
                            continue
                        if not packet.to_server and packet.src_port in self.blackholed:
                            continue
                        if self.capture:
                            self.packets.append(packet)
                        rate = self.rate_kbit * 1000.0
                        one_way = self.rtt_ms / 2000.0
                    start = max(now, free_at[side])
                    sent = start + (len(data) * 8 / rate if rate else 0.0)
                    free_at[side] = sent
                    seq += 1
                    heapq.heappush(due, (sent + one_way, seq, peer[side], data))
