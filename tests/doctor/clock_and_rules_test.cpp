// The clock verdicts, the resolvers behind resolv.conf, and the firewall
// rules a configuration needs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>

#include "boards/host/doctor/clock_checks.h"
#include "boards/host/doctor/firewall_rules.h"
#include "boards/host/doctor/resolv_conf.h"
#include "firmware/config/config_parser.h"
#include "support/process.h"

namespace sublink {
namespace {

using ::testing::HasSubstr;

constexpr Millis kNow = 1767225600000;

NtpAnswer answered(const std::string& host, Millis server_minus_ours) {
  NtpAnswer a;
  a.host = host;
  a.result.resolved = true;
  a.result.addresses = {"192.0.2.123"};
  a.result.answered = true;
  a.result.answered_by = "192.0.2.123";
  a.result.sample.offset_ms = server_minus_ours;
  a.result.sample.stratum = 2;
  return a;
}

TEST(ClockVerdicts, AClockHoursOffIsAFailWithTheOffset) {
  WallTime kernel{kNow, true, true};
  std::vector<CheckLine> lines = judge_clock(kernel, {answered("ntp.example.net", -3 * 3600 * 1000)});
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].verdict, Verdict::pass) << "the kernel says synchronised";
  EXPECT_EQ(lines[1].verdict, Verdict::fail);
  EXPECT_EQ(lines[1].what,
            "the system clock is ahead of NTP server ntp.example.net (192.0.2.123): offset +10800.0 s (3 h 0 min)");
  EXPECT_THAT(lines[1].fix, HasSubstr("set the clock"));
}

TEST(ClockVerdicts, WithinAMinuteIsAPass) {
  std::vector<CheckLine> lines = judge_clock({kNow, true, true}, {answered("ntp.example.net", 1500)});
  EXPECT_EQ(lines[1].verdict, Verdict::pass);
  EXPECT_THAT(lines[1].what, HasSubstr("system clock offset -1.500 s"));
}

TEST(ClockVerdicts, NoAnswerNamesTheUdpRule) {
  NtpAnswer silent;
  silent.host = "ntp.example.net";
  silent.result.resolved = true;
  silent.result.addresses = {"192.0.2.123", "192.0.2.124"};
  silent.result.problem = "no answer within 2000 ms";
  std::vector<CheckLine> lines = judge_clock({kNow, true, true}, {silent});
  EXPECT_EQ(lines[1].verdict, Verdict::fail);
  EXPECT_EQ(lines[1].fix, "allow UDP 123 to ntp.example.net (192.0.2.123 and 192.0.2.124)");
}

TEST(ClockVerdicts, AnUnsetOrUnsynchronisedKernelClockIsSaid) {
  EXPECT_EQ(judge_clock({0, false, false}, {})[0].verdict, Verdict::fail);
  EXPECT_EQ(judge_clock({kNow, true, false}, {})[0].verdict, Verdict::warn);
  EXPECT_THAT(judge_clock({kNow, true, true}, {})[1].what, HasSubstr("no NTP servers configured"));
}

TEST(ResolvConf, NameserversLoopbackAndTheStubsUpstream) {
  EXPECT_EQ(parse_nameservers("# c\nsearch example\nnameserver 192.0.2.53\nnameserver  2001:db8::53 \noptions x\n"),
            (std::vector<std::string>{"192.0.2.53", "2001:db8::53"}));
  EXPECT_TRUE(is_loopback_address("127.0.0.53"));
  EXPECT_TRUE(is_loopback_address("::1"));
  EXPECT_FALSE(is_loopback_address("192.0.2.53"));
  EXPECT_FALSE(is_loopback_address("fe80::1%eth0"));

  test::TempDir dir;
  std::ofstream(dir.file("stub.conf")) << "nameserver 127.0.0.53\n";
  std::ofstream(dir.file("upstream.conf")) << "nameserver 192.0.2.1\nnameserver 192.0.2.2\n";
  std::ofstream(dir.file("mixed.conf")) << "nameserver 127.0.0.1\nnameserver 192.0.2.9\n";
  Resolvers stub = outbound_resolvers(dir.file("stub.conf"), dir.file("upstream.conf"));
  EXPECT_TRUE(stub.local_stub);
  EXPECT_EQ(stub.servers, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(stub.source, dir.file("upstream.conf"));
  Resolvers mixed = outbound_resolvers(dir.file("mixed.conf"), dir.file("upstream.conf"));
  EXPECT_EQ(mixed.servers, std::vector<std::string>{"192.0.2.9"});
  EXPECT_TRUE(outbound_resolvers(dir.file("missing.conf"), dir.file("upstream.conf")).servers.empty());
}

std::unique_ptr<DeviceConfig> config(const std::string& extra) {
  auto c = std::make_unique<DeviceConfig>();
  std::string text =
      R"({"server":"subs.example.net","ports":[443,8443],"customer_id":"C-1","system_id":"SYS-1",)"
      R"("ca_file":"ca","cert_file":"c","key_file":"k","license_key_file":"l","state_dir":"/s")" +
      extra + "}";
  ConfigError e = parse_device_config(text, *c);
  EXPECT_TRUE(e.ok()) << e.message();
  return c;
}

std::vector<std::string> fake_lookup(const std::string& name) {
  if (name == "subs.example.net") return {"198.51.100.7"};
  if (name == "ntp.example.net") return {"192.0.2.123"};
  if (name == "proxy.example.net") return {"10.0.0.8"};
  return {};
}

TEST(FirewallRules, DirectLinkNeedsDnsNtpAndEveryServerPort) {
  Resolvers r;
  r.servers = {"192.0.2.53", "192.0.2.54"};
  auto c = config(R"(,"ntp":["ntp.example.net","192.0.2.5:1123"])");
  std::vector<FirewallRule> rules = firewall_rules(*c, r, fake_lookup);
  ASSERT_EQ(rules.size(), 5u);
  EXPECT_EQ(rules[0].destination, "192.0.2.53");
  EXPECT_EQ(rules[0].protocol, "UDP+TCP");
  EXPECT_EQ(rules[0].ports, std::vector<uint16_t>{53});
  EXPECT_EQ(rules[0].purpose, "DNS: resolve subs.example.net and ntp.example.net");
  EXPECT_EQ(rules[1].destination, "192.0.2.54");
  EXPECT_EQ(rules[2].destination, "ntp.example.net");
  EXPECT_EQ(rules[2].addresses, std::vector<std::string>{"192.0.2.123"});
  EXPECT_EQ(rules[2].protocol, "UDP");
  EXPECT_EQ(rules[3].destination, "192.0.2.5");
  EXPECT_EQ(rules[3].ports, std::vector<uint16_t>{1123});
  EXPECT_EQ(rules[4].protocol, "TCP");
  EXPECT_EQ(rules[4].destination, "subs.example.net");
  EXPECT_EQ(rules[4].addresses, std::vector<std::string>{"198.51.100.7"});
  EXPECT_EQ(rules[4].ports, (std::vector<uint16_t>{443, 8443}));

  std::string table = firewall_table(*c, rules);
  EXPECT_THAT(table, HasSubstr("RULE ON   PROTOCOL  DESTINATION                      PORTS      PURPOSE\n"));
  EXPECT_THAT(table, HasSubstr("firewall  TCP       subs.example.net (198.51.100.7)  443, 8443  subscription link"));
  EXPECT_THAT(table, HasSubstr("No inbound rule is needed"));
}

TEST(FirewallRules, WithAProxyOnlyTheProxyIsReachedAndItMustAllowConnect) {
  Resolvers r;
  auto c = config(R"(,"proxy":"http://proxy.example.net:3128","ntp":["192.0.2.5"])");
  std::vector<FirewallRule> rules = firewall_rules(*c, r, fake_lookup);
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_EQ(rules[0].destination, "the site's DNS servers") << "resolv.conf listed none";
  EXPECT_EQ(rules[0].purpose, "DNS: resolve proxy.example.net") << "the proxy resolves the server";
  EXPECT_EQ(rules[1].destination, "192.0.2.5");
  EXPECT_EQ(rules[2].destination, "proxy.example.net");
  EXPECT_EQ(rules[2].ports, std::vector<uint16_t>{3128});
  EXPECT_EQ(rules[3].where, "proxy");
  EXPECT_EQ(rules[3].protocol, "CONNECT");
  EXPECT_EQ(rules[3].destination, "subs.example.net");
  EXPECT_EQ(rules[3].ports, (std::vector<uint16_t>{443, 8443}));
  for (const FirewallRule& rule : rules) {
    EXPECT_FALSE(rule.where == "firewall" && rule.destination == "subs.example.net") << "no direct rule";
  }
  EXPECT_THAT(firewall_json(*c, rules),
              HasSubstr(R"({"rule_on":"proxy","direction":"outbound","protocol":"CONNECT",)"
                        R"("destination":"subs.example.net","addresses":[],"ports":[443,8443],)"));
}

TEST(FirewallRules, AddressesOnlyNeedNoDns) {
  auto c = config(R"(,"ntp":["192.0.2.5"])");
  c->server.assign("198.51.100.7");
  Resolvers r;
  r.servers = {"192.0.2.53"};
  std::vector<FirewallRule> rules = firewall_rules(*c, r, fake_lookup);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].protocol, "UDP");
  EXPECT_EQ(rules[1].destination, "198.51.100.7");
}

}  // namespace
}  // namespace sublink
