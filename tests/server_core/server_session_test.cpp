// ServerSession message by message: every answer, every refusal and every
// close a device can meet, through the session's public interface.
#include <gtest/gtest.h>

#include "firmware/license/base64url.h"
#include "firmware/license/license_acceptance.h"
#include "server_core/session_fixture.h"

namespace sublink::test {
namespace {

const cJSON* at(const cJSON* array, int i) { return cJSON_GetArrayItem(array, i); }
std::string str(const cJSON* object, const char* name) {
  const char* s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(object, name));
  return s ? s : "<missing>";
}
int64_t num(const cJSON* object, const char* name) {
  return static_cast<int64_t>(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(object, name)));
}

/// The license inside a grant, checked by the device's own acceptance rules
/// at server time `server_now`.
License accept(const LicenseKey& key, const Sent& grant, Millis server_now, const License* held = nullptr) {
  License out;
  LicenseContext context{"C-42", "SYS-7", server_now, held};
  LicenseDecision d = accept_license_grant(key, {grant.string("license"), grant.string("sig"), grant.string("alg")},
                                           context, out);
  EXPECT_TRUE(d.accepted()) << license_refusal_name(d.refusal);
  return out;
}

// ---- hello ------------------------------------------------------------------------

TEST_F(SessionTest, HelloIsAnsweredWithWelcome) {
  open();
  say(hello(7));
  auto w = take_one();
  EXPECT_EQ(w->type(), "welcome");
  EXPECT_EQ(w->integer("re"), 7);
  EXPECT_EQ(w->integer("time"), now);
  EXPECT_EQ(w->integer("heartbeat_s"), 10);
  EXPECT_EQ(w->integer("audit_s"), 3600);
  EXPECT_FALSE(w->string("session").empty());
  EXPECT_FALSE(last_close);
  EXPECT_TRUE(session->welcomed());
  ASSERT_EQ(directory.connections().size(), 1u);
  const ConnectionRecord& c = directory.connections()[0].record;
  EXPECT_EQ(c.system_id, "SYS-7");
  EXPECT_EQ(c.customer_id, "C-42");
  EXPECT_EQ(c.port, 8443);
  EXPECT_EQ(c.peer, "127.0.0.1:40000");
  EXPECT_EQ(c.up, now);
}

TEST_F(SessionTest, TheDevicesWelcomeParserAcceptsTheWelcome) {
  open();
  say(hello());
  SessionOutput out = session->take_output();
  ASSERT_EQ(out.messages.size(), 1u);
  JsonResult<ServerMessage> parsed = parse_server_message(out.messages[0]);
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(std::holds_alternative<Welcome>(parsed->body));
  EXPECT_EQ(std::get<Welcome>(parsed->body).time, now);
  EXPECT_EQ(std::get<Welcome>(parsed->body).heartbeat_s, 10);
}

struct Refusal {
  const char* what;
  std::string cn;
  std::string hello;
  const char* code;
};

TEST_F(SessionTest, HelloRefusalsAnswerErrorAndClose1008) {
  directory.put_customer("C-44");
  const Refusal cases[] = {
      {"other proto", "SYS-7", hello(1, "C-42", "SYS-7", 2), "unsupported_proto"},
      {"certificate of another system", "SYS-8", hello(1), "system_mismatch"},
      {"unknown customer", "SYS-7", hello(1, "C-99", "SYS-7"), "unknown_customer"},
      {"unregistered system", "SYS-9", hello(1, "C-44", "SYS-9"), "system_mismatch"},
      {"system of another customer", "SYS-8", hello(1, "C-42", "SYS-8"), "system_mismatch"},
  };
  for (const Refusal& r : cases) {
    SCOPED_TRACE(r.what);
    open(r.cn);
    say(r.hello);
    auto e = take_one();
    EXPECT_EQ(e->type(), "error");
    EXPECT_EQ(e->string("code"), r.code);
    EXPECT_EQ(e->integer("re"), 1);
    EXPECT_FALSE(e->string("message").empty());
    ASSERT_TRUE(last_close);
    EXPECT_EQ(last_close->code, 1008);
    EXPECT_EQ(last_close->reason, r.code);
    EXPECT_FALSE(session->welcomed());
    EXPECT_TRUE(session->closing());
    // A refused device gets nothing more, whatever it sends.
    say(license_request(2, R"([{"name":"trunks","qty":1}])"));
    EXPECT_TRUE(take().empty());
  }
  EXPECT_TRUE(directory.connections().empty());
  EXPECT_TRUE(directory.issued().empty());
}

TEST_F(SessionTest, AFutureProtoIsRefusedEvenWhenItsHelloLooksDifferent) {
  open();
  say(R"({"type":"hello","id":1,"proto":2,"identity":{"system":"SYS-7"}})");
  EXPECT_EQ(take_one()->string("code"), "unsupported_proto");
  ASSERT_TRUE(last_close);
  EXPECT_EQ(last_close->code, 1008);
}

TEST_F(SessionTest, MessagesBeforeHelloAreRefused) {
  open();
  say(R"({"type":"heartbeat","id":4,"seq":1,"uptime_s":5})");
  auto e = take_one();
  EXPECT_EQ(e->type(), "error");
  EXPECT_EQ(e->string("code"), "hello_expected");
  EXPECT_EQ(e->integer("re"), 4);
  ASSERT_TRUE(last_close);
  EXPECT_EQ(last_close->code, 1008);
}

TEST_F(SessionTest, HelloFieldsBeyondTheIdentityAreOptional) {
  open();
  say(R"({"type":"hello","id":1,"proto":1,"customer_id":"C-42","system_id":"SYS-7"})");
  EXPECT_EQ(take_one()->type(), "welcome");
}

TEST_F(SessionTest, ASecondHelloIsAProtocolViolation) {
  welcomed();
  say(hello(2));
  EXPECT_TRUE(take().empty());
  ASSERT_TRUE(last_close);
  EXPECT_EQ(last_close->code, 1002);
}

// ---- malformed input ---------------------------------------------------------------------

TEST_F(SessionTest, TextThatIsNotJsonCloses1007) {
  for (const char* text : {"{\"type\":", "hello", ""}) {
    SCOPED_TRACE(text);
    welcomed();
    say(text);
    EXPECT_TRUE(take().empty());
    ASSERT_TRUE(last_close);
    EXPECT_EQ(last_close->code, 1007);
    EXPECT_EQ(last_close->reason, "invalid_payload");
  }
}

TEST_F(SessionTest, ARawControlCharacterCloses1007AndNeverPassesForAnIdentity) {
  // "SYS-7" NUL "X": cJSON alone would read "SYS-7" and take the hello of
  // a device whose certificate says SYS-7 for its own.
  std::string raw_nul = hello();
  raw_nul.replace(raw_nul.find(R"("SYS-7")"), 7, std::string("\"SYS-7\0X\"", 9));
  std::string raw_tab = hello();
  raw_tab.replace(raw_tab.find(R"("C-42")"), 6, "\"C-42\t\"");
  for (const std::string& text : {raw_nul, raw_tab}) {
    open("SYS-7");
    say(text);
    EXPECT_TRUE(take().empty());
    ASSERT_TRUE(last_close);
    EXPECT_EQ(last_close->code, 1007);
    EXPECT_NE(last_close->reason.find("raw control character"), std::string::npos) << last_close->reason;
    EXPECT_FALSE(session->welcomed());
  }
  welcomed();
  std::string heartbeat = R"({"type":"heartbeat","id":2,"seq":1,"uptime_s":1})";
  heartbeat.push_back('\0');
  say(heartbeat);
  EXPECT_TRUE(take().empty());
  ASSERT_TRUE(last_close);
  EXPECT_EQ(last_close->code, 1007) << "a NUL after the object";
}

TEST_F(SessionTest, RequestParamsWithARawControlCharacterAreRefused) {
  welcomed();
  EXPECT_FALSE(session->request("status.get", std::string("{\"a\":\"x\0y\"}", 11), now));
  EXPECT_FALSE(session->request("status.get", "{\"a\":\"x\ny\"}", now));
  EXPECT_TRUE(take().empty());
}

TEST_F(SessionTest, InvalidUtf8Closes1007) {
  welcomed();
  say("{\"type\":\"heartbeat\",\"x\":\"\xc3\x28\"}");
  EXPECT_TRUE(take().empty());
  ASSERT_TRUE(last_close);
  EXPECT_EQ(last_close->code, 1007);
}

TEST_F(SessionTest, ContractViolationsClose1002NamingTheField) {
  struct Case {
    const char* text;
    const char* names;
  } cases[] = {
      {"[1,2]", "message"},
      {R"({"id":1})", "type"},
      {R"({"type":7})", "type"},
      {R"({"type":"license_request","id":2,"features":[{"name":"a","qty":1},{"name":"b","qty":"x"}]})",
       "features[1].qty"},
      {R"({"type":"license_request","id":2,"features":[{"name":"a","qty":-1}]})", "features[0].qty"},
      {R"({"type":"license_audit","id":2,"serial":"L-1","from":1,"usage":[]})", "to"},
      {R"({"type":"event","id":2,"events":[{"seq":1,"time":null}]})", "events[0].kind"},
      {R"({"type":"event","id":2,"stream":"0123456789ABCDEF","events":[]})", "stream"},
      {R"({"type":"event","id":2,"stream":"0123","events":[]})", "stream"},
      {R"({"type":"event","id":2,"stream":"00000000000000a1","events":[{"seq":0,"time":null,"kind":"a"}]})",
       "events[0].seq"},
      {R"({"type":"response","re":2,"ok":false})", "error"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    welcomed();
    say(c.text);
    EXPECT_TRUE(take().empty());
    ASSERT_TRUE(last_close);
    EXPECT_EQ(last_close->code, 1002);
    EXPECT_NE(last_close->reason.find(c.names), std::string::npos) << last_close->reason;
    EXPECT_LE(last_close->reason.size(), 123u);
  }
}

TEST_F(SessionTest, NestingBeyondTheJsonDepthCloses1009) {
  welcomed();
  say(R"({"type":"heartbeat","x":)" + std::string(40, '[') + std::string(40, ']') + "}");
  EXPECT_TRUE(take().empty());
  ASSERT_TRUE(last_close);
  EXPECT_EQ(last_close->code, 1009);
}

TEST_F(SessionTest, UnknownTypesAndFieldsAreIgnored) {
  welcomed();
  say(R"({"type":"telemetry","id":3,"cpu":12})");
  EXPECT_TRUE(take().empty());
  EXPECT_FALSE(last_close);
  say(R"({"type":"heartbeat","id":4,"seq":1,"uptime_s":5,"extra":{"a":[1]}})");
  EXPECT_EQ(take_one()->type(), "heartbeat_ack");
}

// ---- heartbeat ------------------------------------------------------------------------------

TEST_F(SessionTest, HeartbeatIsAckedWithTheServerTime) {
  welcomed();
  now += 12345;
  say(R"({"type":"heartbeat","id":9,"seq":1,"uptime_s":5})");
  auto ack = take_one();
  EXPECT_EQ(ack->type(), "heartbeat_ack");
  EXPECT_EQ(ack->integer("re"), 9);
  EXPECT_EQ(ack->integer("time"), now);
  EXPECT_EQ(session->info().last_contact, now);
}

// ---- licenses ---------------------------------------------------------------------------------

TEST_F(SessionTest, GrantCapsQuantitiesAndLeavesOutWhatIsNotEntitled) {
  welcomed();
  say(license_request(2, R"([{"name":"trunks","qty":40},{"name":"recording","qty":1},{"name":"fax","qty":2}])"));
  auto g = take_one();
  ASSERT_EQ(g->type(), "license_grant");
  EXPECT_EQ(g->integer("re"), 2);
  EXPECT_EQ(g->string("alg"), "ES256");
  EXPECT_EQ(g->string("kid"), "k1");
  License l = accept(key, *g, now);
  EXPECT_EQ(l.terms.quantity("trunks"), 30u) << "capped by the entitlement";
  EXPECT_EQ(l.terms.quantity("recording"), 1u);
  EXPECT_EQ(l.terms.feature_count, 2u) << "fax is not entitled: left out";
  EXPECT_EQ(l.terms.customer_id.view(), "C-42");
  EXPECT_EQ(l.terms.system_id.view(), "SYS-7");
  EXPECT_EQ(l.terms.issued, now);
  EXPECT_EQ(l.terms.not_before, now - settings.not_before_slack_ms);
  EXPECT_EQ(l.terms.expires, now + settings.license_lifetime_ms);
  ASSERT_EQ(directory.issued().size(), 1u);
  EXPECT_EQ(directory.issued()[0].serial, l.terms.serial.view());
  EXPECT_EQ(directory.issued()[0].expires, l.terms.expires);
  EXPECT_EQ(session->info().license_serial, std::string(l.terms.serial.view()));
}

TEST_F(SessionTest, LowerRequestsAreGrantedAsAsked) {
  welcomed();
  say(license_request(2, R"([{"name":"trunks","qty":12},{"name":"recording","qty":0}])"));
  License l = accept(key, *take_one(), now);
  EXPECT_EQ(l.terms.quantity("trunks"), 12u);
  EXPECT_EQ(l.terms.feature_count, 1u) << "a feature asked with qty 0 is not granted";
}

TEST_F(SessionTest, AGrantIsAcceptedByADeviceWhoseClockTrailsTheServer) {
  welcomed();
  say(license_request(2, R"([{"name":"trunks","qty":1}])"));
  accept(key, *take_one(), now - settings.not_before_slack_ms);
}

TEST_F(SessionTest, ExpiryIsCappedByTheSubscriptionEnd) {
  directory.system("SYS-7")->subscription_end = now + 86400 * 1000;
  welcomed();
  say(license_request(2, R"([{"name":"trunks","qty":1}])"));
  EXPECT_EQ(accept(key, *take_one(), now).terms.expires, now + 86400 * 1000);
}

TEST_F(SessionTest, LicenseRequestsAreDeniedWithAReason) {
  struct Case {
    const char* what;
    std::function<void(SystemRecord&)> change;
    const char* features;
    const char* code;
  } cases[] = {
      {"nothing entitled", [](SystemRecord&) {}, R"([{"name":"fax","qty":1}])", "not_entitled"},
      {"empty request", [](SystemRecord&) {}, "[]", "not_entitled"},
      {"suspended", [](SystemRecord& s) { s.suspended = true; }, R"([{"name":"trunks","qty":1}])", "suspended"},
      {"term over", [this](SystemRecord& s) { s.subscription_end = now; }, R"([{"name":"trunks","qty":1}])",
       "subscription_ended"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    directory.put_system({"C-42", "SYS-7", {{"trunks", 30}, {"recording", 1}}});
    c.change(*directory.system("SYS-7"));
    welcomed();
    say(license_request(5, c.features));
    auto d = take_one();
    EXPECT_EQ(d->type(), "license_denied");
    EXPECT_EQ(d->integer("re"), 5);
    EXPECT_EQ(d->string("code"), c.code);
    EXPECT_FALSE(d->string("message").empty());
    EXPECT_FALSE(last_close) << "a denial keeps the link";
  }
  EXPECT_TRUE(directory.issued().empty());
}

TEST_F(SessionTest, IssueTimesOnlyGrowSoTheDeviceNeverSeesAReplay) {
  welcomed();
  say(license_request(2, R"([{"name":"trunks","qty":1}])"));
  License first = accept(key, *take_one(), now);
  say(license_request(3, R"([{"name":"trunks","qty":2}])"));  // same millisecond
  License second = accept(key, *take_one(), now, &first);
  EXPECT_GT(second.terms.issued, first.terms.issued);
  EXPECT_NE(second.terms.serial.view(), first.terms.serial.view());
  // A server whose clock went back still issues after the last license.
  now -= 3600 * 1000;
  welcomed();
  say(license_request(2, R"([{"name":"trunks","qty":3}])"));
  auto g = take_one();
  License third;
  LicenseContext context{"C-42", "SYS-7", second.terms.issued, &second};
  EXPECT_TRUE(accept_license_grant(key, {g->string("license"), g->string("sig"), "ES256"}, context, third).accepted());
  EXPECT_GT(third.terms.issued, second.terms.issued);
}

TEST_F(SessionTest, PushGrantFollowsChangedEntitlementsUnsolicited) {
  welcomed();
  say(license_request(2, R"([{"name":"trunks","qty":40},{"name":"recording","qty":1}])"));
  License first = accept(key, *take_one(), now);
  directory.system("SYS-7")->entitlements["trunks"] = 35;
  now += 1000;
  ASSERT_TRUE(session->push_grant(now));
  auto g = take_one();
  EXPECT_EQ(g->type(), "license_grant");
  EXPECT_EQ(g->get("re"), nullptr) << "unsolicited";
  EXPECT_EQ(accept(key, *g, now, &first).terms.quantity("trunks"), 35u) << "still capped by the request (40)";
}

TEST_F(SessionTest, PushGrantBeforeAnyRequestGrantsEveryEntitlement) {
  welcomed();
  ASSERT_TRUE(session->push_grant(now));
  License l = accept(key, *take_one(), now);
  EXPECT_EQ(l.terms.quantity("trunks"), 30u);
  EXPECT_EQ(l.terms.quantity("recording"), 1u);
}

TEST_F(SessionTest, PushGrantWithNothingEntitledSendsADenial) {
  directory.system("SYS-7")->entitlements.clear();
  welcomed();
  EXPECT_FALSE(session->push_grant(now));
  EXPECT_EQ(take_one()->string("code"), "not_entitled");
}

TEST_F(SessionTest, ALicenseIsRenewedHalfWayThroughItsLife) {
  settings.license_lifetime_ms = 2 * 3600 * 1000;
  welcomed();
  say(license_request(2, R"([{"name":"trunks","qty":3}])"));
  License first = accept(key, *take_one(), now);
  Millis renew_at = first.terms.issued + 3600 * 1000;
  // Keep the link alive while time passes.
  while (now + 20 * 1000 < renew_at) {
    now += 20 * 1000;
    say(R"({"type":"heartbeat","id":50,"seq":1,"uptime_s":1})");
    EXPECT_EQ(session->step(now), std::min(renew_at, now + 30 * 1000));
  }
  take();
  now = renew_at;
  session->step(now);
  auto g = take_one();
  ASSERT_EQ(g->type(), "license_grant");
  EXPECT_EQ(g->get("re"), nullptr);
  License renewed = accept(key, *g, now, &first);
  EXPECT_EQ(renewed.terms.quantity("trunks"), 3u) << "renewal grants what the device asked";
  EXPECT_EQ(renewed.terms.expires, now + settings.license_lifetime_ms);
}

// ---- audits ------------------------------------------------------------------------------------

TEST_F(SessionTest, AuditWithinTheEntitlementIsOk) {
  welcomed();
  say(R"({"type":"license_audit","id":6,"serial":"L-1","from":100,"to":200,)"
      R"("usage":[{"name":"trunks","in_use":10,"peak":30},{"name":"recording","in_use":0,"peak":1}]})");
  auto a = take_one();
  EXPECT_EQ(a->type(), "audit_ack");
  EXPECT_EQ(a->integer("re"), 6);
  EXPECT_EQ(a->string("status"), "ok");
  EXPECT_EQ(cJSON_GetArraySize(a->get("over")), 0);
  ASSERT_EQ(directory.audits().size(), 1u);
  const AuditRecord& r = directory.audits()[0];
  EXPECT_EQ(r.serial, "L-1");
  EXPECT_EQ(r.from, 100);
  EXPECT_EQ(r.to, 200);
  ASSERT_EQ(r.usage.size(), 2u);
  EXPECT_EQ(r.usage[0].peak, 30);
  EXPECT_EQ(r.result, AuditResult::ok);
  EXPECT_EQ(session->info().last_audit, AuditResult::ok);
}

TEST_F(SessionTest, AuditBeyondTheEntitlementIsOveruse) {
  welcomed();
  say(R"({"type":"license_audit","id":6,"serial":"L-1","from":100,"to":200,)"
      R"("usage":[{"name":"trunks","in_use":10,"peak":31},{"name":"fax","in_use":1,"peak":1},)"
      R"({"name":"recording","in_use":1,"peak":1}]})");
  SessionOutput raw = session->take_output();
  ASSERT_EQ(raw.messages.size(), 1u);
  JsonResult<ServerMessage> parsed = parse_server_message(raw.messages[0]);
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(std::holds_alternative<AuditAck>(parsed->body));
  EXPECT_TRUE(std::get<AuditAck>(parsed->body).overuse) << "the device reads it as overuse";
  auto a = std::make_unique<Sent>(raw.messages[0]);
  EXPECT_EQ(a->string("status"), "overuse");
  const cJSON* over = a->get("over");
  ASSERT_EQ(cJSON_GetArraySize(over), 2);
  EXPECT_EQ(str(at(over, 0), "name"), "trunks");
  EXPECT_EQ(num(at(over, 0), "peak"), 31);
  EXPECT_EQ(num(at(over, 0), "licensed"), 30);
  EXPECT_EQ(str(at(over, 1), "name"), "fax");
  EXPECT_EQ(num(at(over, 1), "licensed"), 0);
  EXPECT_EQ(directory.audits()[0].result, AuditResult::overuse);
  EXPECT_EQ(directory.audits()[0].over.size(), 2u);
  EXPECT_EQ(session->info().last_audit, AuditResult::overuse);
}

// ---- events ---------------------------------------------------------------------------------------

TEST_F(SessionTest, EventsAreStoredVerbatimAndAckedUpToTheHighestSeq) {
  welcomed();
  say(R"({"type":"event","id":8,"events":[{"seq":1,"time":1750000000000,"kind":"license_applied","serial":"L-1"},)"
      R"({"seq":2,"time":null,"kind":"grace_alarm","severity":"major","days_left":12}]})");
  auto ack = take_one();
  EXPECT_EQ(ack->type(), "event_ack");
  EXPECT_EQ(ack->integer("re"), 8);
  EXPECT_EQ(ack->integer("upto"), 2);
  const auto& stored = directory.events("SYS-7");
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].kind, "license_applied");
  EXPECT_EQ(stored[0].time, 1750000000000);
  EXPECT_FALSE(stored[1].time.has_value());
  Sent second(stored[1].json);
  EXPECT_EQ(second.integer("days_left"), 12);
  EXPECT_EQ(second.string("severity"), "major");
}

TEST_F(SessionTest, ARepeatedBatchIsStoredOnce) {
  welcomed();
  const std::string batch =
      R"({"type":"event","id":8,"events":[{"seq":4,"time":null,"kind":"a"},{"seq":5,"time":null,"kind":"b"}]})";
  say(batch);
  EXPECT_EQ(take_one()->integer("upto"), 5);
  say(batch);
  EXPECT_EQ(take_one()->integer("upto"), 5);
  EXPECT_EQ(directory.events("SYS-7").size(), 2u);
}

TEST_F(SessionTest, EventsAreKeptPerStreamAndTheAckNamesTheStream) {
  welcomed();
  say(R"({"type":"event","id":8,"stream":"00000000000000a1","events":[{"seq":1,"time":null,"kind":"a"},)"
      R"({"seq":2,"time":null,"kind":"b"},{"seq":3,"time":null,"kind":"c"}]})");
  auto first = take_one();
  EXPECT_EQ(first->string("stream"), "00000000000000a1");
  EXPECT_EQ(first->integer("upto"), 3);
  // The device lost its state: a new stream from seq 1 is new, not a repeat.
  say(R"({"type":"event","id":9,"stream":"00000000000000b2","events":[{"seq":1,"time":null,"kind":"record_damaged"}]})");
  auto second = take_one();
  EXPECT_EQ(second->string("stream"), "00000000000000b2");
  EXPECT_EQ(second->integer("upto"), 1) << "upto is the highest seq stored for that stream";
  const auto& stored = directory.events("SYS-7");
  ASSERT_EQ(stored.size(), 4u);
  EXPECT_EQ(stored[3].stream, "00000000000000b2");
  EXPECT_EQ(stored[3].kind, "record_damaged");
  // A device from before streams sends none and is answered without one.
  say(R"({"type":"event","id":10,"events":[{"seq":1,"time":null,"kind":"a"}]})");
  auto legacy = take_one();
  EXPECT_EQ(legacy->get("stream"), nullptr);
  EXPECT_EQ(legacy->integer("upto"), 1);
  EXPECT_EQ(directory.events("SYS-7").back().stream, kLegacyEventStream);
}

// ---- operator requests and responses --------------------------------------------------------------

TEST_F(SessionTest, ARequestIsCompletedByTheDevicesResponse) {
  welcomed();
  std::vector<DeviceResponse> seen;
  session->set_response_callback([&](const DeviceResponse& r) { seen.push_back(r); });
  std::optional<int64_t> id = session->request("status.get", R"({"verbose":true})", now);
  ASSERT_TRUE(id);
  auto q = take_one();
  EXPECT_EQ(q->type(), "request");
  EXPECT_EQ(q->integer("id"), *id);
  EXPECT_EQ(q->string("method"), "status.get");
  EXPECT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(q->get("params"), "verbose")));
  EXPECT_FALSE(session->take_response(*id));
  say(R"({"type":"response","re":)" + std::to_string(*id) + R"(,"ok":true,"result":{"state":"licensed"}})");
  EXPECT_TRUE(take().empty());
  ASSERT_EQ(seen.size(), 1u);
  std::optional<DeviceResponse> r = session->take_response(*id);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->id, *id);
  EXPECT_EQ(r->result_json, R"({"state":"licensed"})");
  EXPECT_FALSE(session->take_response(*id)) << "taken once";
}

TEST_F(SessionTest, AnErrorResponseCarriesCodeAndMessage) {
  welcomed();
  int64_t id = *session->request("tunnel.open", R"({"service":"ssh"})", now);
  take();
  say(R"({"type":"response","re":)" + std::to_string(id) +
      R"(,"ok":false,"error":{"code":"not_allowed","message":"tunnel.open"}})");
  std::optional<DeviceResponse> r = session->take_response(id);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error_code, "not_allowed");
  EXPECT_EQ(r->error_message, "tunnel.open");
}

TEST_F(SessionTest, ResponsesToNothingAskedAreIgnored) {
  welcomed();
  int calls = 0;
  session->set_response_callback([&](const DeviceResponse&) { ++calls; });
  say(R"({"type":"response","re":99,"ok":true,"result":{}})");
  int64_t id = *session->request("status.get", "", now);
  EXPECT_EQ(take_one()->get("params"), nullptr) << "no params: field left out";
  std::string answer = R"({"type":"response","re":)" + std::to_string(id) + R"(,"ok":true})";
  say(answer);
  say(answer);  // answered twice: the first one counts
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(session->take_response(id)->result_json, "null");
  EXPECT_FALSE(session->take_response(99));
  EXPECT_FALSE(last_close);
}

TEST_F(SessionTest, RequestIdsAreUniquePerConnection) {
  welcomed();
  int64_t a = *session->request("status.get", "", now);
  int64_t b = *session->revoke("L-1", "r", now);
  int64_t c = *session->request("audit.now", "", now);
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_NE(a, c);
}

TEST_F(SessionTest, RequestParamsMustBeJson) {
  welcomed();
  EXPECT_FALSE(session->request("status.get", "{oops", now));
  EXPECT_FALSE(session->request("status.get", "\xff", now));
  EXPECT_TRUE(take().empty());
}

TEST_F(SessionTest, OperatorActionsNeedAWelcomedLink) {
  open();
  EXPECT_FALSE(session->request("status.get", "", now));
  EXPECT_FALSE(session->revoke("L-1", "r", now));
  EXPECT_FALSE(session->disconnect("r", 5, now));
  EXPECT_FALSE(session->push_grant(now));
  EXPECT_TRUE(take().empty());
  say(hello());
  take();
  session->on_closed(now, "gone");
  EXPECT_FALSE(session->request("status.get", "", now));
}

// ---- revoke -----------------------------------------------------------------------------------------

TEST_F(SessionTest, RevokeIsSentRecordedAndAnswered) {
  welcomed();
  say(license_request(2, R"([{"name":"trunks","qty":1}])"));
  std::string serial = std::string(accept(key, *take_one(), now).terms.serial.view());
  std::optional<int64_t> id = session->revoke(serial, "non-payment", now);
  ASSERT_TRUE(id);
  auto r = take_one();
  EXPECT_EQ(r->type(), "license_revoke");
  EXPECT_EQ(r->integer("id"), *id);
  EXPECT_EQ(r->string("serial"), serial);
  EXPECT_EQ(r->string("reason"), "non-payment");
  EXPECT_TRUE(*directory.is_revoked("SYS-7", serial));
  EXPECT_FALSE(session->info().license_serial) << "the device no longer holds it";
  say(R"({"type":"response","re":)" + std::to_string(*id) + R"(,"ok":true,"result":{}})");
  EXPECT_TRUE(session->take_response(*id)->ok);
}

// PROTOCOL.md section 4: the server revokes what the device reported in
// force, not what it last issued; "*" while a grant is unconfirmed.
TEST_F(SessionTest, RevokeHeldAimsAtTheSerialTheDeviceReported) {
  open();
  say(hello(1, "C-42", "SYS-7", 1, "L-5"));
  (void)take();
  EXPECT_EQ(session->info().held_serial, "L-5") << "hello reports the license in force";
  say(license_request(2, R"([{"name":"trunks","qty":1}])"));
  std::string issued = std::string(accept(key, *take_one(), now).terms.serial.view());
  ASSERT_NE(issued, "L-5");
  EXPECT_EQ(session->info().held_serial, "L-5") << "a grant is not yet a license in force";
  EXPECT_EQ(session->info().unconfirmed_serials, std::vector<std::string>{issued});

  // Unconfirmed: the device may have applied it or not (a full disk, a
  // refusal), so the revoke says "*" and both serials are recorded.
  std::optional<ServerSession::HeldRevoke> sent = session->revoke_held("contract ended", now);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->serial, "*");
  auto r = take_one();
  EXPECT_EQ(r->type(), "license_revoke");
  EXPECT_EQ(r->string("serial"), "*");
  EXPECT_TRUE(*directory.is_revoked("SYS-7", "L-5"));
  EXPECT_TRUE(*directory.is_revoked("SYS-7", issued));
  say(R"({"type":"response","re":)" + std::to_string(sent->id) + R"(,"ok":true,"result":{"serial":")" + issued +
      R"("}})");
  EXPECT_FALSE(session->info().held_serial) << "the device answered: nothing held";
  EXPECT_FALSE(session->revoke_held("again", now)) << "nothing to revoke";

  // The device reports what it applied (license_applied event, then an
  // audit): the revoke names that serial.
  say(license_request(3, R"([{"name":"trunks","qty":1}])"));
  std::string next = std::string(accept(key, *take_one(), now).terms.serial.view());
  say(R"({"type":"event","id":4,"events":[{"seq":1,"time":null,"kind":"license_applied","severity":"info","serial":")" +
      next + R"("}]})");
  (void)take();
  EXPECT_EQ(session->info().held_serial, next);
  EXPECT_TRUE(session->info().unconfirmed_serials.empty());
  sent = session->revoke_held("r", now);
  ASSERT_TRUE(sent);
  EXPECT_EQ(sent->serial, next);
  EXPECT_EQ(take_one()->string("serial"), next);
}

TEST_F(SessionTest, AnAuditNamesTheLicenseInForce) {
  open();
  say(hello(1, "C-42", "SYS-7", 1, "L-5"));
  (void)take();
  say(license_request(2, R"([{"name":"trunks","qty":1}])"));
  (void)take();
  // The device still audits L-5: the grant crossed it or was refused.
  say(R"({"type":"license_audit","id":3,"serial":"L-5","from":1,"to":2,"usage":[]})");
  (void)take();
  EXPECT_EQ(session->info().held_serial, "L-5");
  EXPECT_EQ(session->info().unconfirmed_serials.size(), 1u) << "a later grant may still be in flight";
}

TEST_F(SessionTest, ADeviceBackWithARevokedSerialIsToldAgain) {
  ASSERT_TRUE(directory.record_revoked("SYS-7", "L-5", "fraud", now).ok());
  open();
  say(hello(1, "C-42", "SYS-7", 1, "L-5"));
  auto out = take();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->type(), "welcome");
  EXPECT_EQ(out[1]->type(), "license_revoke");
  EXPECT_EQ(out[1]->string("serial"), "L-5");
  // A serial in good standing is left alone.
  open();
  say(hello(1, "C-42", "SYS-7", 1, "L-6"));
  EXPECT_EQ(take().size(), 1u);
  EXPECT_EQ(session->info().license_serial, "L-6");
}

// ---- disconnect ----------------------------------------------------------------------------------------

TEST_F(SessionTest, DisconnectTellsTheDeviceWhenToComeBack) {
  welcomed();
  ASSERT_TRUE(session->disconnect("maintenance", 120, now));
  auto d = take_one();
  EXPECT_EQ(d->type(), "disconnect");
  EXPECT_EQ(d->string("reason"), "maintenance");
  EXPECT_EQ(d->integer("retry_after_s"), 120);
  EXPECT_FALSE(last_close) << "the device closes";
  EXPECT_FALSE(session->disconnect("x", -1, now)) << "a negative delay is refused";
}

TEST_F(SessionTest, ADeviceThatIgnoresDisconnectIsClosed) {
  settings.heartbeat_s = 60;  // the dead-link timer must not come first
  welcomed();
  ASSERT_TRUE(session->disconnect("maintenance", std::nullopt, now));
  EXPECT_EQ(take_one()->get("retry_after_s"), nullptr);
  EXPECT_EQ(session->step(now), now + settings.hello_timeout_ms);
  now += settings.hello_timeout_ms;
  session->step(now);
  take();
  ASSERT_TRUE(last_close);
  EXPECT_EQ(last_close->code, 1000);
}

// ---- timers -------------------------------------------------------------------------------------------

TEST_F(SessionTest, AConnectionWithoutHelloIsClosedAfterTheHelloTimeout) {
  open();
  EXPECT_EQ(session->step(now), now + settings.hello_timeout_ms);
  now += settings.hello_timeout_ms - 1;
  session->step(now);
  EXPECT_FALSE(session->has_output());
  now += 1;
  EXPECT_EQ(session->step(now), kNever);
  take();
  ASSERT_TRUE(last_close);
  EXPECT_EQ(last_close->code, 1008);
  EXPECT_EQ(last_close->reason, "hello_timeout");
}

TEST_F(SessionTest, ASilentDeviceIsClosedAfterThreeHeartbeats) {
  welcomed();
  EXPECT_EQ(session->step(now), now + 30 * 1000);
  now += 29 * 1000;
  say(R"({"type":"telemetry"})");  // any message is contact
  EXPECT_EQ(session->step(now), now + 30 * 1000);
  now += 30 * 1000;
  session->step(now);
  take();
  ASSERT_TRUE(last_close);
  EXPECT_EQ(last_close->code, 1001);
  EXPECT_EQ(last_close->reason, "no_contact");
}

// ---- blackhole -------------------------------------------------------------------------------------------

TEST_F(SessionTest, ABlackholedSessionAnswersNothingButKeepsTheLink) {
  welcomed();
  session->set_blackhole(true);
  say(R"({"type":"heartbeat","id":2,"seq":1,"uptime_s":5})");
  say(license_request(3, R"([{"name":"trunks","qty":1}])"));
  say(R"({"type":"event","id":4,"events":[{"seq":1,"time":null,"kind":"a"}]})");
  say("not json");
  EXPECT_FALSE(session->push_grant(now));
  EXPECT_FALSE(session->request("status.get", "", now));
  EXPECT_EQ(session->step(now + 3600 * 1000), kNever);
  EXPECT_FALSE(session->has_output());
  EXPECT_FALSE(session->closing());
  EXPECT_TRUE(directory.events("SYS-7").empty()) << "dropped unprocessed";
  EXPECT_TRUE(directory.issued().empty());
  EXPECT_TRUE(session->info().blackholed);
  session->set_blackhole(false);
  say(R"({"type":"heartbeat","id":5,"seq":2,"uptime_s":6})");
  EXPECT_EQ(take_one()->type(), "heartbeat_ack");
}

// ---- records failing --------------------------------------------------------------------------------------

TEST_F(SessionTest, FailingRecordsAnswerBusyWithARetryDelay) {
  struct Case {
    const char* what;
    bool welcome_first;
    std::string message;
  } cases[] = {
      {"hello", false, hello(1)},
      {"license_request", true, license_request(1, R"([{"name":"trunks","qty":1}])")},
      {"license_audit", true, R"({"type":"license_audit","id":1,"serial":"L","from":1,"to":2,"usage":[]})"},
      {"event", true, R"({"type":"event","id":1,"events":[{"seq":1,"time":null,"kind":"a"}]})"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    if (c.welcome_first) {
      welcomed();
    } else {
      open();
    }
    directory.set_failing(true);
    say(c.message);
    directory.set_failing(false);
    auto e = take_one();
    EXPECT_EQ(e->type(), "error");
    EXPECT_EQ(e->string("code"), "busy");
    EXPECT_EQ(e->integer("re"), 1);
    EXPECT_EQ(e->integer("retry_after_s"), settings.busy_retry_s);
    ASSERT_TRUE(last_close);
    EXPECT_EQ(last_close->code, 1008);
  }
  EXPECT_TRUE(directory.events("SYS-7").empty()) << "nothing acked that was not stored";
}

TEST_F(SessionTest, AnOperatorActionOnFailingRecordsKeepsTheLink) {
  welcomed();
  directory.set_failing(true);
  EXPECT_FALSE(session->revoke("L-1", "r", now));
  EXPECT_FALSE(session->has_output());
  EXPECT_FALSE(session->closing());
}

// ---- closing and the listing --------------------------------------------------------------------------------

TEST_F(SessionTest, ClosingRecordsTheConnectionEndOnce) {
  welcomed();
  now += 5000;
  session->on_closed(now, "device closed 1000");
  session->on_closed(now + 1, "again");
  ASSERT_EQ(directory.connections().size(), 1u);
  EXPECT_EQ(directory.connections()[0].down, now);
  EXPECT_EQ(directory.connections()[0].down_reason, "device closed 1000");
  say(R"({"type":"heartbeat","id":2,"seq":1,"uptime_s":5})");
  EXPECT_FALSE(session->has_output());
  EXPECT_EQ(session->step(now + 3600 * 1000), kNever);
}

TEST_F(SessionTest, AConnectionClosedBeforeWelcomeLeavesNoRecord) {
  open();
  session->on_closed(now, "gone");
  EXPECT_TRUE(directory.connections().empty());
}

TEST_F(SessionTest, InfoListsWhatAnOperatorNeeds) {
  Millis opened = now;
  open();
  EXPECT_EQ(session->info().opened, opened);
  EXPECT_FALSE(session->info().welcomed);
  now += 100;
  say(hello(1, "C-42", "SYS-7", 1, "L-0"));
  take();
  SessionInfo i = session->info();
  EXPECT_EQ(i.system_id, "SYS-7");
  EXPECT_EQ(i.customer_id, "C-42");
  EXPECT_EQ(i.peer, "127.0.0.1:40000");
  EXPECT_EQ(i.port, 8443);
  EXPECT_TRUE(i.welcomed);
  EXPECT_EQ(i.connected_since, now);
  EXPECT_EQ(i.last_contact, now);
  EXPECT_EQ(i.license_serial, "L-0");
  EXPECT_FALSE(i.last_audit);
  EXPECT_EQ(i.hello.agent, "0.1.0");
  EXPECT_EQ(i.hello.fw, "pbx-9.2");
  EXPECT_EQ(i.hello.boot, 3);
  EXPECT_EQ(i.hello.state, "unlicensed");
  EXPECT_FALSE(i.hello.device_time);
  EXPECT_NE(i.connection_id, 0);
}

}  // namespace
}  // namespace sublink::test
