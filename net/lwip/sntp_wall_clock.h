// The wall clock of a board without a battery-backed RTC: unset until
// SNTP (lwIP's sntp app) answers, then the answer carried forward by the
// monotonic clock. Trusted (PROTOCOL.md section 5) while the last answer
// is recent; an older one still tells the time, untrusted.
#pragma once

#include "hal/clock.h"

namespace sublink {

class SntpWallClock final : public WallClock {
 public:
  /// `mono` must outlive the clock. An answer older than `trust_for_ms`
  /// (several missed hourly updates) no longer makes the clock trusted.
  explicit SntpWallClock(MonotonicClock& mono, Millis trust_for_ms = 6 * 3600 * 1000);

  /// A time source answered: UTC is `utc_ms` now. `trusted` is false for a
  /// source that only tells the time (a debugger's host clock, an RTC).
  void set(Millis utc_ms, bool trusted = true);

  /// True once any source answered.
  bool is_set() const { return set_; }
  /// How many answers were taken since boot.
  unsigned answers() const { return answers_; }

  WallTime now() override;

 private:
  MonotonicClock& mono_;
  Millis trust_for_ms_;
  bool set_ = false;
  bool trusted_source_ = false;
  unsigned answers_ = 0;
  Millis utc_at_set_ = 0;
  Millis mono_at_set_ = 0;
};

}  // namespace sublink
