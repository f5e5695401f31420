#include "firmware/events/record_codec.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sublink {
namespace {

constexpr RecordMagic kMagic = {'T', 'E', 'S', 'T'};

TEST(Crc32, MatchesTheStandardCheckValue) {
  std::string_view check = "123456789";
  EXPECT_EQ(crc32({reinterpret_cast<const uint8_t*>(check.data()), check.size()}), 0xCBF43926u);
  EXPECT_EQ(crc32({}), 0u);
}

TEST(Record, FieldsRoundTripLittleEndian) {
  std::vector<uint8_t> buf(64);
  RecordWriter w(buf, kMagic, 3);
  w.u8(0xAB);
  w.u16(0x1234);
  w.i64(-2);
  auto n = w.finish();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, kRecordOverhead + 11);
  EXPECT_EQ(buf[kRecordHeaderSize + 1], 0x34);  // little endian on every target
  auto body = open_record({buf.data(), *n}, kMagic, 3);
  ASSERT_TRUE(body.ok());
  RecordReader r(*body);
  EXPECT_EQ(r.u8(), 0xAB);
  EXPECT_EQ(r.u16(), 0x1234);
  EXPECT_EQ(r.i64(), -2);
  EXPECT_FALSE(r.overrun());
  EXPECT_EQ(r.u8(), 0);  // past the end reads zero and says so
  EXPECT_TRUE(r.overrun());
}

TEST(Record, WriterNeverOverrunsItsBuffer) {
  std::vector<uint8_t> buf(12, 0xEE);
  RecordWriter w(std::span<uint8_t>(buf).first(11), kMagic, 1);
  w.u64(1);
  EXPECT_EQ(w.finish().status().reason(), Reason::out_of_memory);
  EXPECT_EQ(buf[11], 0xEE);
}

TEST(Record, EveryTruncationIsRejected) {
  std::vector<uint8_t> buf(64);
  RecordWriter w(buf, kMagic, 1);
  w.u64(42);
  size_t n = *w.finish();
  for (size_t len = 0; len < n; ++len) {
    auto r = open_record({buf.data(), len}, kMagic, 1);
    EXPECT_FALSE(r.ok()) << len;
    EXPECT_EQ(r.status().reason(), Reason::invalid_payload);
  }
  EXPECT_EQ(open_record({buf.data(), n}, kMagic, 2).status().detail(),
            static_cast<int32_t>(RecordFault::unsupported_version));
  EXPECT_STREQ(record_fault_name(static_cast<int32_t>(RecordFault::bad_checksum)), "bad_checksum");
  EXPECT_STREQ(record_fault_name(99), "unknown");
}

TEST(Record, EveryFlippedBitIsRejected) {
  std::vector<uint8_t> buf(64);
  RecordWriter w(buf, kMagic, 1);
  w.u32(7);
  size_t n = *w.finish();
  buf.resize(n);
  for (size_t i = 0; i < n * 8; ++i) {
    auto bad = buf;
    bad[i / 8] ^= static_cast<uint8_t>(1u << (i % 8));
    EXPECT_FALSE(open_record(bad, kMagic, 1).ok()) << "bit " << i;
  }
}

TEST(Record, EveryFaultHasItsOwnName) {
  std::set<std::string> names;
  for (int32_t f = static_cast<int32_t>(RecordFault::truncated); f <= static_cast<int32_t>(RecordFault::bad_value); ++f) {
    std::string name = record_fault_name(f);
    EXPECT_NE(name, "unknown") << f;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_STREQ(record_fault_name(0), "unknown");
}

TEST(Record, AWriterThatOverflowedWritesNothingMoreEvenWhatWouldFit) {
  std::vector<uint8_t> buf(kRecordHeaderSize + 8 + kRecordTrailerSize, 0xEE);
  RecordWriter w(std::span<uint8_t>(buf).first(kRecordHeaderSize + 2), kMagic, 1);
  const uint8_t big[4] = {1, 2, 3, 4};
  w.bytes(big);   // does not fit
  w.u8(9);        // would fit, but the record is already short
  w.bytes({big, 1});
  EXPECT_EQ(w.finish().status().reason(), Reason::out_of_memory);
  EXPECT_EQ(buf[kRecordHeaderSize], 0xEE) << "nothing written after the overflow";
  EXPECT_EQ(buf[kRecordHeaderSize + 2], 0xEE) << "nor past the buffer";
}

TEST(Record, AReaderPastTheEndYieldsZerosFromThenOn) {
  const uint8_t body[3] = {7, 8, 9};
  RecordReader r(body);
  uint8_t out[4] = {1, 1, 1, 1};
  r.bytes(out);  // one byte short
  EXPECT_TRUE(r.overrun());
  EXPECT_EQ(std::vector<uint8_t>(out, out + 4), (std::vector<uint8_t>{0, 0, 0, 0}));
  uint8_t one[1] = {1};
  r.bytes(one);  // would fit, but the reader already overran
  EXPECT_EQ(one[0], 0);
  EXPECT_EQ(r.u8(), 0);
}

}  // namespace
}  // namespace sublink
