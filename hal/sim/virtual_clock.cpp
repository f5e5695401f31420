#include "hal/sim/virtual_clock.h"

namespace sublink {

VirtualClock::VirtualClock(Millis wall_utc_ms, Millis start_ms, bool set, bool trusted)
    : mono_(start_ms), wall_offset_(wall_utc_ms - start_ms), set_(set), trusted_(trusted) {}

WallTime VirtualClock::now() {
  WallTime t;
  t.utc_ms = mono_ + wall_offset_;
  t.set = set_;
  t.trusted = set_ && trusted_;
  return t;
}

void VirtualClock::advance(Millis delta_ms) {
  if (delta_ms > 0) mono_ += delta_ms;
}

void VirtualClock::advance_to(Millis t) {
  if (t > mono_) mono_ = t;
}

void VirtualClock::set_wall(Millis utc_ms, bool trusted) {
  wall_offset_ = utc_ms - mono_;
  set_ = true;
  trusted_ = trusted;
}

void VirtualClock::jump_wall(Millis delta_ms) { wall_offset_ += delta_ms; }

void VirtualClock::lose_rtc() {
  // A lost RTC counts up from the epoch from the moment it was lost.
  wall_offset_ = -mono_;
  set_ = false;
  trusted_ = false;
}

}  // namespace sublink
