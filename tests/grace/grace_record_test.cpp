#include "firmware/grace/grace_record.h"

#include <gtest/gtest.h>

#include <algorithm>
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
  r.unmeasured_ms = 120000;
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


// Re-frames a record with one 8-byte field replaced, valid CRC: internally
// consistent, out of range.
std::vector<uint8_t> with_i64(const GraceRecord& r, size_t body_offset, int64_t value) {
  auto bytes = encode_grace_record(r);
  for (int i = 0; i < 8; ++i) {
    bytes[kRecordHeaderSize + body_offset + i] = static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i));
  }
  std::vector<uint8_t> body(bytes.begin() + kRecordHeaderSize, bytes.end() - kRecordTrailerSize);
  std::vector<uint8_t> out(bytes.size());
  RecordWriter w(out, {'S', 'L', 'G', 'R'}, kGraceRecordVersion);
  w.bytes(body);
  EXPECT_TRUE(w.finish().ok());
  return out;
}

TEST(GraceRecord, EveryFieldOutOfItsRangeIsRefused) {
  const GraceRecord r = sample();
  // Body offsets: 4 elapsed, 12 alarms_raised (u32), 16 utc, 24 wall, 32 unmeasured.
  EXPECT_TRUE(decode_grace_record(with_i64(r, 4, kMaxGraceDurationMs)).ok());
  EXPECT_EQ(fault(with_i64(r, 4, kMaxGraceDurationMs + 1)), as_int(RecordFault::bad_value));
  EXPECT_EQ(fault(with_i64(r, 4, INT64_MAX)), as_int(RecordFault::bad_value));
  EXPECT_EQ(fault(with_i64(r, 16, kMaxRecordUtcMs + 1)), as_int(RecordFault::bad_value));
  EXPECT_EQ(fault(with_i64(r, 16, -1)), as_int(RecordFault::bad_value));
  EXPECT_EQ(fault(with_i64(r, 24, INT64_MIN)), as_int(RecordFault::bad_value));
  EXPECT_EQ(fault(with_i64(r, 32, -1)), as_int(RecordFault::bad_value));
  // More charged unmeasured than elapsed in all: inconsistent.
  EXPECT_EQ(fault(with_i64(r, 32, r.elapsed_ms + 1)), as_int(RecordFault::bad_value));
  GraceRecord many = r;
  many.alarms_raised = kMaxGraceAlarms;
  EXPECT_TRUE(decode_grace_record(encode_grace_record(many)).ok());
  auto bytes = encode_grace_record(many);
  bytes[kRecordHeaderSize + 12 + 3] = 0xFF;  // alarms_raised near 2^32
  std::vector<uint8_t> body(bytes.begin() + kRecordHeaderSize, bytes.end() - kRecordTrailerSize);
  std::vector<uint8_t> out(bytes.size());
  RecordWriter w(out, {'S', 'L', 'G', 'R'}, kGraceRecordVersion);
  w.bytes(body);
  ASSERT_TRUE(w.finish().ok());
  EXPECT_EQ(fault(out), as_int(RecordFault::bad_value));
  EXPECT_EQ(fault(reframed(encode_grace_record(r), 3, 0x08)), as_int(RecordFault::bad_value));  // unknown flag
}

// Found by fuzz/record_grace_fuzz.cpp: a time flagged unknown with a value
// behind it decoded, and encoded back as 0: two encodings of one state.
TEST(GraceRecord, AnUnknownTimeIsStoredAsZeroAndNothingElse) {
  GraceRecord r = sample();
  r.utc_ms.reset();
  r.wall_ms.reset();
  const GraceRecordBytes canonical = encode_grace_record(r);
  ASSERT_TRUE(decode_grace_record(canonical).ok());
  EXPECT_EQ(fault(with_i64(r, 16, 1700000000123)), as_int(RecordFault::bad_value));  // utc unknown, not 0
  EXPECT_EQ(fault(with_i64(r, 24, 1)), as_int(RecordFault::bad_value));              // wall unknown, not 0
  EXPECT_TRUE(decode_grace_record(with_i64(r, 16, 0)).ok());
  Result<GraceRecord> back = decode_grace_record(canonical);
  ASSERT_TRUE(back.ok());
  const GraceRecordBytes again = encode_grace_record(*back);
  EXPECT_TRUE(std::equal(again.begin(), again.end(), canonical.begin()));
}

TEST(GraceRecord, NothingIsWrittenThatCannotBeReadBack) {
  GraceRecord wild;
  wild.state = LicenseState::grace;
  wild.license_held = false;  // features on without a license
  wild.elapsed_ms = INT64_MAX;
  wild.unmeasured_ms = INT64_MIN;
  wild.alarms_raised = UINT32_MAX;
  wild.utc_ms = INT64_MIN;
  wild.wall_ms = INT64_MAX;
  EXPECT_FALSE(grace_record_in_range(wild));
  auto back = decode_grace_record(encode_grace_record(wild));
  ASSERT_TRUE(back.ok()) << back.status().detail();
  EXPECT_TRUE(grace_record_in_range(*back));
  EXPECT_FALSE(features_on(back->state));  // clamping never turns features on
  EXPECT_EQ(back->elapsed_ms, kMaxGraceDurationMs);
}

TEST(GraceRecord, CleanStopFlagRoundTripsAndVersion1StillDecodes) {
  GraceRecord r = sample();
  r.clean_stop = true;
  auto back = decode_grace_record(encode_grace_record(r));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->clean_stop);
  // A version 1 record (before this field) from the firmware being replaced.
  std::vector<uint8_t> v1(kGraceRecordSizeV1);
  RecordWriter w(v1, {'S', 'L', 'G', 'R'}, kGraceRecordVersion1);
  w.u8(static_cast<uint8_t>(LicenseState::grace));
  w.u8(1);
  w.u8(0);
  w.u8(0x01);
  w.i64(5000);
  w.u32(0);
  w.i64(1700000000000);
  w.i64(0);
  ASSERT_TRUE(w.finish().ok());
  auto old = decode_grace_record(v1);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->clean_stop);  // not known to be clean: charged as unclean
  EXPECT_EQ(old->unmeasured_ms, 0);
  EXPECT_EQ(old->elapsed_ms, 5000);
}

}  // namespace
}  // namespace sublink
