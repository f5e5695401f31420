// The agent's protocol behaviour (PROTOCOL.md sections 4 and 5), driven
// through its public interface with a fake channel playing the server.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "agent/agent_rig.h"
#include "net/tls/certificate_date_clock.h"

namespace sublink::test {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(rig.boot().ok()); }

  /// Link up, welcome, license granted and applied.
  void licensed() {
    rig.link_up();
    rig.welcome(kT0);
    rig.server(rig.grant_json(LicenseSpec{}));
    ASSERT_EQ(rig.agent->state(), LicenseState::licensed);
  }

  /// Licensed, and the audit that goes out at once: its id.
  int64_t licensed_and_audited() {
    licensed();
    rig.run_for(0);
    auto audits = rig.sent_of("license_audit");
    EXPECT_EQ(audits.size(), 1u);
    return audits.empty() ? -1 : audits[0]->integer("id");
  }

  /// Every queued event kind, paged with events.get (opens the link when down).
  std::vector<std::string> queued_event_kinds() {
    if (!rig.channel.is_up) {
      rig.link_up();
      rig.welcome(kT0);
    }
    std::vector<std::string> kinds;
    int64_t after = 0;
    for (int page = 0; page < 100; ++page) {
      rig.server(R"({"type":"request","id":900,"method":"events.get","params":{"after":)" + std::to_string(after) + "}}");
      auto r = rig.last_sent();
      const cJSON* events = cJSON_GetObjectItem(r->get("result"), "events");
      if (cJSON_GetArraySize(events) == 0) break;
      const cJSON* e = nullptr;
      cJSON_ArrayForEach(e, events) {
        kinds.push_back(cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind")));
        after = static_cast<int64_t>(cJSON_GetNumberValue(cJSON_GetObjectItem(e, "seq")));
      }
    }
    return kinds;
  }

  AgentRig rig;
};

TEST_F(AgentTest, SendsHelloWithEveryFieldThenLicenseRequest) {
  rig.link_up();
  ASSERT_EQ(rig.channel.sent.size(), 2u);
  Sent hello(rig.channel.sent[0]);
  EXPECT_EQ(hello.type(), "hello");
  EXPECT_EQ(hello.integer("proto"), 1);
  EXPECT_EQ(hello.string("customer_id"), "C-42");
  EXPECT_EQ(hello.string("system_id"), "SYS-7");
  EXPECT_EQ(hello.string("agent"), "0.1.0");
  EXPECT_EQ(hello.string("fw"), "pbx-9.2");
  EXPECT_EQ(hello.string("role"), "primary");
  EXPECT_EQ(hello.integer("boot"), 1);
  EXPECT_TRUE(cJSON_IsNull(hello.get("time"))) << "an unset clock is sent as null";
  EXPECT_EQ(hello.string("state"), "unlicensed");
  EXPECT_EQ(hello.integer("grace_elapsed_s"), 0);
  EXPECT_TRUE(cJSON_IsNull(hello.get("license_serial")));
  Sent request(rig.channel.sent[1]);
  EXPECT_EQ(request.type(), "license_request");
  const cJSON* f = request.get("features");
  ASSERT_EQ(cJSON_GetArraySize(f), 2);
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(f, 0), "name")), "trunks");
  EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(f, 0), "qty")), 30);
  EXPECT_NE(hello.integer("id"), request.integer("id"));
}

TEST_F(AgentTest, HelloCarriesATrustedDeviceClockAndTheHeldLicense) {
  licensed();
  rig.link_down();
  rig.wall.value = {kT0 + 5 * kSec, true, true};
  rig.channel.sent.clear();
  rig.link_up();
  Sent hello(rig.channel.sent[0]);
  EXPECT_EQ(hello.integer("time"), kT0 + 5 * kSec);
  EXPECT_EQ(hello.string("state"), "grace");
  EXPECT_EQ(hello.string("license_serial"), "L-1");
}

TEST_F(AgentTest, HeartbeatsEveryHeartbeatIntervalWithIncreasingSeq) {
  rig.link_up();
  rig.welcome(kT0, 10);
  rig.run_for(35 * kSec);
  auto beats = rig.sent_of("heartbeat");
  ASSERT_EQ(beats.size(), 3u);
  EXPECT_EQ(beats[0]->integer("seq"), 1);
  EXPECT_EQ(beats[1]->integer("seq"), 2);
  EXPECT_EQ(beats[2]->integer("seq"), 3);
  EXPECT_EQ(beats[2]->integer("uptime_s"), 30);
  EXPECT_LT(beats[0]->integer("id"), beats[1]->integer("id"));
}

TEST_F(AgentTest, SilentServerIsADeadLinkAfterThreeHeartbeats) {
  rig.auto_ack = false;
  rig.link_up();
  rig.welcome(kT0, 10);
  rig.run_for(29 * kSec);
  EXPECT_TRUE(rig.channel.drops.empty());
  rig.server(R"({"type":"heartbeat_ack","time":1750000029000})");  // contact resets the count
  rig.run_for(29 * kSec);
  EXPECT_TRUE(rig.channel.drops.empty());
  rig.server(R"({"type":"something_new"})");  // any frame is contact
  rig.run_for(30 * kSec);
  ASSERT_EQ(rig.channel.drops.size(), 1u);
  EXPECT_FALSE(rig.agent->snapshot().link_up);
}

TEST_F(AgentTest, HeartbeatAckTimeIsTrustedForLicenseChecks) {
  rig.link_up();
  rig.welcome(kT0 - 1000 * kSec);  // before not_before
  rig.server(rig.grant_json(LicenseSpec{}));
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  rig.server(R"({"type":"heartbeat_ack","time":)" + std::to_string(kT0) + "}");
  rig.server(rig.grant_json(LicenseSpec{}));
  EXPECT_EQ(rig.agent->state(), LicenseState::licensed);
}

TEST_F(AgentTest, AcceptedGrantIsStoredBeforeFeaturesTurnOn) {
  rig.link_up();
  rig.welcome(kT0);
  struct Check {
    AgentRig* rig;
    bool stored_when_on = false;
    bool called = false;
  } check{&rig};
  rig.agent->set_state_callback(
      [](void* ctx, LicenseState) {
        auto* c = static_cast<Check*>(ctx);
        c->called = true;
        c->stored_when_on = c->rig->memory.records.count(RecordId::license) == 1 &&
                            c->rig->agent->feature_enabled("trunks");
      },
      &check);
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  rig.server(rig.grant_json(LicenseSpec{}));
  EXPECT_TRUE(check.called);
  EXPECT_TRUE(check.stored_when_on);
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));
  EXPECT_EQ(rig.agent->feature_quantity("trunks"), 30u);
  EXPECT_FALSE(rig.agent->feature_enabled("fax"));
  EXPECT_EQ(rig.agent->state(), LicenseState::licensed);
  EXPECT_TRUE(contains(queued_event_kinds(), "license_applied"));
}

TEST_F(AgentTest, UnsolicitedGrantIsAppliedToo) {
  licensed();
  LicenseSpec newer;
  newer.serial = "L-2";
  newer.issued += kSec;
  newer.features = R"([{"name":"trunks","qty":60}])";
  rig.server(rig.grant_json(newer));
  EXPECT_EQ(rig.agent->feature_quantity("trunks"), 60u);
  EXPECT_EQ(rig.agent->snapshot().serial, "L-2");
}

TEST_F(AgentTest, RefusedGrantChangesNothingAndSaysWhy) {
  licensed();
  size_t writes = rig.memory.writes.size();
  LicenseSpec other;
  other.customer = "C-99";
  other.issued += kSec;
  rig.server(rig.grant_json(other));
  LicenseSpec replay;  // same issued as the held one
  rig.server(rig.grant_json(replay));
  EXPECT_EQ(rig.agent->snapshot().serial, "L-1");
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));
  EXPECT_EQ(std::count(rig.memory.writes.begin() + static_cast<long>(writes), rig.memory.writes.end(),
                       RecordId::license),
            0);
  rig.server(R"({"type":"request","id":900,"method":"events.get"})");
  std::string answer = rig.channel.sent.back();
  EXPECT_NE(answer.find(R"("kind":"license_refused")"), std::string::npos);
  EXPECT_NE(answer.find(R"("reason":"wrong_customer")"), std::string::npos);
  EXPECT_NE(answer.find(R"("reason":"replayed")"), std::string::npos);
}

TEST_F(AgentTest, ForgedGrantIsRefused) {
  rig.link_up();
  rig.welcome(kT0);
  std::string grant = rig.grant_json(LicenseSpec{});
  grant[grant.find("\"sig\":\"") + 8] ^= 1;  // flip a bit of the signature text
  rig.server(grant);
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
}

TEST_F(AgentTest, LicenseDeniedBecomesAnEvent) {
  rig.link_up();
  rig.welcome(kT0);
  rig.server(R"({"type":"license_denied","re":2,"code":"no_subscription","message":"none"})");
  auto kinds = queued_event_kinds();
  EXPECT_TRUE(contains(kinds, "license_denied"));
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
}

TEST_F(AgentTest, RevokeOfHeldSerialTurnsFeaturesOffAtOnce) {
  licensed();
  rig.server(R"({"type":"license_revoke","id":77,"serial":"L-1","reason":"fraud"})");
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  auto r = rig.last_sent();
  EXPECT_EQ(r->type(), "response");
  EXPECT_EQ(r->integer("re"), 77);
  EXPECT_TRUE(cJSON_IsTrue(r->get("ok")));
  EXPECT_TRUE(contains(queued_event_kinds(), "license_revoked"));
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed) << "a revoked license must not come back at boot";
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
}

// The revoked grant sent again (a server restored from a backup, a retry
// that crossed the revoke) is a replay: refused, before and after a reboot;
// a newer grant is applied.
TEST_F(AgentTest, ARevokedGrantIsNeverAppliedAgainAlsoAfterAReboot) {
  licensed();
  const std::string revoked_grant = rig.grant_json(LicenseSpec{});
  rig.server(R"({"type":"license_revoke","id":77,"serial":"L-1","reason":"fraud"})");
  ASSERT_EQ(rig.agent->state(), LicenseState::unlicensed);
  rig.server(revoked_grant);
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  rig.server(R"({"type":"request","id":900,"method":"events.get"})");
  EXPECT_NE(rig.channel.sent.back().find(R"("reason":"replayed")"), std::string::npos) << rig.channel.sent.back();

  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0 + kSec);
  rig.server(revoked_grant);
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed) << "the floor survives the reboot";
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));

  LicenseSpec newer;
  newer.serial = "L-2";
  newer.issued += kSec;
  rig.server(rig.grant_json(newer));
  EXPECT_EQ(rig.agent->state(), LicenseState::licensed);
  EXPECT_EQ(rig.agent->snapshot().serial, "L-2");
}

TEST_F(AgentTest, RevokeOfAnotherSerialIsAnErrorAndChangesNothing) {
  licensed();
  rig.server(R"({"type":"license_revoke","id":78,"serial":"L-9","reason":"x"})");
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));
  auto r = rig.last_sent();
  EXPECT_EQ(r->integer("re"), 78);
  EXPECT_TRUE(cJSON_IsFalse(r->get("ok")));
}

TEST_F(AgentTest, AuditAfterWelcomeThenEveryAuditIntervalWithUsage) {
  licensed();  // the license came right after welcome: the first audit is due at once
  EXPECT_TRUE(rig.sent_of("license_audit").empty());
  rig.run_for(0);
  auto first = rig.sent_of("license_audit");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]->integer("to"), kT0);
  rig.server(R"({"type":"audit_ack","re":)" + std::to_string(first[0]->integer("id")) + R"(,"status":"ok"})");
  ASSERT_TRUE(rig.agent->report_usage("trunks", 12).ok());
  ASSERT_TRUE(rig.agent->report_usage("trunks", 7).ok());
  EXPECT_EQ(rig.agent->report_usage("fax", 1).reason(), Reason::invalid_argument);
  EXPECT_EQ(rig.agent->report_usage("trunks", -1).reason(), Reason::invalid_argument);
  rig.run_for(3600 * kSec);
  auto audits = rig.sent_of("license_audit");
  ASSERT_EQ(audits.size(), 2u);
  audits.erase(audits.begin());  // the first, acknowledged above
  EXPECT_EQ(audits[0]->string("serial"), "L-1");
  EXPECT_EQ(audits[0]->integer("from"), kT0) << "the period starts where the first audit ended";
  const cJSON* u = cJSON_GetArrayItem(audits[0]->get("usage"), 0);
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(u, "name")), "trunks");
  EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(u, "in_use")), 7);
  EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(u, "peak")), 12);
  Millis to = audits[0]->integer("to");
  EXPECT_EQ(to, kT0 + 3600 * kSec);
  rig.server(R"({"type":"audit_ack","re":)" + std::to_string(audits[0]->integer("id")) +
             R"(,"status":"overuse","over":[{"name":"trunks","by":2}]})");
  EXPECT_TRUE(rig.agent->snapshot().audit_overuse);
  EXPECT_TRUE(contains(queued_event_kinds(), "audit_overuse"));
  rig.run_for(3600 * kSec);
  audits = rig.sent_of("license_audit");
  ASSERT_EQ(audits.size(), 3u);
  EXPECT_EQ(audits[2]->integer("from"), to) << "the next period starts where the acknowledged one ended";
  u = cJSON_GetArrayItem(audits[2]->get("usage"), 0);
  EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(u, "peak")), 7) << "peak restarts from what is in use";
}

TEST_F(AgentTest, PeriodMissedOfflineIsReportedAfterReconnection) {
  licensed();
  rig.run_for(3600 * kSec);
  auto first = rig.sent_of("license_audit");
  ASSERT_EQ(first.size(), 2u) << "one as the license arrived, one audit_s later";
  Millis from = first[0]->integer("from");
  rig.link_down();  // no ack ever came
  rig.run_for(5 * 3600 * kSec);
  rig.link_up();
  rig.welcome(kT0 + 6 * 3600 * kSec + 10 * kSec);
  auto audits = rig.sent_of("license_audit");
  ASSERT_EQ(audits.size(), 3u) << "an audit goes out right after welcome when the last ack is too old";
  EXPECT_EQ(audits[2]->integer("from"), from);
  EXPECT_EQ(audits[2]->integer("to"), kT0 + 6 * 3600 * kSec + 10 * kSec);
}

TEST_F(AgentTest, EventsGoOutAfterWelcomeAndStayUntilAcknowledged) {
  licensed();
  rig.link_down();  // grace_started
  rig.channel.sent.clear();
  rig.link_up();
  EXPECT_TRUE(rig.sent_of("event").empty()) << "events wait for welcome";
  rig.welcome(kT0 + 60 * kSec);
  auto batches = rig.sent_of("event");
  ASSERT_EQ(batches.size(), 1u);
  auto kinds = rig.sent_event_kinds();
  EXPECT_TRUE(contains(kinds, "license_applied"));
  EXPECT_TRUE(contains(kinds, "grace_started"));
  const cJSON* events = batches[0]->get("events");
  int n = cJSON_GetArraySize(events);
  int64_t last_seq = static_cast<int64_t>(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(events, n - 1), "seq")));
  size_t pending = rig.agent->snapshot().events_pending;
  EXPECT_GE(pending, static_cast<size_t>(n));
  rig.link_down();  // no ack: nothing is dropped, the batch goes again
  rig.channel.sent.clear();
  rig.link_up();
  rig.welcome(kT0 + 120 * kSec);
  auto again = rig.sent_of("event");
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(again[0]->get("events"), 0), "seq")),
            cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(events, 0), "seq")));
  size_t before = rig.agent->snapshot().events_pending;
  rig.server(R"({"type":"event_ack","re":)" + std::to_string(again[0]->integer("id")) + R"(,"stream":")" +
             again[0]->string("stream") + R"(","upto":)" + std::to_string(last_seq) + "}");
  EXPECT_LT(rig.agent->snapshot().events_pending, before);
}

TEST_F(AgentTest, EventAckForUnissuedSeqIsIgnored) {
  licensed();
  size_t pending = rig.agent->snapshot().events_pending;
  const std::string stream(rig.agent->snapshot().event_stream);
  rig.server(R"({"type":"event_ack","stream":")" + stream + R"(","upto":999999})");
  EXPECT_EQ(rig.agent->snapshot().events_pending, pending);
}

TEST_F(AgentTest, DisconnectClosesWith1000AndRestartsAfterTheDelay) {
  rig.link_up();
  rig.welcome(kT0);
  rig.server(R"({"type":"disconnect","reason":"maintenance","retry_after_s":120})");
  ASSERT_EQ(rig.channel.closes.size(), 1u);
  EXPECT_EQ(rig.channel.closes[0], 1000);
  ASSERT_EQ(rig.channel.floors.size(), 1u);
  EXPECT_EQ(rig.channel.floors[0], 120 * kSec);
  Millis closed_at = rig.mono.now;
  rig.run_for(119 * kSec);
  EXPECT_TRUE(rig.channel.starts.empty());
  rig.run_for(1 * kSec);
  ASSERT_EQ(rig.channel.starts.size(), 1u);
  EXPECT_EQ(rig.channel.starts[0], closed_at + 120 * kSec);
}

TEST_F(AgentTest, ServerErrorSetsTheRetryFloor) {
  rig.link_up();
  rig.server(R"({"type":"error","code":"busy","message":"later","retry_after_s":30})");
  ASSERT_EQ(rig.channel.floors.size(), 1u);
  EXPECT_EQ(rig.channel.floors[0], 30 * kSec);
  EXPECT_TRUE(rig.channel.closes.empty()) << "the server closes after error";
}

TEST_F(AgentTest, OnlyWelcomeTellsTheChannelTheLinkIsAccepted) {
  // PROTOCOL.md 1.5: the backoff resets only on welcome; an error (a
  // refusal) or any other message before it must not reset it.
  rig.link_up();
  rig.server(R"({"type":"error","code":"system_mismatch","message":"system registered to another customer"})");
  EXPECT_EQ(rig.channel.accepted, 0);
  rig.link_up();
  rig.server(R"({"type":"heartbeat_ack","time":1750000000000})");
  EXPECT_EQ(rig.channel.accepted, 0);
  rig.welcome(kT0);
  EXPECT_EQ(rig.channel.accepted, 1);
}

TEST_F(AgentTest, ARawControlCharacterInAServerMessageClosesWith1007) {
  // "busy" NUL "x": read by cJSON alone as the code "busy" with its retry.
  rig.link_up();
  std::string error = R"({"type":"error","code":"busy)";
  error.push_back('\0');
  error += R"(x","message":"m","retry_after_s":1})";
  rig.server(error);
  ASSERT_EQ(rig.channel.closes.size(), 1u);
  EXPECT_EQ(rig.channel.closes[0], 1007);
  EXPECT_TRUE(rig.channel.floors.empty()) << "nothing of the message was used";
}

TEST_F(AgentTest, InvalidJsonClosesWith1007AndViolationWith1002) {
  rig.link_up();
  rig.server("{not json");
  ASSERT_EQ(rig.channel.closes.size(), 1u);
  EXPECT_EQ(rig.channel.closes[0], 1007);
  rig.link_up();
  rig.server(R"({"type":"welcome"})");  // time missing
  ASSERT_EQ(rig.channel.closes.size(), 2u);
  EXPECT_EQ(rig.channel.closes[1], 1002);
  EXPECT_FALSE(rig.agent->snapshot().link_up);
}

TEST_F(AgentTest, UnknownMessageTypeIsLoggedAndIgnored) {
  rig.link_up();
  rig.welcome(kT0);
  size_t sent = rig.channel.sent.size();
  rig.server(R"({"type":"future_thing","x":1})");
  EXPECT_TRUE(rig.channel.closes.empty());
  EXPECT_EQ(rig.channel.sent.size(), sent);
  bool logged = std::any_of(rig.logs.begin(), rig.logs.end(), [](auto& l) { return l.second == "future_thing"; });
  EXPECT_TRUE(logged);
}

TEST_F(AgentTest, StatusGetAnswersTheLocalStatus) {
  licensed();
  rig.server(R"({"type":"request","id":5,"method":"status.get"})");
  auto r = rig.last_sent();
  ASSERT_EQ(r->type(), "response");
  EXPECT_EQ(r->integer("re"), 5);
  const cJSON* result = r->get("result");
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(result, "state")), "licensed");
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(result, "link")), "up");
  EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(result, "port")), 443);
  EXPECT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(result, "alarm")));
  const cJSON* lic = cJSON_GetObjectItem(result, "license");
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItem(lic, "serial")), "L-1");
  EXPECT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(lic, "features")), 2);
  EXPECT_TRUE(cJSON_IsNumber(cJSON_GetObjectItem(result, "events_pending")));
  EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItem(result, "grace_remaining_s")), 30 * 86400);
}

TEST_F(AgentTest, WithADeadRtcTheBuildTimeThenTheServersTimeCheckCertificatesAndTheStatusSaysSo) {
  // PROTOCOL.md 2 and 7: no trusted clock (a lost RTC, no NTP): the build
  // time stands in, the log and the status say so; welcome's time is then
  // trusted for certificate dates.
  constexpr Millis kBuild = kT0 - 30LL * 86400 * kSec;
  CertificateDateClock dates(rig.wall, rig.mono, kBuild);  // rig.wall: unset, a lost RTC
  rig.config.certificate_clock = &dates;
  rig.config.ntp_wait_ms = 0;  // no NTP configured: no wait (ClockScenario tests the wait)
  ASSERT_TRUE(rig.boot().ok());
  rig.agent->step(rig.mono.now);
  AgentStatus s = rig.agent->snapshot();
  EXPECT_EQ(s.clock.source, "build");
  EXPECT_FALSE(s.clock.trusted);
  bool said_build = false;
  for (const auto& [what, detail] : rig.logs) said_build = said_build || detail == "clock=build";
  EXPECT_TRUE(said_build) << "the log says certificate dates use the build time";

  rig.link_up();
  rig.welcome(kT0);
  EXPECT_EQ(dates.reading().source, ClockSource::server);
  EXPECT_EQ(dates.reading().utc_ms, kT0);
  s = rig.agent->snapshot();
  EXPECT_EQ(s.clock.source, "server");
  EXPECT_TRUE(s.clock.trusted);
  std::array<char, 1024> out{};
  JsonWriter w(out);
  write_status_json(w, s);
  Result<size_t> n = w.finish();
  ASSERT_TRUE(n.ok());
  EXPECT_NE(std::string(out.data(), *n).find(R"("clock":{"trusted":true,"source":"server"})"), std::string::npos)
      << std::string(out.data(), *n);
  bool said_server = false;
  for (const auto& [what, detail] : rig.logs) said_server = said_server || detail == "clock=server";
  EXPECT_TRUE(said_server);
}

TEST_F(AgentTest, LicenseRefreshAndAuditNowSendTheirMessages) {
  licensed();
  size_t requests = rig.sent_of("license_request").size();
  rig.server(R"({"type":"request","id":6,"method":"license.refresh","params":{}})");
  EXPECT_EQ(rig.sent_of("license_request").size(), requests + 1);
  rig.server(R"({"type":"request","id":7,"method":"audit.now"})");
  EXPECT_EQ(rig.sent_of("license_audit").size(), 1u);
}

TEST_F(AgentTest, RequestErrorsNameTheProblem) {
  rig.link_up();
  rig.welcome(kT0);
  auto code_for = [&](const std::string& req) {
    rig.server(req);
    auto r = rig.last_sent();
    EXPECT_TRUE(cJSON_IsFalse(r->get("ok"))) << req;
    return std::string(cJSON_GetStringValue(cJSON_GetObjectItem(r->get("error"), "code")));
  };
  EXPECT_EQ(code_for(R"({"type":"request","id":1,"method":"reboot.now"})"), "unknown_method");
  EXPECT_EQ(code_for(R"({"type":"request","id":2,"method":"tunnels.list"})"), "not_allowed")
      << "a method this configuration does not allow";
  EXPECT_EQ(code_for(R"({"type":"request","id":3,"method":"status.get","params":[1]})"), "bad_params");
  EXPECT_EQ(code_for(R"({"type":"request","id":4,"method":"events.get","params":{"after":-1}})"), "bad_params");
  // The first draft's tunnel methods are gone (tunnels use binary frames):
  // a server still calling them is told the method is unknown, by name.
  EXPECT_EQ(code_for(R"({"type":"request","id":5,"method":"tunnel.open","params":{"service":"ssh"}})"),
            "unknown_method");
  EXPECT_EQ(std::string(cJSON_GetStringValue(cJSON_GetObjectItem(rig.last_sent()->get("error"), "message"))),
            "tunnel.open");
  EXPECT_EQ(code_for(R"({"type":"request","id":6,"method":"tunnel.close","params":{"channel":1}})"),
            "unknown_method");
}

TEST_F(AgentTest, GraceAfterLinkLossThenExpiryTurnsFeaturesOff) {
  licensed();
  rig.link_down();
  EXPECT_EQ(rig.agent->state(), LicenseState::grace);
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));
  rig.run_for(601 * kSec);
  EXPECT_TRUE(rig.agent->snapshot().alarm);
  rig.run_for(30LL * 86400 * kSec);
  EXPECT_EQ(rig.agent->state(), LicenseState::expired);
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  EXPECT_EQ(rig.agent->feature_quantity("trunks"), 0u);
  EXPECT_EQ(rig.callbacks.back(), LicenseState::expired);
  rig.link_up();
  rig.welcome(kT0 + 31LL * 86400 * kSec);
  auto kinds = queued_event_kinds();
  EXPECT_TRUE(contains(kinds, "grace_alarm"));
  EXPECT_TRUE(contains(kinds, "grace_expired"));
  EXPECT_EQ(rig.agent->state(), LicenseState::licensed) << "link up with a valid license held ends expired";
}

TEST_F(AgentTest, EveryEventIsLoggedAtItsSeverityWithTheDaysLeft) {
  licensed();
  rig.link_down();
  rig.run_for(601 * kSec);
  rig.run_for(25LL * 86400 * kSec);
  auto logged = [&](LogLevel level, const std::string& detail) {
    for (size_t i = 0; i < rig.logs.size(); ++i) {
      if (rig.logs[i].first == "event" && rig.logs[i].second == detail) return rig.levels[i] == level;
    }
    return false;
  };
  EXPECT_TRUE(logged(LogLevel::notice, "license_applied (info)"));
  EXPECT_TRUE(logged(LogLevel::warning, "grace_alarm (warning, 30 days left)"));
  EXPECT_TRUE(logged(LogLevel::error, "grace_alarm (major, 9 days left)"));
  EXPECT_TRUE(logged(LogLevel::critical, "grace_alarm (critical, 5 days left)"));

}

TEST_F(AgentTest, ReportsItsFootprint) {
  licensed();
  rig.run_for(3600 * kSec);
  RecordProperty("sizeof_agent", static_cast<int>(sizeof(Agent)));
  RecordProperty("event_queue_capacity", static_cast<int>(rig.config.event_capacity));
  std::printf("sizeof(Agent)=%zu bytes (+2 License on the heap at set-up: %zu each)\n", sizeof(Agent), sizeof(License));
  EXPECT_LT(sizeof(Agent), 16384u);
}

TEST_F(AgentTest, WelcomeEndsGraceAndClearsTheAlarm) {
  licensed();
  rig.link_down();
  rig.run_for(700 * kSec);
  ASSERT_TRUE(rig.agent->snapshot().alarm);
  rig.link_up();
  rig.welcome(kT0 + 800 * kSec);
  EXPECT_EQ(rig.agent->state(), LicenseState::licensed);
  EXPECT_FALSE(rig.agent->snapshot().alarm);
  EXPECT_EQ(rig.agent->snapshot().grace_elapsed_s, 0);
}

TEST_F(AgentTest, ARevokeWithoutAnIdTurnsFeaturesOffAndIsNotAnswered) {
  licensed();
  const size_t sent = rig.channel.sent.size();
  rig.server(R"({"type":"license_revoke","serial":"L-1","reason":"fraud"})");
  EXPECT_FALSE(rig.agent->feature_enabled("trunks")) << "a revoke is in force whether or not it can be answered";
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  for (size_t i = sent; i < rig.channel.sent.size(); ++i) {
    EXPECT_NE(Sent(rig.channel.sent[i]).type(), "response") << "nothing to answer to: " << rig.channel.sent[i];
  }
  bool said = false;
  for (const auto& [what, detail] : rig.logs) said = said || what == "license_revoke without id: no answer";
  EXPECT_TRUE(said);
  EXPECT_TRUE(contains(queued_event_kinds(), "license_revoked"));
}

TEST_F(AgentTest, AnAuditAckThatAnswersNoAuditInFlightAcknowledgesNothing) {
  const int64_t id = licensed_and_audited();
  const std::string overuse = R"(,"status":"overuse","over":[{"name":"trunks","by":2}]})";
  rig.server(R"({"type":"audit_ack","re":)" + std::to_string(id + 1000) + overuse);
  EXPECT_FALSE(rig.agent->snapshot().audit_overuse) << "an ack for another audit is not this one's verdict";
  rig.server(R"({"type":"audit_ack","re":)" + std::to_string(id) + R"(,"status":"ok"})");
  rig.server(R"({"type":"audit_ack","re":)" + std::to_string(id) + overuse);
  EXPECT_FALSE(rig.agent->snapshot().audit_overuse) << "a repeated ack, with no audit in flight, changes nothing";
  EXPECT_FALSE(contains(queued_event_kinds(), "audit_overuse"));
  int ignored = 0;
  for (const auto& [what, detail] : rig.logs) ignored += what == "audit_ack for no audit in flight";
  EXPECT_EQ(ignored, 2);
}

TEST_F(AgentTest, ASignedGrantWithAFieldOfTheWrongTypeIsRefusedNamingTheField) {
  rig.link_up();
  rig.welcome(kT0);
  const std::string license = R"({"serial":"L-1","customer_id":"C-42","system_id":"SYS-7","issued":)" +
                              std::to_string(kT0 - 100 * kSec) + R"(,"not_before":)" +
                              std::to_string(kT0 - 100 * kSec) +
                              R"(,"expires":"soon","features":[{"name":"trunks","qty":30}]})";
  rig.server(R"({"type":"license_grant","license":")" + base64url_encode(license) + R"(","sig":")" +
             base64url_encode(rig.signer.sign(license)) + R"(","alg":"ES256","kid":"k1"})");
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  bool named = false;
  for (const auto& [what, detail] : rig.logs) {
    named = named || (what == "license refused" && detail.find("expires") != std::string::npos &&
                      detail.find("string") != std::string::npos);
  }
  EXPECT_TRUE(named) << "the log says which field is wrong and how";
  EXPECT_TRUE(contains(queued_event_kinds(), "license_refused"));
}

TEST_F(AgentTest, NoAuditIsSentOnceTheLicenseIsRevoked) {
  const int64_t id = licensed_and_audited();
  rig.server(R"({"type":"audit_ack","re":)" + std::to_string(id) + R"(,"status":"ok"})");
  rig.server(R"({"type":"license_revoke","id":79,"serial":"L-1","reason":"fraud"})");
  rig.run_for(2 * 3600 * kSec);
  EXPECT_EQ(rig.sent_of("license_audit").size(), 1u) << "nothing to audit against";
  LicenseSpec newer;
  newer.serial = "L-2";
  newer.issued += kSec;
  rig.server(rig.grant_json(newer));
  rig.run_for(kSec);
  ASSERT_EQ(rig.sent_of("license_audit").size(), 2u) << "a new license is audited at once: the last ack is old";
  EXPECT_EQ(rig.sent_of("license_audit").back()->string("serial"), "L-2");
}

}  // namespace
}  // namespace sublink::test
