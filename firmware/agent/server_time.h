// The server's clock as the device last heard it (welcome, heartbeat_ack),
// carried forward on the monotonic clock, and the best UTC the device has.
#pragma once

#include <optional>

#include "hal/clock.h"

namespace sublink {

class ServerTime {
 public:
  /// `earliest_valid_utc`: a device clock before it is not believed (GraceConfig).
  ServerTime(WallClock& wall, Millis earliest_valid_utc) : wall_(wall), earliest_valid_utc_(earliest_valid_utc) {}

  /// The server said it was `utc` at monotonic `now`.
  void learn(Millis now, Millis utc) {
    known_ = true;
    utc_ = utc;
    mono_ = now;
  }
  /// The server's time at monotonic `now`; nullopt before the first welcome.
  std::optional<Millis> now(Millis mono_now) const {
    if (!known_) return std::nullopt;
    return utc_ + (mono_now - mono_);
  }
  /// The server's time, else the device clock when it is set and plausible.
  std::optional<Millis> best_utc(Millis mono_now) const {
    if (auto s = now(mono_now)) return s;
    WallTime w = wall_.now();
    if (w.set && w.utc_ms >= earliest_valid_utc_) return w.utc_ms;
    return std::nullopt;
  }

 private:
  WallClock& wall_;
  Millis earliest_valid_utc_;
  bool known_ = false;
  Millis utc_ = 0;
  Millis mono_ = 0;
};

/// a + b, or kNever when it overflows.
inline Millis saturating_add(Millis a, Millis b) {
  Millis r;
  return __builtin_add_overflow(a, b, &r) ? kNever : r;
}

}  // namespace sublink
