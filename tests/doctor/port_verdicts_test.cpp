// How the doctor judges what it saw on each port: the rule to open, the
// proxy rule, TLS inspection told apart from a wrong CA, and the limits
// appliances need.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "boards/host/doctor/port_verdicts.h"
#include "firmware/config/config_parser.h"

namespace sublink {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<DeviceConfig> config(const std::string& extra = "") {
  auto c = std::make_unique<DeviceConfig>();
  std::string text =
      R"({"server":"subs.example.net","ports":[443,8443],"customer_id":"C-1","system_id":"SYS-1",)"
      R"("ca_file":"ca","cert_file":"c","key_file":"k","license_key_file":"l","state_dir":"/s","connect_timeout_s":5)" +
      extra + "}";
  ConfigError e = parse_device_config(text, *c);
  EXPECT_TRUE(e.ok()) << e.message();
  return c;
}

IpAddress ip(const char* text) { return IpAddress::parse(text); }

// A port whose one attempt got as far as the flags say and failed with `why`.
PortProbe probe(uint16_t port, bool tcp, bool tunnel, bool tls, bool upgraded, Status why = {},
                const char* address = "192.0.2.7") {
  PortProbe p;
  p.port = port;
  AttemptRecord r;
  r.id = 1;
  r.address = ip(address);
  r.tcp = tcp;
  r.tunnel = tunnel;
  r.tls = tls;
  r.upgraded = upgraded;
  r.failure = why;
  p.attempts.push_back(r);
  return p;
}

PortProbe working(uint16_t port, int64_t rtt_us = 20000, int64_t pong_span_us = 100000) {
  PortProbe p = probe(port, true, false, true, true);
  p.up = true;
  p.hello = HelloOutcome::welcomed;
  p.heartbeat_s = 60;
  p.rtt_us = {rtt_us, rtt_us, rtt_us};
  p.pong_bytes = 125 * 257;
  p.pong_span_us = pong_span_us;
  return p;
}

const CheckLine* find(const PortVerdicts& v, const std::string& check, uint16_t port) {
  for (const CheckLine& l : v.lines) {
    if (l.check == check && l.port == port) return &l;
  }
  return nullptr;
}

TEST(PortVerdicts, AClosedPortNamesTheOutboundRuleAndTheOtherPortStillWorks) {
  auto c = config();
  PortVerdicts v = judge_ports(*c, {probe(443, false, false, false, false, Reason::connect_refused), working(8443)});
  const CheckLine* closed = find(v, "tcp", 443);
  ASSERT_NE(closed, nullptr);
  EXPECT_EQ(closed->verdict, Verdict::fail);
  EXPECT_EQ(check_line_text(*closed),
            "FAIL  TCP 443 to subs.example.net (192.0.2.7): connection refused \u2014 allow TCP 443 to 192.0.2.7");
  EXPECT_EQ(find(v, "tls", 443), nullptr) << "a port is not judged past its first failure";
  EXPECT_EQ(find(v, "tcp", 8443)->verdict, Verdict::pass);
  EXPECT_EQ(find(v, "hello", 8443)->verdict, Verdict::pass);
  EXPECT_EQ(v.working_ports, std::vector<uint16_t>{8443});
}

TEST(PortVerdicts, ADroppedPortSaysNoAnswer) {
  auto c = config();
  PortVerdicts v = judge_ports(*c, {probe(443, false, false, false, false, Reason::connect_timeout)});
  EXPECT_THAT(check_line_text(*find(v, "tcp", 443)), HasSubstr("no answer within 5 s (dropped)"));
  EXPECT_TRUE(v.working_ports.empty());
}

TEST(PortVerdicts, LinesComeInCheckOrder) {
  auto c = config();
  PortVerdicts v = judge_ports(*c, {working(443), working(8443)});
  std::vector<std::string> order;
  for (const CheckLine& l : v.lines) order.push_back(l.check + std::to_string(l.port));
  EXPECT_EQ(order, (std::vector<std::string>{"tcp443", "tcp8443", "tls443", "tls8443", "websocket443",
                                             "websocket8443", "hello443", "hello8443", "rtt443", "rtt8443",
                                             "throughput443", "throughput8443"}));
}

TEST(PortVerdicts, AProxyThatRefusesConnectNamesTheProxyRule) {
  auto c = config(R"(,"proxy":"http://proxy.example.net:3128")");
  PortProbe refused = probe(8443, true, false, false, false, Status(Reason::proxy_status, 403), "192.0.2.1");
  refused.via_proxy = true;
  PortProbe good = working(443);
  good.via_proxy = true;
  good.attempts[0].tunnel = true;
  PortVerdicts v = judge_ports(*c, {good, refused});
  EXPECT_EQ(check_line_text(*find(v, "tcp", 8443)),
            "FAIL  port 8443: the proxy proxy.example.net:3128 refused CONNECT subs.example.net:8443 with 403 "
            "\u2014 allow CONNECT to subs.example.net:8443 on the proxy");
  EXPECT_THAT(find(v, "tcp", 443)->what, HasSubstr("opened a tunnel to subs.example.net:443"));
  EXPECT_EQ(v.working_ports, std::vector<uint16_t>{443});

  PortProbe unreachable = probe(443, false, false, false, false, Reason::connect_refused, "192.0.2.1");
  unreachable.via_proxy = true;
  PortVerdicts none = judge_ports(*c, {unreachable});
  EXPECT_THAT(check_line_text(*find(none, "tcp", 443)),
              HasSubstr("TCP to the proxy proxy.example.net:3128 (192.0.2.1): connection refused \u2014 allow TCP "
                        "3128 to the proxy 192.0.2.1"));
}

TEST(PortVerdicts, AnotherCaOnOnePortWhileTheOtherVerifiesIsTlsInspection) {
  auto c = config();
  PortProbe intercepted = probe(443, true, false, false, false, Reason::cert_unknown_ca);
  intercepted.attempts[0].text = "verify: not-trusted";
  PortVerdicts v = judge_ports(*c, {intercepted, working(8443)});
  const CheckLine* tls = find(v, "tls", 443);
  ASSERT_NE(tls, nullptr);
  EXPECT_EQ(tls->verdict, Verdict::fail);
  EXPECT_THAT(tls->what, HasSubstr("TLS inspection on port 443"));
  EXPECT_THAT(tls->what, HasSubstr("while port 8443 reaches the real server"));
  EXPECT_THAT(tls->fix, HasSubstr("exempt subs.example.net:443 from TLS inspection"));

  // With the certificate's names known, the line says who intercepts.
  intercepted.attempts[0].presented_subject = "CN=subs.example.net";
  intercepted.attempts[0].presented_issuer = "O=Example Firewall, CN=Inspection CA";
  PortVerdicts named = judge_ports(*c, {intercepted, working(8443)});
  const CheckLine* named_tls = find(named, "tls", 443);
  ASSERT_NE(named_tls, nullptr);
  EXPECT_EQ(named_tls->what,
            "port 443 presents a certificate for CN=subs.example.net issued by O=Example Firewall, CN=Inspection "
            "CA, which is not from the CA in ca_file (verify: not-trusted): TLS inspection, while port 8443 "
            "reaches the real server");
  EXPECT_THAT(named_tls->fix, HasSubstr("exempt subs.example.net:443 from TLS inspection"));

  // The same CA problem on every port is the configuration, not inspection.
  PortProbe other = probe(8443, true, false, false, false, Reason::cert_unknown_ca);
  PortVerdicts both = judge_ports(*c, {intercepted, other});
  EXPECT_THAT(find(both, "tls", 443)->what, HasSubstr("not from the CA in ca_file"));
  EXPECT_THAT(find(both, "tls", 443)->what, ::testing::Not(HasSubstr("inspection")));
  EXPECT_THAT(find(both, "tls", 443)->fix, HasSubstr("ca_file must hold the subscription server's CA"));
}

TEST(PortVerdicts, TlsFailuresSayWhy) {
  auto c = config();
  auto tls_text = [&](Status why) {
    PortVerdicts v = judge_ports(*c, {probe(443, true, false, false, false, why)});
    return check_line_text(*find(v, "tls", 443));
  };
  EXPECT_THAT(tls_text(Status(Reason::tls_alert, 42)), HasSubstr("rejected the device certificate (TLS alert 42"));
  EXPECT_THAT(tls_text(Status(Reason::tls_alert, 42)), HasSubstr("issued to system_id SYS-1"));
  EXPECT_THAT(tls_text(Reason::tls_version), HasSubstr("does not speak TLS 1.2"));
  EXPECT_THAT(tls_text(Reason::cert_expired), HasSubstr("expired by this device's clock"));
  EXPECT_THAT(tls_text(Reason::cert_name_mismatch), HasSubstr("does not name subs.example.net"));
  EXPECT_THAT(tls_text(Reason::connect_timeout), HasSubstr("TCP connects but the TLS handshake gets no answer"));
}

TEST(PortVerdicts, UpgradeAndHelloRefusalsNameWhatToRegister) {
  auto c = config();
  PortVerdicts v = judge_ports(*c, {probe(443, true, false, true, false, Status(Reason::upgrade_unauthorized, 403))});
  EXPECT_THAT(check_line_text(*find(v, "websocket", 443)),
              HasSubstr("refused the device (HTTP 403) \u2014 have system_id SYS-1 registered for customer C-1"));

  PortProbe refused = working(443);
  refused.hello = HelloOutcome::refused;
  refused.refusal_code = "unknown_customer";
  PortVerdicts h = judge_ports(*c, {refused});
  EXPECT_EQ(find(h, "hello", 443)->verdict, Verdict::fail);
  EXPECT_THAT(check_line_text(*find(h, "hello", 443)), HasSubstr("customer_id C-1 is unknown to the server"));
  EXPECT_TRUE(h.working_ports.empty()) << "a refused hello is no working link";
}

TEST(PortVerdicts, SlowOrNarrowLinksAreWarnings) {
  auto c = config();
  // 500 ms round trip; 256 pongs over 4 s = 64 kbit/s.
  PortVerdicts v = judge_ports(*c, {working(443, 500000, 4000000)});
  EXPECT_EQ(find(v, "rtt", 443)->verdict, Verdict::warn);
  EXPECT_THAT(find(v, "rtt", 443)->what, HasSubstr("round trip 500.0 ms"));
  EXPECT_EQ(find(v, "throughput", 443)->verdict, Verdict::warn);
  EXPECT_THAT(find(v, "throughput", 443)->what, HasSubstr("throughput 64 kbit/s"));
  EXPECT_EQ(v.working_ports, std::vector<uint16_t>{443}) << "slow is not broken";

  PortVerdicts fast = judge_ports(*c, {working(443, 20000, 100000)});
  EXPECT_EQ(find(fast, "rtt", 443)->verdict, Verdict::pass);
  EXPECT_EQ(find(fast, "throughput", 443)->verdict, Verdict::pass);
  EXPECT_THAT(find(fast, "throughput", 443)->what, HasSubstr("2.6 Mbit/s"));
}

TEST(PortVerdicts, MedianAndRates) {
  EXPECT_EQ(median_us({5, 1, 3}), 3);
  EXPECT_EQ(median_us({4, 1, 3, 2}), 2);
  PortProbe p;
  p.pong_bytes = 125;
  EXPECT_EQ(throughput_bits_per_second(p), -1) << "one pong measures nothing";
  EXPECT_EQ(rate_text(128000), "128 kbit/s");
  EXPECT_EQ(duration_us_text(1500), "1.5 ms");
}

}  // namespace
}  // namespace sublink
