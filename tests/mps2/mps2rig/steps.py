"""The milestones of one run, in the board's console words (the contract
with boards/mps2-an385), and what each must say for the plan in use."""
import calendar
import re
import sqlite3
import time

from .console import EXIT_PATTERN, Milestone


def parse_utc(text):
    """UTC ms from the board's `time synced` value: integer ms since the
    epoch, or ISO 8601 `YYYY-MM-DDTHH:MM:SS[.fff]Z`. None when neither."""
    if re.fullmatch(r"\d{10,}", text):
        return int(text)
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z", text)
    if not m:
        return None
    secs = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    return secs * 1000 + int((m.group(2) or "0").ljust(3, "0")[:3])


def link_phase(plan, heartbeat_s, scale, now_ms=lambda: int(time.time() * 1000)):
    """Boot to the first acknowledged heartbeat."""
    def ip_is(m):
        return None if m.group(1) == plan.board_address else "address %s, planned %s" % (m.group(1), plan.board_address)

    def time_is_now(m):
        board = parse_utc(m.group(1))
        if board is None:
            return "unreadable time '%s'" % m.group(1)
        off = abs(board - now_ms()) / 1000
        return None if off <= 120 else "board time is %.0f s off this machine's clock" % off

    def resolved_right(m):
        if (m.group(1), m.group(2)) == (plan.server_name, plan.server_address):
            return None
        return "resolved %s to %s, expected %s to %s" % (m.group(1), m.group(2), plan.server_name, plan.server_address)

    def planned_port(m):
        return None if int(m.group(1)) in plan.ports else "port %s is not one of %s" % (m.group(1), plan.ports)

    steps = [Milestone("ip", r"ip (\d+\.\d+\.\d+\.\d+)", 30 * scale, ip_is)]
    if plan.uses_dns_and_ntp:
        steps += [Milestone("time synced", r"time synced (\S+)", 30 * scale, time_is_now),
                  Milestone("resolved", r"resolved (%s) (\S+)" % re.escape(plan.server_name), 30 * scale,
                            resolved_right)]
    if plan.ntp_wait_s > 0 and not plan.uses_dns_and_ntp:
        # No clock and no NTP answer: the board waits ntp_wait_s, then links
        # on its build time.
        steps += [Milestone("no NTP answer", r"agent: no NTP answer in time", (plan.ntp_wait_s + 30) * scale)]
    steps += [Milestone("link up", r"link up port (\d+)", 90 * scale, planned_port),
              Milestone("licensed", r"licensed (\S+)", 30 * scale),
              Milestone("heartbeat acked", r"heartbeat acked", (2 * heartbeat_s + 15) * scale)]
    return steps


def grace_phase(scale):
    """From the server's stop to the board's exit with status 0."""
    def exit_ok(m):
        return None if int(m.group(1)) == 0 else "the board exited with %s (%s)" % (m.group(1), m.group(2))

    return [Milestone("link down", r"link down", 30 * scale),
            Milestone("grace", r"grace\b", 30 * scale),
            Milestone("exit", EXIT_PATTERN, 30 * scale, exit_ok)]


def license_on_record(db_path, system_id, serial):
    """None when the server's database holds license `serial` for
    system_id (the board holds what the server issued), else why not."""
    with sqlite3.connect("file:%s?mode=ro" % db_path, uri=True) as db:
        row = db.execute("SELECT system_id FROM licenses WHERE serial = ?", (serial,)).fetchone()
    if row is None:
        return "the server never issued license %s" % serial
    return None if row[0] == system_id else "license %s belongs to %s" % (serial, row[0])
