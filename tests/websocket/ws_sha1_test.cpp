// The WebSocket accept key's SHA-1 against the published test vectors and
// against Mbed TLS's SHA-1 (still built on Linux) for every length across
// the padding's edges, in one piece and cut into parts.
#include "net/websocket/ws_sha1.h"

#include <gtest/gtest.h>
#include <mbedtls/sha1.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace sublink {
namespace {

std::string hex(const std::array<uint8_t, Sha1::kDigestBytes>& d) {
  std::string out;
  char two[3];
  for (uint8_t b : d) {
    std::snprintf(two, sizeof two, "%02x", b);
    out += two;
  }
  return out;
}

std::string sha1_hex(std::string_view text) {
  Sha1 sha;
  sha.update({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  return hex(sha.finish());
}

TEST(Sha1, MatchesThePublishedVectors) {
  // FIPS 180-2 appendix A and the empty message.
  EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  Sha1 million;
  const std::vector<uint8_t> thousand(1000, 'a');
  for (int i = 0; i < 1000; ++i) million.update(thousand);
  EXPECT_EQ(hex(million.finish()), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, AgreesWithMbedTlsAtEveryLengthAndEveryCut) {
  std::vector<uint8_t> message;
  for (size_t length = 0; length <= 200; ++length) {
    uint8_t expected[20];
    ASSERT_EQ(mbedtls_sha1_ret(message.data(), message.size(), expected), 0);
    const std::array<uint8_t, 20> want = [&] {
      std::array<uint8_t, 20> a{};
      std::copy(expected, expected + 20, a.begin());
      return a;
    }();
    Sha1 whole;
    whole.update(message);
    EXPECT_EQ(whole.finish(), want) << "length " << length;
    // The same bytes in two parts, cut at every point a block edge can fall.
    for (size_t cut : {size_t{1}, size_t{55}, size_t{56}, size_t{63}, size_t{64}, size_t{65}}) {
      if (cut > length) continue;
      Sha1 parts;
      parts.update(std::span<const uint8_t>(message).first(cut));
      parts.update(std::span<const uint8_t>(message).subspan(cut));
      EXPECT_EQ(parts.finish(), want) << "length " << length << " cut at " << cut;
    }
    message.push_back(static_cast<uint8_t>(length * 37 + 11));
  }
}

}  // namespace
}  // namespace sublink
