// The `ntp` key of the configuration file: which NTP servers the platform
// sets its clock from (doctor queries them, firewall-rules names them).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "firmware/config/config_parser.h"

namespace sublink {
namespace {

using ::testing::HasSubstr;

std::string with(const std::string& extra) {
  std::string text =
      R"({"server":"subs.example.com","customer_id":"C-1","system_id":"SYS-1","ca_file":"ca.crt",)"
      R"("cert_file":"d.crt","key_file":"d.key","license_key_file":"l.pub","state_dir":"/var/lib/sublink")";
  if (!extra.empty()) text += "," + extra;
  return text + "}";
}

struct Parsed {
  std::unique_ptr<DeviceConfig> config = std::make_unique<DeviceConfig>();
  ConfigError error;
};

Parsed parse(const std::string& text) {
  Parsed p;
  p.error = parse_device_config(text, *p.config);
  return p;
}

TEST(NtpConfig, AbsentMeansThePublicPool) {
  Parsed p = parse(with(""));
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  ASSERT_EQ(p.config->ntp_list().size(), 1u);
  EXPECT_EQ(p.config->ntp_list()[0].host.view(), "pool.ntp.org");
  EXPECT_EQ(p.config->ntp_list()[0].port, 123);
}

TEST(NtpConfig, HostsWithAndWithoutPorts) {
  Parsed p = parse(with(R"("ntp":["ntp1.example.net","127.0.0.1:10123","[::1]","[2001:db8::5]:1123"])"));
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  auto list = p.config->ntp_list();
  ASSERT_EQ(list.size(), 4u);
  EXPECT_EQ(list[0].host.view(), "ntp1.example.net");
  EXPECT_EQ(list[0].port, 123);
  EXPECT_EQ(list[1].host.view(), "127.0.0.1");
  EXPECT_EQ(list[1].port, 10123);
  EXPECT_EQ(list[2].host.view(), "::1");
  EXPECT_EQ(list[2].port, 123);
  EXPECT_EQ(list[3].host.view(), "2001:db8::5");
  EXPECT_EQ(list[3].port, 1123);
}

TEST(NtpConfig, AnEmptyListMeansNoNtp) {
  Parsed p = parse(with(R"("ntp":[])"));
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  EXPECT_TRUE(p.config->ntp_list().empty());
}

TEST(NtpConfig, MistakesNameTheEntry) {
  EXPECT_THAT(std::string(parse(with(R"("ntp":"pool.ntp.org")")).error.message()),
              HasSubstr("'ntp': expected array"));
  EXPECT_THAT(std::string(parse(with(R"("ntp":["a",5])")).error.message()), HasSubstr("'ntp[1]': expected string"));
  EXPECT_THAT(std::string(parse(with(R"("ntp":["time.example:99999"])")).error.message()),
              HasSubstr("'ntp[0]': expected \"host\" or \"host:port\", the port is outside 1..65535"));
  EXPECT_THAT(std::string(parse(with(R"("ntp":["udp://time.example"])")).error.message()), HasSubstr("'ntp[0]'"));
  EXPECT_THAT(std::string(parse(with(R"("ntp":["a","b","c","d","e"])")).error.message()),
              HasSubstr("at most 4 NTP servers, got 5"));
}

TEST(NtpConfig, ServicesStillNeedAPort) {
  EXPECT_THAT(std::string(parse(with(R"("services":{"ssh":"127.0.0.1"})")).error.message()),
              HasSubstr("the port is missing"));
}

}  // namespace
}  // namespace sublink
