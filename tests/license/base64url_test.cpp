#include "firmware/license/base64url.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "test_license_signer.h"

namespace sublink {
namespace {

std::string decode_text(std::string_view in) {
  std::array<uint8_t, 64> out{};
  auto n = base64url_decode(in, out);
  if (!n.ok()) return "<error>";
  return std::string(reinterpret_cast<const char*>(out.data()), *n);
}

TEST(Base64Url, DecodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(decode_text(""), "");
  EXPECT_EQ(decode_text("Zg"), "f");
  EXPECT_EQ(decode_text("Zm8"), "fo");
  EXPECT_EQ(decode_text("Zm9v"), "foo");
  EXPECT_EQ(decode_text("Zm9vYg"), "foob");
  EXPECT_EQ(decode_text("Zm9vYmE"), "fooba");
  EXPECT_EQ(decode_text("Zm9vYmFy"), "foobar");
}

TEST(Base64Url, UsesTheUrlAlphabet) {
  std::array<uint8_t, 4> out{};
  auto n = base64url_decode("-_-_", out);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 3u);
  EXPECT_EQ(out[0], 0xFB);
  EXPECT_EQ(out[1], 0xFF);
  EXPECT_EQ(out[2], 0xBF);
}

TEST(Base64Url, RoundTripsEveryByteValue) {
  std::array<uint8_t, 256> bytes{};
  for (int i = 0; i < 256; ++i) bytes[i] = static_cast<uint8_t>(i);
  std::string text = test::base64url_encode(bytes);
  std::array<uint8_t, 256> out{};
  auto n = base64url_decode(text, out);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 256u);
  EXPECT_EQ(out, bytes);
}

TEST(Base64Url, RefusesPaddingStandardAlphabetAndJunk) {
  std::array<uint8_t, 16> out{};
  for (std::string_view bad : {"Zg==", "Zm8=", "ab+c", "ab/c", "ab c", "Zm9v\n", "Zm\x80v", "Zm9v!"}) {
    auto n = base64url_decode(bad, out);
    EXPECT_FALSE(n.ok()) << bad;
    EXPECT_EQ(n.status().reason(), Reason::invalid_argument) << bad;
  }
}

TEST(Base64Url, RefusesImpossibleLengthAndNonCanonicalTrailingBits) {
  std::array<uint8_t, 16> out{};
  EXPECT_FALSE(base64url_decode("Z", out).ok());
  EXPECT_FALSE(base64url_decode("Zm9vY", out).ok());
  // "Zh" carries the same first byte as "Zg" but non-zero unused bits.
  EXPECT_FALSE(base64url_decode("Zh", out).ok());
  EXPECT_FALSE(base64url_decode("Zm9", out).ok());
}

TEST(Base64Url, ReportsTooSmallOutputWithTheSizeNeeded) {
  std::array<uint8_t, 2> out{};
  auto n = base64url_decode("Zm9vYmFy", out);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().reason(), Reason::out_of_memory);
  EXPECT_EQ(n.status().detail(), 6);
  EXPECT_EQ(base64url_decoded_size(8), 6u);
  EXPECT_EQ(base64url_decoded_size(5), 0u);
}

}  // namespace
}  // namespace sublink
