#include "net/websocket/ws_frame.h"

namespace sublink {

namespace {
bool is_known_opcode(uint8_t op) {
  return op == 0x0 || op == 0x1 || op == 0x2 || op == 0x8 || op == 0x9 || op == 0xA;
}
}  // namespace

Result<WsFrameHeader> parse_ws_frame_header(std::span<const uint8_t> bytes) {
  if (bytes.size() < 2) return Reason::would_block;
  WsFrameHeader h;
  const uint8_t b0 = bytes[0];
  const uint8_t b1 = bytes[1];
  if ((b0 & 0x70) != 0) return Reason::protocol_violation;
  const uint8_t op = b0 & 0x0F;
  if (!is_known_opcode(op)) return Reason::protocol_violation;
  h.fin = (b0 & 0x80) != 0;
  h.opcode = static_cast<WsOpcode>(op);
  h.masked = (b1 & 0x80) != 0;
  const uint8_t len7 = b1 & 0x7F;
  // Control frames are checked before the extended length is read, so a
  // hostile 64-bit length on a ping fails at once rather than being waited for.
  if (h.is_control() && (!h.fin || len7 > kWsMaxControlPayload)) return Reason::protocol_violation;

  size_t pos = 2;
  if (len7 == 126) {
    if (bytes.size() < pos + 2) return Reason::would_block;
    h.payload_length = (uint64_t{bytes[2]} << 8) | bytes[3];
    pos += 2;
  } else if (len7 == 127) {
    if (bytes.size() < pos + 8) return Reason::would_block;
    if (bytes[2] & 0x80) return Reason::protocol_violation;
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = (v << 8) | bytes[2 + i];
    h.payload_length = v;
    pos += 8;
  } else {
    h.payload_length = len7;
  }
  if (h.masked) {
    if (bytes.size() < pos + 4) return Reason::would_block;
    for (size_t i = 0; i < 4; ++i) h.mask_key[i] = bytes[pos + i];
    pos += 4;
  }
  h.header_length = pos;
  return h;
}

// Both roles write the same header; only the mask bit and key differ.
size_t write_ws_frame_header(std::span<uint8_t, kWsMaxHeaderBytes> out, WsOpcode opcode, bool fin,
                             uint64_t payload_length, const uint8_t* mask_key) {
  const uint8_t mask_bit = mask_key ? 0x80 : 0x00;
  size_t pos = 0;
  out[pos++] = static_cast<uint8_t>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(opcode));
  // The shortest length form is used, as RFC 6455 5.2 requires.
  if (payload_length < 126) {
    out[pos++] = static_cast<uint8_t>(mask_bit | payload_length);
  } else if (payload_length <= 0xFFFF) {
    out[pos++] = mask_bit | 126;
    out[pos++] = static_cast<uint8_t>(payload_length >> 8);
    out[pos++] = static_cast<uint8_t>(payload_length);
  } else {
    out[pos++] = mask_bit | 127;
    for (int shift = 56; shift >= 0; shift -= 8) out[pos++] = static_cast<uint8_t>(payload_length >> shift);
  }
  if (mask_key) {
    for (size_t i = 0; i < 4; ++i) out[pos++] = mask_key[i];
  }
  return pos;
}

bool is_valid_ws_close_code(uint16_t code) {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

}  // namespace sublink
