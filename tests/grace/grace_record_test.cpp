#include "firmware/grace/grace_record.h"

#include <gtest/gtest.h>

#include <vector>

namespace sublink {
namespace {

GraceRecord sample() {
  GraceRecord r;
  r.state = LicenseState::grace;
  r.license_held = true;
  r.alarm_active = true;
  r.elapsed_ms = 12 * 86400000LL + 17;
  r.alarms_raised = 12;
  r.utc_ms = 1700000000123;
  r.wall_ms = 1700000000999;
  return r;
}

int32_t fault(std::span<const uint8_t> bytes) { return decode_grace_record(bytes).status().detail(); }
constexpr int32_t as_int(RecordFault f) { return static_cast<int32_t>(f); }

// Re-frames a modified body with a valid CRC, to reach the field checks.
std::vector<uint8_t> reframed(GraceRecordBytes bytes, size_t body_offset, uint8_t value) {
  bytes[kRecordHeaderSize + body_offset] = value;
  std::vector<uint8_t> body(bytes.begin() + kRecordHeaderSize, bytes.end() - kRecordTrailerSize);
  std::vector<uint8_t> out(bytes.size());
  RecordWriter w(out, {'S', 'L', 'G', 'R'}, kGraceRecordVersion);
  w.bytes(body);
  EXPECT_TRUE(w.finish().ok());
  return out;
}

TEST(GraceRecord, RoundTrips) {
  auto bytes = encode_grace_record(sample());
  auto back = decode_grace_record(bytes);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, sample());
  GraceRecord empty;
  auto e = decode_grace_record(encode_grace_record(empty));
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->utc_ms.has_value());
  EXPECT_FALSE(e->wall_ms.has_value());
}

TEST(GraceRecord, ShortCorruptForeignAndOldVersionAreRejected) {
  auto good = encode_grace_record(sample());
  for (size_t len = 0; len < good.size(); ++len) {
    auto r = decode_grace_record(std::span<const uint8_t>(good).first(len));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().reason(), Reason::invalid_payload);
  }
  EXPECT_EQ(fault(std::span<const uint8_t>(good).first(5)), as_int(RecordFault::truncated));
  auto bad = good;
  bad[kRecordHeaderSize + 5] ^= 0x40;  // a bit of elapsed_ms
  EXPECT_EQ(fault(bad), as_int(RecordFault::bad_checksum));
  bad = good;
  bad[4] = 0;  // version 0: an older format
  EXPECT_EQ(fault(bad), as_int(RecordFault::unsupported_version));
  bad = good;
  bad[3] = 'V';  // an event queue record
  EXPECT_EQ(fault(bad), as_int(RecordFault::bad_magic));
  std::vector<uint8_t> longer(good.begin(), good.end());
  longer.push_back(0);
  EXPECT_EQ(fault(longer), as_int(RecordFault::bad_length));
}

TEST(GraceRecord, OutOfRangeFieldsAreRejected) {
  auto good = encode_grace_record(sample());
  EXPECT_EQ(fault(reframed(good, 0, 4)), as_int(RecordFault::bad_value));     // state
  EXPECT_EQ(fault(reframed(good, 1, 2)), as_int(RecordFault::bad_value));     // license_held
  EXPECT_EQ(fault(reframed(good, 2, 9)), as_int(RecordFault::bad_value));     // alarm_active
  EXPECT_EQ(fault(reframed(good, 3, 0x80)), as_int(RecordFault::bad_value));  // flags
  EXPECT_EQ(fault(reframed(good, 11, 0x80)), as_int(RecordFault::bad_value)); // negative elapsed
  // Grace without a held license: features on for nothing.
  EXPECT_EQ(fault(reframed(good, 1, 0)), as_int(RecordFault::bad_value));
  EXPECT_TRUE(decode_grace_record(reframed(good, 0, 1)).ok());  // licensed is fine
}

}  // namespace
}  // namespace sublink
