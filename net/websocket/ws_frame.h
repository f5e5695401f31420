// RFC 6455 section 5 frame headers: reading the server's, writing ours.
// Only the header is handled here; payload bytes stay where they are so the
// client can stream them into its message buffer without another copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "hal/status.h"

namespace sublink {

enum class WsOpcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

/// Largest payload of a control frame (RFC 6455 5.5).
inline constexpr size_t kWsMaxControlPayload = 125;
/// Largest frame header: 2 bytes, 8-byte length, 4-byte mask key.
inline constexpr size_t kWsMaxHeaderBytes = 14;

struct WsFrameHeader {
  bool fin = false;
  WsOpcode opcode = WsOpcode::continuation;
  bool masked = false;
  uint8_t mask_key[4] = {};
  uint64_t payload_length = 0;
  size_t header_length = 0;  // bytes the header took on the wire

  bool is_control() const { return (static_cast<uint8_t>(opcode) & 0x8) != 0; }
};

/// Reads a frame header from the start of `bytes`. Returns the header, or
/// would_block when more bytes are needed, or protocol_violation for what no
/// frame may carry whatever the connection state: reserved bits (no
/// extension is ever negotiated), unknown opcodes, a 64-bit length with its
/// top bit set, and control frames that are fragmented or over 125 bytes.
/// Masking and sequencing depend on who sent the frame and what came before,
/// so the caller checks those.
Result<WsFrameHeader> parse_ws_frame_header(std::span<const uint8_t> bytes);

/// Writes a frame header into `out`, which must hold kWsMaxHeaderBytes:
/// masked with the 4 bytes at `mask_key` (client to server), or unmasked
/// when `mask_key` is null (server to client, RFC 6455 5.1; at most 10
/// bytes). Returns the number of bytes written.
size_t write_ws_frame_header(std::span<uint8_t, kWsMaxHeaderBytes> out, WsOpcode opcode, bool fin,
                             uint64_t payload_length, const uint8_t* mask_key);

/// An unmasked frame header (server to client): write_ws_frame_header
/// without a mask key.
inline size_t write_ws_server_frame_header(std::span<uint8_t, kWsMaxHeaderBytes> out, WsOpcode opcode, bool fin,
                                           uint64_t payload_length) {
  return write_ws_frame_header(out, opcode, fin, payload_length, nullptr);
}

/// Whether a close code may appear in a close frame (RFC 6455 7.4 and the
/// IANA registry): 1000-1003, 1007-1014 and 3000-4999. 1005, 1006 and 1015
/// are reserved for reporting and never sent.
bool is_valid_ws_close_code(uint16_t code);

}  // namespace sublink
