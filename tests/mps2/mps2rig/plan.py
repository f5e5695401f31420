"""The addresses of the test network. Only 192.0.2.0/24 (TEST-NET-1, never
routed on the Internet) is used, and the board is told every server
explicitly, so its public fallbacks (8.8.8.8, time.google.com) are never
asked; in the namespace nothing has a route out anyway."""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NetworkPlan:
    """Where each party of the test sits and what the board is told."""
    board_cidr: str          # the board's static address ("dhcp" mode gets the same one)
    gateway: str             # the board's default route
    dns: tuple               # DNS servers the board is told
    ntp: str                 # SNTP server the board is told
    server_name: str         # `server` in board.json
    server_address: str      # what server_name resolves to / the literal
    ports: tuple = (443, 8443)
    uses_dns_and_ntp: bool = True
    time_source: str = "sntp"  # board.json: "sntp", or "host" (the host clock through semihosting)
    ntp_wait_s: int = 0        # board.json's ntp_wait_s when above 0 (left to its default otherwise)
    server_sans: tuple = field(default=())

    @property
    def board_address(self):
        return self.board_cidr.split("/")[0]


# The namespace: the tap's host side is the board's gateway, DNS and NTP
# server; the reference server sits on another address of the namespace
# (not on the board's /25), so the board reaches it only through its default
# route.
NETNS = NetworkPlan(
    board_cidr="192.0.2.10/25",
    gateway="192.0.2.1",
    dns=("192.0.2.1",),
    ntp="192.0.2.1",
    server_name="sublink.test",
    server_address="192.0.2.200",
    server_sans=("DNS:sublink.test", "IP:192.0.2.200"),
)
NETNS_GATEWAY_CIDR = "192.0.2.1/25"

# QEMU's user network with restrict=on: nothing leaves QEMU but TCP to the
# guestfwd address, which is relayed to the server on 127.0.0.1. No DNS or
# NTP answers there (guestfwd is TCP only), so the server is an IP literal
# and the board's clock comes from the host through semihosting.
USER = NetworkPlan(
    board_cidr="192.0.2.10/24",
    gateway="192.0.2.1",
    dns=("192.0.2.3",),
    ntp="192.0.2.1",
    server_name="192.0.2.200",
    server_address="192.0.2.200",
    uses_dns_and_ntp=False,
    time_source="host",
    server_sans=("DNS:sublink.test", "IP:192.0.2.200"),
)
USER_NET = "192.0.2.0/24"

# The user network with a board that has no clock at all: SNTP is asked
# (nothing answers UDP there) and semihosting's clock is not used, so after
# ntp_wait_s the board links with certificate dates checked against its
# firmware's build time, then takes the server's time (PROTOCOL.md 2).
USER_NO_CLOCK = NetworkPlan(
    board_cidr=USER.board_cidr,
    gateway=USER.gateway,
    dns=USER.dns,
    ntp=USER.ntp,
    server_name=USER.server_name,
    server_address=USER.server_address,
    uses_dns_and_ntp=False,
    time_source="sntp",
    ntp_wait_s=10,
    server_sans=USER.server_sans,
)
