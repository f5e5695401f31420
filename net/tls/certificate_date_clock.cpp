#include "net/tls/certificate_date_clock.h"

#ifndef SUBLINK_BUILD_UTC_S
#error "SUBLINK_BUILD_UTC_S comes from net/tls/CMakeLists.txt"
#endif

namespace sublink {

const char* clock_source_name(ClockSource source) {
  switch (source) {
    case ClockSource::ntp: return "ntp";
    case ClockSource::server: return "server";
    case ClockSource::rtc: return "rtc";
    case ClockSource::build: return "build";
  }
  return "build";
}

Millis firmware_build_utc_ms() { return static_cast<Millis>(SUBLINK_BUILD_UTC_S) * 1000; }

CertificateDateClock::CertificateDateClock(WallClock& board, MonotonicClock& mono, Millis build_utc_ms)
    : board_(board), mono_(mono), build_utc_ms_(build_utc_ms) {}

ClockReading CertificateDateClock::reading() {
  const WallTime board = board_.now();
  const bool plausible = board.set && board.utc_ms >= build_utc_ms_;
  if (plausible && board.trusted) return {board.utc_ms, ClockSource::ntp, true};
  if (server_known_) {
    const Millis elapsed = mono_.now_ms() - server_mono_;
    return {server_utc_ + (elapsed > 0 ? elapsed : 0), ClockSource::server, true};
  }
  if (plausible) return {board.utc_ms, ClockSource::rtc, false};
  return {build_utc_ms_, ClockSource::build, false};
}

WallTime CertificateDateClock::now() {
  const ClockReading r = reading();
  WallTime t;
  t.utc_ms = r.utc_ms;
  t.set = true;
  t.trusted = r.trusted;
  return t;
}

bool CertificateDateClock::learn_server_time(Millis mono_now, Millis utc_ms) {
  if (utc_ms < build_utc_ms_) return false;
  server_known_ = true;
  server_utc_ = utc_ms;
  server_mono_ = mono_now;
  return true;
}

}  // namespace sublink
