"""What the board is started with: its board.json (PROTOCOL.md section 7
keys plus the network keys of boards/mps2-an385) and the command line of
QEMU or of the stand-in."""
import json
import os
import sys

from .plan import USER_NET

HERE = os.path.dirname(os.path.abspath(__file__))
CUSTOMER_ID = "CUST-MPS2"
SYSTEM_ID = "MPS2-0001"
FEATURES = (("seats", 4), ("trunks", 1))


def write_config(path, plan, pki, flash_image, dhcp, deadline_s):
    """Writes board.json for the plan; returns it as a dict."""
    config = {
        "server": plan.server_name,
        "ports": list(plan.ports),
        "customer_id": CUSTOMER_ID,
        "system_id": SYSTEM_ID,
        "ca_file": pki.ca,
        "cert_file": pki.device_cert,
        "key_file": pki.device_key,
        "license_key_file": pki.license_pub,
        "features": [{"name": n, "qty": q} for n, q in FEATURES],
        # A first round that fails retries soon: the run has a deadline.
        "connect_timeout_s": 5,
        "retry_min_s": 1,
        "retry_max_s": 4,
        "ip": "dhcp" if dhcp else plan.board_cidr,
        "gateway": plan.gateway,
        "dns": list(plan.dns),
        "time_source": plan.time_source,
        "flash_image": flash_image,
        "exit_on": "grace",
        "deadline_s": deadline_s,
    }
    if plan.time_source == "sntp":
        config["ntp"] = plan.ntp
    if plan.ntp_wait_s > 0:
        config["ntp_wait_s"] = plan.ntp_wait_s
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
    return config


def qemu_argv(qemu, image, config_path, nic):
    """qemu-system-arm for the mps2-an385 image: console on stdout, no
    monitor, the board's exit status through semihosting."""
    return [qemu, "-M", "mps2-an385", "-nographic", "-monitor", "none", "-serial", "stdio",
            "-kernel", image, "-nic", nic,
            "-semihosting-config", "enable=on,target=native,arg=sublink-mps2,arg=" + config_path]


def tap_nic(device):
    """The LAN9118 on the namespace's tap device."""
    return "tap,ifname=%s,script=no,downscript=no,model=lan9118" % device


def user_nic(plan, forwards):
    """The LAN9118 on QEMU's restricted user network: DHCP from QEMU and one
    guestfwd per (port, local_port), relayed to 127.0.0.1 (a process per
    connection, so the board can reconnect)."""
    relay = os.path.join(HERE, "relay.py")
    parts = ["user", "model=lan9118", "restrict=on", "net=" + USER_NET, "host=" + plan.gateway,
             "dns=" + plan.dns[0], "dhcpstart=" + plan.board_address]
    for port, local_port in forwards:
        for text in (relay, sys.executable):
            if "," in text:
                raise ValueError("a comma in %s would split QEMU's -nic option" % text)
        parts.append("guestfwd=tcp:%s:%d-cmd:%s %s 127.0.0.1 %d"
                     % (plan.server_address, port, sys.executable, relay, local_port))
    return ",".join(parts)


def standin_argv(config_path):
    """The stand-in board (standin_board.py) on the same board.json."""
    return [sys.executable, os.path.join(HERE, "standin_board.py"), config_path]
