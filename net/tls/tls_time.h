// The clock Mbed TLS asks when it checks certificate validity. Mbed TLS is
// built with MBEDTLS_PLATFORM_TIME_ALT, so "now" is whatever wall clock the
// board (or the simulation's virtual clock) installs here, never time(2).
#pragma once

#include "hal/clock.h"

namespace sublink {

/// Makes `clock` the time source for every certificate validity check, until
/// another clock (or nullptr) is installed. The clock must outlive its use.
/// With no clock installed, Mbed TLS sees 1970, so every certificate is "not
/// yet valid": a device that does not know the time fails closed.
void install_tls_wall_clock(WallClock* clock);

/// The installed clock, or nullptr.
WallClock* installed_tls_wall_clock();

}  // namespace sublink
