// SHA-1 (FIPS 180-4) for the WebSocket opening handshake's accept key
// (RFC 6455 section 4.2.2), its only use here. Collision resistance does not
// matter there: the accept key only proves the server read the request. A
// small implementation of its own keeps Mbed TLS's 3.6 KB one out of the
// device image, where TLS itself never uses SHA-1.
//
// Driving it:
//   Sha1 sha;
//   sha.update(part1);
//   sha.update(part2);
//   std::array<uint8_t, Sha1::kDigestBytes> digest = sha.finish();
#ifndef SUBLINK_NET_WEBSOCKET_WS_SHA1_H
#define SUBLINK_NET_WEBSOCKET_WS_SHA1_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sublink {

class Sha1 {
 public:
  static constexpr size_t kDigestBytes = 20;

  /// Adds `bytes` to the message. Any length, in any number of calls, up
  /// to 2^61 - 1 bytes in all.
  void update(std::span<const uint8_t> bytes);
  /// Pads the message and returns its digest. The object is then spent:
  /// start a new one for the next message.
  std::array<uint8_t, kDigestBytes> finish();

 private:
  void compress();

  std::array<uint32_t, 5> h_{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
  std::array<uint8_t, 64> block_{};
  size_t used_ = 0;      // bytes in block_
  uint64_t length_ = 0;  // message bytes so far
};

}  // namespace sublink

#endif
