// The two clocks of one simulated device, both read off the simulation's
// world clock (never the host's time):
//  - SimBootClock, its monotonic clock: starts again from zero at every
//    boot, as a board's SysTick or CLOCK_MONOTONIC does, so time spent
//    powered off is invisible to it;
//  - SimRtc, its real-time clock: the true UTC plus an error that can be
//    staged (set, jumped, lost to 1970), which keeps running while the
//    device is powered off, and whose trust (an NTP answer) lasts only
//    for the boot that got it.
#pragma once

#include "hal/clock.h"

namespace sublink {

/// Monotonic time since the last boot over a world monotonic clock.
class SimBootClock final : public MonotonicClock {
 public:
  /// `world` must outlive the clock. Reads 0 until the first restart().
  explicit SimBootClock(MonotonicClock& world) : world_(world), boot_at_(world.now_ms()) {}

  /// Milliseconds since the last restart().
  Millis now_ms() override { return world_.now_ms() - boot_at_; }
  /// The device booted now: the clock counts from zero again.
  void restart() { boot_at_ = world_.now_ms(); }
  /// The world time this boot's zero corresponds to.
  Millis boot_at() const { return boot_at_; }
  /// Converts a device monotonic time of this boot to world time.
  Millis to_world(Millis device_ms) const;

 private:
  MonotonicClock& world_;
  Millis boot_at_;
};

/// A device's battery-backed RTC over the world's true UTC.
class SimRtc final : public WallClock {
 public:
  /// `truth` gives the true UTC (set and trusted) and must outlive the RTC,
  /// which starts correct, set and not trusted (no NTP answer yet).
  explicit SimRtc(WallClock& truth) : truth_(truth) {}

  /// The RTC's reading: true UTC plus its error; counts from 1970 since it
  /// was lost while not set; trusted only after sync_from_ntp() this boot.
  WallTime now() override;

  /// An operator or a bad time source sets the clock to `utc_ms` (untrusted).
  void set(Millis utc_ms);
  /// Moves the clock by `delta_ms` (negative: set back); trust is kept only
  /// when the move is zero, as nothing vouches for the new time.
  void jump(Millis delta_ms);
  /// The battery died: the clock reads 1970 from now on, counting up, and
  /// is neither set nor trusted until set() or sync_from_ntp().
  void lose();
  /// An NTP answer: the clock is now correct, set and trusted.
  void sync_from_ntp();
  /// The device lost power or rebooted: the RTC keeps its time but the NTP
  /// trust belonged to the previous boot.
  void forget_trust() { trusted_ = false; }

  /// Current error against true UTC while set (reading - truth).
  Millis error_ms() const { return offset_; }
  bool is_set() const { return set_; }

 private:
  WallClock& truth_;
  Millis offset_ = 0;     // while set: reading - true UTC
  Millis lost_at_ = 0;    // while not set: true UTC when it was lost
  bool set_ = true;
  bool trusted_ = false;
};

}  // namespace sublink
