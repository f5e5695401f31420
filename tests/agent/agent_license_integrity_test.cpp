// Licensing integrity (PROTOCOL.md section 4): a license that cannot be
// stored is still the one in force and reported, "*" revokes whatever is
// held, a held license is renewed before it expires, the first audit goes
// out as soon as a license is held, and a restored usage record with values
// out of range is refused and named instead of overflowing audit arithmetic.
#include <gtest/gtest.h>

#include <limits>

#include "agent/agent_rig.h"
#include "firmware/events/record_codec.h"

namespace sublink::test {
namespace {

std::string events_answer(AgentRig& rig) {
  rig.server(R"({"type":"request","id":900,"method":"events.get"})");
  return rig.channel.sent.back();
}

bool logged(const AgentRig& rig, std::string_view what, std::string_view detail) {
  for (const auto& [w, d] : rig.logs) {
    if (w == what && d == detail) return true;
  }
  return false;
}

void licensed(AgentRig& rig, const LicenseSpec& spec = {}) {
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0);
  rig.server(rig.grant_json(spec));
  ASSERT_TRUE(rig.agent->feature_enabled("trunks"));
}

TEST(AgentLicenseIntegrity, AGrantThatCannotBeStoredIsAppliedAndTheFailureReported) {
  AgentRig rig;
  licensed(rig);
  rig.memory.fail_writes = true;  // storage full or failing from now on
  LicenseSpec next;
  next.serial = "L-2";
  next.issued += kSec;
  next.features = R"([{"name":"trunks","qty":12},{"name":"recording","qty":1}])";
  rig.server(rig.grant_json(next));

  EXPECT_EQ(rig.agent->feature_quantity("trunks"), 12u) << "the grant that verified is in force";
  EXPECT_EQ(rig.agent->snapshot().serial, "L-2") << "status reports the license in force";
  EXPECT_TRUE(logged(rig, "license not stored", "Input/output error"));
  std::string answer = events_answer(rig);
  EXPECT_NE(answer.find(R"("kind":"license_applied","severity":"info","serial":"L-2")"), std::string::npos) << answer;
  EXPECT_NE(answer.find(R"("kind":"storage_failed","severity":"major","detail":5,"record":"license")"), std::string::npos)
      << answer;

  rig.link_down();
  rig.link_up();
  auto hello = rig.sent_of("hello");
  ASSERT_FALSE(hello.empty());
  EXPECT_EQ(hello.back()->string("license_serial"), "L-2") << "hello names the license in force";
}

TEST(AgentLicenseIntegrity, RevokeOfStarRevokesWhateverIsHeldAndNamesIt) {
  AgentRig rig;
  licensed(rig);
  rig.server(R"({"type":"license_revoke","id":51,"serial":"*","reason":"test"})");
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  auto answer = rig.last_sent();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->type(), "response");
  EXPECT_TRUE(cJSON_IsTrue(answer->get("ok"))) << rig.channel.sent.back();
  EXPECT_STREQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer->get("result"), "serial")), "L-1");
  const std::vector<uint8_t>& record = rig.memory.records[RecordId::license];
  ASSERT_GE(record.size(), 3u);
  EXPECT_EQ(std::string(record.begin(), record.begin() + 3), "SLR") << "the record now says revoked";

  rig.server(R"({"type":"license_revoke","id":52,"serial":"*"})");
  answer = rig.last_sent();
  EXPECT_FALSE(cJSON_IsTrue(answer->get("ok")));
  EXPECT_EQ(std::string(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer->get("error"), "code"))),
            "not_held")
      << "nothing held: not_held as for any serial";
}

TEST(AgentLicenseIntegrity, ALicenseNearingItsExpiryIsRenewedBeforeItExpiresWithoutAStorm) {
  AgentRig rig;
  LicenseSpec spec;
  spec.issued = kT0 - 100 * kSec;
  spec.not_before = spec.issued;
  spec.expires = kT0 + 2000 * kSec;  // a lifetime of 2100 s: a quarter is 525 s
  licensed(rig, spec);
  const size_t asked_at_link_up = rig.sent_of("license_request").size();

  rig.run_for(1400 * kSec);  // server time kT0 + 1400 s: 600 s left
  EXPECT_EQ(rig.sent_of("license_request").size(), asked_at_link_up) << "no renewal while much of the life is left";
  rig.run_for(200 * kSec);  // kT0 + 1600 s: 400 s left, under a quarter
  EXPECT_EQ(rig.sent_of("license_request").size(), asked_at_link_up + 1) << "asked once the last quarter began";
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));

  rig.run_for(399 * kSec);  // the server does not answer: asked again, at halving intervals of at least 60 s
  size_t asked = rig.sent_of("license_request").size() - asked_at_link_up;
  // Asked at 1475 s, then after half of the time left (at least 60 s):
  // 1737, 1869, 1934, 1994 s.
  EXPECT_GE(asked, 3u) << "asked again before the expiry";
  EXPECT_LE(asked, 6u) << "never a storm of requests";
  EXPECT_TRUE(rig.agent->feature_enabled("trunks")) << "still within its window";

  // A successor arrives: the next renewal waits for the last quarter of its life.
  LicenseSpec next = spec;
  next.serial = "L-2";
  next.issued = kT0 + 1999 * kSec;
  next.not_before = next.issued;
  next.expires = next.issued + 4000 * kSec;
  rig.server(rig.grant_json(next));
  ASSERT_EQ(rig.agent->snapshot().serial, "L-2");
  const size_t before = rig.sent_of("license_request").size();
  rig.run_for(2900 * kSec);
  EXPECT_EQ(rig.sent_of("license_request").size(), before) << "three quarters of the successor's life are left";
  rig.run_for(200 * kSec);
  EXPECT_EQ(rig.sent_of("license_request").size(), before + 1);
}

TEST(AgentLicenseIntegrity, ALicenseAlreadyInItsLastQuarterIsNotAskedForTwiceAtLinkUp) {
  AgentRig rig;
  LicenseSpec spec;
  spec.issued = kT0 - 3000 * kSec;
  spec.not_before = spec.issued;
  spec.expires = kT0 + 500 * kSec;  // the last quarter began 375 s ago
  licensed(rig, spec);
  EXPECT_EQ(rig.sent_of("license_request").size(), 1u) << "the request behind hello is out";
  rig.run_for(59 * kSec);
  EXPECT_EQ(rig.sent_of("license_request").size(), 1u) << "it counts as the first ask";
  rig.run_for(2 * kSec);
  EXPECT_EQ(rig.sent_of("license_request").size(), 2u);
}

TEST(AgentLicenseIntegrity, TheFirstAuditGoesOutWhenTheLicenseArrivesJustAfterWelcome) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0, 10, 3600);  // no license held yet: nothing to audit
  rig.run_for(2 * kSec);
  EXPECT_TRUE(rig.sent_of("license_audit").empty());
  rig.server(rig.grant_json(LicenseSpec{}));
  rig.run_for(1 * kSec);
  auto audits = rig.sent_of("license_audit");
  ASSERT_EQ(audits.size(), 1u) << "the first audit does not wait a full audit_s";
  EXPECT_EQ(audits[0]->string("serial"), "L-1");
  rig.server(R"({"type":"audit_ack","re":)" + std::to_string(audits[0]->integer("id")) + R"(,"status":"ok"})");
  rig.run_for(3500 * kSec);
  EXPECT_EQ(rig.sent_of("license_audit").size(), 1u) << "then every audit_s";
  rig.run_for(200 * kSec);
  EXPECT_EQ(rig.sent_of("license_audit").size(), 2u);
}

// A usage record framed and checksummed correctly, with the given values.
std::vector<uint8_t> usage_record(std::optional<Millis> from, std::optional<Millis> last_ack, int64_t peak) {
  std::vector<uint8_t> out(kMaxUsageRecordBytes);
  RecordWriter w(out, {'S', 'L', 'U', 'S'}, 1);
  w.u8(from ? 1 : 0);
  w.i64(from.value_or(0));
  w.u8(last_ack ? 1 : 0);
  w.i64(last_ack.value_or(0));
  w.u8(1);
  w.u8(6);
  w.bytes({reinterpret_cast<const uint8_t*>("trunks"), 6});
  w.i64(peak);
  Result<size_t> size = w.finish();
  out.resize(size.ok() ? *size : 0);
  return out;
}

TEST(AgentLicenseIntegrity, AnOutOfRangeUsageRecordIsRefusedAndNamedAndAuditArithmeticNeverOverflows) {
  struct Case {
    std::optional<Millis> from, last_ack;
    int64_t peak;
    const char* field;
  };
  constexpr Millis kMin = std::numeric_limits<Millis>::min();
  constexpr Millis kMax = std::numeric_limits<Millis>::max();
  const Case cases[] = {
      {kMin, kMin, 3, "from"},
      {kT0, kMin, 3, "last_ack"},
      {kT0, kMax - 1, 3, "last_ack"},
      {kT0 - 1, kT0, 3, "from"},  // a period cannot start before the last acknowledged one ended
      {kT0, kT0, kMax, "peak"},
      {kT0, kT0, int64_t{UINT32_MAX} + 1, "peak"},
  };
  for (const Case& c : cases) {
    AgentRig rig;
    rig.memory.records[RecordId::usage] = usage_record(c.from, c.last_ack, c.peak);
    ASSERT_TRUE(rig.boot().ok());
    EXPECT_TRUE(logged(rig, "usage record damaged, refused", c.field)) << c.field;
    rig.link_up();
    rig.welcome(kT0);
    rig.server(rig.grant_json(LicenseSpec{}));
    rig.run_for(kSec);
    std::string answer = events_answer(rig);
    EXPECT_NE(answer.find(R"("kind":"record_damaged","severity":"major","fault":"bad_value","record":"usage")"), std::string::npos)
        << c.field << ": " << answer;
    auto audits = rig.sent_of("license_audit");
    ASSERT_EQ(audits.size(), 1u) << c.field << ": the period starts again, so an audit is due";
    const cJSON* usage = audits[0]->get("usage");
    EXPECT_EQ(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(usage, 0), "peak")), 0)
        << c.field;
  }
}

TEST(AgentLicenseIntegrity, AnInRangeUsageRecordIsKept) {
  AgentRig rig;
  rig.memory.records[RecordId::usage] = usage_record(kT0 - 10 * kSec, kT0 - 10 * kSec, UINT32_MAX);
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0);
  rig.server(rig.grant_json(LicenseSpec{}));
  rig.run_for(kSec);
  EXPECT_TRUE(rig.sent_of("license_audit").empty()) << "the last acknowledged audit is recent";
  EXPECT_EQ(events_answer(rig).find("record_damaged"), std::string::npos);
}

TEST(AgentLicenseIntegrity, UsageReportsAboveTheQuantityRangeAreRefused) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_TRUE(rig.agent->report_usage("trunks", UINT32_MAX).ok());
  EXPECT_EQ(rig.agent->report_usage("trunks", int64_t{UINT32_MAX} + 1).reason(), Reason::invalid_argument);
  EXPECT_EQ(rig.agent->report_usage("trunks", std::numeric_limits<int64_t>::max()).reason(),
            Reason::invalid_argument);
}

TEST(AgentLicenseIntegrity, AGrantAnsweringTheRequestAlreadyInItsLastQuarterIsFollowedByAskingForItsSuccessor) {
  AgentRig rig;
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0);
  LicenseSpec spec;
  spec.issued = kT0 - 3000 * kSec;
  spec.not_before = spec.issued;
  spec.expires = kT0 + 500 * kSec;  // the last quarter began 375 s ago
  const int64_t request = rig.sent_of("license_request").back()->integer("id");
  rig.server(rig.grant_json(spec, std::to_string(request)));
  ASSERT_TRUE(rig.agent->feature_enabled("trunks"));
  rig.run_for(kSec);
  EXPECT_EQ(rig.sent_of("license_request").size(), 2u) << "nothing else is out that could bring the successor";
  rig.run_for(200 * kSec);
  EXPECT_EQ(rig.sent_of("license_request").size(), 2u) << "then after half of the time left, not sooner";
  rig.run_for(60 * kSec);
  EXPECT_EQ(rig.sent_of("license_request").size(), 3u);
}

// A revoke written before revoked licenses were kept left an empty license
// record: that is no license, not damage.
TEST(AgentLicenseIntegrity, AnEmptyLicenseRecordIsNoLicenseAndNoDamage) {
  AgentRig rig;
  rig.memory.records[RecordId::license] = {};
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
  EXPECT_EQ(rig.agent->snapshot().damaged_count, 0u);
  rig.link_up();
  rig.welcome(kT0);
  std::string answer = events_answer(rig);
  EXPECT_EQ(answer.find("license_refused"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("record_damaged"), std::string::npos) << answer;
  rig.server(rig.grant_json(LicenseSpec{}));
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));
}

TEST(AgentLicenseIntegrity, ALicenseThatExpiresWhileTheLinkIsUpGoesOutOfForceAndIsAskedForAtOnce) {
  AgentRig rig;
  rig.config.license_retry_min_ms = 30 * kSec;  // the backoff's own request comes later
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0, /*heartbeat_s=*/7);
  LicenseSpec spec;
  spec.expires = kT0 + 100 * kSec;  // renewal is due from kT0 + 50 s, then from kT0 + 110 s
  rig.server(rig.grant_json(spec, std::to_string(rig.sent_of("license_request").back()->integer("id"))));
  ASSERT_TRUE(rig.agent->feature_enabled("trunks"));
  rig.run_for(60 * kSec);
  ASSERT_EQ(rig.sent_of("license_request").size(), 2u) << "the renewal";
  rig.server(R"({"type":"license_denied","re":)" + std::to_string(rig.sent_of("license_request").back()->integer("id")) +
             R"(,"code":"no_subscription","message":"none"})");
  rig.run_for(46 * kSec);  // the heartbeat ack at kT0 + 105 s carries a time past expires
  EXPECT_FALSE(rig.agent->feature_enabled("trunks")) << "the server's clock says the license ended";
  EXPECT_EQ(rig.sent_of("license_request").size(), 3u) << "asked for a license as it went out of force";
  std::string answer = events_answer(rig);
  EXPECT_NE(answer.find(R"("kind":"license_refused","severity":"major","reason":"expired")"), std::string::npos)
      << answer;
}

TEST(AgentLicenseIntegrity, AfterARebootTheNextAuditComesOneAuditIntervalAfterTheLastAcknowledgedOne) {
  AgentRig rig;
  rig.memory.records[RecordId::usage] = usage_record(kT0 - 600 * kSec, kT0 - 600 * kSec, 4);
  ASSERT_TRUE(rig.boot().ok());
  rig.link_up();
  rig.welcome(kT0, 10, 3600);
  rig.server(rig.grant_json(LicenseSpec{}));
  rig.run_for(2999 * kSec);
  EXPECT_TRUE(rig.sent_of("license_audit").empty()) << "the acknowledged period is not audited again early";
  rig.run_for(2 * kSec);
  auto audits = rig.sent_of("license_audit");
  ASSERT_EQ(audits.size(), 1u) << "nor a full audit_s late";
  EXPECT_EQ(audits[0]->integer("from"), kT0 - 600 * kSec) << "the period starts where the acknowledged one ended";
}

// A stored license verifies but its terms do not parse (written by a build
// that read them otherwise): refused at boot, the log naming the field.
TEST(AgentLicenseIntegrity, AStoredLicenseWhoseTermsDoNotParseIsRefusedAtBootNamingTheField) {
  AgentRig rig;
  const std::string terms = R"({"serial":"L-1","customer_id":"C-42","system_id":"SYS-7","issued":)" +
                            std::to_string(kT0 - 100 * kSec) + R"(,"not_before":)" +
                            std::to_string(kT0 - 100 * kSec) +
                            R"(,"expires":"soon","features":[{"name":"trunks","qty":30}]})";
  SignedLicense stored;
  std::copy(terms.begin(), terms.end(), stored.bytes.begin());
  stored.size = terms.size();
  stored.signature = rig.signer.sign(terms);
  std::vector<uint8_t> record(kMaxLicenseRecordBytes);
  Result<size_t> size = write_license_record(stored, record);
  ASSERT_TRUE(size.ok());
  record.resize(*size);
  rig.memory.records[RecordId::license] = record;
  ASSERT_TRUE(rig.boot().ok());
  EXPECT_FALSE(rig.agent->feature_enabled("trunks"));
  bool named = false;
  for (const auto& [what, detail] : rig.logs) {
    named = named || (what == "stored license refused" && detail.find("expires") != std::string::npos);
  }
  EXPECT_TRUE(named);
  rig.link_up();
  rig.welcome(kT0);
  EXPECT_NE(events_answer(rig).find(R"("kind":"license_refused")"), std::string::npos);
}

}  // namespace
}  // namespace sublink::test
