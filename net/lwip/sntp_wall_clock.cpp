#include "net/lwip/sntp_wall_clock.h"

namespace sublink {

SntpWallClock::SntpWallClock(MonotonicClock& mono, Millis trust_for_ms) : mono_(mono), trust_for_ms_(trust_for_ms) {}

void SntpWallClock::set(Millis utc_ms, bool trusted) {
  utc_at_set_ = utc_ms;
  mono_at_set_ = mono_.now_ms();
  set_ = true;
  trusted_source_ = trusted;
  ++answers_;
}

WallTime SntpWallClock::now() {
  WallTime t;
  if (!set_) return t;  // 1970, not set: the agent treats it as unknown
  const Millis since = mono_.now_ms() - mono_at_set_;
  t.utc_ms = utc_at_set_ + since;
  t.set = true;
  t.trusted = trusted_source_ && since <= trust_for_ms_;
  return t;
}

}  // namespace sublink
