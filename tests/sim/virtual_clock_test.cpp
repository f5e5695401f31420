#include "hal/sim/virtual_clock.h"

#include <gtest/gtest.h>

namespace sublink {
namespace {

constexpr Millis kWall = 1'700'000'000'000;

TEST(VirtualClock, MovesOnlyWhenAdvancedAndNeverBack) {
  VirtualClock clock(kWall, 5);
  EXPECT_EQ(clock.now_ms(), 5);
  clock.advance(10);
  clock.advance(-100);
  clock.advance_to(3);
  EXPECT_EQ(clock.now_ms(), 15);
  clock.advance_to(1000);
  EXPECT_EQ(clock.now_ms(), 1000);
  EXPECT_EQ(clock.now().utc_ms, kWall + 995);
}

TEST(VirtualClock, WallJumpsLeaveMonotonicTimeAlone) {
  VirtualClock clock(kWall);
  clock.jump_wall(-3'600'000);
  EXPECT_EQ(clock.now().utc_ms, kWall - 3'600'000);
  EXPECT_EQ(clock.now_ms(), 0);
  clock.set_wall(kWall + 86'400'000, false);
  clock.advance(1000);
  const WallTime t = clock.now();
  EXPECT_EQ(t.utc_ms, kWall + 86'401'000);
  EXPECT_TRUE(t.set);
  EXPECT_FALSE(t.trusted);
  clock.set_trusted(true);
  EXPECT_TRUE(clock.now().trusted);
}

TEST(VirtualClock, LostRtcCountsFrom1970UntilSet) {
  VirtualClock clock(kWall, 50'000);
  clock.lose_rtc();
  clock.advance(2500);
  WallTime t = clock.now();
  EXPECT_EQ(t.utc_ms, 2500);
  EXPECT_FALSE(t.set);
  clock.set_trusted(true);
  EXPECT_FALSE(clock.now().trusted) << "an unset clock is never trusted";
  clock.set_wall(kWall, true);
  t = clock.now();
  EXPECT_TRUE(t.set && t.trusted);
  EXPECT_EQ(t.utc_ms, kWall);
}

}  // namespace
}  // namespace sublink
