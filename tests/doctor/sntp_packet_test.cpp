// The SNTP client packet: what goes out, and what a server's answer says
// about our clock (RFC 4330 section 5).
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "boards/host/doctor/sntp_packet.h"

namespace sublink {
namespace {

constexpr Millis kNow = 1767225600123;  // 2026-01-01 00:00:00.123 UTC

void put_u64(std::array<uint8_t, 48>& p, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8; ++i) p[at + i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}

// A server answer to a request sent at `sent`, with the server's clock
// `offset` ahead of ours and `one_way` ms on each leg.
std::array<uint8_t, 48> answer(Millis sent, Millis offset, Millis one_way, int stratum = 2) {
  std::array<uint8_t, 48> p{};
  p[0] = (0 << 6) | (4 << 3) | 4;
  p[1] = static_cast<uint8_t>(stratum);
  put_u64(p, 24, ntp_timestamp_from_utc_ms(sent));
  put_u64(p, 32, ntp_timestamp_from_utc_ms(sent + one_way + offset));
  put_u64(p, 40, ntp_timestamp_from_utc_ms(sent + one_way + offset + 1));
  return p;
}

TEST(SntpPacket, RequestIsAVersion4ClientPacketCarryingOurTime) {
  std::array<uint8_t, kSntpPacketBytes> request{};
  request.fill(0xAA);
  build_sntp_request(request, kNow);
  EXPECT_EQ(request[0], 0x23) << "LI 0, VN 4, mode 3";
  for (size_t i = 1; i < 40; ++i) EXPECT_EQ(request[i], 0) << i;
  uint64_t transmit = 0;
  for (size_t i = 0; i < 8; ++i) transmit = (transmit << 8) | request[40 + i];
  EXPECT_EQ(utc_ms_from_ntp_timestamp(transmit), kNow);
}

TEST(SntpPacket, TimestampsConvertBothWaysAcrossTheEraBoundary) {
  EXPECT_EQ(utc_ms_from_ntp_timestamp(ntp_timestamp_from_utc_ms(0)), 0);
  EXPECT_EQ(ntp_timestamp_from_utc_ms(0) >> 32, 2208988800u);
  const Millis after_2036 = 2200000000000;  // 2039-09-19: NTP era 1
  EXPECT_EQ(utc_ms_from_ntp_timestamp(ntp_timestamp_from_utc_ms(after_2036)), after_2036);
  EXPECT_EQ(utc_ms_from_ntp_timestamp(ntp_timestamp_from_utc_ms(kNow)), kNow);
}

TEST(SntpPacket, OffsetAndDelayFromTheFourTimestamps) {
  SntpSample s;
  char kiss[5];
  auto a = answer(kNow, 3 * 3600 * 1000, 20);
  ASSERT_EQ(parse_sntp_answer(a, kNow, kNow + 41, s, kiss), SntpProblem::none);
  EXPECT_EQ(s.offset_ms, 3 * 3600 * 1000) << "the server's clock is 3 h ahead of ours";
  EXPECT_EQ(s.delay_ms, 40);
  EXPECT_EQ(s.stratum, 2);

  auto behind = answer(kNow, -90 * 1000, 5);
  ASSERT_EQ(parse_sntp_answer(behind, kNow, kNow + 11, s, kiss), SntpProblem::none);
  EXPECT_EQ(s.offset_ms, -90 * 1000);
}

TEST(SntpPacket, AnswersThatMustNotSetOurOpinionAreRefused) {
  SntpSample s;
  char kiss[5];
  auto a = answer(kNow, 0, 1);
  EXPECT_EQ(parse_sntp_answer({a.data(), 47}, kNow, kNow + 2, s, kiss), SntpProblem::short_packet);
  EXPECT_EQ(parse_sntp_answer(a, kNow + 1, kNow + 2, s, kiss), SntpProblem::not_our_request)
      << "originate must echo our transmit timestamp";
  auto client = a;
  client[0] = 0x23;
  EXPECT_EQ(parse_sntp_answer(client, kNow, kNow + 2, s, kiss), SntpProblem::not_a_server);
  auto unsynced = a;
  unsynced[0] |= 3 << 6;
  EXPECT_EQ(parse_sntp_answer(unsynced, kNow, kNow + 2, s, kiss), SntpProblem::unsynchronised);
  auto kod = answer(kNow, 0, 1, 0);
  std::memcpy(&kod[12], "DENY", 4);
  EXPECT_EQ(parse_sntp_answer(kod, kNow, kNow + 2, s, kiss), SntpProblem::kiss_of_death);
  EXPECT_STREQ(kiss, "DENY");
  auto no_time = a;
  for (size_t i = 40; i < 48; ++i) no_time[i] = 0;
  EXPECT_EQ(parse_sntp_answer(no_time, kNow, kNow + 2, s, kiss), SntpProblem::no_time);
}

}  // namespace
}  // namespace sublink
