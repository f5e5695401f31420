#include <gtest/gtest.h>

#include <string>

#include "net/address/ip_address.h"

namespace sublink {
namespace {

std::string roundtrip(const char* text) {
  IpAddress a = IpAddress::parse(text);
  char buf[64];
  a.format(buf);
  return buf;
}

TEST(IpAddress, ParsesAndFormatsLiterals) {
  EXPECT_EQ(IpAddress::parse("127.0.0.1").family, 4);
  EXPECT_EQ(roundtrip("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(IpAddress::parse("::1").family, 6);
  EXPECT_EQ(roundtrip("::1"), "::1");
  EXPECT_EQ(roundtrip("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
  EXPECT_EQ(roundtrip("::ffff:192.0.2.1"), "::ffff:c000:201");
  EXPECT_EQ(roundtrip("fe80::"), "fe80::");
  EXPECT_EQ(roundtrip("[::1]"), "::1");
}

TEST(IpAddress, RejectsNamesAndMalformedLiterals) {
  for (const char* bad : {"localhost", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "", ":::",
                          "1::2::3", "12345::", "::g", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", ":1::", "[1.2.3.4]", "[::1"}) {
    EXPECT_EQ(IpAddress::parse(bad).family, 0) << bad;
  }
}

}  // namespace
}  // namespace sublink
