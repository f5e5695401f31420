// hello's `services` as the shared codec reads them (parse_device_message):
// the names a forward may use, or nothing judged when the list is absent or
// out of its ranges (the hello itself is still served).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "firmware/protocol/device_messages.h"

namespace sublink {
namespace {

// The names a hello with `services` (JSON text; empty: the field left out)
// offers, read through the codec; the hello must parse either way.
std::optional<std::vector<std::string>> services_of(const std::string& services) {
  const std::string text = R"({"type":"hello","id":1,"proto":1,"customer_id":"C-1","system_id":"SYS-1")" +
                           (services.empty() ? "" : R"(,"services":)" + services) + "}";
  JsonResult<DeviceMessage> m = parse_device_message(text);
  EXPECT_TRUE(m.ok()) << text;
  if (!m.ok()) return std::nullopt;
  const auto* hello = std::get_if<HelloMessage>(&m.value().body);
  EXPECT_NE(hello, nullptr);
  if (hello == nullptr || !hello->services.received()) return std::nullopt;
  std::vector<std::string> names;
  for (std::string_view name : hello->services) names.emplace_back(name);
  return names;
}

TEST(HelloServicesTest, TheNamesTheDeviceOffersAreRead) {
  auto names = services_of(R"(["http","ssh"])");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(*names, (std::vector<std::string>{"http", "ssh"}));
  names = services_of("[]");
  ASSERT_TRUE(names.has_value()) << "an empty list offers nothing";
  EXPECT_TRUE(names->empty());
  const std::string longest(255, 's');
  names = services_of(R"([")" + longest + R"("])");
  ASSERT_TRUE(names.has_value());
  EXPECT_EQ(names->front(), longest);
}

TEST(HelloServicesTest, AnAbsentOrOutOfRangeListLeavesTheDeviceToJudge) {
  EXPECT_FALSE(services_of("").has_value()) << "a device before tunnels";
  EXPECT_FALSE(services_of("null").has_value());
  EXPECT_FALSE(services_of(R"("http")").has_value());
  EXPECT_FALSE(services_of(R"(["http",7])").has_value());
  EXPECT_FALSE(services_of(R"([""])").has_value()) << "a name is 1..255 bytes";
  EXPECT_FALSE(services_of(R"([")" + std::string(256, 's') + R"("])").has_value());
  std::string many = "[";
  for (size_t i = 0; i <= kMaxHelloServices; ++i) many += std::string(i ? "," : "") + "\"s" + std::to_string(i) + "\"";
  EXPECT_FALSE(services_of(many + "]").has_value()) << "more than 256 names";
  EXPECT_FALSE(parse_device_message("not json").ok());
}

TEST(HelloServicesTest, TheWritersNamesComeBackThroughTheReader) {
  const std::string_view offered[] = {"web", "ssh", "status"};
  HelloMessage h;
  h.customer_id = "C-1";
  h.system_id = "SYS-1";
  h.services = std::span<const std::string_view>(offered);
  std::array<char, 1024> buffer{};
  Result<size_t> n = build_hello(buffer, 1, h);
  ASSERT_TRUE(n.ok());
  JsonResult<DeviceMessage> m = parse_device_message({buffer.data(), *n});
  ASSERT_TRUE(m.ok());
  const HelloMessage& read = std::get<HelloMessage>(m.value().body);
  ASSERT_TRUE(read.services.received());
  std::vector<std::string> names;
  for (std::string_view name : read.services) names.emplace_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"web", "ssh", "status"}));
}

}  // namespace
}  // namespace sublink
