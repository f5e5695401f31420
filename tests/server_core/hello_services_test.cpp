// hello's `services` as the server reads them: the names a forward may
// use, or nothing judged when the list is absent or out of its ranges.
#include "server_core/hello_services.h"

#include <gtest/gtest.h>

#include <string>

namespace sublink {
namespace {

TEST(HelloServicesTest, TheNamesTheDeviceOffersAreRead) {
  auto names = read_hello_services(R"({"type":"hello","services":["http","ssh"]})");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(*names, (std::vector<std::string>{"http", "ssh"}));
  names = read_hello_services(R"({"type":"hello","services":[]})");
  ASSERT_TRUE(names.has_value()) << "an empty list offers nothing";
  EXPECT_TRUE(names->empty());
  const std::string longest(255, 's');
  names = read_hello_services(R"({"services":[")" + longest + R"("]})");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(names->front(), longest);
}

TEST(HelloServicesTest, AnAbsentOrOutOfRangeListLeavesTheDeviceToJudge) {
  EXPECT_FALSE(read_hello_services(R"({"type":"hello"})").has_value()) << "a device before tunnels";
  EXPECT_FALSE(read_hello_services(R"({"services":"http"})").has_value());
  EXPECT_FALSE(read_hello_services(R"({"services":["http",7]})").has_value());
  EXPECT_FALSE(read_hello_services(R"({"services":[""]})").has_value()) << "a name is 1..255 bytes";
  EXPECT_FALSE(read_hello_services(R"({"services":[")" + std::string(256, 's') + R"("]})").has_value());
  std::string many = R"({"services":[)";
  for (size_t i = 0; i <= kMaxHelloServices; ++i) many += std::string(i ? "," : "") + "\"s" + std::to_string(i) + "\"";
  EXPECT_FALSE(read_hello_services(many + "]}").has_value()) << "more than 256 names";
  EXPECT_FALSE(read_hello_services("not json").has_value());
}

}  // namespace
}  // namespace sublink
