#include "net/tls/tls_time.h"

#include "mbedtls/platform_time.h"
#include "net/tls/certificate_date_clock.h"

namespace sublink {

namespace {

WallClock* g_clock = nullptr;
CertificateDateClock* g_dates = nullptr;  // g_clock itself, when it is one

mbedtls_time_t clock_seconds(mbedtls_time_t* out) {
  mbedtls_time_t seconds = 0;
  if (g_clock != nullptr) {
    // Floor, not truncate: a time before the epoch must not round up to it.
    Millis ms = g_clock->now().utc_ms;
    seconds = static_cast<mbedtls_time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  }
  if (out != nullptr) *out = seconds;
  return seconds;
}

}  // namespace

void install_tls_wall_clock(WallClock* clock) {
  g_clock = clock;
  g_dates = nullptr;
  mbedtls_platform_set_time(clock_seconds);
}

WallClock* installed_tls_wall_clock() { return g_clock; }

void install_tls_certificate_clock(CertificateDateClock* clock) {
  install_tls_wall_clock(clock);
  g_dates = clock;
}

CertificateDateClock* installed_tls_certificate_clock() { return g_dates; }

bool tls_dates_from_build_time() { return g_dates != nullptr && g_dates->reading().source == ClockSource::build; }

}  // namespace sublink
