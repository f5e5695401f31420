// Check 1 of `sublinkctl doctor`: the configuration file and every file it
// names, each reported on its own line (sublinkd stops at the first
// problem; a site engineer wants them all), plus what sublinkd does not
// check at start: certificates that have expired or soon will.
#pragma once

#include <string>
#include <vector>

#include "boards/host/config/config_file.h"
#include "boards/host/doctor/check_line.h"
#include "hal/clock.h"

namespace sublink {

struct ConfigCheck {
  std::vector<CheckLine> lines;
  /// The configuration parsed: `files.config` may be used.
  bool parsed = false;
  /// No FAIL line: sublinkd would start with these files.
  bool ok = false;
  /// The TLS credentials (ca_file, cert_file, key_file) are usable.
  bool tls_ready = false;
  HostConfig files;
};

/// A device certificate this close to its end is a WARN.
inline constexpr Millis kCertificateWarnMs = 30 * kDayMs;

/// Reads and checks the configuration at `path` against the wall clock
/// `now_utc_ms` (certificate validity). Creates nothing.
void check_configuration(const std::string& path, Millis now_utc_ms, ConfigCheck& out);

/// "2031-04-05 10:00 UTC".
std::string utc_text(Millis utc_ms);

}  // namespace sublink
