// The agent asks for a license again after it refused a grant, while it
// holds no valid license, with a bounded backoff (AgentConfig's
// license_retry_min_ms / license_retry_max_ms): one bad grant must not leave
// a device unlicensed until its link breaks, and a server that keeps sending
// bad grants must not be flooded.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "agent/agent_rig.h"
#include "firmware/agent/device_settings.h"

namespace sublink::test {
namespace {

constexpr Millis kRetryMin = 5 * kSec;
constexpr Millis kRetryMax = 40 * kSec;

class AgentLicenseRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rig.config.license_retry_min_ms = kRetryMin;
    rig.config.license_retry_max_ms = kRetryMax;
    ASSERT_TRUE(rig.boot().ok());
  }

  size_t requests() const { return rig.sent_of("license_request").size(); }
  int64_t last_request_id() const { return rig.sent_of("license_request").back()->integer("id"); }

  /// A grant for the default license whose signature does not verify,
  /// answering request `re` (0: unsolicited).
  std::string forged_grant(int64_t re) {
    std::string grant = rig.grant_json(LicenseSpec{}, re == 0 ? "" : std::to_string(re));
    grant[grant.find("\"sig\":\"") + 8] ^= 1;  // flip a bit of the signature text
    return grant;
  }

  /// Runs `total` in one-second steps, answering every new license_request
  /// with a forged grant; returns the monotonic times of those requests.
  std::vector<Millis> refuse_every_request_for(Millis total) {
    std::vector<Millis> at;
    size_t seen = requests();
    for (Millis t = 0; t < total; t += kSec) {
      rig.run_for(kSec);
      if (requests() == seen) continue;
      EXPECT_EQ(requests(), seen + 1) << "two requests within one second";
      seen = requests();
      at.push_back(rig.mono.now);
      rig.server(forged_grant(last_request_id()));
    }
    return at;
  }

  AgentRig rig;
};

TEST_F(AgentLicenseRetryTest, RefusedGrantIsFollowedByAnotherRequestAfterTheBackoff) {
  rig.link_up();
  rig.welcome(kT0);
  ASSERT_EQ(requests(), 1u);
  rig.server(forged_grant(last_request_id()));
  ASSERT_EQ(rig.agent->state(), LicenseState::unlicensed);

  rig.run_for(kRetryMin - 1);
  EXPECT_EQ(requests(), 1u) << "asked again before the backoff passed";
  rig.run_for(1);
  ASSERT_EQ(requests(), 2u);

  LicenseSpec good;
  good.issued += 2 * kSec;
  rig.server(rig.grant_json(good, std::to_string(last_request_id())));
  EXPECT_EQ(rig.agent->state(), LicenseState::licensed);
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));

  rig.run_for(10 * kRetryMax);
  EXPECT_EQ(requests(), 2u) << "a licensed device kept asking";
}

TEST_F(AgentLicenseRetryTest, RepeatedRefusalsBackOffDoublingUpToTheMaximum) {
  rig.link_up();
  rig.welcome(kT0);
  Millis first = rig.mono.now;
  rig.server(forged_grant(last_request_id()));
  std::vector<Millis> at = refuse_every_request_for(300 * kSec);

  std::vector<Millis> intervals;
  Millis previous = first;
  for (Millis t : at) {
    intervals.push_back(t - previous);
    previous = t;
  }
  // 5 + 10 + 20 + 40 s, then every 40 s: 4 + 5 requests in 300 s.
  std::vector<Millis> expected = {5 * kSec, 10 * kSec, 20 * kSec};
  while (expected.size() < 9) expected.push_back(kRetryMax);
  EXPECT_EQ(intervals, expected);
  EXPECT_EQ(rig.agent->state(), LicenseState::unlicensed);
}

TEST_F(AgentLicenseRetryTest, NewLinkStartsTheBackoffAgain) {
  rig.link_up();
  rig.welcome(kT0);
  rig.server(forged_grant(last_request_id()));
  (void)refuse_every_request_for(100 * kSec);  // backoff at its maximum by now

  rig.link_down();
  rig.link_up();
  rig.welcome(kT0 + 100 * kSec);
  size_t on_link = requests();
  rig.server(forged_grant(last_request_id()));
  rig.run_for(kRetryMin);
  EXPECT_EQ(requests(), on_link + 1) << "the backoff did not restart at its minimum";
}

TEST_F(AgentLicenseRetryTest, ARetryDoesNotOutliveItsLink) {
  rig.link_up();
  rig.welcome(kT0);
  rig.server(forged_grant(last_request_id()));
  rig.link_down();
  rig.link_up();  // asks at once; its answer is awaited
  rig.welcome(kT0);
  ASSERT_EQ(requests(), 2u);
  rig.run_for(10 * kRetryMax);
  EXPECT_EQ(requests(), 2u) << "the lost link's retry fired on the new one";
}

TEST_F(AgentLicenseRetryTest, BadUnsolicitedGrantWhileLicensedSendsNoRequest) {
  rig.link_up();
  rig.welcome(kT0);
  rig.server(rig.grant_json(LicenseSpec{}, std::to_string(last_request_id())));
  ASSERT_EQ(rig.agent->state(), LicenseState::licensed);

  rig.server(forged_grant(0));
  rig.server(rig.grant_json(LicenseSpec{}));  // a replay of the held license
  rig.run_for(10 * kRetryMax);
  EXPECT_EQ(requests(), 1u);
  EXPECT_EQ(rig.agent->snapshot().serial, "L-1");
  EXPECT_TRUE(rig.agent->feature_enabled("trunks"));
}

TEST_F(AgentLicenseRetryTest, BadUnsolicitedGrantWhileTheRequestIsOutWaitsForItsAnswer) {
  rig.link_up();
  rig.welcome(kT0);
  int64_t pending = last_request_id();
  rig.server(forged_grant(0));
  rig.run_for(4 * kRetryMin);
  EXPECT_EQ(requests(), 1u) << "asked again while the first request awaited its answer";

  // The answer comes and is refused too: now the agent asks again.
  rig.server(forged_grant(pending));
  rig.run_for(kRetryMin);
  EXPECT_EQ(requests(), 2u);
}

TEST_F(AgentLicenseRetryTest, LicenseDeniedIsNotRetried) {
  rig.link_up();
  rig.welcome(kT0);
  rig.server(R"({"type":"license_denied","re":)" + std::to_string(last_request_id()) +
             R"(,"code":"no_subscription","message":"none"})");
  rig.run_for(10 * kRetryMax);
  EXPECT_EQ(requests(), 1u);
}

TEST(AgentLicenseRetrySettings, BackoffComesFromTheConfiguredRetryBounds) {
  DeviceConfig config;
  config.retry_min = 7 * kSec;
  config.retry_max = 90 * kSec;
  auto settings = std::make_unique<DeviceSettings>();
  derive_device_settings(config, *settings);
  EXPECT_EQ(settings->agent.license_retry_min_ms, 7 * kSec);
  EXPECT_EQ(settings->agent.license_retry_max_ms, 90 * kSec);
}

TEST(AgentViolationRetrySettings, TheWaitAfterClosingFor1002Or1007IsViolationRetryS) {
  DeviceConfig config;
  EXPECT_EQ(config.violation_retry, 60 * kSec) << "PROTOCOL.md 1.5 default";
  config.violation_retry = 90 * kSec;
  auto settings = std::make_unique<DeviceSettings>();
  derive_device_settings(config, *settings);
  EXPECT_EQ(settings->agent.violation_retry_ms, 90 * kSec);
}

TEST_F(AgentLicenseRetryTest, AnotherBadGrantWhileARetryIsScheduledDoesNotPostponeIt) {
  rig.link_up();
  rig.welcome(kT0);
  rig.server(forged_grant(last_request_id()));  // the retry is due kRetryMin from now
  rig.run_for(kRetryMin - 2 * kSec);
  rig.server(forged_grant(0));  // unsolicited, refused too
  rig.run_for(2 * kSec);
  EXPECT_EQ(requests(), 2u) << "the retry kept its time: a stream of bad grants cannot hold it off";
}

}  // namespace
}  // namespace sublink::test
