// The clock Mbed TLS asks when it checks certificate validity. Mbed TLS is
// built with MBEDTLS_PLATFORM_TIME_ALT, so "now" is whatever wall clock the
// board (or the simulation's virtual clock) installs here, never time(2).
#pragma once

#include "hal/clock.h"

namespace sublink {

class CertificateDateClock;

/// Makes `clock` the time source for every certificate validity check, until
/// another clock (or nullptr) is installed. The clock must outlive its use.
/// With no clock installed, Mbed TLS sees 1970, so every certificate is "not
/// yet valid": a device that does not know the time fails closed.
void install_tls_wall_clock(WallClock* clock);

/// The installed clock, or nullptr.
WallClock* installed_tls_wall_clock();

/// Installs a device's certificate clock (see certificate_date_clock.h):
/// while it reads only the build time, a certificate not yet valid is
/// accepted and one that expired before the build is refused.
void install_tls_certificate_clock(CertificateDateClock* clock);

/// The installed certificate clock (nullptr after install_tls_wall_clock).
CertificateDateClock* installed_tls_certificate_clock();

/// True while certificate dates are checked against the firmware's build
/// time (no trusted clock, no plausible RTC): "not yet valid" is then no
/// reason to refuse a certificate.
bool tls_dates_from_build_time();

}  // namespace sublink
