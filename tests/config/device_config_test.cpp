// The configuration file's JSON as a person writes it, right and wrong: every
// error must be one line that names the key and the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <utility>
#include <string>

#include "firmware/config/config_parser.h"
#include "firmware/json/json_arena.h"
#include "support/process.h"

namespace sublink {
namespace {

using ::testing::HasSubstr;

// The required keys, each unless `extra` sets it; then `extra`.
std::string minimal(const std::string& extra = "") {
  const std::pair<const char*, const char*> required[] = {
      {"server", "subs.example.com"},
      {"customer_id", "CUST-1"},
      {"system_id", "SYS-0001"},
      {"ca_file", "/etc/sublink/ca.crt"},
      {"cert_file", "/etc/sublink/device.crt"},
      {"key_file", "/etc/sublink/device.key"},
      {"license_key_file", "/etc/sublink/license.pub"},
      {"state_dir", "/var/lib/sublink"},
  };
  std::string text = "{";
  for (const auto& [key, value] : required) {
    if (extra.find(std::string("\"") + key + "\":") != std::string::npos) continue;
    text += std::string(text.size() > 1 ? "," : "") + "\"" + key + "\":\"" + value + "\"";
  }
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

// The error text for `extra` added to a valid configuration.
std::string error_for(const std::string& extra) {
  Parsed p = parse(minimal(extra));
  EXPECT_FALSE(p.error.ok()) << extra;
  EXPECT_EQ(p.error.message().find('\n'), std::string_view::npos);
  return std::string(p.error.message());
}

TEST(DeviceConfig, MinimalFileGetsProtocolDefaults) {
  Parsed p = parse(minimal());
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  const DeviceConfig& c = *p.config;
  EXPECT_EQ(c.server.view(), "subs.example.com");
  EXPECT_EQ(c.customer_id.view(), "CUST-1");
  EXPECT_EQ(c.system_id.view(), "SYS-0001");
  EXPECT_EQ(c.ca_file.view(), "/etc/sublink/ca.crt");
  EXPECT_EQ(c.cert_file.view(), "/etc/sublink/device.crt");
  EXPECT_EQ(c.key_file.view(), "/etc/sublink/device.key");
  EXPECT_EQ(c.license_key_file.view(), "/etc/sublink/license.pub");
  EXPECT_EQ(c.state_dir.view(), "/var/lib/sublink");
  ASSERT_EQ(c.port_list().size(), 2u);
  EXPECT_EQ(c.port_list()[0], 443);
  EXPECT_EQ(c.port_list()[1], 8443);
  EXPECT_FALSE(c.has_proxy);
  EXPECT_TRUE(c.feature_list().empty());
  EXPECT_TRUE(c.service_list().empty());
  EXPECT_EQ(c.connect_timeout, 5000);
  EXPECT_EQ(c.stagger, 300);
  EXPECT_EQ(c.retry_min, 1000);
  EXPECT_EQ(c.retry_max, 300000);
  EXPECT_EQ(c.grace_period, int64_t{2592000} * 1000);
  EXPECT_EQ(c.grace_alarm_delay, 600000);
  EXPECT_EQ(c.grace_alarm_interval, 86400000);
  EXPECT_EQ(c.checkpoint, 3600000);
  EXPECT_EQ(c.max_message_bytes, 65536u);
  EXPECT_EQ(c.max_channels, 8u);
  EXPECT_EQ(c.tunnel_window_bytes, 524288u) << "sized for 10 Mbit/s at 200 ms (bench/tunnel)";
  EXPECT_EQ(c.tunnel_idle, 600000);
  for (const char* m : {"status.get", "license.refresh", "audit.now", "events.get", "tunnels.list"}) {
    EXPECT_TRUE(c.allows(m)) << m;
  }
  EXPECT_FALSE(c.allows("tunnel.open")) << "gone with the revised protocol";
  EXPECT_FALSE(c.allows("system.reboot"));
}

TEST(DeviceConfig, EveryKeyIsRead) {
  Parsed p = parse(minimal(
      R"("ports":[8443,443,9443],"proxy":"http://bob:s%40cret@proxy.lan:3128",)"
      R"("features":[{"name":"sip_trunks","qty":20},{"qty":1,"name":"recording"}],)"
      R"("services":{"ssh":"127.0.0.1:22","web":"[::1]:8080","api":"localhost:9000"},)"
      R"("management_methods":["status.get","tunnels.list"],)"
      R"("connect_timeout_s":7,"stagger_ms":0,"retry_min_s":2,"retry_max_s":60,"grace_period_s":120,)"
      R"("grace_alarm_delay_s":10,"grace_alarm_interval_s":20,"checkpoint_s":5,"violation_retry_s":90,)"
      R"("ntp_wait_s":0,"max_message_bytes":4096,"max_channels":2,"tunnel_window_bytes":4096,"tunnel_idle_s":30)"));
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  const DeviceConfig& c = *p.config;
  ASSERT_EQ(c.port_list().size(), 3u);
  EXPECT_EQ(c.port_list()[0], 8443);
  EXPECT_EQ(c.port_list()[2], 9443);
  ASSERT_TRUE(c.has_proxy);
  EXPECT_EQ(c.proxy.host(), "proxy.lan");
  EXPECT_EQ(c.proxy.port(), 3128);
  EXPECT_EQ(c.proxy.user(), "bob");
  EXPECT_EQ(c.proxy.password(), "s@cret");
  ASSERT_EQ(c.feature_list().size(), 2u);
  EXPECT_EQ(c.feature_list()[0].name.view(), "sip_trunks");
  EXPECT_EQ(c.feature_list()[0].qty, 20u);
  EXPECT_EQ(c.feature_list()[1].name.view(), "recording");
  ASSERT_EQ(c.service_list().size(), 3u);
  ASSERT_NE(c.find_service("web"), nullptr);
  EXPECT_EQ(c.find_service("web")->host.view(), "::1");
  EXPECT_EQ(c.find_service("web")->port, 8080);
  EXPECT_EQ(c.find_service("ssh")->host.view(), "127.0.0.1");
  EXPECT_EQ(c.find_service("api")->port, 9000);
  EXPECT_EQ(c.find_service("telnet"), nullptr);
  EXPECT_TRUE(c.allows("status.get"));
  EXPECT_TRUE(c.allows("tunnels.list"));
  EXPECT_FALSE(c.allows("license.refresh"));
  EXPECT_FALSE(c.allows("events.get"));
  EXPECT_EQ(c.connect_timeout, 7000);
  EXPECT_EQ(c.stagger, 0);
  EXPECT_EQ(c.retry_min, 2000);
  EXPECT_EQ(c.retry_max, 60000);
  EXPECT_EQ(c.grace_period, 120000);
  EXPECT_EQ(c.grace_alarm_delay, 10000);
  EXPECT_EQ(c.grace_alarm_interval, 20000);
  EXPECT_EQ(c.checkpoint, 5000);
  EXPECT_EQ(c.violation_retry, 90000);
  EXPECT_EQ(c.max_message_bytes, 4096u);
  EXPECT_EQ(c.max_channels, 2u);
  EXPECT_EQ(c.tunnel_window_bytes, 4096u);
  EXPECT_EQ(c.tunnel_idle, 30000);
  EXPECT_EQ(c.ntp_wait, 0) << "0: link at once on the build time";
}

TEST(DeviceConfig, ConvertsToConnectAndGraceConfigInMilliseconds) {
  Parsed p = parse(minimal(R"("ports":[4433],"connect_timeout_s":3,"stagger_ms":150,"retry_min_s":4,)"
                           R"("retry_max_s":40,"grace_period_s":90,"grace_alarm_delay_s":9,)"
                           R"("grace_alarm_interval_s":30,"checkpoint_s":15,"grace_checkpoint_s":7)"));
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  ConnectConfig cc = to_connect_config(*p.config);
  EXPECT_EQ(cc.port_count, 1u);
  EXPECT_EQ(cc.ports[0], 4433);
  EXPECT_EQ(cc.connect_timeout_ms, 3000);
  EXPECT_EQ(cc.stagger_ms, 150);
  EXPECT_EQ(cc.retry_min_ms, 4000);
  EXPECT_EQ(cc.retry_max_ms, 40000);
  GraceConfig gc = to_grace_config(*p.config);
  EXPECT_EQ(gc.grace_period, 90000);
  EXPECT_EQ(gc.alarm_delay, 9000);
  EXPECT_EQ(gc.alarm_interval, 30000);
  EXPECT_EQ(gc.checkpoint_interval, 15000);
  EXPECT_EQ(gc.grace_checkpoint, 7000);
  EXPECT_EQ(to_grace_config(*parse(minimal("")).config).grace_checkpoint, 60000);  // PROTOCOL default
  EXPECT_EQ(gc.skew_limit, GraceConfig{}.skew_limit);  // not configurable: kept
}

TEST(DeviceConfig, DurationsOfYearsDoNotOverflow) {
  // 10 years in seconds is beyond 2^31 once in milliseconds many times over.
  const int64_t ten_years_s = int64_t{10} * 365 * 86400;
  Parsed p = parse(minimal(R"("grace_period_s":315360000,"grace_alarm_interval_s":315360000,"retry_max_s":315360000)"));
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  EXPECT_EQ(p.config->grace_period, ten_years_s * 1000);
  EXPECT_EQ(to_grace_config(*p.config).alarm_interval, ten_years_s * 1000);
  EXPECT_EQ(to_connect_config(*p.config).retry_max_ms, ten_years_s * 1000);
  // The largest accepted value, 100 years, still converts exactly.
  Parsed max = parse(minimal(R"("grace_period_s":)" + std::to_string(kMaxConfigSeconds)));
  ASSERT_TRUE(max.error.ok()) << max.error.message();
  EXPECT_EQ(max.config->grace_period, kMaxConfigSeconds * 1000);
  EXPECT_THAT(error_for(R"("grace_period_s":)" + std::to_string(kMaxConfigSeconds + 1)),
              HasSubstr("'grace_period_s': expected integer 1..3153600000 (seconds), got 3153600001"));
}

TEST(DeviceConfig, SmallDurationsAreAccepted) {
  Parsed p = parse(minimal(R"("grace_period_s":3,"grace_alarm_delay_s":1,"grace_alarm_interval_s":1,"checkpoint_s":1)"));
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  EXPECT_EQ(p.config->grace_period, 3000);
}

TEST(DeviceConfig, ExampleErrorLineIsExact) {
  EXPECT_EQ(error_for(R"("ports":[443,"x"])"), R"(config: 'ports[1]': expected integer 1..65535, got "x")");
}

struct BadValue {
  const char* extra;
  const char* message;
};

class TypeAndRangeErrors : public ::testing::TestWithParam<BadValue> {};

TEST_P(TypeAndRangeErrors, NameTheKeyAndTheProblem) {
  EXPECT_EQ(error_for(GetParam().extra), std::string("config: ") + GetParam().message);
}

const BadValue kTimingErrors[] = {
    {R"("connect_timeout_s":"5")", R"('connect_timeout_s': expected integer 1..3153600000 (seconds), got "5")"},
    {R"("connect_timeout_s":0)", "'connect_timeout_s': expected integer 1..3153600000 (seconds), got 0"},
    {R"("connect_timeout_s":1.5)", "'connect_timeout_s': expected integer 1..3153600000 (seconds), got a non-integer number"},
    {R"("stagger_ms":true)", "'stagger_ms': expected integer 0..3153600000000 (milliseconds), got true"},
    {R"("stagger_ms":-1)", "'stagger_ms': expected integer 0..3153600000000 (milliseconds), got -1"},
    {R"("retry_min_s":null)", "'retry_min_s': expected integer 1..3153600000 (seconds), got null"},
    {R"("retry_min_s":0)", "'retry_min_s': expected integer 1..3153600000 (seconds), got 0"},
    {R"("retry_max_s":[300])", "'retry_max_s': expected integer 1..3153600000 (seconds), got an array"},
    {R"("retry_max_s":-300)", "'retry_max_s': expected integer 1..3153600000 (seconds), got -300"},
    {R"("grace_period_s":{})", "'grace_period_s': expected integer 1..3153600000 (seconds), got an object"},
    {R"("grace_period_s":0)", "'grace_period_s': expected integer 1..3153600000 (seconds), got 0"},
    {R"("grace_period_s":1e300)", "'grace_period_s': expected integer 1..3153600000 (seconds), got a number beyond 2^53"},
    {R"("grace_alarm_delay_s":false)", "'grace_alarm_delay_s': expected integer 1..3153600000 (seconds), got false"},
    {R"("grace_alarm_delay_s":0)", "'grace_alarm_delay_s': expected integer 1..3153600000 (seconds), got 0"},
    {R"("grace_alarm_interval_s":"daily")", R"('grace_alarm_interval_s': expected integer 1..3153600000 (seconds), got "daily")"},
    {R"("grace_alarm_interval_s":-1)", "'grace_alarm_interval_s': expected integer 1..3153600000 (seconds), got -1"},
    {R"("checkpoint_s":"1h")", R"('checkpoint_s': expected integer 1..3153600000 (seconds), got "1h")"},
    {R"("checkpoint_s":0)", "'checkpoint_s': expected integer 1..3153600000 (seconds), got 0"},
    {R"("grace_checkpoint_s":"1m")", R"('grace_checkpoint_s': expected integer 1..3153600000 (seconds), got "1m")"},
    {R"("grace_checkpoint_s":0)", "'grace_checkpoint_s': expected integer 1..3153600000 (seconds), got 0"},
    {R"("ntp_wait_s":3601)", "'ntp_wait_s': expected integer 0..3600 (seconds), got 3601"},
    {R"("ntp_wait_s":-1)", "'ntp_wait_s': expected integer 0..3600 (seconds), got -1"},
    {R"("max_message_bytes":"64k")", R"('max_message_bytes': expected integer 256..16777216 (bytes), got "64k")"},
    {R"("max_message_bytes":100)", "'max_message_bytes': expected integer 256..16777216 (bytes), got 100"},
    {R"("max_message_bytes":16777217)", "'max_message_bytes': expected integer 256..16777216 (bytes), got 16777217"},
    {R"("max_channels":"8")", R"('max_channels': expected integer 1..16, got "8")"},
    {R"("max_channels":0)", "'max_channels': expected integer 1..16, got 0"},
    {R"("max_channels":17)", "'max_channels': expected integer 1..16, got 17"},
    {R"("tunnel_window_bytes":"64k")", R"('tunnel_window_bytes': expected integer 512..4194304 (bytes), got "64k")"},
    {R"("tunnel_window_bytes":511)", "'tunnel_window_bytes': expected integer 512..4194304 (bytes), got 511"},
    {R"("tunnel_window_bytes":4194305)", "'tunnel_window_bytes': expected integer 512..4194304 (bytes), got 4194305"},
    {R"("tunnel_idle_s":0)", "'tunnel_idle_s': expected integer 1..3153600000 (seconds), got 0"},
    {R"("tunnel_idle_s":"10m")", R"('tunnel_idle_s': expected integer 1..3153600000 (seconds), got "10m")"},
};
INSTANTIATE_TEST_SUITE_P(Timing, TypeAndRangeErrors, ::testing::ValuesIn(kTimingErrors));

const BadValue kStringErrors[] = {
    {R"("server":42)", "'server': expected string, got 42"},
    {R"("server":"")", "'server': must not be empty"},
    {R"("server":"https://subs.example.com")", R"('server': expected a host name or IP address, not a URL, got "https://subs.example.com")"},
    {R"("server":"subs example")", R"('server': expected a host name or IP address, got "subs example")"},
    {R"("server":"subs.example.com/api")", R"('server': expected a host name or IP address, not a URL, got "subs.example.com/api")"},
    {R"("server":"admin@subs.example.com")", R"('server': expected a host name or IP address, got "admin@subs.example.com")"},
    {R"("customer_id":["C"])", "'customer_id': expected string, got an array"},
    {R"("system_id":null)", "'system_id': expected string, got null"},
    {R"("system_id":"SYS\n1")", R"('system_id': contains a control character: "SYS\x0a1")"},
    {R"("ca_file":1)", "'ca_file': expected string, got 1"},
    {R"("cert_file":false)", "'cert_file': expected string, got false"},
    {R"("key_file":{})", "'key_file': expected string, got an object"},
    {R"("license_key_file":"")", "'license_key_file': must not be empty"},
    {R"("state_dir":0)", "'state_dir': expected string, got 0"},
};
INSTANTIATE_TEST_SUITE_P(Strings, TypeAndRangeErrors, ::testing::ValuesIn(kStringErrors));

const BadValue kListErrors[] = {
    {R"("ports":443)", "'ports': expected array of 1..8 ports, got 443"},
    {R"("ports":[])", "'ports': expected 1..8 ports, got 0"},
    {R"("ports":[1,2,3,4,5,6,7,8,9])", "'ports': expected 1..8 ports, got 9"},
    {R"("ports":[0])", "'ports[0]': expected integer 1..65535, got 0"},
    {R"("ports":[443,65536])", "'ports[1]': expected integer 1..65535, got 65536"},
    {R"("ports":[443,443])", "'ports[1]': port 443 is listed twice"},
    {R"("features":{"a":1})", R"('features': expected array of {"name", "qty"}, got an object)"},
    {R"("features":["sip"])", R"('features[0]': expected object {"name", "qty"}, got "sip")"},
    {R"("features":[{"name":"a","qty":1},{"name":"b"}])", "'features[1].qty': expected integer (required), got nothing"},
    {R"("features":[{"qty":1}])", "'features[0].name': expected string (required), got nothing"},
    {R"("features":[{"name":"a","qty":0}])", "'features[0].qty': expected integer 1..4294967295, got 0"},
    {R"("features":[{"name":"a","qty":"2"}])", R"('features[0].qty': expected integer 1..4294967295, got "2")"},
    {R"("features":[{"name":5,"qty":1}])", "'features[0].name': expected string, got 5"},
    {R"("features":[{"name":"a","qty":1,"max":2}])", R"('features[0].max': unknown key (a feature has "name" and "qty"))"},
    {R"("features":[{"name":"a","qty":1},{"name":"a","qty":2}])", R"('features[1].name': "a" is listed twice)"},
    {R"("features":[{"name":"a_feature_name_that_is_too_long!","qty":1}])", "'features[0].name': too long (32 bytes, at most 31)"},
    {R"("services":["ssh"])", R"('services': expected object {NAME: "host:port"}, got an array)"},
    {R"("services":{"ssh":22})", R"('services.ssh': expected string "host:port", got 22)"},
    {R"("services":{"ssh":"localhost"})", R"('services.ssh': expected "host:port", the port is missing, got "localhost")"},
    {R"("services":{"ssh":"localhost:99999"})", R"('services.ssh': expected "host:port", the port is outside 1..65535, got "localhost:99999")"},
    {R"("services":{"ssh":"localhost:ssh"})", R"('services.ssh': expected "host:port", the port is not a number, got "localhost:ssh")"},
    {R"("services":{"ssh":":22"})", R"('services.ssh': expected "host:port", the host is not a valid name or IP literal, got ":22")"},
    {R"("services":{"ssh":"root@host:22"})", R"('services.ssh': expected "host:port", got "root@host:22")"},
    {R"("services":{"ssh":"host:22/x"})", R"('services.ssh': expected "host:port", got "host:22/x")"},
    {R"("services":{"":"host:22"})", "'services.': a service name has 1..15 printable characters"},
    // DEL is a control character too; the path shows it as '?'.
    {R"("services":{"s\u007fh":"host:22"})", "'services.s?h': a service name has 1..15 printable characters"},
    {R"("services":{"sixteen_chars_xx":"host:22"})",
     "'services.sixteen_chars_xx': a service name has 1..15 printable characters"},
    {R"("services":{"a_service_name_that_is_too_long!":"host:22"})",
     "'services.a_service_name_that_is_too_long!': a service name has 1..15 printable characters"},
    // An IPv6 literal's colons are not a port.
    {R"("services":{"ssh":"[::1]"})", R"('services.ssh': expected "host:port", the port is missing, got "[::1]")"},
    {R"("ntp":["ntp.example.com:ntp"])", R"('ntp[0]': expected "host" or "host:port", the port is not a number, got "ntp.example.com:ntp")"},
    {R"("ntp":["ntp.example.com:0"])", R"('ntp[0]': expected "host" or "host:port", the port is outside 1..65535, got "ntp.example.com:0")"},
    {R"("services":{"ssh":"a:1","ssh":"b:2"})", "'services.ssh': given twice"},
    {R"("services":{"a":"h:1","b":"h:2","c":"h:3","d":"h:4","e":"h:5","f":"h:6","g":"h:7","h":"h:8","i":"h:9"})",
     "'services': at most 8 services, got 9"},
    {R"("management_methods":"status.get")", R"('management_methods': expected array of method names, got "status.get")"},
    {R"("management_methods":[1])", "'management_methods[0]': expected method name string, got 1"},
    {R"("management_methods":["status.get","system.reboot"])",
     R"('management_methods[1]': unknown method "system.reboot" (known: status.get, license.refresh, audit.now, events.get, tunnels.list))"},
    // A configuration written for the first draft, which had these methods.
    {R"("management_methods":["status.get","tunnel.open"])",
     R"('management_methods[1]': "tunnel.open" is no longer a method: tunnels are opened with binary frames (PROTOCOL.md section 6) to the configured `services`; remove it ("tunnels.list" lists open channels))"},
    {R"("management_methods":["tunnel.close"])",
     R"('management_methods[0]': "tunnel.close" is no longer a method: tunnels are opened with binary frames (PROTOCOL.md section 6) to the configured `services`; remove it ("tunnels.list" lists open channels))"},
};
INSTANTIATE_TEST_SUITE_P(Lists, TypeAndRangeErrors, ::testing::ValuesIn(kListErrors));

const BadValue kProxyErrors[] = {
    {R"("proxy":3128)", "'proxy': expected string http://[user:password@]host:port or null, got 3128"},
    {R"("proxy":"https://proxy:3128")", "'proxy': proxy URL must start with http://"},
    {R"("proxy":"proxy:3128")", "'proxy': proxy URL must start with http://"},
    {R"("proxy":"http://:pw@proxy:3128")", "'proxy': proxy user or password is empty, too long or badly percent-encoded"},
    {R"("proxy":"http://proxy")", "'proxy': proxy URL has no :port after the host"},
    {R"("proxy":"http://proxy:abc")", "'proxy': proxy port is not a decimal number"},
    {R"("proxy":"http://proxy:0")", "'proxy': proxy port is outside 1..65535"},
    {R"("proxy":"http://proxy:3128/path")", "'proxy': proxy URL must not have a path, query or fragment"},
    {R"("proxy":"http://pro xy:3128")", "'proxy': proxy host is empty, too long or not a valid name or IP literal"},
};
INSTANTIATE_TEST_SUITE_P(Proxy, TypeAndRangeErrors, ::testing::ValuesIn(kProxyErrors));

TEST(DeviceConfig, ProxyErrorNeverShowsThePassword) {
  std::string message = error_for(R"("proxy":"http://bob:hunter2@proxy:99999")");
  EXPECT_THAT(message, HasSubstr("'proxy'"));
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST(DeviceConfig, NullProxyMeansNone) {
  Parsed p = parse(minimal(R"("proxy":null)"));
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  EXPECT_FALSE(p.config->has_proxy);
}

TEST(DeviceConfig, UnknownAndRepeatedKeysAreErrors) {
  EXPECT_EQ(error_for(R"("retry_max":300)"), "config: 'retry_max': unknown key");
  EXPECT_EQ(error_for(R"("Server":"x")"), "config: 'Server': unknown key");
  EXPECT_EQ(parse(minimal(R"("retry_max_s":30,"retry_max_s":40)")).error.message(), "config: 'retry_max_s': given twice");
  // A hostile key name cannot break the line.
  EXPECT_EQ(error_for(R"("a\nb'c":1)"), "config: 'a?b?c': unknown key");
}

TEST(DeviceConfig, EachRequiredKeyIsNamedWhenMissing) {
  const char* keys[] = {"server", "customer_id", "system_id", "ca_file", "cert_file",
                        "key_file", "license_key_file", "state_dir"};
  for (const char* key : keys) {
    std::string text = minimal();
    size_t at = text.find(std::string("\"") + key + "\"");
    ASSERT_NE(at, std::string::npos);
    size_t end = text.find(',', at);
    if (end == std::string::npos) {
      text.erase(text.rfind(',', at), text.size() - 1 - text.rfind(',', at));
    } else {
      text.erase(at, end + 1 - at);
    }
    Parsed p = parse(text);
    EXPECT_EQ(p.error.message(), std::string("config: '") + key + "': missing (required)") << text;
    EXPECT_EQ(p.error.status().reason(), Reason::invalid_argument);
  }
  EXPECT_EQ(parse("{}").error.message(), "config: 'server': missing (required)");
}

TEST(DeviceConfig, SettingsThatContradictEachOtherAreErrors) {
  EXPECT_EQ(error_for(R"("retry_min_s":600)"), "config: 'retry_min_s': 600 is above 'retry_max_s' (300)");
  EXPECT_EQ(error_for(R"("retry_min_s":10,"retry_max_s":5)"), "config: 'retry_min_s': 10 is above 'retry_max_s' (5)");
  EXPECT_EQ(error_for(R"("grace_period_s":60)"),
            "config: 'grace_alarm_delay_s': 600 is above 'grace_period_s' (60): the alarm would never be raised");
  Parsed equal = parse(minimal(R"("retry_min_s":5,"retry_max_s":5,"grace_period_s":60,"grace_alarm_delay_s":60)"));
  EXPECT_TRUE(equal.error.ok()) << equal.error.message();
}

TEST(DeviceConfig, BoundsOfStoredStrings) {
  std::string longest(kMaxConfigPath, 'p');
  Parsed p = parse(minimal(R"("state_dir":")" + longest + "\""));
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  EXPECT_EQ(p.config->state_dir.view(), longest);
  EXPECT_EQ(error_for(R"("state_dir":")" + longest + "p\""), "config: 'state_dir': too long (256 bytes, at most 255)");
  std::string features = R"("features":[)";
  for (size_t i = 0; i <= kMaxConfigFeatures; ++i) {
    features += (i ? "," : "") + std::string(R"({"name":"f)") + std::to_string(i) + R"(","qty":1})";
  }
  EXPECT_EQ(error_for(features + "]"), "config: 'features': at most 32 features, got 33");
}

TEST(DeviceConfig, NotJsonNamesLineAndColumn) {
  Parsed p = parse("{\n  \"server\": \"a\",\n  \"ports\": [443,]\n}");
  EXPECT_FALSE(p.error.ok());
  EXPECT_THAT(std::string(p.error.message()), HasSubstr("config: not valid JSON at line 3"));
  EXPECT_EQ(parse("").error.message().substr(0, 26), "config: not valid JSON at ");
  EXPECT_EQ(parse("[1]").error.message(), "config: expected a JSON object at the top level, got an array");
  EXPECT_EQ(parse(R"({"server":"a\u0000b"})").error.message(), "config: a string holds \\u0000");
  std::string deep = minimal(R"("features":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]])");
  EXPECT_EQ(parse(deep).error.message(), "config: JSON nested deeper than 16 levels");
}

TEST(DeviceConfig, NtpServersTakePort123UnlessGivenOneIPv6LiteralsIncluded) {
  Parsed p = parse(minimal(R"("ntp":["ntp.example.com","[2001:db8::1]","10.0.0.1:1123","[::1]:4123"])"));
  ASSERT_TRUE(p.error.ok()) << p.error.message();
  ASSERT_EQ(p.config->ntp_count, 4u);
  EXPECT_EQ(p.config->ntp[0].host.view(), "ntp.example.com");
  EXPECT_EQ(p.config->ntp[0].port, 123);
  EXPECT_EQ(p.config->ntp[1].host.view(), "2001:db8::1");
  EXPECT_EQ(p.config->ntp[1].port, 123);
  EXPECT_EQ(p.config->ntp[2].host.view(), "10.0.0.1");
  EXPECT_EQ(p.config->ntp[2].port, 1123);
  EXPECT_EQ(p.config->ntp[3].host.view(), "::1");
  EXPECT_EQ(p.config->ntp[3].port, 4123);
}

// An endpoint longer than any host name can be is refused as it is, not
// cut to something that parses.
TEST(DeviceConfig, AnEndpointLongerThanAnyHostIsRefused) {
  const std::string host(300, 'h');
  EXPECT_THAT(error_for(R"("services":{"ssh":")" + host + R"(:22"})"),
              HasSubstr(R"(config: 'services.ssh': expected "host:port", got "hhhh)"));
  EXPECT_THAT(error_for(R"("ntp":[")" + host + R"("])"), HasSubstr(R"(config: 'ntp[0]': expected "host" or "host:port", got "hhhh)"));
}

// On the device the configuration is parsed in the fixed JSON arena: a file
// too large for it is named as such, with the arena's size, not as invalid
// JSON (it may well be valid).
TEST(DeviceConfig, AFileLargerThanTheJsonArenaSaysSo) {
  std::vector<uint8_t> storage(4096);
  JsonArena arena(storage);  // uninstalls itself, also when an assertion fails
  arena.install();
  ASSERT_TRUE(parse(minimal()).error.ok()) << "the usual file fits";
  std::string big = R"("ignored":[)";
  for (int i = 0; i < 200; ++i) big += i ? ",1" : "1";
  Parsed p = parse(minimal(big + "]"));
  ASSERT_FALSE(p.error.ok());
  EXPECT_EQ(p.error.status().reason(), Reason::out_of_memory);
  EXPECT_EQ(p.error.message(), "config: the file does not fit the 4096-byte JSON arena");
  EXPECT_EQ(arena.live_blocks(), 0u) << "nothing left allocated after the failure";
}

TEST(DeviceConfig, LongHostileValuesAreCutAndEscaped) {
  // An escaped control character: valid JSON, its value still hostile.
  std::string text = minimal(R"("ports":[")" + std::string(3000, 'x') + "\\u0001\"]");
  Parsed p = parse(text);
  EXPECT_FALSE(p.error.ok());
  EXPECT_LE(p.error.message().size(), ConfigError::kMaxText);
  EXPECT_THAT(std::string(p.error.message()), HasSubstr("'ports[0]': expected integer 1..65535, got \"xxxx"));
  EXPECT_THAT(std::string(p.error.message()), HasSubstr("...\""));
}

TEST(DeviceConfig, ReparseStartsFromDefaults) {
  DeviceConfig config;
  ASSERT_TRUE(parse_device_config(minimal(R"("ports":[1],"proxy":"http://p:1","features":[{"name":"a","qty":1}])"), config).ok());
  ASSERT_TRUE(parse_device_config(minimal(), config).ok());
  EXPECT_EQ(config.port_count, 2u);
  EXPECT_FALSE(config.has_proxy);
  EXPECT_EQ(config.feature_count, 0u);
}

TEST(ConfigErrorText, IntegersAndQuotingAreExact) {
  ConfigError e = ConfigError::begin(Reason::invalid_argument);
  e.add_int(INT64_MIN).add(" ").add_int(0).add(" ").add_int(INT64_MAX).add(" ").add_quoted("a\"b\\c\td");
  EXPECT_EQ(e.message(), R"(config: -9223372036854775808 0 9223372036854775807 "a\"b\\c\x09d")");
  EXPECT_TRUE(ConfigError().ok());
  EXPECT_TRUE(ConfigError().message().empty());
}

}  // namespace
}  // namespace sublink

namespace sublink {
namespace {

// The sample shipped for installers must stay a configuration the agent
// accepts, with every timing name spelled as the parser knows it.
TEST(SampleConfiguration, ParsesWithTheProtocolDefaults) {
  std::ifstream in(test::source_path("boards/host/sublink.sample.json"));
  ASSERT_TRUE(in) << "boards/host/sublink.sample.json is missing";
  std::stringstream text;
  text << in.rdbuf();
  auto config = std::make_unique<DeviceConfig>();
  ConfigError e = parse_device_config(text.str(), *config);
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(config->port_count, 2u);
  EXPECT_EQ(config->grace_period, 30 * kDayMs);
  EXPECT_EQ(config->feature_count, 2u);
}

}  // namespace
}  // namespace sublink
