#!/usr/bin/python3
"""The mps2-an385 board on a real network path: see HELP."""
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mps2rig.run import Options, Run  # noqa: E402

PROG = "mps2_net_test.py"
EXIT_SKIPPED = 77

HELP = """\
NAME
    mps2_net_test.py - the mps2-an385 board's network test under QEMU

SYNOPSIS
    mps2_net_test.py --server PATH (--image ELF | --standin) [OPTIONS]

DESCRIPTION
    Starts the board image in qemu-system-arm -M mps2-an385 with its LAN9118
    on a tap device in a network namespace made for the run, and checks from
    its console that it comes up, takes its time from NTP, resolves the
    server, links with mutual TLS, is licensed and has a heartbeat
    acknowledged; then fetches the board's status page (a service inside
    the image) as an operator does: `sublink-server admin forward SYSTEM
    status --listen 127.0.0.1:0` and curl through that port, twice at once,
    each page whole (Content-Length) and naming the board's state, license
    features and link, then a POST (405) and a wrong path (404); then stops
    the server and checks that the board goes into grace and QEMU exits
    with status 0 (the stand-in board skips the page). A missing or wrong step fails the
    test with the step named.

    The namespace holds, on 192.0.2.0/24 only: the board 192.0.2.10/25, its
    gateway 192.0.2.1 on the tap, which also runs dnsmasq (sublink.test ->
    192.0.2.200, no upstream, DHCP with --dhcp) and chronyd (NTP from this
    machine's clock, which it never sets), and sublink-server on
    192.0.2.200, ports 443 and 8443, reachable only through the board's
    default route. Nothing in the namespace has a route out. The PKI and
    server database are made fresh for each run.

    Everything the run starts is stopped by its PID, and the namespace and
    temporary directory are removed, also when a step fails.

OPTIONS
    --server PATH      sublink-server of the host build
    --image ELF        the board image (build/mps2-an385/bin/sublink-mps2.elf)
    --standin          run the stand-in board instead of QEMU: the same
                       board.json, services and console lines, to check the
                       rig itself (netns only)
    --net netns|user   netns (default; needs root) or QEMU's user network
                       with restrict=on, forwarding only the server's ports
                       to 127.0.0.1 (no DNS or NTP there: the server is an
                       IP literal, the board's clock the host's through
                       semihosting)
    --dhcp             the board asks dnsmasq for its address (netns only)
    --no-clock         (user network only) the board has no clock and no NTP
                       answer: it must wait ntp_wait_s (10 s here), then link
                       with certificate dates checked against its build time
    --heartbeat-s N    heartbeat interval the server gives (default 5)
    --scale F          multiply every timeout by F (slow machines)
    --qemu PATH        qemu-system-arm to use
    --chronyd PATH     chronyd to run as the namespace's NTP server (default:
                       the one toolchain/deps.sh unpacks from Debian's chrony
                       package under build/_deps/chrony, else chronyd on PATH;
                       unpacked, it never replaces the machine's time service)
    --console-log FILE keep the board's console there (the footprint report
                       reads its tls_arena_peak and stack_peak lines)
    --keep             keep the temporary directory (logs, PKI, database)
    -v, --verbose      echo the console while it runs

EXIT STATUS
    0   every step passed
    1   a step failed (named on stdout, with the logs' last lines)
    2   bad usage
    77  skipped: not root for --net netns, or a needed program is missing

EXAMPLES
    tests/mps2/mps2_net_test.py --server build/host/bin/sublink-server \\
        --image build/mps2-an385/bin/sublink-mps2.elf
    tests/mps2/mps2_net_test.py --server build/host/bin/sublink-server --standin
"""


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNPACKED_CHRONYD = os.path.join(ROOT, "build", "_deps", "chrony", "usr", "sbin", "chronyd")


def default_chronyd():
    """The chronyd deps.sh unpacked, else the machine's."""
    return UNPACKED_CHRONYD if os.access(UNPACKED_CHRONYD, os.X_OK) else "chronyd"


def usage_error(problem):
    sys.stderr.write("%s: %s\ntry '%s --help'\n" % (PROG, problem, PROG))
    return 2


def parse(argv):
    """(Options, None) or (None, exit status) after printing why."""
    o = {"image": None, "chronyd": default_chronyd()}
    standin = False
    i = 0
    takes_value = {"--server", "--image", "--net", "--heartbeat-s", "--scale", "--qemu", "--console-log",
                   "--chronyd"}
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            sys.stdout.write(HELP)
            return None, 0
        if a in takes_value:
            if i + 1 >= len(argv):
                return None, usage_error("%s needs a value" % a)
            value = argv[i + 1]
            i += 2
            key = a[2:].replace("-", "_")
            if a == "--net" and value not in ("netns", "user"):
                return None, usage_error("--net is netns or user, not '%s'" % value)
            if a in ("--heartbeat-s", "--scale"):
                try:
                    value = int(value) if a == "--heartbeat-s" else float(value)
                except ValueError:
                    return None, usage_error("%s needs a number, not '%s'" % (a, argv[i - 1]))
                if value <= 0:
                    return None, usage_error("%s must be above 0" % a)
            o[key] = value
            continue
        if a == "--standin":
            standin = True
        elif a == "--dhcp":
            o["dhcp"] = True
        elif a == "--no-clock":
            o["no_clock"] = True
        elif a == "--keep":
            o["keep"] = True
        elif a in ("-v", "--verbose"):
            o["verbose"] = True
        else:
            return None, usage_error("unknown argument '%s'" % a)
        i += 1
    if "server" not in o:
        return None, usage_error("--server is required")
    if standin == bool(o["image"]):
        return None, usage_error("give either --image or --standin")
    if o.get("net", "netns") == "user" and (standin or o.get("dhcp")):
        return None, usage_error("--standin and --dhcp need --net netns")
    if o.get("no_clock") and o.get("net", "netns") != "user":
        return None, usage_error("--no-clock needs --net user")
    if standin and o.get("dhcp"):
        return None, usage_error("the stand-in board has no DHCP client: --standin without --dhcp")
    return Options(**o), None


def missing_programs(options):
    needed = [options.server]
    if options.image:
        needed.append(options.qemu)
    if options.net == "netns":
        needed += ["ip", "dnsmasq", options.chronyd]
    needed.append("openssl")
    return [p for p in needed if not shutil.which(p)]


def main(argv):
    options, status = parse(argv)
    if options is None:
        return status
    if options.image and not os.path.isfile(options.image):
        print("FAIL: no board image at %s (build the mps2-an385 preset)" % options.image)
        return 1
    if options.net == "netns" and os.geteuid() != 0:
        print("SKIPPED: --net netns needs root (network namespace, tap device); try --net user")
        return EXIT_SKIPPED
    missing = missing_programs(options)
    if missing:
        print("SKIPPED: not installed: %s (toolchain/deps.sh test)" % ", ".join(missing))
        return EXIT_SKIPPED
    # A stop from outside (ctest's timeout, ^C) still runs the cleanup.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return Run(options, sys.stdout).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
