#include "firmware/protocol/server_messages.h"

#include <cJSON.h>
#include <gtest/gtest.h>

#include <array>
#include <string>

namespace sublink {
namespace {

template <class T>
const T& body_as(const JsonResult<ServerMessage>& m) {
  static const T empty{};
  const T* b = std::get_if<T>(&m->body);
  EXPECT_NE(b, nullptr) << "unexpected message type";
  return b ? *b : empty;
}

std::string describe(const JsonError& e) {
  std::array<char, 160> buf{};
  return std::string(buf.data(), e.describe(buf));
}

TEST(ServerMessages, WelcomeAppliesProtocolDefaults) {
  auto m = parse_server_message(R"({"type":"welcome","time":1700000000000})");
  ASSERT_TRUE(m.ok()) << describe(m.error());
  const Welcome& w = body_as<Welcome>(m);
  EXPECT_EQ(w.time, 1'700'000'000'000);
  EXPECT_EQ(w.heartbeat_s, 60);
  EXPECT_EQ(w.audit_s, 86400);
  EXPECT_EQ(w.session, nullptr);
  EXPECT_FALSE(m->id);
  EXPECT_FALSE(m->re);
}

TEST(ServerMessages, WelcomeReadsGivenValuesAndAnswersHello) {
  auto m = parse_server_message(
      R"({"type":"welcome","re":1,"time":5,"heartbeat_s":15,"audit_s":3600,"session":{"opaque":[1]},"new":1})");
  ASSERT_TRUE(m.ok()) << describe(m.error());
  const Welcome& w = body_as<Welcome>(m);
  EXPECT_EQ(w.heartbeat_s, 15);
  EXPECT_EQ(w.audit_s, 3600);
  EXPECT_TRUE(cJSON_IsObject(w.session));
  EXPECT_EQ(m->re, 1);
}

TEST(ServerMessages, WelcomeRefusesUnusableTimers) {
  for (std::string_view bad : {R"({"type":"welcome","time":5,"heartbeat_s":0})",
                               R"({"type":"welcome","time":5,"heartbeat_s":-60})",
                               R"({"type":"welcome","time":5,"heartbeat_s":1e12})",
                               R"({"type":"welcome","time":5,"heartbeat_s":"60"})",
                               R"({"type":"welcome","time":5,"audit_s":0.5})"}) {
    auto m = parse_server_message(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().reason(), Reason::protocol_violation) << bad;
    EXPECT_EQ(close_code_for(m.status()), 1002);
  }
  auto m = parse_server_message(R"({"type":"welcome","time":5,"heartbeat_s":"60"})");
  EXPECT_EQ(describe(m.error()), "field 'heartbeat_s': expected integer, found string");
  m = parse_server_message(R"({"type":"welcome"})");
  EXPECT_EQ(describe(m.error()), "field 'time': missing, expected integer");
  m = parse_server_message(R"({"type":"welcome","time":1e300})");
  EXPECT_EQ(m.error().problem, JsonProblem::out_of_range);
}

TEST(ServerMessages, HeartbeatAckCarriesServerTime) {
  auto m = parse_server_message(R"({"re":12,"time":1700000000999,"type":"heartbeat_ack"})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(body_as<HeartbeatAck>(m).time, 1'700'000'000'999);
  EXPECT_EQ(m->re, 12);
}

TEST(ServerMessages, LicenseGrantSolicitedOrNot) {
  auto m = parse_server_message(R"({"type":"license_grant","re":2,"license":"eyJ9","sig":"AAAA","alg":"ES256","kid":"k1"})");
  ASSERT_TRUE(m.ok());
  const LicenseGrant& g = body_as<LicenseGrant>(m);
  EXPECT_EQ(g.license, "eyJ9");
  EXPECT_EQ(g.sig, "AAAA");
  EXPECT_EQ(g.alg, "ES256");
  EXPECT_EQ(g.kid, "k1");
  auto unsolicited = parse_server_message(R"({"type":"license_grant","license":"eyJ9","sig":"AAAA","alg":"ES256"})");
  ASSERT_TRUE(unsolicited.ok());
  EXPECT_FALSE(unsolicited->re);
  EXPECT_FALSE(body_as<LicenseGrant>(unsolicited).kid);
  auto no_sig = parse_server_message(R"({"type":"license_grant","license":"eyJ9","alg":"ES256"})");
  ASSERT_FALSE(no_sig.ok());
  EXPECT_STREQ(no_sig.error().field, "sig");
}

TEST(ServerMessages, LicenseDeniedAndRevoke) {
  auto d = parse_server_message(R"({"type":"license_denied","re":2,"code":"no_stock","message":"Kein \"Lager\" \u00fcbrig \ud83d\ude00"})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(body_as<LicenseDenied>(d).code, "no_stock");
  EXPECT_EQ(body_as<LicenseDenied>(d).message, "Kein \"Lager\" \xC3\xBC" "brig \xF0\x9F\x98\x80");
  auto r = parse_server_message(R"({"type":"license_revoke","id":30,"serial":"L-0001","reason":"refund"})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(body_as<LicenseRevoke>(r).serial, "L-0001");
  EXPECT_EQ(body_as<LicenseRevoke>(r).reason, "refund");
  EXPECT_EQ(r->id, 30);
  auto bad = parse_server_message(R"({"type":"license_revoke","serial":17})");
  EXPECT_EQ(describe(bad.error()), "field 'serial': expected string, found integer");
}

TEST(ServerMessages, AuditAckStatusIsOkOrOveruse) {
  auto ok = parse_server_message(R"({"type":"audit_ack","re":4,"status":"ok"})");
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(body_as<AuditAck>(ok).overuse);
  auto over = parse_server_message(R"({"type":"audit_ack","re":4,"status":"overuse","over":[{"name":"trunks","by":2}]})");
  ASSERT_TRUE(over.ok());
  EXPECT_TRUE(body_as<AuditAck>(over).overuse);
  EXPECT_TRUE(cJSON_IsArray(body_as<AuditAck>(over).over));
  auto bogus = parse_server_message(R"({"type":"audit_ack","status":"fine"})");
  ASSERT_FALSE(bogus.ok());
  EXPECT_EQ(bogus.error().problem, JsonProblem::bad_value);
  EXPECT_STREQ(bogus.error().field, "status");
}

TEST(ServerMessages, EventAckUpto) {
  auto m = parse_server_message(R"({"type":"event_ack","re":5,"upto":42})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(body_as<EventAck>(m).upto, 42);
  EXPECT_FALSE(body_as<EventAck>(m).stream.has_value()) << "an ack for events from before streams";
  auto s = parse_server_message(R"({"type":"event_ack","re":5,"stream":"0123456789abcdef","upto":7})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(body_as<EventAck>(s).stream, "0123456789abcdef");
  EXPECT_EQ(body_as<EventAck>(s).upto, 7);
  EXPECT_FALSE(parse_server_message(R"({"type":"event_ack","stream":7,"upto":7})").ok());
  EXPECT_FALSE(parse_server_message(R"({"type":"event_ack","upto":-1})").ok());
}

TEST(ServerMessages, RequestNeedsAnIdAndKeepsParamsRaw) {
  auto m = parse_server_message(R"({"type":"request","id":99,"method":"tunnel.open","params":{"service":"ssh"}})");
  ASSERT_TRUE(m.ok());
  const Request& r = body_as<Request>(m);
  EXPECT_EQ(r.method, "tunnel.open");
  EXPECT_STREQ(cJSON_GetObjectItem(r.params, "service")->valuestring, "ssh");
  EXPECT_EQ(m->id, 99);
  auto no_params = parse_server_message(R"({"type":"request","id":1,"method":"status.get"})");
  ASSERT_TRUE(no_params.ok());
  EXPECT_EQ(body_as<Request>(no_params).params, nullptr);
  auto no_id = parse_server_message(R"({"type":"request","method":"status.get"})");
  ASSERT_FALSE(no_id.ok());
  EXPECT_STREQ(no_id.error().field, "id");
  auto string_id = parse_server_message(R"({"type":"request","id":"1","method":"status.get"})");
  EXPECT_EQ(describe(string_id.error()), "field 'id': expected integer, found string");
}

TEST(ServerMessages, DisconnectAndErrorCarryRetryAfter) {
  auto d = parse_server_message(R"({"type":"disconnect","reason":"maintenance","retry_after_s":120})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(body_as<Disconnect>(d).reason, "maintenance");
  EXPECT_EQ(body_as<Disconnect>(d).retry_after_s, 120);
  auto e = parse_server_message(R"({"type":"error","re":1,"code":"busy","message":"later","retry_after_s":30})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(body_as<ServerError>(e).code, "busy");
  EXPECT_EQ(body_as<ServerError>(e).retry_after_s, 30);
  auto plain = parse_server_message(R"({"type":"error","code":"unknown_customer"})");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(body_as<ServerError>(plain).retry_after_s);
  EXPECT_FALSE(parse_server_message(R"({"type":"disconnect","retry_after_s":-5})").ok());
}

TEST(ServerMessages, UnknownTypesAreReportedNotRefused) {
  auto m = parse_server_message(R"({"type":"firmware_offer","id":3,"url":"x"})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(body_as<UnknownMessage>(m).type, "firmware_offer");
  EXPECT_EQ(m->id, 3);
}

TEST(ServerMessages, DistinguishesInvalidJsonFromProtocolViolations) {
  for (std::string_view not_json : {"", "{", R"({"type":"welcome",})", "welcome", R"({"type":"welcome"} trailing)"}) {
    auto m = parse_server_message(not_json);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().reason(), Reason::invalid_payload) << not_json;
    EXPECT_EQ(close_code_for(m.status()), 1007);
  }
  for (std::string_view violation : {"[]", "\"welcome\"", "42", "null", "{}", R"({"type":7})", R"({"type":null})",
                                     R"({"Type":"welcome"})", R"({"type":"welcome","time":5,"re":"1"})",
                                     R"({"type":"x","id":1.5})", R"({"type":"x","s":"\u0000"})"}) {
    auto m = parse_server_message(violation);
    ASSERT_FALSE(m.ok()) << violation;
    EXPECT_EQ(m.status().reason(), Reason::protocol_violation) << violation;
    EXPECT_EQ(close_code_for(m.status()), 1002);
  }
  EXPECT_EQ(describe(parse_server_message("{}").error()), "field 'type': missing, expected string");
  std::string deep = R"({"type":"request","id":1,"method":"m","params":)" + std::string(100, '[') +
                     std::string(100, ']') + "}";
  auto m = parse_server_message(deep);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(close_code_for(m.status()), 1009);
}

TEST(ServerMessages, ARawControlCharacterIsInvalidJsonClosingWith1007) {
  // A raw NUL would otherwise cut "system_mismatch" to "system" unseen.
  static constexpr char kNul[] = "{\"type\":\"error\",\"code\":\"system\0_mismatch\",\"message\":\"m\"}";
  const std::string_view nul(kNul, sizeof kNul - 1);
  for (std::string_view raw : {nul, std::string_view("{\"type\":\"welcome\",\"time\":1,\"session\":\"a\x01\"}"),
                               std::string_view("{\"type\":\"license_denied\",\"code\":\"c\",\"message\":\"line\nbreak\"}")}) {
    auto m = parse_server_message(raw);
    ASSERT_FALSE(m.ok()) << raw;
    EXPECT_EQ(m.error().problem, JsonProblem::control_char) << raw;
    EXPECT_EQ(close_code_for(m.status()), 1007) << raw;
  }
}

TEST(ServerMessages, ViewsStayValidWhenTheMessageMoves) {
  auto m = parse_server_message(R"({"type":"license_denied","code":"c1","message":"m1"})");
  ASSERT_TRUE(m.ok());
  ServerMessage moved = std::move(m.value());
  EXPECT_EQ(std::get<LicenseDenied>(moved.body).code, "c1");
  EXPECT_EQ(std::get<LicenseDenied>(moved.body).message, "m1");
}

}  // namespace
}  // namespace sublink
