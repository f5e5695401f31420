// PROTOCOL.md section 5, grace time against clocks: time powered off counts
// once a trusted clock shows it, a wall clock set back adds nothing and is
// recorded, one set forward skips nothing, a small difference is skew, and
// a lost RTC is unknown (the state holds until a trusted source answers).
#include <gtest/gtest.h>

#include <cstdlib>

#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

constexpr int64_t kDayS = 86400;

TEST(ClockScenario, PoweredOffTenDaysCountsOnceNtpShowsIt) {
  SimWorldSetup setup = scenario_setup();
  const SimScenario* scenario = find_sim_scenario("powered-off-10-days");
  ASSERT_NE(scenario, nullptr);
  scenario->configure(setup);
  SimWorld world(setup);
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(scenario->run(world, [&](SimWorld& w, int day) {
    SCOPED_TRACE("day " + std::to_string(day));
    const AgentStatus s = w.device().status();
    if (day > 8 && day < 18) {
      EXPECT_FALSE(w.device().on());
      return;
    }
    EXPECT_EQ(s.state, LicenseState::grace);
    if (day == 18) {
      // Just booted, NTP not answered yet: the state holds at the last
      // checkpoint before the power went (in grace at most
      // grace_checkpoint_s old) plus the 60 s charged for the unclean stop.
      EXPECT_LE(s.grace_elapsed_s, 8 * kDayS + 60);
      EXPECT_GE(s.grace_elapsed_s, 8 * kDayS - 1);
      return;
    }
    // Off from day 8 to day 18, booted with a good RTC, NTP 5 s later: the
    // ten days off count as grace, and so does the time since the last
    // checkpoint (to within the server latency by which the checkpoint's
    // UTC trailed the truth).
    EXPECT_NEAR(static_cast<double>(s.grace_elapsed_s), static_cast<double>(day * kDayS), 1.0);
    if (day >= 19) {
      const std::vector<Event> alarms = stored_of(w, EventKind::grace_alarm);
      ASSERT_FALSE(alarms.empty());
      // The latest alarm came 600 s into this day of grace.
      EXPECT_EQ(alarms.back().severity, Severity::minor) << "severity follows the counted time";
      EXPECT_EQ(alarms.back().payload.days_left, 31 - day);
    }
  })) << timeline_text(world);
  EXPECT_TRUE(delivered_exactly_once(world));
}

TEST(ClockScenario, PoweredOffWithoutATrustedClockHoldsUntilTheServerAnswers) {
  SimWorld world(scenario_setup());  // no NTP: the RTC is right but nothing vouches for it
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.server().stop();
  world.run_for(3 * kDayMs);
  world.device().power_off(10 * kDayMs);
  world.run_for(10 * kDayMs + kHourMs);
  ASSERT_TRUE(world.device().on());
  const AgentStatus held = world.device().status();
  EXPECT_EQ(held.state, LicenseState::grace);
  EXPECT_NEAR(static_cast<double>(held.grace_elapsed_s), 3.0 * kDayS + 3600, 3600.0)
      << "only time the device saw running counts until a trusted clock shows the rest";
  // The server's time is trusted: the ten days count at once, so the
  // grace_cleared at this welcome carries 30 - 13 days left.
  ASSERT_TRUE(world.server().start().ok());
  ASSERT_TRUE(sim_until_licensed(world, 10 * 60 * kSecondMs)) << timeline_text(world);
  ASSERT_TRUE(sim_until_events_delivered(world));
  bool found = false;
  for (const DeviceEvent& e : server_events(world)) {
    if (e.kind != "grace_cleared") continue;
    found = true;
    EXPECT_NE(e.json.find("\"days_left\":17"), std::string::npos) << e.json;
  }
  EXPECT_TRUE(found);
  EXPECT_TRUE(delivered_exactly_once(world));
}

TEST(ClockScenario, WallClockSetBackTwoDaysIsRecordedAndAddsNothing) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  const SimScenario* scenario = find_sim_scenario("clock-back-2-days");
  ASSERT_NE(scenario, nullptr);
  int64_t previous = 0;
  ASSERT_TRUE(scenario->run(world, [&](SimWorld& w, int day) {
    SCOPED_TRACE("day " + std::to_string(day));
    const AgentStatus s = w.device().status();
    EXPECT_GT(s.grace_elapsed_s, previous) << "grace time never goes back";
    if (day <= 5) {
      EXPECT_EQ(s.grace_elapsed_s, day * kDayS) << "nor is it cut by the clock";
    }
    previous = s.grace_elapsed_s;
    if (day == 4) {
      const std::vector<Event> rollback = stored_of(w, EventKind::clock_rollback);
      ASSERT_EQ(rollback.size(), 1u) << timeline_text(w);
      EXPECT_EQ(rollback[0].severity, Severity::major);
      EXPECT_NEAR(static_cast<double>(rollback[0].payload.detail), -2.0 * kDayS, 2.0);
    }
  })) << timeline_text(world);
  EXPECT_GE(server_count(world, "clock_rollback"), 1u);
  EXPECT_EQ(server_count(world, "clock_skew"), 0u);
  EXPECT_TRUE(delivered_exactly_once(world));
}

TEST(ClockScenario, WallClockSetForwardSkipsNoGrace) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.server().stop();
  world.run_for(2 * kDayMs);
  world.device().jump_clock(20 * kDayMs);
  world.run_for(kDayMs);
  const AgentStatus s = world.device().status();
  EXPECT_EQ(s.state, LicenseState::grace);
  EXPECT_NEAR(static_cast<double>(s.grace_elapsed_s), 3.0 * kDayS, 1.0) << "not 23 days";
  const std::vector<Event> jumps = stored_of(world, EventKind::clock_jump);
  ASSERT_EQ(jumps.size(), 1u) << timeline_text(world);
  EXPECT_NEAR(static_cast<double>(jumps[0].payload.detail), 20.0 * kDayS, 2.0);
  // A reboot with the clock still ahead does not count the 20 days either.
  world.device().reboot();
  world.run_for(kHourMs);
  EXPECT_NEAR(static_cast<double>(world.device().status().grace_elapsed_s), 3.0 * kDayS + 3600, 5.0)
      << timeline_text(world);
}

TEST(ClockScenario, DifferenceUnderADayFromTheServerIsSkew) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  ASSERT_TRUE(sim_until_licensed(world));
  world.device().jump_clock(-3 * kHourMs);
  world.run_for(2 * 60 * kSecondMs);  // the next device clock reading
  ASSERT_TRUE(sim_until_events_delivered(world));
  EXPECT_EQ(server_count(world, "clock_skew"), 1u) << timeline_text(world);
  EXPECT_EQ(server_count(world, "clock_rollback"), 0u);
  EXPECT_EQ(world.device().status().state, LicenseState::licensed) << "skew is not tampering";
  for (const DeviceEvent& e : server_events(world)) {
    if (e.kind == "clock_skew") {
      EXPECT_NE(e.json.find("\"severity\":\"info\""), std::string::npos) << e.json;
    }
  }
}

TEST(ClockScenario, LostRtcHoldsTheStateAndRecordsNoRollback) {
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  const SimScenario* scenario = find_sim_scenario("rtc-lost");
  ASSERT_NE(scenario, nullptr);
  ASSERT_TRUE(scenario->run(world, [&](SimWorld& w, int day) {
    SCOPED_TRACE("day " + std::to_string(day));
    const AgentStatus s = w.device().status();
    EXPECT_EQ(s.state, LicenseState::grace) << "a clock reading 1970 is unknown, not tampered";
    EXPECT_TRUE(w.device().agent()->feature_enabled("trunks"));
    if (day == 4) {
      // Two days of grace before the power went (less what passed since the
      // last checkpoint, at most grace_checkpoint_s, and plus the 60 s
      // charged for that unclean stop), one day off that nothing trusted
      // has measured yet, one day running since the boot.
      EXPECT_LE(s.grace_elapsed_s, 3 * kDayS + 60) << timeline_text(w);
      EXPECT_GE(s.grace_elapsed_s, 3 * kDayS - 1) << timeline_text(w);
      EXPECT_TRUE(stored_of(w, EventKind::clock_rollback).empty()) << timeline_text(w);
    }
  })) << timeline_text(world);
  // No NTP ever answered: the device checked the server certificate
  // against its build time (PROTOCOL.md 2), never against 1970, said so,
  // and took the server's time from welcome as trusted.
  EXPECT_TRUE(world.timeline().lines_starting("device", "link rounds failing: cert_not_yet_valid").empty())
      << timeline_text(world);
  EXPECT_FALSE(world.timeline().lines_starting("device", "log: no trusted clock").empty()) << timeline_text(world);
  EXPECT_EQ(world.device().status().clock.source, "server");
  EXPECT_TRUE(world.device().status().clock.trusted);
  EXPECT_EQ(world.device().status().state, LicenseState::licensed);
  EXPECT_EQ(server_count(world, "clock_rollback"), 0u);
  EXPECT_TRUE(delivered_exactly_once(world));
  // The trusted time counted the day off: cleared with 30 - 4 days left.
  bool found = false;
  for (const DeviceEvent& e : server_events(world)) {
    if (e.kind != "grace_cleared") continue;
    found = true;
    EXPECT_NE(e.json.find("\"days_left\":26"), std::string::npos) << e.json;
  }
  EXPECT_TRUE(found);
}

TEST(ClockScenario, ADeviceWithADeadRtcAndNoNtpLinksOnItsBuildTime) {
  // A device that never linked before (no server time learned), booted
  // with a dead RTC and no NTP server answering: PROTOCOL.md 2.
  SimWorld world(scenario_setup());
  ASSERT_TRUE(world.start().ok());
  world.device().power_off();
  world.device().lose_clock();
  world.run_for((60 * kSecondMs));
  ASSERT_TRUE(world.device().boot().ok()) << timeline_text(world);
  ASSERT_FALSE(world.device().rtc().is_set()) << "the RTC reads 1970";
  ASSERT_TRUE(sim_until_licensed(world, 5 * (60 * kSecondMs))) << timeline_text(world);
  EXPECT_TRUE(world.timeline().lines_starting("device", "link rounds failing: cert_").empty()) << timeline_text(world);
  EXPECT_FALSE(world.timeline().lines_starting("device", "log: no trusted clock").empty()) << timeline_text(world);
  const AgentStatus s = world.device().status();
  EXPECT_EQ(s.clock.source, "server");
  EXPECT_TRUE(s.clock.trusted);
  EXPECT_FALSE(world.device().rtc().is_set()) << "no NTP set the RTC: only the server vouches for the time";
}

// Milliseconds since the run started of the first device line starting
// with `prefix` (-1 when none).
Millis first_device_line(SimWorld& world, std::string_view prefix) {
  for (const SimTimelineEntry& e : world.timeline().entries()) {
    if (e.who == "device" && e.what.rfind(prefix, 0) == 0) return e.at;
  }
  return -1;
}

// Starts the world, takes the device's power and its RTC away for a minute
// and boots it again; returns the world time of that boot (-1: no start).
Millis boot_without_a_clock(SimWorld& world) {
  if (!world.start().ok()) return -1;
  world.device().power_off();
  world.device().lose_clock();
  world.run_for(60 * kSecondMs);
  const Millis booted = world.now();
  EXPECT_TRUE(world.device().boot().ok()) << timeline_text(world);
  return booted;
}

TEST(ClockScenario, ADeviceWithADeadRtcWaitsNtpWaitForNtpBeforeLinkingOnItsBuildTime) {
  SimWorldSetup setup = scenario_setup();
  setup.device_config.ntp_wait = 45 * kSecondMs;
  SimWorld world(setup);
  const Millis booted = boot_without_a_clock(world);
  ASSERT_GE(booted, 0);
  ASSERT_TRUE(sim_until_licensed(world, 5 * (60 * kSecondMs))) << timeline_text(world);
  const Millis waited = first_device_line(world, "log: no NTP answer in time");
  ASSERT_GE(waited, 0) << timeline_text(world);
  EXPECT_EQ(waited - booted, 45 * kSecondMs) << timeline_text(world);
  // Nothing went to the server before the wait was over.
  const Millis hello = first_device_line(world, "link up");
  ASSERT_GE(hello, 0) << timeline_text(world);
  EXPECT_GE(hello, waited) << timeline_text(world);
  EXPECT_EQ(world.device().status().clock.source, "server");
}

TEST(ClockScenario, ADeviceWithADeadRtcLinksOnNtpTimeAsSoonAsNtpAnswers) {
  SimWorldSetup setup = scenario_setup();
  setup.ntp_after_boot_ms = 20 * kSecondMs;
  SimWorld world(setup);
  const Millis booted = boot_without_a_clock(world);
  ASSERT_GE(booted, 0);
  ASSERT_TRUE(sim_until_licensed(world, 5 * (60 * kSecondMs))) << timeline_text(world);
  const Millis up = first_device_line(world, "link up");
  ASSERT_GE(up, 0);
  EXPECT_GE(up - booted, 20 * kSecondMs) << timeline_text(world);
  EXPECT_LT(up - booted, 25 * kSecondMs) << "linked within a poll of NTP's answer\n" << timeline_text(world);
  EXPECT_TRUE(world.timeline().lines_starting("device", "log: no NTP answer in time").empty()) << timeline_text(world);
  EXPECT_TRUE(world.timeline().lines_starting("device", "log: no trusted clock").empty())
      << "the build time was never used\n" << timeline_text(world);
}

TEST(ClockScenario, NtpWaitZeroLinksAtOnceOnTheBuildTime) {
  SimWorldSetup setup = scenario_setup();
  setup.device_config.ntp_wait = 0;
  SimWorld world(setup);
  const Millis booted = boot_without_a_clock(world);
  ASSERT_GE(booted, 0);
  ASSERT_TRUE(sim_until_licensed(world, 5 * (60 * kSecondMs))) << timeline_text(world);
  const Millis up = first_device_line(world, "link up");
  ASSERT_GE(up, 0);
  EXPECT_LT(up - booted, 5 * kSecondMs) << timeline_text(world);
  EXPECT_TRUE(world.timeline().lines_starting("device", "log: no usable clock").empty()) << timeline_text(world);
}

}  // namespace
}  // namespace sublink::test
