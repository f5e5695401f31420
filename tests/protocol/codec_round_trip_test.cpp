// One sublink/1 codec for both sides: every message written by its one
// writer (the side that sends it) is read back by its one reader (the side
// that receives it) with every field as it was, and the readers check each
// field's range where it enters.
#include <cJSON.h>
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "firmware/protocol/device_messages.h"
#include "firmware/protocol/server_messages.h"

namespace sublink {
namespace {

/// The text write_message gives for `message` in `envelope`.
template <class Message>
std::string written(const Envelope& envelope, const Message& message) {
  std::array<char, 4096> buffer{};
  Result<size_t> n = write_message(buffer, envelope, message);
  EXPECT_TRUE(n.ok()) << reason_name(n.status().reason());
  return n.ok() ? std::string(buffer.data(), *n) : std::string();
}

/// The text a device builder wrote into `buffer`.
std::string text_of(const Result<size_t>& n, const std::array<char, 4096>& buffer) {
  EXPECT_TRUE(n.ok()) << reason_name(n.status().reason());
  return n.ok() ? std::string(buffer.data(), *n) : std::string();
}

std::string describe(const JsonError& e) {
  std::array<char, 160> buf{};
  return std::string(buf.data(), e.describe(buf));
}

std::string printed(const cJSON* node) {
  char* text = cJSON_PrintUnformatted(node);
  std::string out = text != nullptr ? text : "<none>";
  cJSON_free(text);
  return out;
}

template <class T>
const T& device_body(const JsonResult<DeviceMessage>& m) {
  static const T empty{};
  const T* b = m.ok() ? std::get_if<T>(&m->body) : nullptr;
  EXPECT_NE(b, nullptr) << "unexpected message type";
  return b ? *b : empty;
}

template <class T>
const T& server_body(const JsonResult<ServerMessage>& m) {
  static const T empty{};
  const T* b = m.ok() ? std::get_if<T>(&m->body) : nullptr;
  EXPECT_NE(b, nullptr) << "unexpected message type";
  return b ? *b : empty;
}

// ---- Device messages: written by the device (build_*), read by the server -------------

TEST(DeviceCodec, HelloComesBackWithEveryField) {
  HelloMessage h;
  h.customer_id = "C-42";
  h.system_id = "SYS-7";
  h.agent = "0.1.0";
  h.fw = "PBX 9.2";
  h.role = "probe";
  h.boot = 17;
  h.event_stream = "0123456789abcdef";
  h.instance = "00112233aabbccdd";
  h.time = 1'700'000'000'123;
  h.state = "grace";
  h.grace_elapsed_s = 3600;
  h.license_serial = "L-9";
  std::array<char, 4096> buffer{};
  std::string text = text_of(build_hello(buffer, 5, h), buffer);
  auto m = parse_device_message(text);
  ASSERT_TRUE(m.ok()) << describe(m.error()) << " " << text;
  EXPECT_EQ(m->type, "hello");
  EXPECT_EQ(m->id, 5);
  const HelloMessage& r = device_body<HelloMessage>(m);
  EXPECT_EQ(r.proto, kProtocolVersion);
  EXPECT_EQ(r.customer_id, "C-42");
  EXPECT_EQ(r.system_id, "SYS-7");
  EXPECT_EQ(r.agent, "0.1.0");
  EXPECT_EQ(r.fw, "PBX 9.2");
  EXPECT_EQ(r.role, "probe");
  EXPECT_EQ(r.boot, 17);
  EXPECT_EQ(r.event_stream, "0123456789abcdef");
  EXPECT_EQ(r.instance, std::optional<std::string_view>("00112233aabbccdd"));
  EXPECT_EQ(r.time, std::optional<Millis>(1'700'000'000'123));
  EXPECT_EQ(r.state, "grace");
  EXPECT_EQ(r.grace_elapsed_s, 3600);
  EXPECT_EQ(r.license_serial, std::optional<std::string_view>("L-9"));
}

TEST(DeviceCodec, HelloOfAnotherProtocolIsReadNoFurther) {
  // A later protocol may shape the other fields differently: only proto is read.
  auto m = parse_device_message(R"({"type":"hello","id":1,"proto":2,"customer_id":7})");
  ASSERT_TRUE(m.ok()) << describe(m.error());
  EXPECT_EQ(device_body<HelloMessage>(m).proto, 2);
  EXPECT_EQ(device_body<HelloMessage>(m).customer_id, "");
}

TEST(DeviceCodec, HelloLeftOutFieldsReadEmptyAndNullTime) {
  HelloMessage h;
  h.customer_id = "C";
  h.system_id = "S";
  std::array<char, 4096> buffer{};
  auto m = parse_device_message(text_of(build_hello(buffer, 1, h), buffer));
  ASSERT_TRUE(m.ok()) << describe(m.error());
  const HelloMessage& r = device_body<HelloMessage>(m);
  EXPECT_EQ(r.event_stream, "");
  EXPECT_FALSE(r.instance);
  EXPECT_FALSE(r.time);
  EXPECT_FALSE(r.license_serial);
  auto bare = parse_device_message(R"({"type":"hello","id":1,"proto":1,"customer_id":"C","system_id":"S"})");
  ASSERT_TRUE(bare.ok()) << describe(bare.error());
  EXPECT_EQ(device_body<HelloMessage>(bare).role, "") << "a peer that names no role";
  EXPECT_EQ(device_body<HelloMessage>(bare).boot, 0);
}

TEST(DeviceCodec, HeartbeatComesBack) {
  std::array<char, 4096> buffer{};
  auto m = parse_device_message(text_of(build_heartbeat(buffer, 9, 123, 86400), buffer));
  ASSERT_TRUE(m.ok()) << describe(m.error());
  EXPECT_EQ(device_body<Heartbeat>(m).seq, 123);
  EXPECT_EQ(device_body<Heartbeat>(m).uptime_s, 86400);
}

TEST(DeviceCodec, LicenseRequestListsEveryFeatureInOrderEvenTwice) {
  const FeatureRequest features[] = {{"trunks", 30}, {"recording", 1}, {"trunks", 40}};
  std::array<char, 4096> buffer{};
  auto m = parse_device_message(text_of(build_license_request(buffer, 2, features), buffer));
  ASSERT_TRUE(m.ok()) << describe(m.error());
  const LicenseRequest& r = device_body<LicenseRequest>(m);
  ASSERT_EQ(r.features.size(), 3u);
  std::vector<std::pair<std::string, int64_t>> read;
  for (const FeatureRequest& f : r.features) read.emplace_back(std::string(f.name), f.qty);
  EXPECT_EQ(read, (std::vector<std::pair<std::string, int64_t>>{{"trunks", 30}, {"recording", 1}, {"trunks", 40}}));
}

TEST(DeviceCodec, LicenseAuditComesBackWithItsUsage) {
  const FeatureUsage usage[] = {{"trunks", 12, 20}, {"recording", 0, 1}};
  LicenseAudit audit{"L-1", 1'700'000'000'000, 1'700'086'400'000, usage};
  std::array<char, 4096> buffer{};
  auto m = parse_device_message(text_of(build_license_audit(buffer, 4, audit), buffer));
  ASSERT_TRUE(m.ok()) << describe(m.error());
  const LicenseAudit& r = device_body<LicenseAudit>(m);
  EXPECT_EQ(r.serial, "L-1");
  EXPECT_EQ(r.from, 1'700'000'000'000);
  EXPECT_EQ(r.to, 1'700'086'400'000);
  std::vector<std::string> read;
  for (const FeatureUsage& u : r.usage) {
    read.push_back(std::string(u.name) + " " + std::to_string(u.in_use) + "/" + std::to_string(u.peak));
  }
  EXPECT_EQ(read, (std::vector<std::string>{"trunks 12/20", "recording 0/1"}));
}

TEST(DeviceCodec, EventBatchComesBackWithEachEventWhole) {
  const EventAttribute attributes[] = {EventAttribute::of("days_left", 12), EventAttribute::of("severity", "major"),
                                       EventAttribute::of_bool("cleared", false)};
  const EventMessage events[] = {{1, 1'700'000'000'000, "grace_started", {}},
                                 {2, std::nullopt, "grace_alarm", attributes}};
  std::array<char, 4096> buffer{};
  auto m = parse_device_message(text_of(build_event_batch(buffer, 5, "0123456789abcdef", events), buffer));
  ASSERT_TRUE(m.ok()) << describe(m.error());
  const EventBatch& r = device_body<EventBatch>(m);
  EXPECT_EQ(r.stream, std::optional<std::string_view>("0123456789abcdef"));
  std::vector<std::string> read;
  for (const EventMessage& e : r.events) {
    read.push_back(std::to_string(e.seq) + " " + std::string(e.kind) + " " + (e.time ? "timed" : "untimed") + " " +
                   printed(e.object));
  }
  EXPECT_EQ(read, (std::vector<std::string>{
                      R"(1 grace_started timed {"seq":1,"time":1700000000000,"kind":"grace_started"})",
                      R"(2 grace_alarm untimed {"seq":2,"time":null,"kind":"grace_alarm","days_left":12,)"
                      R"("severity":"major","cleared":false})"}));
  auto legacy = parse_device_message(text_of(build_event_batch(buffer, 6, std::nullopt, events), buffer));
  ASSERT_TRUE(legacy.ok()) << describe(legacy.error());
  EXPECT_FALSE(device_body<EventBatch>(legacy).stream);
}

TEST(DeviceCodec, ResponsesComeBackOkAndRefused) {
  std::array<char, 512> buffer{};
  Result<size_t> n =
      build_response_ok(buffer, 77, [](JsonWriter& w) { w.begin_object().key("state").string("licensed").end_object(); });
  ASSERT_TRUE(n.ok());
  auto m = parse_device_message(std::string_view(buffer.data(), *n));
  ASSERT_TRUE(m.ok()) << describe(m.error());
  EXPECT_EQ(device_body<Response>(m).re, 77);
  EXPECT_TRUE(device_body<Response>(m).ok);
  EXPECT_EQ(printed(device_body<Response>(m).result), R"({"state":"licensed"})");

  n = build_response_error(buffer, 78, "not_allowed", "tunnel \"ssh\" is not configured");
  ASSERT_TRUE(n.ok());
  auto refused = parse_device_message(std::string_view(buffer.data(), *n));
  ASSERT_TRUE(refused.ok()) << describe(refused.error());
  const Response& r = device_body<Response>(refused);
  EXPECT_EQ(r.re, 78);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_code, "not_allowed");
  EXPECT_EQ(r.error_message, "tunnel \"ssh\" is not configured");
}

TEST(DeviceCodec, EachFieldIsCheckedWhereItEnters) {
  struct Case {
    std::string text;
    const char* field;
  };
  const std::string long_id(256, 'x');
  const Case cases[] = {
      {R"({"type":"hello","id":1,"proto":1,"customer_id":")" + long_id + R"(","system_id":"S"})", "customer_id"},
      {R"({"type":"hello","id":1,"proto":1,"customer_id":"C","system_id":"S","boot":-1})", "boot"},
      {R"({"type":"hello","id":1,"proto":1,"customer_id":"C","system_id":"S","event_stream":"0123456789ABCDEF"})",
       "event_stream"},
      {R"({"type":"hello","id":1,"proto":1,"customer_id":"C","system_id":"S","event_stream":""})", "event_stream"},
      {R"({"type":"hello","id":1,"proto":1,"customer_id":"C","system_id":"S","instance":"xyz"})", "instance"},
      {R"({"type":"license_request","id":1,"features":[{"name":"a","qty":1},{"name":"b","qty":4294967296}]})", "qty"},
      {R"({"type":"license_audit","id":1,"serial":"L","from":1,"to":2,"usage":[{"name":"a","in_use":-1,"peak":0}]})",
       "in_use"},
      {R"({"type":"event","id":1,"stream":"0123456789abcdef","events":[{"seq":0,"time":null,"kind":"k"}]})", "seq"},
      {R"({"type":"event","id":1,"stream":"not-a-stream-id!","events":[]})", "stream"},
      {R"({"type":"response","re":1,"ok":false,"error":{"message":"no code"}})", "code"},
  };
  for (const Case& c : cases) {
    auto m = parse_device_message(c.text);
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.status().reason(), Reason::protocol_violation) << c.text;
    ASSERT_NE(m.error().field, nullptr) << c.text;
    EXPECT_STREQ(m.error().field, c.field) << c.text;
  }
  auto not_utf8 = parse_device_message("{\"type\":\"heartbeat\",\"id\":1,\"x\":\"\xff\"}");
  ASSERT_FALSE(not_utf8.ok());
  EXPECT_EQ(not_utf8.status().reason(), Reason::invalid_payload);
}

TEST(DeviceCodec, AnUnknownTypeIsReadAsUnknown) {
  auto m = parse_device_message(R"({"type":"tunnel_data","id":3,"channel":1})");
  ASSERT_TRUE(m.ok()) << describe(m.error());
  EXPECT_EQ(device_body<UnknownMessage>(m).type, "tunnel_data");
}

TEST(DeviceCodec, AnEventAttributeShadowingTheEnvelopeIsRefusedByTheWriter) {
  const EventAttribute bad[] = {EventAttribute::of("seq", 9)};
  const EventMessage events[] = {{1, std::nullopt, "x", bad}};
  std::array<char, 512> buffer{};
  EXPECT_EQ(build_event_batch(buffer, 1, std::nullopt, events).status().reason(), Reason::invalid_argument);
}

TEST(DeviceCodec, AReceivedListIsNotWrittenAgain) {
  // A writer writes what its side holds: a list read from a message is the
  // reader's, and writing it is refused rather than written empty.
  auto m = parse_device_message(
      R"({"type":"license_audit","id":1,"serial":"L","from":1,"to":2,"usage":[{"name":"a","in_use":1,"peak":1}]})");
  ASSERT_TRUE(m.ok()) << describe(m.error());
  std::array<char, 512> buffer{};
  EXPECT_EQ(build_license_audit(buffer, 2, device_body<LicenseAudit>(m)).status().reason(), Reason::invalid_argument);
}

// ---- Server messages: written by the server (write_message), read by the device -------

TEST(ServerCodec, WelcomeComesBackWithItsOpenSession) {
  std::string text =
      written(Envelope{std::nullopt, 1}, Welcome{1'700'000'000'000, 15, 3600, JsonValue::of_text(R"({"node":[1]})")});
  EXPECT_EQ(text, R"({"type":"welcome","re":1,"time":1700000000000,"heartbeat_s":15,"audit_s":3600,)"
                  R"("session":{"node":[1]}})");
  auto m = parse_server_message(text);
  ASSERT_TRUE(m.ok()) << describe(m.error());
  EXPECT_EQ(m->re, 1);
  const Welcome& w = server_body<Welcome>(m);
  EXPECT_EQ(w.time, 1'700'000'000'000);
  EXPECT_EQ(w.heartbeat_s, 15);
  EXPECT_EQ(w.audit_s, 3600);
  EXPECT_EQ(printed(w.session), R"({"node":[1]})");
}

TEST(ServerCodec, EveryAnswerComesBack) {
  auto ack = parse_server_message(written(Envelope{std::nullopt, 2}, HeartbeatAck{1'700'000'060'000}));
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(server_body<HeartbeatAck>(ack).time, 1'700'000'060'000);

  auto grant = parse_server_message(written(Envelope{std::nullopt, 3}, LicenseGrant{"bGlj", "c2ln", "ES256", "k1"}));
  ASSERT_TRUE(grant.ok());
  EXPECT_EQ(server_body<LicenseGrant>(grant).license, "bGlj");
  EXPECT_EQ(server_body<LicenseGrant>(grant).sig, "c2ln");
  EXPECT_EQ(server_body<LicenseGrant>(grant).alg, "ES256");
  EXPECT_EQ(server_body<LicenseGrant>(grant).kid, std::optional<std::string_view>("k1"));
  std::string unsolicited = written(Envelope{}, LicenseGrant{"bGlj", "c2ln", "ES256", std::nullopt});
  EXPECT_EQ(unsolicited, R"({"type":"license_grant","license":"bGlj","sig":"c2ln","alg":"ES256"})");

  auto denied = parse_server_message(written(Envelope{std::nullopt, 3}, LicenseDenied{"not_entitled", "no seats"}));
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ(server_body<LicenseDenied>(denied).code, "not_entitled");
  EXPECT_EQ(server_body<LicenseDenied>(denied).message, "no seats");

  auto audit = parse_server_message(
      written(Envelope{std::nullopt, 4}, AuditAck{true, JsonValue::of_text(R"([{"name":"trunks","peak":40}])")}));
  ASSERT_TRUE(audit.ok());
  EXPECT_TRUE(server_body<AuditAck>(audit).overuse);
  EXPECT_EQ(printed(server_body<AuditAck>(audit).over), R"([{"name":"trunks","peak":40}])");

  auto events = parse_server_message(written(Envelope{std::nullopt, 5}, EventAck{"0123456789abcdef", 12}));
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(server_body<EventAck>(events).stream, std::optional<std::string_view>("0123456789abcdef"));
  EXPECT_EQ(server_body<EventAck>(events).upto, 12);
  auto legacy = parse_server_message(written(Envelope{std::nullopt, 5}, EventAck{std::nullopt, 3}));
  ASSERT_TRUE(legacy.ok());
  EXPECT_FALSE(server_body<EventAck>(legacy).stream);

  auto error = parse_server_message(written(Envelope{std::nullopt, 1}, ServerError{"busy", "later", 30}));
  ASSERT_TRUE(error.ok());
  EXPECT_EQ(server_body<ServerError>(error).code, "busy");
  EXPECT_EQ(server_body<ServerError>(error).message, "later");
  EXPECT_EQ(server_body<ServerError>(error).retry_after_s, std::optional<int64_t>(30));
}

TEST(ServerCodec, RequestsComeBackWithTheirId) {
  auto revoke = parse_server_message(written(Envelope{7, std::nullopt}, LicenseRevoke{"L-1", "contract ended"}));
  ASSERT_TRUE(revoke.ok());
  EXPECT_EQ(revoke->id, 7);
  EXPECT_EQ(server_body<LicenseRevoke>(revoke).serial, "L-1");
  EXPECT_EQ(server_body<LicenseRevoke>(revoke).reason, "contract ended");

  auto request =
      parse_server_message(written(Envelope{8, std::nullopt}, Request{"status.get", JsonValue::of_text("[1,2]")}));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->id, 8);
  EXPECT_EQ(server_body<Request>(request).method, "status.get");
  EXPECT_EQ(printed(server_body<Request>(request).params), "[1,2]");
  auto bare = parse_server_message(written(Envelope{9, std::nullopt}, Request{"audit.now", JsonValue()}));
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(server_body<Request>(bare).params, nullptr) << "no params text: the field is left out";

  auto disconnect = parse_server_message(written(Envelope{}, Disconnect{"maintenance", std::nullopt}));
  ASSERT_TRUE(disconnect.ok());
  EXPECT_FALSE(disconnect->id);
  EXPECT_FALSE(disconnect->re);
  EXPECT_EQ(server_body<Disconnect>(disconnect).reason, "maintenance");
  EXPECT_FALSE(server_body<Disconnect>(disconnect).retry_after_s);
}

// ---- The list shape both sides share ---------------------------------------------------

TEST(WireList, AWritersListVisitsItsItems) {
  const FeatureRequest features[] = {{"a", 1}, {"b", 2}};
  WireList<FeatureRequest> list(features);
  EXPECT_EQ(list.size(), 2u);
  int64_t total = 0;
  for (const FeatureRequest& f : list) total += f.qty;
  EXPECT_EQ(total, 3);
  WireList<FeatureRequest> none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.begin() != none.end());
}

TEST(WireList, AReceivedEmptyListIsEmpty) {
  auto m = parse_device_message(R"({"type":"license_request","id":1,"features":[]})");
  ASSERT_TRUE(m.ok()) << describe(m.error());
  EXPECT_TRUE(device_body<LicenseRequest>(m).features.empty());
  EXPECT_FALSE(device_body<LicenseRequest>(m).features.begin() != device_body<LicenseRequest>(m).features.end());
}

TEST(WireList, AnElementThatIsNoObjectIsNamedByItsIndex) {
  auto m = parse_device_message(R"({"type":"license_request","id":1,"features":[{"name":"a","qty":1},7]})");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().reason(), Reason::protocol_violation);
  EXPECT_NE(describe(m.error()).find("features[1]"), std::string::npos) << describe(m.error());
}

}  // namespace
}  // namespace sublink
