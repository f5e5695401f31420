#include "firmware/events/record_codec.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sublink
