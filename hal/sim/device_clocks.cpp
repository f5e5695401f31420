#include "hal/sim/device_clocks.h"

namespace sublink {

Millis SimBootClock::to_world(Millis device_ms) const {
  if (device_ms == kNever) return kNever;
  Millis r;
  return __builtin_add_overflow(device_ms, boot_at_, &r) ? kNever : r;
}

WallTime SimRtc::now() {
  const Millis truth = truth_.now().utc_ms;
  WallTime t;
  t.set = set_;
  t.trusted = set_ && trusted_;
  t.utc_ms = set_ ? truth + offset_ : truth - lost_at_;
  return t;
}

void SimRtc::set(Millis utc_ms) {
  offset_ = utc_ms - truth_.now().utc_ms;
  set_ = true;
  trusted_ = false;
}

void SimRtc::jump(Millis delta_ms) {
  if (delta_ms == 0) return;
  if (!set_) {
    lost_at_ -= delta_ms;
  } else {
    offset_ += delta_ms;
  }
  trusted_ = false;
}

void SimRtc::lose() {
  lost_at_ = truth_.now().utc_ms;
  set_ = false;
  trusted_ = false;
}

void SimRtc::sync_from_ntp() {
  offset_ = 0;
  set_ = true;
  trusted_ = true;
}

}  // namespace sublink
