// Tunnel frames (PROTOCOL.md section 6): one binary WebSocket message each,
// a type byte, a big-endian channel id and a body. Reading and writing only;
// what a frame means for a channel (credit, half-close, ids in use) is
// tunnel_credit.h's and the tunnel service's. Both roles use this one codec:
// the device reads OPEN and writes OPEN_OK, the server the other way round.
//
// Driving it:
//   Result<TunnelFrame> f = parse_tunnel_frame(message);   // a binary message
//   if (!f.ok()) close the link with 1002 (f.status(): protocol_violation)
//   uint8_t out[kTunnelMaxFrameBytes];
//   Result<size_t> n = write_tunnel_frame(TunnelFrame::window(7, 32768), out);
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/status.h"

namespace sublink {

enum class TunnelFrameType : uint8_t {
  data = 0x01,
  window = 0x02,
  fin = 0x03,
  rst = 0x04,
  open = 0x05,
  open_ok = 0x06,
};

/// Why a channel was reset (the RST frame's reason byte).
enum class TunnelReset : uint8_t {
  unknown_service = 1,
  not_allowed = 2,
  connect_refused = 3,
  connect_timeout = 4,
  too_many_channels = 5,
  no_memory = 6,
  flow_control = 7,
  protocol = 8,
  idle_timeout = 9,
  local_reset = 10,
  shutdown = 11,
};

/// PROTOCOL.md's name of a reset reason ("connect_refused"), or "unknown"
/// for a byte outside 1..11 (a newer peer's reason: shown, never fatal).
const char* tunnel_reset_name(uint8_t reason);

/// Channel ids the server allocates: 1..65535 (0 is never a channel).
inline constexpr uint16_t kTunnelMinChannel = 1;
/// DATA payload: 1..16384 bytes.
inline constexpr size_t kTunnelMaxData = 16384;
/// Credit (a WINDOW increment, or a window in OPEN / OPEN_OK): 1..2^31-1.
inline constexpr uint32_t kTunnelMaxCredit = 0x7FFFFFFF;
/// Early data the server may send behind OPEN before OPEN_OK.
inline constexpr size_t kTunnelMaxEarlyData = 4096;
/// Service names and operator identities: 1..255 and 0..255 bytes.
inline constexpr size_t kTunnelMaxName = 255;
/// RST text: at most 255 bytes (a reason is a short line).
inline constexpr size_t kTunnelMaxResetText = 255;
/// Type and channel.
inline constexpr size_t kTunnelHeaderBytes = 3;
/// The largest frame either side writes or accepts.
inline constexpr size_t kTunnelMaxFrameBytes = kTunnelHeaderBytes + kTunnelMaxData;

/// The largest DATA frame a side that grants `window` per channel may be
/// sent: DATA stays within the window, except the early data behind OPEN,
/// which may reach kTunnelMaxEarlyData whatever the window.
constexpr size_t tunnel_largest_data_frame(uint32_t window) {
  const size_t payload = window > kTunnelMaxEarlyData ? window : kTunnelMaxEarlyData;
  return kTunnelHeaderBytes + (payload < kTunnelMaxData ? payload : kTunnelMaxData);
}

struct TunnelFrame {
  TunnelFrameType type = TunnelFrameType::data;
  uint16_t channel = 0;
  /// DATA: the payload (points into the parsed message).
  std::span<const uint8_t> payload;
  /// WINDOW: the increment; OPEN and OPEN_OK: the window granted. Parsed as
  /// sent: 0 is read (it resets the channel, not the link; section 6).
  uint32_t credit = 0;
  /// RST: the reason byte as sent (a value outside 1..11 is kept).
  uint8_t reason = 0;
  /// RST: the optional text; OPEN: the operator identity (may be empty).
  std::string_view text;
  /// OPEN: the service name.
  std::string_view service;

  static TunnelFrame data(uint16_t channel, std::span<const uint8_t> payload);
  static TunnelFrame window(uint16_t channel, uint32_t increment);
  static TunnelFrame fin(uint16_t channel);
  static TunnelFrame rst(uint16_t channel, TunnelReset reason, std::string_view text = {});
  static TunnelFrame open(uint16_t channel, uint32_t window, std::string_view service, std::string_view op = {});
  static TunnelFrame open_ok(uint16_t channel, uint32_t window);
};

/// Reads one tunnel frame from a whole binary WebSocket message. Fails with
/// protocol_violation (the link closes with 1002) when the message is
/// malformed: shorter than its type needs, an unknown type, channel 0, DATA
/// of 0 or more than 16384 bytes, a body longer than its type allows, an OPEN
/// whose name length overruns the message or is 0, or text that is not UTF-8.
/// `detail` says which (the byte offset at fault). Views point into `message`.
[[nodiscard]] Result<TunnelFrame> parse_tunnel_frame(std::span<const uint8_t> message);

/// Writes `frame` into `out` and returns its length; invalid_argument when
/// the frame breaks the limits above (as parse would reject it, credit 0
/// included: this side never sends one) and out_of_memory when `out` is
/// too small (kTunnelMaxFrameBytes always suffices).
[[nodiscard]] Result<size_t> write_tunnel_frame(const TunnelFrame& frame, std::span<uint8_t> out);

}  // namespace sublink
