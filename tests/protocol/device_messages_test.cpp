#include "firmware/protocol/device_messages.h"

#include <cJSON.h>
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "firmware/json/json_document.h"
#include "firmware/json/json_reader.h"

namespace sublink {
namespace {

// Every builder's output goes back through cJSON (an independent reader of
// the same bytes) to prove it is one valid JSON object.
class Built {
 public:
  explicit Built(Result<size_t> n, const std::array<char, 2048>& buf) {
    EXPECT_TRUE(n.ok()) << reason_name(n.status().reason());
    if (!n.ok()) return;
    text = std::string(buf.data(), *n);
    root = cJSON_ParseWithLength(text.data(), text.size());
    EXPECT_NE(root, nullptr) << text;
  }
  ~Built() { cJSON_Delete(root); }
  const cJSON* get(const char* name) const { return cJSON_GetObjectItemCaseSensitive(root, name); }
  std::string str(const char* name) const { return cJSON_IsString(get(name)) ? get(name)->valuestring : "<none>"; }
  double num(const char* name) const { return cJSON_IsNumber(get(name)) ? get(name)->valuedouble : -1; }
  std::string text;
  cJSON* root = nullptr;
};

HelloMessage sample_hello() {
  HelloMessage h;
  h.customer_id = "C-42";
  h.system_id = "SYS-7";
  h.agent = "0.1.0";
  h.fw = "PBX 9.2";
  h.boot = 17;
  h.state = "unlicensed";
  return h;
}

TEST(DeviceMessages, HelloIsByteExactWithNullTimeAndSerial) {
  std::array<char, 2048> buf{};
  auto n = build_hello(buf, 1, sample_hello());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf.data(), *n),
            R"({"type":"hello","id":1,"proto":1,"customer_id":"C-42","system_id":"SYS-7","agent":"0.1.0",)"
            R"("fw":"PBX 9.2","role":"primary","boot":17,"time":null,"state":"unlicensed","grace_elapsed_s":0,)"
            R"("license_serial":null,"services":[]})");
  EXPECT_EQ(buf[*n], '\0');
}

TEST(DeviceMessages, HelloListsTheTunnelServicesTheDeviceAllows) {
  std::array<char, 2048> buf{};
  HelloMessage h = sample_hello();
  const std::string_view services[] = {"ssh", "web"};
  h.services = services;
  auto n = build_hello(buf, 1, h);
  ASSERT_TRUE(n.ok());
  EXPECT_NE(std::string(buf.data(), *n).find(R"("services":["ssh","web"]})"), std::string::npos);
}

TEST(DeviceMessages, HelloCarriesTrustedTimeAndHeldSerial) {
  std::array<char, 2048> buf{};
  HelloMessage h = sample_hello();
  h.time = 1'700'000'000'123;
  h.state = "grace";
  h.grace_elapsed_s = 3600;
  h.license_serial = "L-0001";
  Built b(build_hello(buf, 7, h), buf);
  EXPECT_EQ(b.str("type"), "hello");
  EXPECT_EQ(b.num("id"), 7);
  EXPECT_EQ(b.num("proto"), 1);
  EXPECT_EQ(b.num("time"), 1'700'000'000'123.0);
  EXPECT_EQ(b.str("state"), "grace");
  EXPECT_EQ(b.num("grace_elapsed_s"), 3600);
  EXPECT_EQ(b.str("license_serial"), "L-0001");
  EXPECT_EQ(b.get("event_stream"), nullptr) << "left out when the device has none (the doctor's probe)";
  h.event_stream = "00c0ffee00c0ffee";
  Built with_stream(build_hello(buf, 8, h), buf);
  EXPECT_EQ(with_stream.str("event_stream"), "00c0ffee00c0ffee");
  EXPECT_EQ(b.str("role"), "primary");
  EXPECT_EQ(b.num("boot"), 17);
}

TEST(DeviceMessages, HelloFailsCleanlyWhenTheBufferIsSmall) {
  std::array<char, 2048> full{};
  auto need = build_hello(full, 1, sample_hello());
  ASSERT_TRUE(need.ok());
  std::array<char, 64> small{};
  auto n = build_hello(small, 1, sample_hello());
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().reason(), Reason::out_of_memory);
  EXPECT_EQ(static_cast<size_t>(n.status().detail()), *need + 1);
  std::vector<char> exact(*need + 1);
  EXPECT_TRUE(build_hello(exact, 1, sample_hello()).ok());
  std::vector<char> one_short(*need);
  EXPECT_FALSE(build_hello(one_short, 1, sample_hello()).ok());
}

TEST(DeviceMessages, HelloEscapesConfiguredStringsAndRefusesInvalidUtf8) {
  std::array<char, 2048> buf{};
  HelloMessage h = sample_hello();
  h.fw = "v\"9\"\\beta\n\xC3\xA9";
  Built b(build_hello(buf, 1, h), buf);
  EXPECT_EQ(b.str("fw"), h.fw);
  h.fw = "bad\xFF";
  EXPECT_EQ(build_hello(buf, 1, h).status().reason(), Reason::invalid_argument);
}

TEST(DeviceMessages, HeartbeatRoundTrips) {
  std::array<char, 2048> buf{};
  Built b(build_heartbeat(buf, 9, 123, 86400 * 400), buf);
  EXPECT_EQ(b.text, R"({"type":"heartbeat","id":9,"seq":123,"uptime_s":34560000})");
  EXPECT_EQ(b.num("seq"), 123);
}

TEST(DeviceMessages, LicenseRequestRoundTrips) {
  std::array<char, 2048> buf{};
  FeatureRequest features[] = {{"trunks", 30}, {"recording", 1}};
  Built b(build_license_request(buf, 2, features), buf);
  EXPECT_EQ(b.str("type"), "license_request");
  const cJSON* list = b.get("features");
  ASSERT_EQ(cJSON_GetArraySize(list), 2);
  EXPECT_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 1), "name")->valuestring, "recording");
  EXPECT_EQ(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "qty")->valuedouble, 30);
  Built empty(build_license_request(buf, 3, {}), buf);
  EXPECT_EQ(empty.text, R"({"type":"license_request","id":3,"features":[]})");
}

TEST(DeviceMessages, LicenseAuditRoundTrips) {
  std::array<char, 2048> buf{};
  FeatureUsage usage[] = {{"trunks", 12, 29}, {"recording", 0, 1}};
  LicenseAudit audit{"L-0001", 1'700'000'000'000, 1'700'086'400'000, usage};
  Built b(build_license_audit(buf, 4, audit), buf);
  EXPECT_EQ(b.str("type"), "license_audit");
  EXPECT_EQ(b.str("serial"), "L-0001");
  EXPECT_EQ(b.num("from"), 1'700'000'000'000.0);
  EXPECT_EQ(b.num("to"), 1'700'086'400'000.0);
  const cJSON* first = cJSON_GetArrayItem(b.get("usage"), 0);
  EXPECT_EQ(cJSON_GetObjectItem(first, "in_use")->valuedouble, 12);
  EXPECT_EQ(cJSON_GetObjectItem(first, "peak")->valuedouble, 29);
}

TEST(DeviceMessages, EventBatchCarriesKindSpecificFields) {
  std::array<char, 2048> buf{};
  EventAttribute alarm[] = {EventAttribute::of("days_left", 14), EventAttribute::of("severity", "minor"),
                            EventAttribute::of_bool("raised", true)};
  EventMessage events[] = {{41, 1000, "grace_started", {}}, {42, 2000, "grace_alarm", alarm}};
  Built b(build_event_batch(buf, 5, "0123456789abcdef", events), buf);
  EXPECT_EQ(b.text,
            R"({"type":"event","id":5,"stream":"0123456789abcdef","events":[{"seq":41,"time":1000,"kind":"grace_started"},)"
            R"({"seq":42,"time":2000,"kind":"grace_alarm","days_left":14,"severity":"minor","raised":true}]})");
  EventAttribute shadow[] = {EventAttribute::of("seq", 1)};
  EventMessage bad[] = {{1, 1, "x", shadow}};
  EXPECT_EQ(build_event_batch(buf, 6, "0123456789abcdef", bad).status().reason(), Reason::invalid_argument);
  // Events numbered before streams go without one.
  Built legacy(build_event_batch(buf, 7, std::nullopt, events), buf);
  EXPECT_EQ(legacy.get("stream"), nullptr);
}

TEST(DeviceMessages, ResponsesCarryResultOrError) {
  std::array<char, 2048> buf{};
  Built ok(build_response_ok(buf, 77,
                             [](JsonWriter& w) {
                               w.begin_object().key("channel").integer(3).end_object();
                             }),
           buf);
  EXPECT_EQ(ok.text, R"({"type":"response","re":77,"ok":true,"result":{"channel":3}})");
  Built err(build_response_error(buf, 78, "not_allowed", "tunnel \"ssh\" is not configured"), buf);
  EXPECT_EQ(err.str("type"), "response");
  EXPECT_EQ(err.num("re"), 78);
  EXPECT_TRUE(cJSON_IsFalse(err.get("ok")));
  EXPECT_STREQ(cJSON_GetObjectItem(err.get("error"), "code")->valuestring, "not_allowed");
  EXPECT_STREQ(cJSON_GetObjectItem(err.get("error"), "message")->valuestring, "tunnel \"ssh\" is not configured");
}

}  // namespace
}  // namespace sublink
