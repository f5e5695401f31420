// Test-side WebSocket tools written independently of net/websocket: a
// server frame builder (so hostile frames can be made byte by byte), a
// decoder that unmasks what the client sent, and a scripted Random.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hal/random.h"
#include "net/websocket/ws_client.h"

namespace sublink::wstest {

using Bytes = std::vector<uint8_t>;

inline Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline std::string string_of(std::span<const uint8_t> b) { return std::string(b.begin(), b.end()); }
inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// Returns the RFC 6455 sample nonce ("the sample nonce") for the first 16
/// bytes, so the expected Sec-WebSocket-Accept is the RFC's own example, then
/// a deterministic non-zero stream for masks.
class ScriptedRandom : public Random {
 public:
  Status fill(std::span<uint8_t> out) override {
    ++calls;
    if (fail_next) {
      fail_next = false;
      return Reason::io_error;
    }
    static constexpr char kNonce[] = "the sample nonce";
    for (auto& b : out) {
      if (pos_ < 16) {
        b = static_cast<uint8_t>(kNonce[pos_++]);
      } else {
        state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
        b = static_cast<uint8_t>((state_ >> 33) | 1);  // never 0: masking must change the bytes
      }
    }
    return Status::Ok();
  }
  int calls = 0;
  bool fail_next = false;

 private:
  size_t pos_ = 0;
  uint64_t state_ = 42;
};

inline constexpr std::string_view kSampleKey = "dGhlIHNhbXBsZSBub25jZQ==";
inline constexpr std::string_view kSampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

inline std::string ok_response(std::string_view extra_headers = "") {
  return std::string(
             "HTTP/1.1 101 Switching Protocols\r\n"
             "Upgrade: websocket\r\n"
             "Connection: Upgrade\r\n"
             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
             "Sec-WebSocket-Protocol: sublink.v1\r\n") +
         std::string(extra_headers) + "\r\n";
}

/// A frame as a server would send it. `first` is the whole first byte
/// (FIN, RSV bits, opcode) so reserved bits and opcodes can be anything.
/// `length_form` forces 7-bit (0), 16-bit (126) or 64-bit (127) lengths.
inline Bytes raw_frame(uint8_t first, std::span<const uint8_t> payload, int length_form = -1,
                       std::optional<uint32_t> mask = std::nullopt) {
  Bytes f{first};
  const uint64_t n = payload.size();
  const uint8_t mask_bit = mask ? 0x80 : 0x00;
  if (length_form < 0) length_form = n < 126 ? 0 : (n <= 0xFFFF ? 126 : 127);
  if (length_form == 0) {
    f.push_back(static_cast<uint8_t>(mask_bit | n));
  } else if (length_form == 126) {
    f.push_back(mask_bit | 126);
    f.push_back(static_cast<uint8_t>(n >> 8));
    f.push_back(static_cast<uint8_t>(n));
  } else {
    f.push_back(mask_bit | 127);
    for (int s = 56; s >= 0; s -= 8) f.push_back(static_cast<uint8_t>(n >> s));
  }
  uint8_t key[4] = {};
  if (mask) {
    for (int i = 0; i < 4; ++i) key[i] = static_cast<uint8_t>(*mask >> (24 - 8 * i));
    f.insert(f.end(), key, key + 4);
  }
  for (size_t i = 0; i < payload.size(); ++i) f.push_back(payload[i] ^ key[i & 3]);
  return f;
}

inline Bytes frame(uint8_t opcode, std::string_view payload, bool fin = true) {
  return raw_frame(static_cast<uint8_t>((fin ? 0x80 : 0) | opcode), bytes_of(payload));
}
inline Bytes close_frame(uint16_t code, std::string_view reason = "") {
  Bytes p{static_cast<uint8_t>(code >> 8), static_cast<uint8_t>(code)};
  p.insert(p.end(), reason.begin(), reason.end());
  return raw_frame(0x88, p);
}

/// A frame the client sent, unmasked.
struct SentFrame {
  uint8_t first = 0;
  bool masked = false;
  uint8_t key[4] = {};
  size_t header_length = 0;
  Bytes wire_payload;  // as on the wire (masked)
  Bytes payload;       // unmasked
  uint8_t opcode() const { return first & 0x0F; }
  bool fin() const { return (first & 0x80) != 0; }
  uint16_t close_code() const { return payload.size() >= 2 ? static_cast<uint16_t>(payload[0] << 8 | payload[1]) : 0; }
};

/// Decodes every complete frame in `wire`; fails the test on a partial one.
inline std::vector<SentFrame> decode_client_frames(std::span<const uint8_t> wire) {
  std::vector<SentFrame> frames;
  size_t p = 0;
  while (p < wire.size()) {
    SentFrame f;
    EXPECT_LE(p + 2, wire.size());
    if (p + 2 > wire.size()) break;
    f.first = wire[p];
    f.masked = (wire[p + 1] & 0x80) != 0;
    uint64_t n = wire[p + 1] & 0x7F;
    size_t h = 2;
    if (n == 126) {
      n = (uint64_t{wire[p + 2]} << 8) | wire[p + 3];
      h += 2;
    } else if (n == 127) {
      n = 0;
      for (int i = 0; i < 8; ++i) n = (n << 8) | wire[p + 2 + i];
      h += 8;
    }
    if (f.masked) {
      std::memcpy(f.key, &wire[p + h], 4);
      h += 4;
    }
    f.header_length = h;
    EXPECT_LE(p + h + n, wire.size());
    if (p + h + n > wire.size()) break;
    f.wire_payload.assign(wire.begin() + p + h, wire.begin() + p + h + n);
    for (size_t i = 0; i < n; ++i) f.payload.push_back(f.wire_payload[i] ^ f.key[i & 3]);
    frames.push_back(f);
    p += h + n;
  }
  return frames;
}

/// An event copied out of the client (its views die at the next call).
struct Got {
  WsEventType type;
  std::string data;
  uint16_t close_code = 0;
  std::string close_reason;
  bool by_peer = false;
  Status status;
};

inline Got copy_event(const WsEvent& e) {
  return Got{e.type, string_of(e.data), e.close_code, std::string(e.close_reason), e.by_peer, e.status};
}

/// Feeds `wire` in chunks of `chunk` bytes, collecting every event.
inline std::vector<Got> feed_all(WsClient& c, std::span<const uint8_t> wire, size_t chunk = SIZE_MAX) {
  std::vector<Got> events;
  WsEvent e;
  size_t pos = 0;
  int stalls = 0;  // a full buffer takes nothing once; after next_event() ran it must take again
  while (pos < wire.size()) {
    const size_t n = std::min(chunk, wire.size() - pos);
    const size_t taken = c.feed(wire.subspan(pos, n));
    pos += taken;
    while (c.next_event(e)) events.push_back(copy_event(e));
    stalls = taken == 0 ? stalls + 1 : 0;
    if (stalls > 1) {
      ADD_FAILURE() << "client takes no bytes even after next_event()";
      break;
    }
  }
  while (c.next_event(e)) events.push_back(copy_event(e));
  return events;
}

inline std::vector<Got> feed_all(WsClient& c, std::string_view wire, size_t chunk = SIZE_MAX) {
  const Bytes b = bytes_of(wire);
  return feed_all(c, b, chunk);
}

/// Takes all of the client's output and decodes it as frames.
inline std::vector<SentFrame> take_frames(WsClient& c) {
  const Bytes wire(c.output().begin(), c.output().end());
  c.consume_output(wire.size());
  return decode_client_frames(wire);
}

}  // namespace sublink::wstest
