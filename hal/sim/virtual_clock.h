// The clock of the virtual-time simulation: one object that is both the
// monotonic clock and the wall clock of a simulated device, advanced only by
// the simulation (never by the host's time), so a run is reproducible and
// 30 days pass in milliseconds. The wall clock is an offset over monotonic
// time, so the faults a device meets can be staged: an RTC set back or
// forward, an RTC that lost its time (reads 1970, set = false), and whether
// the time came from a trusted source.
#pragma once

#include "hal/clock.h"

namespace sublink {

class VirtualClock final : public MonotonicClock, public WallClock {
 public:
  /// Starts at monotonic `start_ms` with the wall clock at `wall_utc_ms`,
  /// set and trusted as given.
  explicit VirtualClock(Millis wall_utc_ms = 0, Millis start_ms = 0, bool set = true, bool trusted = true);

  /// Monotonic time: only advance()/advance_to() move it.
  Millis now_ms() override { return mono_; }
  /// The wall clock: offset + monotonic time; 1970-based time since the RTC
  /// was lost when it is not set.
  WallTime now() override;

  /// Moves time forward by `delta_ms`; a negative delta is ignored, since
  /// monotonic time never goes back.
  void advance(Millis delta_ms);
  /// Moves time forward to `t`; earlier times are ignored.
  void advance_to(Millis t);

  /// Sets the wall clock to `utc_ms` now (back or forward: what an operator
  /// or a bad NTP answer does), marking it set with the given trust.
  void set_wall(Millis utc_ms, bool trusted);
  /// Jumps the wall clock by `delta_ms` (negative: set back), keeping trust.
  void jump_wall(Millis delta_ms);
  /// The RTC lost its time: the wall clock reads from 1970 again, not set,
  /// not trusted, until set_wall().
  void lose_rtc();
  /// Marks the current wall time trusted or not (NTP answered or went away).
  void set_trusted(bool trusted) { trusted_ = trusted; }

 private:
  Millis mono_;
  Millis wall_offset_;  // wall = mono_ + wall_offset_
  bool set_;
  bool trusted_;
};

}  // namespace sublink
