#include "boards/host/doctor/sntp_packet.h"

namespace sublink {

namespace {

// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
constexpr int64_t kNtpToUnixSeconds = 2208988800;
constexpr int64_t kEraSeconds = int64_t{1} << 32;

uint64_t read_u64(std::span<const uint8_t> p, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | p[at + i];
  return v;
}

void write_u64(std::span<uint8_t> p, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) p[at + i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}

// Field offsets of the NTP header.
constexpr size_t kOriginate = 24;
constexpr size_t kReceive = 32;
constexpr size_t kTransmit = 40;

}  // namespace

std::string_view sntp_problem_text(SntpProblem problem) {
  switch (problem) {
    case SntpProblem::none: return "valid";
    case SntpProblem::short_packet: return "answer shorter than 48 bytes";
    case SntpProblem::not_a_server: return "answer is not from an NTP server (mode/version)";
    case SntpProblem::kiss_of_death: return "the server refuses to serve us (kiss-o'-death)";
    case SntpProblem::unsynchronised: return "the server's own clock is not synchronised";
    case SntpProblem::not_our_request: return "answer does not match our request";
    case SntpProblem::no_time: return "answer carries no time";
  }
  return "unknown";
}

uint64_t ntp_timestamp_from_utc_ms(Millis utc_ms) {
  int64_t seconds = utc_ms / 1000 + kNtpToUnixSeconds;
  int64_t ms = utc_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    --seconds;
  }
  uint64_t fraction = (static_cast<uint64_t>(ms) << 32) / 1000;
  return (static_cast<uint64_t>(seconds) << 32) | fraction;  // era wraps by truncation
}

Millis utc_ms_from_ntp_timestamp(uint64_t timestamp) {
  int64_t seconds = static_cast<int64_t>(timestamp >> 32);
  if ((seconds & 0x80000000) == 0) seconds += kEraSeconds;  // era 1
  int64_t ms = static_cast<int64_t>(((timestamp & 0xffffffffu) * 1000 + (uint64_t{1} << 31)) >> 32);
  return (seconds - kNtpToUnixSeconds) * 1000 + ms;
}

void build_sntp_request(std::span<uint8_t, kSntpPacketBytes> out, Millis now_utc_ms) {
  for (uint8_t& b : out) b = 0;
  out[0] = (0 << 6) | (4 << 3) | 3;  // LI 0, version 4, mode 3 (client)
  write_u64(out, kTransmit, ntp_timestamp_from_utc_ms(now_utc_ms));
}

SntpProblem parse_sntp_answer(std::span<const uint8_t> answer, Millis sent_utc_ms, Millis received_utc_ms,
                              SntpSample& sample, char (&kiss_code)[5]) {
  kiss_code[0] = '\0';
  if (answer.size() < kSntpPacketBytes) return SntpProblem::short_packet;
  int leap = answer[0] >> 6;
  int version = (answer[0] >> 3) & 7;
  int mode = answer[0] & 7;
  int stratum = answer[1];
  if (mode != 4 || version < 3 || version > 4) return SntpProblem::not_a_server;
  if (read_u64(answer, kOriginate) != ntp_timestamp_from_utc_ms(sent_utc_ms)) return SntpProblem::not_our_request;
  if (stratum == 0) {
    for (size_t i = 0; i < 4; ++i) {
      char c = static_cast<char>(answer[12 + i]);
      kiss_code[i] = (c >= 'A' && c <= 'Z') ? c : '?';
    }
    kiss_code[4] = '\0';
    return SntpProblem::kiss_of_death;
  }
  if (leap == 3 || stratum > 15) return SntpProblem::unsynchronised;
  uint64_t transmit = read_u64(answer, kTransmit);
  if (transmit == 0) return SntpProblem::no_time;
  // T1 sent, T2 server received, T3 server sent, T4 we received.
  Millis t1 = sent_utc_ms;
  Millis t2 = utc_ms_from_ntp_timestamp(read_u64(answer, kReceive));
  Millis t3 = utc_ms_from_ntp_timestamp(transmit);
  Millis t4 = received_utc_ms;
  sample.offset_ms = ((t2 - t1) + (t3 - t4)) / 2;
  sample.delay_ms = (t4 - t1) - (t3 - t2);
  sample.server_utc_ms = t3;
  sample.stratum = stratum;
  return SntpProblem::none;
}

}  // namespace sublink
