#include "net/address/ip_address.h"

#include <gtest/gtest.h>

#include <vector>

namespace sublink {
namespace {

std::vector<uint8_t> bytes_of(std::string_view text) {
  IpAddress ip = IpAddress::parse(text);
  auto v = ip.view();
  return {v.begin(), v.end()};
}

TEST(IpAddressParse, ParsesIpv4) {
  EXPECT_EQ(bytes_of("127.0.0.1"), (std::vector<uint8_t>{127, 0, 0, 1}));
  EXPECT_EQ(bytes_of("255.255.255.255"), (std::vector<uint8_t>{255, 255, 255, 255}));
  EXPECT_EQ(bytes_of("0.0.0.0"), (std::vector<uint8_t>{0, 0, 0, 0}));
}

TEST(IpAddressParse, ParsesIpv6Forms) {
  std::vector<uint8_t> loopback(16, 0);
  loopback[15] = 1;
  EXPECT_EQ(bytes_of("::1"), loopback);
  EXPECT_EQ(bytes_of("[::1]"), loopback);
  EXPECT_EQ(bytes_of("0:0:0:0:0:0:0:1"), loopback);
  EXPECT_EQ(bytes_of("::"), std::vector<uint8_t>(16, 0));
  auto doc = bytes_of("2001:DB8::ff00:42");
  ASSERT_EQ(doc.size(), 16u);
  EXPECT_EQ(doc[0], 0x20);
  EXPECT_EQ(doc[1], 0x01);
  EXPECT_EQ(doc[2], 0x0d);
  EXPECT_EQ(doc[3], 0xb8);
  EXPECT_EQ(doc[12], 0xff);
  EXPECT_EQ(doc[15], 0x42);
  auto mapped = bytes_of("::ffff:192.0.2.1");
  ASSERT_EQ(mapped.size(), 16u);
  EXPECT_EQ(mapped[10], 0xff);
  EXPECT_EQ(mapped[11], 0xff);
  EXPECT_EQ(mapped[12], 192);
  EXPECT_EQ(mapped[15], 1);
  EXPECT_EQ(bytes_of("1::"), (std::vector<uint8_t>{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(IpAddressParse, HostNamesAreNotLiterals) {
  for (const char* name : {"localhost", "sub.example.com", "1.2.3.example", "example.1", "", "[localhost]"}) {
    EXPECT_EQ(IpAddress::parse(name).family, 0) << name;
  }
}

TEST(IpAddressParse, RejectsMalformedAndAmbiguousLiterals) {
  for (const char* text : {"256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1..2.3", "1.2.3.4.", " 1.2.3.4",
                           "1.2.3.4 ", "1:2:3:4:5:6:7:8:9", "1::2::3", ":1::2", "1:2:3:4:5:6:7:", "12345::1",
                           "fe80::1%eth0", "::g", "[::1", "::1]", "1:2:3:4:5:6:7::8:9", "::1.2.3", ":::",
                           "1:2:3:4:5:6:7:1.2.3.4"}) {
    EXPECT_EQ(IpAddress::parse(text).family, 0) << text;
  }
}

}  // namespace
}  // namespace sublink
