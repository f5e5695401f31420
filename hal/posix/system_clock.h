// Linux backends of the clock facades.
#pragma once

#include "hal/clock.h"

namespace sublink {

/// CLOCK_MONOTONIC in milliseconds (CLOCK_BOOTTIME would count suspend; an
/// appliance does not suspend, and grace must not jump on resume either).
class SystemMonotonicClock final : public MonotonicClock {
 public:
  Millis now_ms() override;
};

/// CLOCK_REALTIME; trusted while the kernel reports the clock synchronised
/// (adjtimex without STA_UNSYNC, as NTP daemons leave it); unset before 2020.
class SystemWallClock final : public WallClock {
 public:
  WallTime now() override;
};

/// CLOCK_REALTIME in UTC milliseconds, as it reads, with no judgement of
/// whether it is set or trusted (for tools that compare it with a source).
Millis system_utc_ms();

/// Wall times before this are an RTC that lost its battery, not a date.
inline constexpr Millis kEarliestPlausibleUtcMs = 1577836800000;  // 2020-01-01

}  // namespace sublink
