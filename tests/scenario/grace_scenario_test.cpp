// PROTOCOL.md section 5, grace and alarms, over real 30-day periods in
// virtual time: the state, the features, the alarm schedule with its
// severities day by day, expiry, reconnection, reboots and power loss.
#include <gtest/gtest.h>

#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

constexpr int64_t kDayS = 86400;

// The severity PROTOCOL.md gives the alarm raised `k` whole days after the
// first one (which comes 600 s into grace): warning below half of the 30
// days, minor from day 15, major from day 20, critical from day 25.
Severity expected_severity(int k) {
  if (k >= 25) return Severity::critical;
  if (k >= 20) return Severity::major;
  if (k >= 15) return Severity::minor;
  return Severity::warning;
}

TEST(GraceScenario, ThirtyDaysOfGraceDayByDayThenExpired) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  int days_checked = 0;
  const bool ran = sim_grace_to_expiry(world, [&](SimWorld& w, int day) {
    SCOPED_TRACE("day " + std::to_string(day));
    const AgentStatus s = w.device().status();
    const std::vector<Event> alarms = stored_of(w, EventKind::grace_alarm);
    if (day < 30) {
      EXPECT_EQ(s.state, LicenseState::grace);
      EXPECT_TRUE(w.device().agent()->feature_enabled("trunks")) << "features stay on in grace";
      EXPECT_EQ(w.device().agent()->feature_quantity("trunks"), 30u);
      EXPECT_EQ(s.grace_elapsed_s, day * kDayS) << "grace counts elapsed time to the second";
      EXPECT_EQ(s.grace_remaining_s, (30 - day) * kDayS);
      // Alarms came at 600 s and then every 86400 s: one per day so far.
      EXPECT_EQ(alarms.size(), static_cast<size_t>(day));
      EXPECT_TRUE(stored_of(w, EventKind::grace_expired).empty());
    } else {
      EXPECT_EQ(s.state, LicenseState::expired);
      EXPECT_FALSE(w.device().agent()->feature_enabled("trunks")) << "every feature is off once expired";
      EXPECT_FALSE(w.device().agent()->feature_enabled("recording"));
      EXPECT_EQ(s.grace_elapsed_s, 30 * kDayS);
      EXPECT_EQ(s.grace_remaining_s, 0);
      EXPECT_EQ(alarms.size(), 30u);
      ASSERT_EQ(stored_of(w, EventKind::grace_expired).size(), 1u);
      EXPECT_EQ(stored_of(w, EventKind::grace_expired)[0].severity, Severity::critical);
    }
    // The grace alarm is active in grace past its delay only; once expired,
    // the state (and the critical grace_expired) says it.
    EXPECT_EQ(s.alarm, s.state == LicenseState::grace);
    EXPECT_FALSE(s.link_up);
    for (size_t k = 0; k < alarms.size(); ++k) {
      EXPECT_EQ(alarms[k].severity, expected_severity(static_cast<int>(k))) << "alarm " << k;
      EXPECT_EQ(alarms[k].payload.days_left, 30 - static_cast<int>(k)) << "alarm " << k;
    }
    ++days_checked;
  });
  ASSERT_TRUE(ran) << timeline_text(world);
  EXPECT_EQ(days_checked, 31);
  const std::vector<Event> started = stored_of(world, EventKind::grace_started);
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].payload.days_left, 30);

  // Back online with a license still valid: licensed again, the whole
  // story delivered to the server once, in order.
  ASSERT_TRUE(world.server().start().ok());
  ASSERT_TRUE(sim_until_licensed(world, 10 * 60 * kSecondMs)) << timeline_text(world);
  EXPECT_TRUE(world.device().agent()->feature_enabled("trunks"));
  ASSERT_TRUE(sim_until_events_delivered(world));
  EXPECT_TRUE(delivered_exactly_once(world));
  const std::vector<std::string> kinds = server_kinds(world);
  ASSERT_GE(kinds.size(), 34u);
  EXPECT_EQ(kinds[0], "license_applied");
  EXPECT_EQ(kinds[1], "grace_started");
  EXPECT_EQ(server_count(world, "grace_alarm"), 30u);
  EXPECT_EQ(kinds[32], "grace_expired");
  EXPECT_EQ(server_count(world, "grace_cleared"), 1u);
  EXPECT_FALSE(world.device().status().alarm);
}

TEST(GraceScenario, ReconnectOnDay29ClearsTheAlarmAndResetsGrace) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  Millis last_elapsed = -1;
  const SimScenario* scenario = find_sim_scenario("reconnect-day-29");
  ASSERT_NE(scenario, nullptr);
  ASSERT_TRUE(scenario->run(world, [&](SimWorld& w, int day) {
    const AgentStatus s = w.device().status();
    EXPECT_EQ(s.state, LicenseState::grace) << "day " << day;
    EXPECT_GT(s.grace_elapsed_s, last_elapsed) << "day " << day;
    last_elapsed = s.grace_elapsed_s;
  })) << timeline_text(world);
  const AgentStatus s = world.device().status();
  EXPECT_EQ(s.state, LicenseState::licensed);
  EXPECT_FALSE(s.alarm) << "a welcome clears the alarm";
  EXPECT_EQ(s.grace_elapsed_s, 0) << "and resets the grace period";
  EXPECT_EQ(s.grace_remaining_s, 30 * kDayS);
  EXPECT_TRUE(delivered_exactly_once(world));
  EXPECT_EQ(server_count(world, "grace_alarm"), 29u);
  EXPECT_EQ(server_count(world, "grace_cleared"), 1u);
  EXPECT_EQ(server_count(world, "grace_expired"), 0u);
  // The events went out after the welcome, and no event went twice.
  EXPECT_EQ(world.server().event_deliveries().size(), server_events(world).size());

  // The next interruption starts a fresh 30 days.
  world.server().stop();
  world.run_for(kDayMs);
  EXPECT_EQ(world.device().status().grace_elapsed_s, kDayS - 1) << timeline_text(world);
  EXPECT_EQ(stored_of(world, EventKind::grace_alarm).front().payload.days_left, 30);
}

TEST(GraceScenario, ShortOutageRaisesNoAlarm) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.server().restart(5 * 60 * kSecondMs);  // back after 5 minutes: under grace_alarm_delay_s
  world.run_for(kSecondMs);
  EXPECT_EQ(world.device().status().state, LicenseState::grace);
  EXPECT_TRUE(world.device().agent()->feature_enabled("trunks"));
  ASSERT_TRUE(sim_until_licensed(world, 15 * 60 * kSecondMs)) << timeline_text(world);
  ASSERT_TRUE(sim_until_events_delivered(world));
  EXPECT_EQ(server_count(world, "grace_started"), 1u);
  EXPECT_EQ(server_count(world, "grace_cleared"), 1u);
  EXPECT_EQ(server_count(world, "grace_alarm"), 0u) << timeline_text(world);
}

TEST(GraceScenario, AlarmComesAfterTheConfiguredDelayAndInterval) {
  SimWorldSetup setup = scenario_setup();
  setup.device_config.grace_alarm_delay = 120 * kSecondMs;
  setup.device_config.grace_alarm_interval = 6 * kHourMs;
  SimWorld world(setup);
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.server().stop();
  ASSERT_TRUE(world.run_until([&] { return world.device().status().state == LicenseState::grace; }, 10'000, 1));
  const Millis down = world.now();
  world.run_for(120 * kSecondMs - 1);
  EXPECT_TRUE(stored_of(world, EventKind::grace_alarm).empty());
  EXPECT_FALSE(world.device().status().alarm);
  world.run_for(1);
  EXPECT_EQ(stored_of(world, EventKind::grace_alarm).size(), 1u) << "raised at exactly grace_alarm_delay_s";
  EXPECT_TRUE(world.device().status().alarm);
  world.run_until(down + 120 * kSecondMs + 24 * kHourMs);
  EXPECT_EQ(stored_of(world, EventKind::grace_alarm).size(), 5u) << "then every grace_alarm_interval_s";
}

TEST(GraceScenario, RebootMidGraceGoesOnWhereItWas) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  const SimScenario* scenario = find_sim_scenario("reboot-mid-grace");
  ASSERT_NE(scenario, nullptr);
  int64_t before_reboot = 0;
  ASSERT_TRUE(scenario->run(world, [&](SimWorld& w, int day) {
    const AgentStatus s = w.device().status();
    EXPECT_EQ(s.state, LicenseState::grace) << "day " << day;
    EXPECT_TRUE(w.device().agent()->feature_enabled("trunks")) << "day " << day;
    if (day == 10) before_reboot = s.grace_elapsed_s;
    if (day == 11) {
      // The orderly shutdown stored the grace account and the reboot took no
      // time: grace went on to the second (the script ran 10 s after the
      // reboot before counting days again).
      EXPECT_EQ(s.grace_elapsed_s, before_reboot + 10 + kDayS) << timeline_text(w);
      EXPECT_EQ(s.boot, 2u);
    }
    if (day == 16) {
      const std::vector<Event> alarms = stored_of(w, EventKind::grace_alarm);
      ASSERT_FALSE(alarms.empty());
      EXPECT_EQ(alarms.back().severity, Severity::minor) << "the schedule continues after the reboot";
    }
  })) << timeline_text(world);
  EXPECT_EQ(world.device().status().state, LicenseState::licensed);
  EXPECT_TRUE(delivered_exactly_once(world));
  EXPECT_EQ(server_count(world, "grace_alarm"), 20u) << "one alarm per day of grace, across the reboot";
}

TEST(GraceScenario, PowerLossIsChargedOneGraceCheckpointAndLosesNothing) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.server().stop();
  world.run_for(5 * kDayMs + 40 * 60 * kSecondMs);  // 40 minutes past an hourly checkpoint
  const int64_t before = world.device().status().grace_elapsed_s;
  world.device().power_off();
  ASSERT_TRUE(world.device().boot().ok());  // at once: no powered-off time to count
  const int64_t after = world.device().status().grace_elapsed_s;
  // In grace the record is at most grace_checkpoint_s (60 s) old, and the
  // unclean start is charged those 60 s: nothing is lost, at most 60 s more.
  EXPECT_GE(after, before);
  EXPECT_LE(after, before + 60);
  EXPECT_EQ(world.device().status().state, LicenseState::grace);
}

TEST(GraceScenario, ExpiryIsStoredAtOnceNotAtTheNextCheckpoint) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.server().stop();
  ASSERT_TRUE(world.run_until([&] { return world.device().status().state == LicenseState::grace; }, 10'000, 1));
  world.run_for(30 * kDayMs + 60 * kSecondMs);  // a minute into `expired`
  ASSERT_EQ(world.device().status().state, LicenseState::expired);
  world.device().power_off();
  ASSERT_TRUE(world.device().boot().ok());
  // The state change was checkpointed when it happened: the device does not
  // come back in grace with features on until the next hourly checkpoint.
  EXPECT_EQ(world.device().status().state, LicenseState::expired) << timeline_text(world);
  EXPECT_FALSE(world.device().agent()->feature_enabled("trunks"));
}

TEST(GraceScenario, ExpiredDeviceWithAnExpiredLicenseStaysOffUntilANewGrant) {
  SimWorldSetup setup = scenario_setup();
  setup.server_settings.license_lifetime_ms = 20 * kDayMs;  // ends inside the grace period
  SimWorld world(setup);
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_grace_to_expiry(world, nullptr)) << timeline_text(world);
  // The server is back but suspends the subscription: the link comes up,
  // the stored license is past its `expires`, no new one is granted.
  world.server().directory().system("SYS-0001")->suspended = true;
  ASSERT_TRUE(world.server().start().ok());
  ASSERT_TRUE(world.run_until([&] { return world.device().status().link_up; }, 10 * 60 * kSecondMs, 100));
  world.run_for(10 * kSecondMs);
  EXPECT_NE(world.device().status().state, LicenseState::licensed) << timeline_text(world);
  EXPECT_FALSE(world.device().agent()->feature_enabled("trunks")) << "link up is not enough: a valid license is";
  world.server().directory().system("SYS-0001")->suspended = false;
  ASSERT_TRUE(world.server().push_grant());
  ASSERT_TRUE(sim_until_licensed(world)) << timeline_text(world);
  EXPECT_TRUE(world.device().agent()->feature_enabled("trunks"));
}

}  // namespace
}  // namespace sublink::test
