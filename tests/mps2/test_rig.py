#!/usr/bin/python3
"""Unit tests of the mps2 network rig's judgement: which console lines pass
which step, which failure names which step, and that nothing the rig
configures can reach beyond the test network."""
import io
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mps2rig import board, plan, relay, services, status_page, steps  # noqa: E402
from mps2rig.console import Console, StepFailed  # noqa: E402

NOW_MS = 1_800_000_000_000


class SteppingClock:
    """A clock that moves `step` seconds at every reading, so a wait that
    never sees its line runs out on the first readings, not in real time."""

    def __init__(self, step):
        self.t, self.step = 0.0, step

    def __call__(self):
        self.t += self.step
        return self.t


def console_of(text, clock=None):
    return Console(io.StringIO(text), io.StringIO(), clock=clock or SteppingClock(0.0))


def link_steps(heartbeat_s=5):
    return steps.link_phase(plan.NETNS, heartbeat_s, 1.0, now_ms=lambda: NOW_MS)


GOOD_LINK = """\
boot banner
[mps2] ip 192.0.2.10
[mps2] resolved sublink.test 192.0.2.200
[mps2] time synced 2027-01-15T08:00:00.000Z
[mps2] link up port 8443
[mps2] licensed L-7
[mps2] heartbeat acked
"""


class ConsoleSteps(unittest.TestCase):
    def test_every_step_of_the_link_phase_passes_in_any_order(self):
        c = console_of(GOOD_LINK.replace("2027-01-15T08:00:00.000Z", str(NOW_MS + 1500)))
        c.wait(link_steps())
        self.assertEqual(c.seen["licensed"][0].group(1), "L-7")
        self.assertEqual(c.seen["link up"][0].group(1), "8443")

    def test_a_missing_step_is_named_when_the_console_ends(self):
        text = GOOD_LINK.replace("[mps2] licensed L-7\n", "").replace("2027-01-15T08:00:00.000Z", str(NOW_MS))
        with self.assertRaises(StepFailed) as e:
            console_of(text).wait(link_steps())
        self.assertEqual(e.exception.step, "licensed")
        self.assertIn("console ended", e.exception.reason)

    def test_a_step_that_never_comes_times_out_with_its_line_named(self):
        r, w = os.pipe()  # the write end stays open: the console never ends
        with os.fdopen(r, "rb") as stream:
            try:
                clock = SteppingClock(100.0)
                c = Console(stream, io.StringIO(), clock=clock)
                with self.assertRaises(StepFailed) as e:
                    c.wait(link_steps())
            finally:
                os.close(w)
            clock.step = 0.0
            self.assertTrue(c.drain(5.0))  # the reader is done before the stream closes
        self.assertEqual(e.exception.step, "ip")
        self.assertIn("no '[mps2] ip ...' within 30 s", e.exception.reason)

    def test_a_wrong_address_fails_the_ip_step(self):
        with self.assertRaises(StepFailed) as e:
            console_of("[mps2] ip 10.0.2.15\n").wait(link_steps())
        self.assertEqual(e.exception.step, "ip")
        self.assertIn("planned 192.0.2.10", e.exception.reason)

    def test_the_server_must_resolve_to_the_planned_address(self):
        text = "[mps2] ip 192.0.2.10\n[mps2] time synced %d\n[mps2] resolved sublink.test 8.8.8.8\n" % NOW_MS
        with self.assertRaises(StepFailed) as e:
            console_of(text).wait(link_steps())
        self.assertEqual(e.exception.step, "resolved")

    def test_a_clock_far_from_this_machine_fails_time_synced(self):
        text = "[mps2] ip 192.0.2.10\n[mps2] time synced 1970-01-01T00:00:05Z\n"
        with self.assertRaises(StepFailed) as e:
            console_of(text).wait(link_steps())
        self.assertEqual(e.exception.step, "time synced")
        self.assertIn("off this machine's clock", e.exception.reason)

    def test_a_port_outside_the_plan_fails_link_up(self):
        text = GOOD_LINK.replace("port 8443", "port 80").replace("2027-01-15T08:00:00.000Z", str(NOW_MS))
        with self.assertRaises(StepFailed) as e:
            console_of(text).wait(link_steps())
        self.assertEqual(e.exception.step, "link up")

    def test_a_board_exiting_with_failure_ends_the_wait_naming_the_awaited_step(self):
        text = "[mps2] ip 192.0.2.10\n[mps2] exit 3 dns failed\nmore output\n"
        with self.assertRaises(StepFailed) as e:
            Console(io.StringIO(text), io.StringIO(), clock=SteppingClock(0.0)).wait(link_steps())
        self.assertEqual(e.exception.step, "time synced")
        self.assertIn("exit 3 dns failed", e.exception.reason)

    def test_grace_phase_needs_exit_status_zero_and_collects_the_peaks(self):
        c = console_of("[mps2] link down\n[mps2] grace\n[mps2] exit 0 grace\n"
                       "[mps2] tls_arena_peak 31544\n[mps2] stack_peak 5120\n")
        c.wait(steps.grace_phase(1.0))
        self.assertTrue(c.drain(1.0))
        self.assertEqual(c.values, {"tls_arena_peak": 31544, "stack_peak": 5120})

    def test_lines_of_the_grace_phase_seen_early_are_kept(self):
        text = GOOD_LINK.replace("2027-01-15T08:00:00.000Z", str(NOW_MS))
        c = console_of(text.replace("[mps2] heartbeat acked", "[mps2] link down\n[mps2] heartbeat acked"))
        c.wait(link_steps(), known=steps.grace_phase(1.0))
        self.assertIn("link down", c.seen)

    def test_the_console_is_logged_whole(self):
        log = io.StringIO()
        c = Console(io.StringIO("a\n[mps2] ip 192.0.2.10\n"), log, clock=SteppingClock(0.0))
        c.drain(1.0)
        self.assertEqual(log.getvalue(), "a\n[mps2] ip 192.0.2.10\n")


class BoardTime(unittest.TestCase):
    def test_iso_and_millisecond_forms(self):
        self.assertEqual(steps.parse_utc("1800000000123"), 1800000000123)
        self.assertEqual(steps.parse_utc("2027-01-15T08:00:00.5Z") - steps.parse_utc("2027-01-15T08:00:00Z"), 500)
        self.assertEqual(steps.parse_utc("1970-01-01T00:00:01Z"), 1000)
        self.assertIsNone(steps.parse_utc("soon"))


class StaysOnTheTestNetwork(unittest.TestCase):
    def test_dns_has_no_upstream_and_answers_only_its_record(self):
        argv = services.dnsmasq_argv("/tmp/x", "tap0", plan.NETNS, dhcp=True)
        for flag in ("--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--interface=tap0", "--bind-interfaces"):
            self.assertIn(flag, argv)
        self.assertFalse([a for a in argv if a.startswith("--server")])
        self.assertIn("--host-record=sublink.test,192.0.2.200", argv)
        self.assertIn("--dhcp-range=192.0.2.10,192.0.2.10,255.255.255.128,1h", argv)

    def test_every_planned_address_is_in_192_0_2(self):
        for p in (plan.NETNS, plan.USER):
            for address in (p.board_address, p.gateway, p.ntp, p.server_address, *p.dns):
                self.assertTrue(address.startswith("192.0.2."), address)

    def test_the_server_is_not_on_the_boards_link_so_the_default_route_is_used(self):
        import ipaddress
        link = ipaddress.ip_network(plan.NETNS.board_cidr, strict=False)
        self.assertNotIn(ipaddress.ip_address(plan.NETNS.server_address), link)
        self.assertIn(ipaddress.ip_address(plan.NETNS.gateway), link)

    def test_user_network_is_restricted_and_forwards_only_the_ports(self):
        nic = board.user_nic(plan.USER, [(443, 40001), (8443, 40002)])
        self.assertIn("restrict=on", nic)
        self.assertEqual(nic.count("guestfwd="), 2)
        self.assertIn("guestfwd=tcp:192.0.2.200:443-cmd:", nic)
        self.assertIn("127.0.0.1 40002", nic)

    def test_the_relay_refuses_anything_but_loopback(self):
        self.assertEqual(relay.main("192.0.2.1", 443), 2)
        self.assertEqual(relay.main("8.8.8.8", 53), 2)

    def test_chrony_never_sets_the_clock_and_keeps_its_files_in_the_run(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            argv = services.chronyd_argv("/opt/chrony/chronyd", tmp, plan.NETNS)
            with open(os.path.join(tmp, "chrony.conf")) as f:
                conf = f.read()
        self.assertEqual(argv[0], "/opt/chrony/chronyd")
        self.assertIn("-x", argv)
        self.assertIn("allow 192.0.2.0/24", conf)
        self.assertIn("bindaddress 192.0.2.1", conf)
        for line in conf.splitlines():
            if line.startswith(("pidfile", "driftfile")):
                self.assertTrue(line.split()[1].startswith(tmp), line)


def http_answer(status, body, length=None):
    head = "HTTP/1.0 %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n" % (
        status, len(body) if length is None else length)
    return head + body


PAGE = ("sublink status of MPS2-0001\nstate: licensed\n"
        "license: L-1, expires 1796000000000 (UTC ms), features seats=4 trunks=1\n"
        "grace: elapsed 0 s, remaining 2592000 s, alarm off\nlink: up, port 443\nlast_failure: none\n")


class StatusPageJudgement(unittest.TestCase):
    def judge(self, response):
        return status_page.page_problem(response, board.SYSTEM_ID, board.FEATURES)

    def test_the_boards_page_passes(self):
        self.assertIsNone(self.judge(http_answer("200 OK", PAGE)))

    def test_a_page_cut_short_fails_by_its_content_length(self):
        self.assertIn("Content-Length", self.judge(http_answer("200 OK", PAGE[:-30], len(PAGE))))

    def test_a_page_without_its_last_line_fails(self):
        cut = PAGE[:PAGE.index("last_failure")]
        self.assertIn("last line", self.judge(http_answer("200 OK", cut)))

    def test_the_page_must_name_the_real_state_and_every_entitled_feature(self):
        self.assertIn("state: licensed", self.judge(http_answer("200 OK", PAGE.replace("licensed", "grace"))))
        self.assertIn("entitled", self.judge(http_answer("200 OK", PAGE.replace(" trunks=1", ""))))
        self.assertIn("entitled", self.judge(http_answer("200 OK", PAGE.replace("seats=4", "seats=5"))))
        self.assertIn("link: up", self.judge(http_answer("200 OK", PAGE.replace("link: up", "link: down"))))

    def test_an_error_answer_is_judged_by_its_status_line(self):
        answer = http_answer("405 Method Not Allowed", "method not allowed\n")
        self.assertIsNone(status_page.answer_problem(answer, "405 Method Not Allowed")[0])
        self.assertIn("expected", status_page.answer_problem(answer, "404 Not Found")[0])
        self.assertIn("no end", status_page.answer_problem(answer.replace("\r\n", "\n"), "405 Method Not Allowed")[0])


if __name__ == "__main__":
    unittest.main()
