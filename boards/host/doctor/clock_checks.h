// Check 2 of `sublinkctl doctor`: is the system clock set, does the kernel
// call it synchronised, and how far is it from the configured NTP servers
// (asked over SNTP). A clock far off makes certificates look expired and
// makes the agent record skew; NTP that cannot be reached is a firewall rule.
#pragma once

#include <string>
#include <vector>

#include "boards/host/doctor/check_line.h"
#include "boards/host/doctor/sntp_query.h"
#include "firmware/config/device_config.h"
#include "hal/clock.h"

namespace sublink {

/// Further off than this from NTP is a FAIL.
inline constexpr Millis kMaxClockOffsetMs = 60 * 1000;

/// One configured NTP server and what it answered.
struct NtpAnswer {
  std::string host;
  uint16_t port = kNtpPort;
  SntpQueryResult result;
};

/// Asks every server of `config.ntp_list()`, `timeout_ms` per address.
std::vector<NtpAnswer> ask_ntp_servers(const DeviceConfig& config, int timeout_ms);

/// The clock lines from the kernel's view of the clock (`kernel`) and the
/// answers. Pure.
std::vector<CheckLine> judge_clock(const WallTime& kernel, const std::vector<NtpAnswer>& answers);

/// "+0.012 s", "-10800.0 s (3 h 0 min)".
std::string offset_text(Millis offset_ms);

}  // namespace sublink
