#include "hal/posix/system_clock.h"

#include <sys/timex.h>
#include <time.h>

namespace sublink {

Millis SystemMonotonicClock::now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Millis system_utc_ms() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

WallTime SystemWallClock::now() {
  WallTime t;
  t.utc_ms = system_utc_ms();
  t.set = t.utc_ms >= kEarliestPlausibleUtcMs;
  timex tx{};
  int state = adjtimex(&tx);
  t.trusted = t.set && state != TIME_ERROR && !(tx.status & STA_UNSYNC);
  return t;
}

}  // namespace sublink
