#include "net/websocket/ws_sha1.h"

#include <algorithm>

namespace sublink {
namespace {

constexpr uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

}  // namespace

void Sha1::compress() {
  // The message schedule kept as a ring of 16 words, not 80: this runs on
  // the device's stack.
  uint32_t w[16];
  for (int i = 0; i < 16; ++i) {
    w[i] = static_cast<uint32_t>(block_[4 * i]) << 24 | static_cast<uint32_t>(block_[4 * i + 1]) << 16 |
           static_cast<uint32_t>(block_[4 * i + 2]) << 8 | static_cast<uint32_t>(block_[4 * i + 3]);
  }
  uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4];
  for (int t = 0; t < 80; ++t) {
    if (t >= 16) w[t & 15] = rotl(w[(t - 3) & 15] ^ w[(t - 8) & 15] ^ w[(t - 14) & 15] ^ w[t & 15], 1);
    uint32_t f, k;
    if (t < 20) {
      f = (b & c) | (~b & d);
      k = 0x5A827999u;
    } else if (t < 40) {
      f = b ^ c ^ d;
      k = 0x6ED9EBA1u;
    } else if (t < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8F1BBCDCu;
    } else {
      f = b ^ c ^ d;
      k = 0xCA62C1D6u;
    }
    const uint32_t next = rotl(a, 5) + f + e + k + w[t & 15];
    e = d;
    d = c;
    c = rotl(b, 30);
    b = a;
    a = next;
  }
  h_[0] += a;
  h_[1] += b;
  h_[2] += c;
  h_[3] += d;
  h_[4] += e;
}

void Sha1::update(std::span<const uint8_t> bytes) {
  length_ += bytes.size();
  while (!bytes.empty()) {
    const size_t n = std::min(bytes.size(), block_.size() - used_);
    std::copy_n(bytes.begin(), n, block_.begin() + static_cast<ptrdiff_t>(used_));
    used_ += n;
    bytes = bytes.subspan(n);
    if (used_ == block_.size()) {
      compress();
      used_ = 0;
    }
  }
}

std::array<uint8_t, Sha1::kDigestBytes> Sha1::finish() {
  const uint64_t bits = length_ * 8;
  block_[used_++] = 0x80;
  if (used_ > 56) {
    std::fill(block_.begin() + static_cast<ptrdiff_t>(used_), block_.end(), 0);
    compress();
    used_ = 0;
  }
  std::fill(block_.begin() + static_cast<ptrdiff_t>(used_), block_.begin() + 56, 0);
  for (int i = 0; i < 8; ++i) block_[56 + i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
  compress();
  std::array<uint8_t, kDigestBytes> digest{};
  for (size_t i = 0; i < digest.size(); ++i) digest[i] = static_cast<uint8_t>(h_[i / 4] >> (24 - 8 * (i % 4)));
  return digest;
}

}  // namespace sublink
