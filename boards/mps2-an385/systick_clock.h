// The monotonic clock of the board: SysTick interrupting every millisecond
// (the mps2 CPU clock is 25 MHz), counted in 64 bits so it never wraps in
// a device's life. It is also lwIP's sys_now().
#pragma once

#include <cstdint>

#include "hal/clock.h"

namespace sublink::mps2 {

/// The CPU clock of the AN385 image.
inline constexpr uint32_t kCpuHz = 25000000;

class SysTickClock final : public MonotonicClock {
 public:
  /// Starts SysTick at 1 kHz. One instance: it owns the SysTick interrupt.
  SysTickClock();
  Millis now_ms() override;

  /// The current SysTick count-down value: sub-millisecond timing that
  /// varies with when the host schedules the emulator (entropy input).
  static uint32_t sub_tick();
};

/// Milliseconds since the clock started (what now_ms() returns), for code
/// that has no clock object (lwIP's sys_now).
Millis uptime_ms();

}  // namespace sublink::mps2
