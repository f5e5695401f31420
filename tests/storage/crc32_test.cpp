#include "hal/crc32.h"

#include <gtest/gtest.h>

#include <string_view>

namespace sublink {
namespace {

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Crc32, MatchesTheStandardCheckValue) {
  // The catalogue check value of CRC-32/ISO-HDLC (zlib, PNG).
  EXPECT_EQ(crc32(bytes("123456789")), 0xCBF43926u);
  EXPECT_EQ(crc32(bytes("")), 0u);
}

TEST(Crc32, ChunkedEqualsWhole) {
  const std::string_view text = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    EXPECT_EQ(crc32(bytes(text.substr(cut)), crc32(bytes(text.substr(0, cut)))),
              crc32(bytes(text)));
  }
  EXPECT_EQ(crc32(bytes(text)), 0x414FA339u);
}

TEST(Crc32, EverySingleBitFlipChangesIt) {
  uint8_t data[64];
  for (size_t i = 0; i < sizeof data; ++i) data[i] = static_cast<uint8_t>(i * 37);
  const uint32_t good = crc32(data);
  for (size_t bit = 0; bit < sizeof data * 8; ++bit) {
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(crc32(data), good) << bit;
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

}  // namespace
}  // namespace sublink
