// The SNTP answer parser (boards/host/doctor/sntp_packet, what `sublinkctl
// doctor` reads from an NTP server). Input: 8 bytes for the time the
// request was sent, a flag byte (bit 0: echo our request's originate
// timestamp, so the checks after it are reached), then the packet.
//
// Invariants: a used answer is from a server (mode 4, version 3 or 4) that
// is synchronised (stratum 1..15, leap indicator not 3), echoes our request
// and carries a transmit time; a kiss-of-death code is four of A-Z or '?';
// NTP timestamps and UTC ms convert back and forth exactly from 1970 to 2104.
#include "boards/host/doctor/sntp_packet.h"
#include "fuzz/fuzz_check.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

constexpr Millis kYear2104Ms = 4'228'675'200'000;  // 2104-01-01T00:00:00Z

uint64_t read_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 9) return 0;
  const Millis sent = static_cast<Millis>(read_u64(data) % static_cast<uint64_t>(kYear2104Ms));
  check(utc_ms_from_ntp_timestamp(ntp_timestamp_from_utc_ms(sent)) == sent);
  const bool echo = data[8] & 1;
  const Millis received = sent + (data[8] >> 1) * 7;
  uint8_t packet[256] = {};
  const size_t packet_size = size - 9 < sizeof(packet) ? size - 9 : sizeof(packet);
  for (size_t i = 0; i < packet_size; ++i) packet[i] = data[9 + i];
  const uint64_t request_time = ntp_timestamp_from_utc_ms(sent);
  if (echo && packet_size >= kSntpPacketBytes) {
    for (size_t i = 0; i < 8; ++i) packet[24 + i] = static_cast<uint8_t>(request_time >> (56 - 8 * i));
  }

  SntpSample sample;
  char kiss[5] = "xxxx";
  const SntpProblem problem = parse_sntp_answer({packet, packet_size}, sent, received, sample, kiss);
  check(!sntp_problem_text(problem).empty() && sntp_problem_text(problem) != "unknown");
  if (problem == SntpProblem::kiss_of_death) {
    for (size_t i = 0; i < 4; ++i) check((kiss[i] >= 'A' && kiss[i] <= 'Z') || kiss[i] == '?');
    check(kiss[4] == '\0');
  } else {
    check(kiss[0] == '\0');
  }
  if (problem != SntpProblem::none) return 0;
  check(packet_size >= kSntpPacketBytes);
  const int mode = packet[0] & 7;
  const int version = (packet[0] >> 3) & 7;
  check(mode == 4 && (version == 3 || version == 4) && (packet[0] >> 6) != 3);
  check(sample.stratum >= 1 && sample.stratum <= 15);
  check(read_u64(packet + 24) == request_time);
  check(read_u64(packet + 40) != 0);
  check(sample.server_utc_ms == utc_ms_from_ntp_timestamp(read_u64(packet + 40)));
  return 0;
}
