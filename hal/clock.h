// Clocks, injected rather than called globally. 64-bit milliseconds
// everywhere: a 32-bit tick wraps after 49.7 days, inside a grace period.
#pragma once

#include <cstdint>
#include <optional>

namespace sublink {

/// Milliseconds. Monotonic times count from an arbitrary origin (boot);
/// wall times are UTC since the Unix epoch.
using Millis = int64_t;

/// A time that never comes: "no deadline".
inline constexpr Millis kNever = INT64_MAX;

/// Time since boot, never going back. Backends: clock_gettime(CLOCK_MONOTONIC),
/// SysTick on a board, the virtual clock in the simulation.
class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  virtual Millis now_ms() = 0;
};

/// The wall clock as the device knows it, with how far it can be trusted.
struct WallTime {
  Millis utc_ms = 0;
  bool set = false;      // false: RTC lost / never set (reads 1970)
  bool trusted = false;  // true: synchronised from NTP/SNTP recently
};

class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual WallTime now() = 0;
};

}  // namespace sublink
