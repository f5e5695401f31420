// SNTP (RFC 4330) client packets: the 48-byte request and the checks and
// arithmetic on the answer. No I/O here (sntp_query.h sends and receives).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/clock.h"

namespace sublink {

inline constexpr size_t kSntpPacketBytes = 48;

/// What one valid answer says about our clock.
struct SntpSample {
  Millis offset_ms = 0;      // add to our clock to get the server's
  Millis delay_ms = 0;       // round trip minus the server's own time
  Millis server_utc_ms = 0;  // the server's transmit time
  int stratum = 0;           // 1 = a reference clock, 2.. = further away
};

/// Why an answer was not used.
enum class SntpProblem : uint8_t {
  none,
  short_packet,    // fewer than 48 bytes
  not_a_server,    // mode is not 4 (server) or version not 3/4
  kiss_of_death,   // stratum 0: the server refuses us (RATE, DENY, ...)
  unsynchronised,  // leap indicator 3 or stratum above 15
  not_our_request, // originate timestamp is not what we sent
  no_time,         // transmit timestamp is zero
};

/// A short English phrase for `problem`.
std::string_view sntp_problem_text(SntpProblem problem);

/// Writes a version-4 client request into `out` whose transmit timestamp is
/// `now_utc_ms`; the answer must echo it (RFC 4330 section 5).
void build_sntp_request(std::span<uint8_t, kSntpPacketBytes> out, Millis now_utc_ms);

/// Checks `answer` to the request sent at `sent_utc_ms` (our clock) and
/// received at `received_utc_ms`, and fills `sample`. `kiss_code` gets the
/// four-letter code of a kiss-of-death answer.
SntpProblem parse_sntp_answer(std::span<const uint8_t> answer, Millis sent_utc_ms, Millis received_utc_ms,
                              SntpSample& sample, char (&kiss_code)[5]);

/// NTP 64-bit timestamp <-> UTC milliseconds. Timestamps whose top bit is
/// clear are taken from era 1 (2036-02-07 onwards), as RFC 4330 section 3
/// advises, so the conversion holds until 2104.
uint64_t ntp_timestamp_from_utc_ms(Millis utc_ms);
Millis utc_ms_from_ntp_timestamp(uint64_t timestamp);

}  // namespace sublink
