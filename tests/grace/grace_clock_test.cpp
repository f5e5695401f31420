#include "firmware/grace/grace_clock.h"

#include <gtest/gtest.h>

#include <vector>

namespace sublink {
namespace {

constexpr Millis kUtc0 = 1700000000000;  // 2023-11-14, a trusted server time
constexpr Millis kBoot = 1000;
constexpr WallTime kRtcLost{0, false, false};

WallTime device_clock(Millis utc) { return WallTime{utc, true, false}; }
WallTime ntp_clock(Millis utc) { return WallTime{utc, true, true}; }

// Drives a GraceClock like the agent does and keeps every output.
struct Device {
  GraceClock clock;
  std::vector<GraceOutput> outs;

  explicit Device(GraceConfig config = {}) : clock(config) {}

  void drain() {
    while (auto o = clock.poll()) outs.push_back(*o);
  }
  std::vector<GraceOutput> events(EventKind kind) const {
    std::vector<GraceOutput> r;
    for (const auto& o : outs) {
      if (o.type == GraceOutputType::event && o.event == kind) r.push_back(o);
    }
    return r;
  }
  size_t count(EventKind kind) const { return events(kind).size(); }
  // The newest checkpoint, decoded: what storage would hold.
  GraceRecord stored() const {
    for (auto it = outs.rbegin(); it != outs.rend(); ++it) {
      if (it->type == GraceOutputType::checkpoint) {
        auto r = decode_grace_record(it->record);
        EXPECT_TRUE(r.ok());
        return *r;
      }
    }
    ADD_FAILURE() << "no checkpoint";
    return {};
  }
  // What storage would hold after a checkpoint now.
  GraceRecord saved_now() const { return *decode_grace_record(encode_grace_record(clock.record())); }
  // Boots fresh, links up at `mono`, takes a license: state licensed.
  void licensed_at(Millis mono) {
    clock.on_boot(mono, kRtcLost, std::nullopt);
    clock.on_link_up(mono, kUtc0 + mono);
    clock.on_license(true);
    drain();
  }
  // Sleeps from deadline to deadline like a driver until `mono`.
  void run_to(Millis mono) {
    while (clock.next_deadline() <= mono) {
      clock.advance(clock.next_deadline());
      drain();
    }
    clock.advance(mono);
    drain();
  }
};

TEST(GraceClock, FullThirtyDaysOfAlarmsDayByDayThenExpiredExactly) {
  Device d;
  d.licensed_at(kBoot);
  ASSERT_EQ(d.clock.state(), LicenseState::licensed);
  const Millis down = kBoot + 5 * kSecondMs;
  d.clock.on_link_down(down);
  d.drain();
  EXPECT_EQ(d.clock.state(), LicenseState::grace);
  EXPECT_TRUE(d.clock.features_on());
  ASSERT_EQ(d.count(EventKind::grace_started), 1u);
  EXPECT_EQ(d.events(EventKind::grace_started)[0].payload.days_left, 30);

  // In grace the record is written every grace_checkpoint_s (60 s).
  EXPECT_EQ(d.clock.next_deadline(), down + 60 * kSecondMs);
  d.run_to(down + 30 * kDayMs + kHourMs);

  auto alarms = d.events(EventKind::grace_alarm);
  ASSERT_EQ(alarms.size(), 30u);
  // The first alarm came exactly 600 s after the link went down.
  EXPECT_EQ(alarms[0].at_mono, down + 600 * kSecondMs);
  for (int day = 0; day < 30; ++day) {
    const auto& a = alarms[day];
    EXPECT_EQ(a.at_mono, down + 600 * kSecondMs + day * kDayMs) << "day " << day;
    EXPECT_EQ(a.payload.days_left, 30 - day) << "day " << day;
    Severity want = day < 15 ? Severity::warning
                    : day < 20 ? Severity::minor
                    : day < 25 ? Severity::major
                               : Severity::critical;
    EXPECT_EQ(a.severity, want) << "day " << day;
    EXPECT_EQ(a.utc_ms, kUtc0 + a.at_mono);  // trusted time from the welcome
  }
  auto expired = d.events(EventKind::grace_expired);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].at_mono, down + 30 * kDayMs);
  EXPECT_EQ(expired[0].severity, Severity::critical);
  EXPECT_EQ(d.clock.state(), LicenseState::expired);
  EXPECT_FALSE(d.clock.features_on());
  EXPECT_EQ(d.clock.elapsed_ms(), 30 * kDayMs);  // stops counting once expired
  EXPECT_EQ(d.clock.remaining_ms(), 0);
  EXPECT_FALSE(d.clock.alarm_active()) << "the grace alarm belongs to grace: grace_expired takes over";
  EXPECT_EQ(d.stored().state, LicenseState::expired);
}

TEST(GraceClock, AlarmTimesStayExactWhenAdvanceIsCalledLate) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_link_down(kBoot);
  for (Millis t = kBoot; t < kBoot + 31 * kDayMs; t += 7 * 60 * kSecondMs + 13) {
    d.clock.advance(t);
    d.drain();
  }
  auto alarms = d.events(EventKind::grace_alarm);
  ASSERT_EQ(alarms.size(), 30u);
  EXPECT_EQ(alarms[0].at_mono, kBoot + 600 * kSecondMs);
  EXPECT_EQ(alarms[29].at_mono, kBoot + 600 * kSecondMs + 29 * kDayMs);
  EXPECT_EQ(d.events(EventKind::grace_expired)[0].at_mono, kBoot + 30 * kDayMs);
}

TEST(GraceClock, StateChangesComeOutInOrder) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_link_down(kBoot + 1);
  d.run_to(kBoot + 31 * kDayMs);
  std::vector<std::pair<LicenseState, LicenseState>> changes;
  for (const auto& o : d.outs) {
    if (o.type == GraceOutputType::state_changed) changes.emplace_back(o.previous, o.state);
  }
  std::vector<std::pair<LicenseState, LicenseState>> want = {
      {LicenseState::unlicensed, LicenseState::licensed},
      {LicenseState::licensed, LicenseState::grace},
      {LicenseState::grace, LicenseState::expired}};
  EXPECT_EQ(changes, want);
}

TEST(GraceClock, ReconnectOnDay29ClearsAlarmAndResetsGrace) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_link_down(kBoot);
  d.run_to(kBoot + 29 * kDayMs + kHourMs);
  ASSERT_TRUE(d.clock.alarm_active());
  ASSERT_EQ(d.clock.state(), LicenseState::grace);

  const Millis up = kBoot + 29 * kDayMs + 2 * kHourMs;
  d.clock.on_link_up(up, kUtc0 + up);
  d.drain();
  EXPECT_EQ(d.count(EventKind::grace_cleared), 1u);
  EXPECT_EQ(d.clock.state(), LicenseState::licensed);
  EXPECT_FALSE(d.clock.alarm_active());
  EXPECT_EQ(d.clock.elapsed_ms(), 0);
  EXPECT_EQ(d.stored().elapsed_ms, 0);
  EXPECT_FALSE(d.stored().alarm_active);

  // A later outage gets a whole new grace period.
  const Millis down = up + kDayMs;
  d.clock.on_link_down(down);
  d.run_to(down + 29 * kDayMs);
  EXPECT_EQ(d.clock.state(), LicenseState::grace);
  EXPECT_EQ(d.events(EventKind::grace_alarm).back().at_mono, down + 600 * kSecondMs + 28 * kDayMs);
  d.run_to(down + 30 * kDayMs);
  EXPECT_EQ(d.clock.state(), LicenseState::expired);
  EXPECT_EQ(d.events(EventKind::grace_expired)[0].at_mono, down + 30 * kDayMs);
}

TEST(GraceClock, ShortOutageClearsWithoutAnyAlarm) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_link_down(kBoot);
  d.run_to(kBoot + 599 * kSecondMs);
  d.clock.on_link_up(kBoot + 599 * kSecondMs, kUtc0 + kBoot + 599 * kSecondMs);
  d.drain();
  EXPECT_EQ(d.count(EventKind::grace_alarm), 0u);
  EXPECT_EQ(d.count(EventKind::grace_cleared), 1u);
  EXPECT_EQ(d.clock.state(), LicenseState::licensed);
}

TEST(GraceClock, ExpiredNeedsLinkUpAndAValidLicense) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_link_down(kBoot);
  d.run_to(kBoot + 30 * kDayMs);
  ASSERT_EQ(d.clock.state(), LicenseState::expired);
  d.clock.on_license(true);  // a stored license, link still down
  EXPECT_EQ(d.clock.state(), LicenseState::expired);
  const Millis up = kBoot + 31 * kDayMs;
  d.clock.on_link_up(up, kUtc0 + up);
  d.drain();
  EXPECT_EQ(d.clock.state(), LicenseState::expired);  // link alone is not enough
  EXPECT_FALSE(d.clock.alarm_active());
  EXPECT_EQ(d.count(EventKind::grace_cleared), 1u);
  d.clock.on_license(true);
  EXPECT_EQ(d.clock.state(), LicenseState::licensed);
  EXPECT_TRUE(d.clock.features_on());
}

TEST(GraceClock, ARestoredLicenseWithoutItsGraceAccountStartsExpired) {
  // Erasing the grace record must not buy a fresh 30 days.
  Device missing;
  missing.clock.on_boot(kBoot, kRtcLost, std::nullopt, /*license_restored=*/true);
  EXPECT_EQ(missing.clock.state(), LicenseState::expired);
  EXPECT_FALSE(missing.clock.features_on());
  EXPECT_EQ(missing.clock.elapsed_ms(), GraceConfig{}.grace_period);

  // A record from before the license (no license held in it) is no account
  // of this license's grace either; its clocks are kept.
  GraceRecord older;
  older.state = LicenseState::unlicensed;
  older.utc_ms = kUtc0;
  Device stale;
  stale.clock.on_boot(kBoot, kRtcLost, older, /*license_restored=*/true);
  EXPECT_EQ(stale.clock.state(), LicenseState::expired);
  EXPECT_EQ(stale.clock.record().utc_ms, kUtc0);

  // With its account, the license enters grace as after any link loss.
  GraceRecord held;
  held.state = LicenseState::licensed;
  held.license_held = true;
  Device kept;
  kept.clock.on_boot(kBoot, kRtcLost, held, /*license_restored=*/true);
  EXPECT_EQ(kept.clock.state(), LicenseState::grace);

  // No license restored: an account that says one is held is told otherwise.
  Device gone;
  gone.clock.on_boot(kBoot, kRtcLost, held, /*license_restored=*/false);
  EXPECT_FALSE(gone.clock.license_held());
  EXPECT_FALSE(gone.clock.features_on());
}

TEST(GraceClock, UnlicensedDeviceHasNoGrace) {
  Device d;
  d.clock.on_boot(kBoot, kRtcLost, std::nullopt);
  d.clock.on_link_up(kBoot, kUtc0);
  d.clock.on_link_down(kBoot + kSecondMs);
  d.run_to(kBoot + 40 * kDayMs);
  EXPECT_EQ(d.clock.state(), LicenseState::unlicensed);
  EXPECT_FALSE(d.clock.features_on());
  EXPECT_EQ(d.count(EventKind::grace_started), 0u);
  EXPECT_EQ(d.count(EventKind::grace_alarm), 0u);
}

TEST(GraceClock, RevokeTurnsFeaturesOffAtOnceWithoutGrace) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_revoke();
  d.drain();
  EXPECT_EQ(d.clock.state(), LicenseState::unlicensed);
  EXPECT_FALSE(d.clock.features_on());
  EXPECT_FALSE(d.clock.license_held());
  EXPECT_FALSE(d.stored().license_held);
  d.clock.on_link_down(kBoot + kSecondMs);
  d.run_to(kBoot + kDayMs);
  EXPECT_EQ(d.count(EventKind::grace_started), 0u);
  EXPECT_EQ(d.clock.state(), LicenseState::unlicensed);
}

TEST(GraceClock, RevokeDuringGraceEndsGraceAndClearsAlarm) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_link_down(kBoot);
  d.run_to(kBoot + 2 * kDayMs);
  ASSERT_TRUE(d.clock.alarm_active());
  d.clock.on_revoke();
  d.drain();
  EXPECT_EQ(d.clock.state(), LicenseState::unlicensed);
  EXPECT_FALSE(d.clock.alarm_active());
  EXPECT_EQ(d.count(EventKind::grace_cleared), 1u);
  EXPECT_EQ(d.clock.next_deadline(), d.outs.back().at_mono + kHourMs);  // only checkpoints left
}

TEST(GraceClock, LicenseGoneTurnsFeaturesOff) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_license(false);
  EXPECT_EQ(d.clock.state(), LicenseState::unlicensed);
  EXPECT_FALSE(d.clock.features_on());
}

TEST(GraceClock, CheckpointsEveryIntervalAndAtStateChanges) {
  Device d;
  d.licensed_at(kBoot);
  size_t before = d.outs.size();
  d.run_to(kBoot + 3 * kHourMs);
  std::vector<Millis> at;
  for (size_t i = before; i < d.outs.size(); ++i) {
    if (d.outs[i].type == GraceOutputType::checkpoint) at.push_back(d.outs[i].at_mono);
  }
  EXPECT_EQ(at, (std::vector<Millis>{kBoot + kHourMs, kBoot + 2 * kHourMs, kBoot + 3 * kHourMs}));
  d.clock.on_link_down(kBoot + 3 * kHourMs + 7);
  d.drain();
  ASSERT_EQ(d.outs.back().type, GraceOutputType::checkpoint);
  EXPECT_EQ(d.outs.back().at_mono, kBoot + 3 * kHourMs + 7);
  EXPECT_EQ(d.stored().state, LicenseState::grace);
  // In grace the record carries the elapsed time at each checkpoint; the
  // alarm at 600 s checkpoints too, and the hourly grid restarts from it.
  const Millis down = kBoot + 3 * kHourMs + 7;
  d.run_to(down + 600 * kSecondMs + kHourMs);
  EXPECT_EQ(d.outs.back().at_mono, down + 600 * kSecondMs + kHourMs);
  EXPECT_EQ(d.stored().elapsed_ms, 600 * kSecondMs + kHourMs);
  EXPECT_EQ(d.stored().utc_ms, kUtc0 + down + 600 * kSecondMs + kHourMs);
}

TEST(GraceClock, RebootMidGraceKeepsElapsedTime) {
  Device before;
  before.licensed_at(kBoot);
  before.clock.on_link_down(kBoot);
  before.run_to(kBoot + 10 * kDayMs);
  GraceRecord saved = *decode_grace_record(encode_grace_record(before.clock.clean_stop_record(kBoot + 10 * kDayMs)));
  EXPECT_EQ(saved.elapsed_ms, 10 * kDayMs);
  EXPECT_EQ(saved.alarms_raised, 10u);
  EXPECT_TRUE(saved.clean_stop);  // an orderly reboot: charged exactly

  Device after;  // monotonic time restarts near zero after a reboot
  after.clock.on_boot(50, kRtcLost, saved);
  after.drain();
  EXPECT_EQ(after.clock.state(), LicenseState::grace);
  EXPECT_TRUE(after.clock.features_on());
  EXPECT_EQ(after.clock.elapsed_ms(), 10 * kDayMs);
  EXPECT_EQ(after.count(EventKind::grace_started), 0u);  // the same grace goes on
  // The next alarm keeps the old schedule: day 10 + 600 s of grace.
  after.run_to(50 + 600 * kSecondMs);
  ASSERT_EQ(after.count(EventKind::grace_alarm), 1u);
  EXPECT_EQ(after.events(EventKind::grace_alarm)[0].at_mono, 50 + 600 * kSecondMs);
  after.run_to(50 + 20 * kDayMs);
  EXPECT_EQ(after.clock.state(), LicenseState::expired);
  EXPECT_EQ(after.events(EventKind::grace_expired)[0].at_mono, 50 + 20 * kDayMs);
  EXPECT_EQ(after.count(EventKind::grace_alarm), 20u);
}

// A device in grace (3 days) with trusted time, its last checkpoint saved.
struct SavedInGrace {
  GraceRecord record;
  Millis utc;   // true UTC at the checkpoint
  Millis wall;  // device clock at the checkpoint
};
SavedInGrace three_days_into_grace(bool read_device_clock) {
  Device d;
  d.licensed_at(kBoot);
  if (read_device_clock) d.clock.on_wall_clock(kBoot, device_clock(kUtc0 + kBoot));
  d.clock.on_link_down(kBoot);
  d.run_to(kBoot + 3 * kDayMs);
  d.clock.on_wall_clock(kBoot + 3 * kDayMs, device_clock(kUtc0 + kBoot + 3 * kDayMs));
  d.drain();
  d.clock.advance(kBoot + 3 * kDayMs + kHourMs);  // hourly checkpoint
  d.drain();
  SavedInGrace s{d.stored(), kUtc0 + kBoot + 3 * kDayMs + kHourMs, kUtc0 + kBoot + 3 * kDayMs + kHourMs};
  EXPECT_EQ(s.record.utc_ms, s.utc);
  EXPECT_EQ(s.record.wall_ms, s.wall);
  EXPECT_EQ(s.record.elapsed_ms, 3 * kDayMs + kHourMs);
  return s;
}

TEST(GraceClock, PoweredOffTenDaysCountsOnceATrustedClockShowsIt) {
  auto saved = three_days_into_grace(false);
  Device d;
  d.clock.on_boot(20, ntp_clock(saved.utc + 10 * kDayMs), saved.record);
  d.drain();
  EXPECT_FALSE(d.clock.offline_time_pending());
  EXPECT_EQ(d.clock.elapsed_ms(), 13 * kDayMs + kHourMs);
  // One catch-up alarm for now, not one per missed day.
  auto alarms = d.events(EventKind::grace_alarm);
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_EQ(alarms[0].payload.days_left, 17);
  EXPECT_EQ(alarms[0].severity, Severity::warning);
  EXPECT_EQ(d.stored().elapsed_ms, 13 * kDayMs + kHourMs);
  // The next alarm is back on the daily grid: at day 14 + 600 s of grace.
  d.run_to(20 + kDayMs);
  alarms = d.events(EventKind::grace_alarm);
  ASSERT_EQ(alarms.size(), 2u);
  EXPECT_EQ(alarms[1].at_mono, 20 + 600 * kSecondMs - kHourMs + kDayMs);
  EXPECT_EQ(alarms[1].payload.days_left, 16);
}

TEST(GraceClock, PoweredOffPastTheWholeGraceExpiresOnTrustedTime) {
  auto saved = three_days_into_grace(false);
  Device d;
  d.clock.on_boot(20, kRtcLost, saved.record);
  d.clock.on_link_up(20 + kSecondMs, saved.utc + 40 * kDayMs);  // the welcome tells
  d.drain();
  EXPECT_EQ(d.count(EventKind::grace_expired), 1u);
  EXPECT_EQ(d.clock.state(), LicenseState::expired);  // until a valid license again
  d.clock.on_license(true);
  EXPECT_EQ(d.clock.state(), LicenseState::licensed);
}

TEST(GraceClock, RtcLostHoldsStateUntilTrustedTimeAnswers) {
  auto saved = three_days_into_grace(true);
  Device d;
  d.clock.on_boot(20, WallTime{3000, true, false}, saved.record);  // RTC reads 1970
  d.drain();
  EXPECT_EQ(d.count(EventKind::clock_rollback), 0u);  // unknown, not tampering
  EXPECT_TRUE(d.clock.offline_time_pending());
  EXPECT_FALSE(d.clock.utc_now().has_value());
  EXPECT_EQ(d.clock.state(), LicenseState::grace);
  d.run_to(20 + kHourMs);
  // Run time since boot, plus grace_checkpoint_s for the unclean stop
  // (the record was a checkpoint, not a clean stop).
  EXPECT_EQ(d.clock.elapsed_ms(), 3 * kDayMs + 2 * kHourMs + 60 * kSecondMs);
  EXPECT_EQ(d.clock.unmeasured_ms(), 60 * kSecondMs);
  // A checkpoint taken now keeps the powered-off time measurable later.
  EXPECT_EQ(d.stored().utc_ms, saved.utc + kHourMs);
  d.clock.on_trusted_time(20 + kHourMs, saved.utc + 2 * kDayMs + kHourMs);
  d.drain();
  EXPECT_FALSE(d.clock.offline_time_pending());
  // The measured gap replaces the charge: not both.
  EXPECT_EQ(d.clock.elapsed_ms(), 5 * kDayMs + 2 * kHourMs);
  EXPECT_EQ(d.clock.unmeasured_ms(), 0);
  EXPECT_EQ(d.clock.utc_now(), saved.utc + 2 * kDayMs + kHourMs);
}

TEST(GraceClock, OfflineTimeSurvivesASecondRebootBeforeTrustedTime) {
  auto saved = three_days_into_grace(false);
  Device first;
  first.clock.on_boot(20, kRtcLost, saved.record);
  first.run_to(20 + kHourMs);  // checkpoint, then power lost again
  GraceRecord again = first.stored();
  Device second;
  second.clock.on_boot(30, kRtcLost, again);
  // Truth: 1 day off, 1 h on, 1 day off, now just booted.
  second.clock.on_trusted_time(30, saved.utc + 2 * kDayMs + kHourMs);
  EXPECT_EQ(second.clock.elapsed_ms(), 3 * kDayMs + kHourMs + kHourMs + 2 * kDayMs);
}

TEST(GraceClock, WallClockSetBackTwoDaysAddsNothingAndRecordsRollback) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_wall_clock(kBoot, device_clock(kUtc0 + kBoot));
  d.clock.on_link_down(kBoot);
  d.run_to(kBoot + 5 * kDayMs);
  d.clock.on_wall_clock(kBoot + 5 * kDayMs, device_clock(kUtc0 + kBoot + 3 * kDayMs));
  d.drain();
  auto rollbacks = d.events(EventKind::clock_rollback);
  ASSERT_EQ(rollbacks.size(), 1u);
  EXPECT_EQ(rollbacks[0].payload.detail, -2 * 86400);
  EXPECT_EQ(rollbacks[0].severity, Severity::major);
  EXPECT_EQ(d.clock.elapsed_ms(), 5 * kDayMs);
  d.run_to(kBoot + 30 * kDayMs);
  EXPECT_EQ(d.events(EventKind::grace_expired)[0].at_mono, kBoot + 30 * kDayMs);
  d.clock.on_wall_clock(kBoot + 30 * kDayMs, device_clock(kUtc0 + kBoot + 28 * kDayMs));
  d.drain();
  EXPECT_EQ(d.count(EventKind::clock_rollback), 1u);  // the same offset is reported once
}

TEST(GraceClock, DeviceClockBehindTheRecordAtBootIsRollback) {
  auto saved = three_days_into_grace(true);
  Device d;
  d.clock.on_boot(20, device_clock(saved.wall - 2 * kDayMs), saved.record);
  d.drain();
  ASSERT_EQ(d.count(EventKind::clock_rollback), 1u);
  EXPECT_EQ(d.events(EventKind::clock_rollback)[0].payload.detail, -2 * 86400);
  // Only the unclean stop's charge: the clock set back adds nothing.
  EXPECT_EQ(d.clock.elapsed_ms(), saved.record.elapsed_ms + 60 * kSecondMs);
}

TEST(GraceClock, RollbackBeforeTrustedTimeWhileRunning) {
  Device d;
  d.clock.on_boot(kBoot, device_clock(kUtc0), std::nullopt);
  d.clock.on_license(true);  // stored license, no link yet: grace
  d.clock.on_wall_clock(kBoot + kHourMs, device_clock(kUtc0 + kHourMs - kDayMs));
  d.drain();
  EXPECT_EQ(d.count(EventKind::clock_rollback), 1u);
  EXPECT_EQ(d.clock.elapsed_ms(), kHourMs);
}

TEST(GraceClock, ForwardJumpIsNotCountedUntilTrusted) {
  auto saved = three_days_into_grace(true);
  Device d;
  // Really powered off 1 h, but the device clock claims 10 days.
  d.clock.on_boot(20, device_clock(saved.wall + 10 * kDayMs), saved.record);
  d.drain();
  EXPECT_EQ(d.clock.elapsed_ms(), saved.record.elapsed_ms + 60 * kSecondMs);  // the unclean-stop charge only
  EXPECT_EQ(d.count(EventKind::grace_alarm), 0u);
  d.clock.on_trusted_time(20 + kHourMs, saved.utc + 2 * kHourMs);
  d.drain();
  EXPECT_EQ(d.clock.elapsed_ms(), saved.record.elapsed_ms + 2 * kHourMs);
  auto jumps = d.events(EventKind::clock_jump);
  ASSERT_EQ(jumps.size(), 1u);
  EXPECT_EQ(jumps[0].payload.detail, (10 * kDayMs - kHourMs) / kSecondMs);
}

TEST(GraceClock, DeviceClockUnder24HoursOffIsSkewReportedOnce) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_wall_clock(kBoot + kSecondMs, device_clock(kUtc0 + kBoot + kSecondMs + 2 * kHourMs));
  d.drain();
  auto skews = d.events(EventKind::clock_skew);
  ASSERT_EQ(skews.size(), 1u);
  EXPECT_EQ(skews[0].payload.detail, 7200);
  EXPECT_EQ(skews[0].severity, Severity::info);
  EXPECT_EQ(d.count(EventKind::clock_rollback), 0u);
  // The same offset on later readings and heartbeat acks says nothing new.
  for (int i = 1; i <= 5; ++i) {
    Millis t = kBoot + i * 60 * kSecondMs;
    d.clock.on_wall_clock(t, device_clock(kUtc0 + t + 2 * kHourMs));
    d.clock.on_trusted_time(t, kUtc0 + t);
  }
  d.drain();
  EXPECT_EQ(d.count(EventKind::clock_skew), 1u);
  // Small drift under the tolerance is not an event.
  d.clock.on_wall_clock(kBoot + kHourMs, device_clock(kUtc0 + kBoot + kHourMs + 2 * kHourMs + 2000));
  d.drain();
  EXPECT_EQ(d.count(EventKind::clock_skew), 1u);
}

TEST(GraceClock, TrustedTimeSlightlyBeforeTheRecordIsSkewNotRollback) {
  auto saved = three_days_into_grace(false);
  Device d;
  d.clock.on_boot(20, kRtcLost, saved.record);
  d.clock.on_trusted_time(20, saved.utc - kHourMs);
  d.drain();
  ASSERT_EQ(d.count(EventKind::clock_skew), 1u);
  EXPECT_EQ(d.events(EventKind::clock_skew)[0].payload.detail, -3600);
  EXPECT_EQ(d.count(EventKind::clock_rollback), 0u);
  EXPECT_EQ(d.clock.elapsed_ms(), saved.record.elapsed_ms);

  Device e;
  e.clock.on_boot(20, kRtcLost, saved.record);
  e.clock.on_trusted_time(20, saved.utc - 3 * kDayMs);
  e.drain();
  EXPECT_EQ(e.count(EventKind::clock_rollback), 1u);
  EXPECT_EQ(e.clock.elapsed_ms(), saved.record.elapsed_ms);
}

TEST(GraceClock, LicensedRecordBootsIntoGraceAndCountsPoweredOffTime) {
  Device before;
  before.licensed_at(kBoot);
  before.run_to(kBoot + kHourMs);
  GraceRecord saved = before.stored();
  ASSERT_EQ(saved.state, LicenseState::licensed);
  Device d;
  d.clock.on_boot(20, ntp_clock(kUtc0 + kBoot + kHourMs + 2 * kDayMs), saved);
  d.drain();
  EXPECT_EQ(d.clock.state(), LicenseState::grace);
  EXPECT_EQ(d.count(EventKind::grace_started), 1u);
  EXPECT_EQ(d.clock.elapsed_ms(), 2 * kDayMs);
}

TEST(GraceClock, MonotonicTimesBeyond32BitsStayExact) {
  const Millis start = (Millis{1} << 32) - 3 * kDayMs;  // grace crosses 2^32 ms
  Device d;
  d.licensed_at(start);
  d.clock.on_link_down(start);
  d.run_to(start + 31 * kDayMs);
  EXPECT_EQ(d.events(EventKind::grace_alarm)[5].at_mono, start + 600 * kSecondMs + 5 * kDayMs);
  EXPECT_EQ(d.events(EventKind::grace_expired)[0].at_mono, start + 30 * kDayMs);

  const Millis far = Millis{1} << 45;  // ~1100 years of uptime
  Device e;
  e.licensed_at(far);
  e.clock.on_link_down(far);
  e.run_to(far + 30 * kDayMs);
  EXPECT_EQ(e.events(EventKind::grace_expired)[0].at_mono, far + 30 * kDayMs);
}

TEST(GraceClock, MonotonicTimeGoingBackIsIgnored) {
  Device d;
  d.licensed_at(kBoot);
  d.clock.on_link_down(kBoot + kDayMs);
  d.clock.advance(kBoot + 2 * kDayMs);
  d.clock.advance(kBoot);  // a broken driver
  EXPECT_EQ(d.clock.elapsed_ms(), kDayMs);
}

TEST(GraceClock, ConfiguredDurationsAreHonoured) {
  GraceConfig c;
  c.grace_period = 60 * kSecondMs;
  c.alarm_delay = 10 * kSecondMs;
  c.alarm_interval = 20 * kSecondMs;
  c.checkpoint_interval = 0;  // invalid: falls back to the default
  Device d(c);
  d.licensed_at(kBoot);
  d.clock.on_link_down(kBoot);
  d.run_to(kBoot + kHourMs);
  auto alarms = d.events(EventKind::grace_alarm);
  ASSERT_EQ(alarms.size(), 3u);
  EXPECT_EQ(alarms[1].at_mono, kBoot + 30 * kSecondMs);
  EXPECT_EQ(alarms[1].severity, Severity::minor);  // 30 s of 60: half
  EXPECT_EQ(alarms[2].severity, Severity::critical);  // 50 s of 60: five sixths
  EXPECT_EQ(d.events(EventKind::grace_expired)[0].at_mono, kBoot + 60 * kSecondMs);
}

TEST(GraceClock, UndrainedOutputsAreCountedNotSilentlyLost) {
  Device d;
  d.licensed_at(kBoot);
  d.outs.clear();
  for (int i = 0; i < 20; ++i) {
    d.clock.on_link_down(kBoot + i * 2);
    d.clock.on_link_up(kBoot + i * 2 + 1, kUtc0 + kBoot + i * 2 + 1);
  }
  EXPECT_GT(d.clock.lost_outputs(), 0u);
  d.drain();
  EXPECT_LE(d.outs.size(), GraceClock::kOutputCapacity);
  // Only one checkpoint is ever pending, and it is the newest state.
  size_t checkpoints = 0;
  for (const auto& o : d.outs) checkpoints += o.type == GraceOutputType::checkpoint;
  EXPECT_EQ(checkpoints, 1u);
  EXPECT_EQ(d.stored().state, LicenseState::licensed);
}

TEST(GraceClock, FeaturesOnOnlyWhenLicensedOrInGrace) {
  EXPECT_TRUE(features_on(LicenseState::licensed));
  EXPECT_TRUE(features_on(LicenseState::grace));
  EXPECT_FALSE(features_on(LicenseState::unlicensed));
  EXPECT_FALSE(features_on(LicenseState::expired));
  EXPECT_EQ(state_name(LicenseState::grace), "grace");
  EXPECT_EQ(state_name(LicenseState::expired), "expired");
}

}  // namespace
}  // namespace sublink

namespace sublink {
namespace {

// PROTOCOL.md section 5: no pattern of crashes freezes grace. A device in
// grace without any trusted clock, killed every `period` and started again
// at once from whatever its last checkpoint said.
Millis grace_after_crash_loop(Millis period, int crashes, GraceConfig config) {
  Device d(config);
  d.licensed_at(kBoot);
  d.clock.on_link_down(kBoot);
  d.drain();
  GraceRecord last = d.stored();
  for (int i = 0; i < crashes; ++i) {
    Device next(config);
    next.clock.on_boot(0, kRtcLost, last);
    next.drain();
    next.run_to(period);  // then killed: whatever was not checkpointed is lost
    last = next.stored();
    EXPECT_FALSE(last.clean_stop);
  }
  return last.elapsed_ms;
}

TEST(GraceClock, CrashLoopOfAnyPeriodStillAdvancesGrace) {
  GraceConfig c;
  c.grace_checkpoint = 60 * kSecondMs;
  for (Millis period : {Millis{500}, kSecondMs, 59 * kSecondMs, 61 * kSecondMs, kHourMs}) {
    SCOPED_TRACE(period);
    const int crashes = 50;
    const Millis recorded = grace_after_crash_loop(period, crashes, c);
    // Never less than the time really run; at most one charge per start more.
    EXPECT_GE(recorded, crashes * period - c.grace_checkpoint);
    EXPECT_LE(recorded, crashes * period + crashes * c.grace_checkpoint);
  }
}

TEST(GraceClock, CheckpointsEveryGraceCheckpointWhileInGraceOnly) {
  GraceConfig c;
  c.grace_checkpoint = 10 * kSecondMs;
  Device d(c);
  d.licensed_at(kBoot);
  EXPECT_EQ(d.clock.next_deadline(), kBoot + kHourMs);  // licensed: checkpoint_s
  d.clock.on_link_down(kBoot);
  d.drain();
  EXPECT_EQ(d.clock.next_deadline(), kBoot + 10 * kSecondMs);
  d.run_to(kBoot + 10 * kSecondMs);
  EXPECT_EQ(d.stored().elapsed_ms, 10 * kSecondMs);
  EXPECT_FALSE(d.stored().clean_stop);
}

TEST(GraceClock, CleanStopIsChargedExactlyUncleanStopGraceCheckpoint) {
  GraceConfig c;
  c.grace_checkpoint = 60 * kSecondMs;
  Device before(c);
  before.licensed_at(kBoot);
  before.clock.on_link_down(kBoot);
  before.run_to(kBoot + 90 * kSecondMs);
  const GraceRecord clean = before.clock.clean_stop_record(kBoot + 95 * kSecondMs);
  EXPECT_TRUE(clean.clean_stop);
  EXPECT_EQ(clean.elapsed_ms, 95 * kSecondMs);
  Device after(c);
  after.clock.on_boot(0, kRtcLost, clean);
  after.drain();
  EXPECT_FALSE(after.clock.unclean_start());
  EXPECT_EQ(after.clock.elapsed_ms(), 95 * kSecondMs);
  // The start is recorded as running: a crash now is an unclean stop.
  EXPECT_FALSE(after.stored().clean_stop);
  Device crashed(c);
  crashed.clock.on_boot(0, kRtcLost, after.stored());
  EXPECT_TRUE(crashed.clock.unclean_start());
  EXPECT_EQ(crashed.clock.elapsed_ms(), 95 * kSecondMs + 60 * kSecondMs);
}

TEST(GraceClock, MeasuredGapReplacesUncleanChargesOfSeveralStarts) {
  auto saved = three_days_into_grace(false);  // has a trusted UTC
  GraceRecord r = saved.record;
  // Three unclean starts of 10 s each without trusted time, then a trusted
  // clock says 1 h passed in all since the checkpoint.
  for (int i = 0; i < 3; ++i) {
    Device d;
    d.clock.on_boot(0, kRtcLost, r);
    d.run_to(10 * kSecondMs);
    r = d.stored();
  }
  EXPECT_EQ(r.unmeasured_ms, 3 * 60 * kSecondMs);
  // Each run of 10 s ended before its next checkpoint: it went unrecorded,
  // and the charge of 60 s stands in for it.
  EXPECT_EQ(r.elapsed_ms, saved.record.elapsed_ms + 3 * 60 * kSecondMs);
  Device d;
  d.clock.on_boot(0, kRtcLost, r);  // a fourth unclean start: charged again
  d.drain();
  d.clock.on_trusted_time(5 * kSecondMs, saved.utc + kHourMs);
  d.drain();
  EXPECT_EQ(d.clock.elapsed_ms(), saved.record.elapsed_ms + kHourMs);
  EXPECT_EQ(d.clock.unmeasured_ms(), 0);
}

TEST(GraceClock, OutOfRangeRestoredRecordGivesNoFreshGrace) {
  GraceRecord r;
  r.state = LicenseState::grace;
  r.license_held = true;
  r.elapsed_ms = kMaxGraceDurationMs + 1;  // a caller that skipped the decoder
  Device d;
  d.clock.on_boot(0, kRtcLost, r);
  d.drain();
  EXPECT_EQ(d.clock.state(), LicenseState::expired);
  EXPECT_FALSE(d.clock.features_on());
}

// A configuration with zero or negative durations (a caller that skipped
// the configuration parser's checks) must not stall grace or divide by
// zero: each such duration is the protocol default, so the clock runs
// exactly as with the defaults.
TEST(GraceClock, NonPositiveDurationsRunAsTheDefaults) {
  GraceConfig broken;
  broken.grace_period = 0;
  broken.alarm_delay = -1;
  broken.alarm_interval = 0;
  broken.checkpoint_interval = -5;
  broken.grace_checkpoint = 0;
  broken.skew_limit = 0;
  broken.skew_tolerance = -1;
  Device odd(broken);
  Device normal;
  for (Device* d : {&odd, &normal}) {
    d->licensed_at(kBoot);
    d->clock.on_link_down(kBoot + kSecondMs);
    d->drain();
  }
  EXPECT_EQ(odd.clock.next_deadline(), normal.clock.next_deadline());
  EXPECT_EQ(odd.clock.next_deadline(), kBoot + kSecondMs + 60 * kSecondMs) << "grace checkpoint every 60 s";
  const Millis end = kBoot + kSecondMs + 30 * kDayMs;
  odd.run_to(end - 1);
  normal.run_to(end - 1);
  EXPECT_EQ(odd.clock.state(), LicenseState::grace);
  EXPECT_EQ(odd.count(EventKind::grace_alarm), normal.count(EventKind::grace_alarm));
  EXPECT_EQ(odd.count(EventKind::grace_alarm), 30u) << "after 10 minutes, then daily";
  odd.run_to(end);
  normal.run_to(end);
  EXPECT_EQ(odd.clock.state(), LicenseState::expired);
  EXPECT_EQ(normal.clock.state(), LicenseState::expired);
}

}  // namespace
}  // namespace sublink
