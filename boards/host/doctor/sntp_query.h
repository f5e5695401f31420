// Asks one NTP server for the time over UDP (SNTP, RFC 4330): the clock
// check of `sublinkctl doctor`. Blocking, bounded by a timeout; host only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "boards/host/doctor/sntp_packet.h"

namespace sublink {

struct SntpQueryResult {
  bool resolved = false;
  std::string resolve_error;           // getaddrinfo's text when !resolved
  std::vector<std::string> addresses;  // what the name resolved to
  bool answered = false;               // a valid answer arrived
  std::string answered_by;             // the address that answered
  SntpSample sample;
  /// Why there is no valid answer: "no answer within 2000 ms", an
  /// SntpProblem text, a socket error.
  std::string problem;
};

/// Resolves `host` and asks its addresses in turn (up to four) until one
/// answers validly, waiting up to `timeout_ms` for each.
SntpQueryResult query_sntp(const std::string& host, uint16_t port, int timeout_ms);

}  // namespace sublink
