// The clock certificate dates are checked with (PROTOCOL.md section 2).
// With a trusted clock (NTP, or the server's `time` learned from `welcome`
// on an earlier link) dates are checked as usual. With none (an RTC lost at
// power-up, no NTP answer) the firmware's build time stands in: a
// certificate that expired before the build is refused, one that becomes
// valid only after it is accepted (the device's true time is certainly
// later than its build). Never 1970, never "skip the dates".
//
// It wraps the board's wall clock; install it with
// install_tls_certificate_clock() and tell it the server's time from
// `welcome`. Sans-I/O and allocation-free.
#pragma once

#include <cstdint>

#include "hal/clock.h"

namespace sublink {

/// Which clock certificate dates are checked with, in the status's words.
enum class ClockSource : uint8_t {
  ntp,     // the board's clock, synchronised (trusted)
  server,  // the server's `time` from `welcome`, carried on by the monotonic clock (trusted)
  rtc,     // the board's clock, set but not synchronised (not trusted)
  build,   // no usable clock: the firmware's build time (not trusted)
};

/// "ntp", "server", "rtc" or "build".
const char* clock_source_name(ClockSource source);

/// The firmware's build time (UTC ms): SOURCE_DATE_EPOCH, else the date of
/// the commit built, fixed when the build is configured (net/tls/CMakeLists.txt).
Millis firmware_build_utc_ms();

struct ClockReading {
  Millis utc_ms = 0;
  ClockSource source = ClockSource::build;
  bool trusted = false;
};

class CertificateDateClock final : public WallClock {
 public:
  /// `board` and `mono` must outlive the clock. `build_utc_ms` is the floor
  /// used when no clock is usable (tests give their own).
  CertificateDateClock(WallClock& board, MonotonicClock& mono, Millis build_utc_ms = firmware_build_utc_ms());

  /// The best clock now, in this order: the board's when NTP vouches for
  /// it, the server's when a link told it, the board's when it is set and
  /// not before the build, else the build time. A board clock reading
  /// before the build is wrong by construction and never used.
  ClockReading reading();

  /// WallClock: reading() as a WallTime (always set; trusted as reading()).
  WallTime now() override;

  /// The server's `time` (UTC ms) at monotonic instant `mono_now`: trusted
  /// from now on (PROTOCOL.md section 2), also for the next links. Values
  /// before the build time are not a clock and are ignored (returns false).
  bool learn_server_time(Millis mono_now, Millis utc_ms);

  Millis build_utc_ms() const { return build_utc_ms_; }

 private:
  WallClock& board_;
  MonotonicClock& mono_;
  Millis build_utc_ms_;
  bool server_known_ = false;
  Millis server_utc_ = 0;
  Millis server_mono_ = 0;
};

}  // namespace sublink
