// PROTOCOL.md section 5: no pattern of crashes, kills or power cuts stops
// grace from advancing. The device is licensed, the server goes away for
// good (NTP blocked too), and then the power is cut every `period`, coming
// back a second later, for a sweep of periods from 1 s to 2 h, without and
// with a trusted clock (a disciplined RTC, trusted from the first instant
// of each boot). The grace alarm and the expiry must come:
//  - no later than the wall-clock schedule (grace start + the configured
//    delay, counted in real time, powered off included) plus one
//    grace_checkpoint_s;
//  - no earlier than the schedule less what the rule may charge: one
//    grace_checkpoint_s per start after an unclean stop.
// An orderly reboot loop is charged exactly.
#include <gtest/gtest.h>

#include <optional>

#include "scenario/scenario_rig.h"

namespace sublink::test {
namespace {

constexpr Millis kGraceCheckpoint = 60 * kSecondMs;
constexpr Millis kOffMs = kSecondMs;  // the power comes back a second after each cut

struct LoopResult {
  Millis grace_started = -1;  // world times
  Millis alarm = -1;
  Millis expired = -1;
  int starts_before_alarm = 0;
  int starts_before_expiry = 0;
};

// World time of the first stored event of `kind` (the sim's RTC is exact,
// so its UTC is the world's time).
std::optional<Millis> first_event(SimWorld& world, EventKind kind, Millis utc_of_zero) {
  for (const Event& e : world.device().recorded_events()) {
    if (e.kind == kind && e.time_utc_ms) return *e.time_utc_ms - utc_of_zero;
  }
  return std::nullopt;
}

SimWorldSetup loop_setup(Millis grace_period, bool trusted_clock) {
  SimWorldSetup setup = scenario_setup(21);
  setup.device_config.grace_period = grace_period;
  setup.device_config.grace_alarm_delay = grace_period / 3;
  setup.device_config.grace_alarm_interval = grace_period / 3;
  setup.device_config.grace_checkpoint = kGraceCheckpoint;
  setup.ntp_after_boot_ms = -1;  // NTP blocked
  setup.rtc_trusted_at_boot = trusted_clock;
  return setup;
}

// Licensed, then the server unreachable for good; then `cycle` every `period`.
template <class Cycle>
LoopResult run_loop(SimWorld& world, Millis period, Millis limit, Cycle cycle) {
  LoopResult r;
  EXPECT_TRUE(world.start().ok());
  EXPECT_TRUE(sim_until_licensed(world)) << timeline_text(world);
  const Millis utc_of_zero = world.utc() - world.now();
  world.server().stop();
  world.device_link_down(true);
  world.run_for(kSecondMs);
  r.grace_started = first_event(world, EventKind::grace_started, utc_of_zero).value_or(-1);
  EXPECT_GE(r.grace_started, 0) << timeline_text(world);
  int starts = 0;
  const Millis end = world.now() + limit;
  while (world.now() < end) {
    world.run_for(period);
    if (r.alarm < 0) r.starts_before_alarm = starts;
    if (r.expired < 0) r.starts_before_expiry = starts;
    if (auto a = first_event(world, EventKind::grace_alarm, utc_of_zero); a && r.alarm < 0) r.alarm = *a;
    if (auto e = first_event(world, EventKind::grace_expired, utc_of_zero)) {
      r.expired = *e;
      break;
    }
    cycle(world);
    ++starts;
  }
  return r;
}

struct Case {
  Millis period;
  bool trusted;
};

std::string name_of(const Case& c) {
  return "period " + std::to_string(c.period / kSecondMs) + " s, " + (c.trusted ? "trusted clock" : "no trusted clock");
}

// Grace period per case: long enough for several cycles of long periods,
// short enough for the 1 s loop to end in a few thousand boots.
Millis grace_for(Millis period) { return std::max<Millis>(20 * 60 * kSecondMs, 3 * period); }

TEST(CrashLoopSweep, GraceReachesAlarmAndExpiryOnScheduleAtEveryLoopPeriod) {
  const Millis periods[] = {kSecondMs,           2 * kSecondMs,       5 * kSecondMs,  10 * kSecondMs,
                            30 * kSecondMs,      60 * kSecondMs,      5 * 60 * kSecondMs, 15 * 60 * kSecondMs,
                            30 * 60 * kSecondMs, 60 * 60 * kSecondMs, 2 * 60 * 60 * kSecondMs};
  int cases = 0;
  for (bool trusted : {false, true}) {
    for (Millis period : periods) {
      const Case c{period, trusted};
      SCOPED_TRACE(name_of(c));
      const Millis grace = grace_for(period);
      SimWorld world(loop_setup(grace, trusted));
      world.device().set_power_back_after_cut(kOffMs);
      const LoopResult r = run_loop(world, period, 4 * grace, [](SimWorld& w) { w.device().power_off(kOffMs); });
      ASSERT_GE(r.alarm, 0) << "the grace alarm never came\n" << timeline_text(world);
      ASSERT_GE(r.expired, 0) << "grace never expired\n" << timeline_text(world);
      const Millis alarm_due = r.grace_started + grace / 3;
      const Millis expiry_due = r.grace_started + grace;
      // Late bound: the wall-clock schedule plus one grace_checkpoint_s.
      EXPECT_LE(r.alarm, alarm_due + kGraceCheckpoint);
      EXPECT_LE(r.expired, expiry_due + kGraceCheckpoint);
      // Early bound: at most one grace_checkpoint_s per unclean start ahead.
      EXPECT_GE(r.alarm, alarm_due - r.starts_before_alarm * kGraceCheckpoint);
      EXPECT_GE(r.expired, expiry_due - r.starts_before_expiry * kGraceCheckpoint);
      if (trusted) {
        // The trusted clock measures every gap: the schedule to the second.
        EXPECT_LE(std::abs(r.expired - expiry_due), kSecondMs);
      }
      std::printf("[ sweep    ] %-32s grace %5lld s: alarm %+6lld s, expiry %+6lld s from schedule, %d starts\n",
                  name_of(c).c_str(), static_cast<long long>(grace / kSecondMs),
                  static_cast<long long>((r.alarm - alarm_due) / kSecondMs),
                  static_cast<long long>((r.expired - expiry_due) / kSecondMs), r.starts_before_expiry);
      EXPECT_EQ(world.device().status().state, LicenseState::expired);
      EXPECT_FALSE(world.device().agent() && world.device().agent()->feature_enabled("trunks"));
      ++cases;
      if (::testing::Test::HasFailure()) return;
    }
  }
  RecordProperty("crash_loop_cases", cases);
}

TEST(CrashLoopSweep, OrderlyRebootLoopIsChargedExactly) {
  for (bool trusted : {false, true}) {
    SCOPED_TRACE(trusted ? "trusted clock" : "no trusted clock");
    const Millis grace = 20 * 60 * kSecondMs;
    SimWorld world(loop_setup(grace, trusted));
    const LoopResult r = run_loop(world, 7 * kSecondMs, 4 * grace, [](SimWorld& w) { w.device().reboot(); });
    ASSERT_GE(r.expired, 0) << timeline_text(world);
    const Millis expiry_due = r.grace_started + grace;
    // Nothing is charged beyond the time run: never early.
    EXPECT_GE(r.expired, expiry_due - kSecondMs);
    if (trusted) {
      EXPECT_LE(r.expired, expiry_due + kSecondMs);  // the time off is measured too
    } else {
      // Without a trusted clock the time between stop and start (the close
      // handshake, at most kRebootCloseMs each) cannot be known.
      EXPECT_LE(r.expired, expiry_due + r.starts_before_expiry * SimDevice::kRebootCloseMs + kSecondMs);
    }
  }
}

}  // namespace
}  // namespace sublink::test
