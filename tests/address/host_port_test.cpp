#include "net/address/host_port.h"

#include <gtest/gtest.h>

#include <string>

namespace sublink {
namespace {

int32_t error_of(std::string_view text, uint16_t default_port = 0) {
  Result<HostPort> r = parse_host_port(text, default_port);
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) return 0;
  EXPECT_EQ(r.status().reason(), Reason::invalid_argument) << text;
  return r.status().detail();
}

constexpr int32_t detail(HostPortError e) { return static_cast<int32_t>(e); }

TEST(HostPort, ParsesNamesAndLiterals) {
  Result<HostPort> name = parse_host_port("ntp.example.com:123");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "ntp.example.com");
  EXPECT_EQ(name->port, 123);
  Result<HostPort> v4 = parse_host_port("127.0.0.1:22");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 22);
  Result<HostPort> v6 = parse_host_port("[2001:db8::1]:65535");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, 65535);
}

TEST(HostPort, DefaultPortOnlyWhenNoneIsWritten) {
  Result<HostPort> name = parse_host_port("pool.ntp.org", 123);
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "pool.ntp.org");
  EXPECT_EQ(name->port, 123);
  Result<HostPort> v6 = parse_host_port("[::1]", 123);
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 123);
  Result<HostPort> given = parse_host_port("pool.ntp.org:1123", 123);
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->port, 1123);
  EXPECT_EQ(error_of("localhost"), detail(HostPortError::port_missing));
  EXPECT_EQ(error_of("[::1]"), detail(HostPortError::port_missing));
  EXPECT_EQ(error_of("localhost:", 123), detail(HostPortError::port_missing));
}

TEST(HostPort, NamesTheWrongPart) {
  EXPECT_EQ(error_of(""), detail(HostPortError::host));
  EXPECT_EQ(error_of(":22"), detail(HostPortError::host));
  EXPECT_EQ(error_of("::1:22"), detail(HostPortError::host));  // IPv6 without brackets
  EXPECT_EQ(error_of("[::1"), detail(HostPortError::host));
  EXPECT_EQ(error_of("[1.2.3.4]:22"), detail(HostPortError::host));
  EXPECT_EQ(error_of("[::1]x"), detail(HostPortError::host));
  EXPECT_EQ(error_of("[::g]:22"), detail(HostPortError::host));
  EXPECT_EQ(error_of("bad host:22"), detail(HostPortError::host));
  EXPECT_EQ(error_of("host:ssh"), detail(HostPortError::port_invalid));
  EXPECT_EQ(error_of("host:-1"), detail(HostPortError::port_invalid));
  EXPECT_EQ(error_of("host:0"), detail(HostPortError::port_range));
  EXPECT_EQ(error_of("host:65536"), detail(HostPortError::port_range));
  EXPECT_EQ(error_of("host:99999999999999999999"), detail(HostPortError::port_range));
  EXPECT_EQ(error_of("root@host:22"), detail(HostPortError::url_part));
  EXPECT_EQ(error_of("host:22/x"), detail(HostPortError::url_part));
  EXPECT_EQ(error_of("host:22?x"), detail(HostPortError::url_part));
  EXPECT_EQ(error_of("host#x:22"), detail(HostPortError::url_part));
}

}  // namespace
}  // namespace sublink
