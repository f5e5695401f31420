// The simulated device's clocks: monotonic time restarts at boot, the RTC
// runs through power-off and can be set, jumped, lost and synchronised.
#include "hal/sim/device_clocks.h"

#include <gtest/gtest.h>

#include "hal/sim/virtual_clock.h"

namespace sublink {
namespace {

constexpr Millis kWall = 1'700'000'000'000;

TEST(SimBootClock, CountsFromTheLastBoot) {
  VirtualClock world(kWall, 5000);
  SimBootClock boot(world);
  EXPECT_EQ(boot.now_ms(), 0);
  world.advance(700);
  EXPECT_EQ(boot.now_ms(), 700);
  world.advance(300);
  boot.restart();
  EXPECT_EQ(boot.now_ms(), 0) << "time before the reboot is invisible";
  world.advance(42);
  EXPECT_EQ(boot.now_ms(), 42);
  EXPECT_EQ(boot.to_world(100), 6100);
  EXPECT_EQ(boot.to_world(kNever), kNever);
}

TEST(SimRtc, RunsWithTheWorldAndIsTrustedOnlyAfterNtpThisBoot) {
  VirtualClock world(kWall);
  SimRtc rtc(world);
  WallTime t = rtc.now();
  EXPECT_EQ(t.utc_ms, kWall);
  EXPECT_TRUE(t.set);
  EXPECT_FALSE(t.trusted);
  rtc.sync_from_ntp();
  world.advance(10 * 86'400'000LL);  // ten days, powered or not
  t = rtc.now();
  EXPECT_EQ(t.utc_ms, kWall + 10 * 86'400'000LL);
  EXPECT_TRUE(t.trusted);
  rtc.forget_trust();  // a reboot
  EXPECT_FALSE(rtc.now().trusted);
  EXPECT_EQ(rtc.now().utc_ms, kWall + 10 * 86'400'000LL) << "the time itself survives";
}

TEST(SimRtc, SetAndJumpMoveTheReadingAndDropTrust) {
  VirtualClock world(kWall);
  SimRtc rtc(world);
  rtc.sync_from_ntp();
  rtc.jump(-2 * 86'400'000LL);
  EXPECT_EQ(rtc.now().utc_ms, kWall - 2 * 86'400'000LL);
  EXPECT_EQ(rtc.error_ms(), -2 * 86'400'000LL);
  EXPECT_FALSE(rtc.now().trusted);
  world.advance(1000);
  EXPECT_EQ(rtc.now().utc_ms, kWall - 2 * 86'400'000LL + 1000) << "a wrong clock still runs";
  rtc.set(kWall + 5);
  EXPECT_EQ(rtc.now().utc_ms, kWall + 5);
  EXPECT_FALSE(rtc.now().trusted);
  rtc.jump(0);
  EXPECT_EQ(rtc.error_ms(), 5 - 1000);
}

TEST(SimRtc, LostReadsFrom1970UntilSetOrSynchronised) {
  VirtualClock world(kWall);
  SimRtc rtc(world);
  world.advance(500);
  rtc.lose();
  world.advance(2500);
  WallTime t = rtc.now();
  EXPECT_EQ(t.utc_ms, 2500);
  EXPECT_FALSE(t.set);
  EXPECT_FALSE(t.trusted);
  rtc.jump(1000);
  EXPECT_EQ(rtc.now().utc_ms, 3500);
  EXPECT_FALSE(rtc.is_set());
  rtc.sync_from_ntp();
  t = rtc.now();
  EXPECT_TRUE(t.set && t.trusted);
  EXPECT_EQ(t.utc_ms, kWall + 3000);
}

}  // namespace
}  // namespace sublink
