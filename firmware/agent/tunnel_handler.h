// A service inside the image (PROTOCOL.md section 6): where `services` maps a
// name to a host:port the agent connects to, a board may instead map a name
// to a TunnelHandler, and the channel's bytes go to code in the image (the
// mps2-an385 board's status page, firmware/agent/status_page.h). The tunnel
// service drives it: bytes in as they arrive, bytes out within the
// channel's send queue (DATA then goes out within the server's credit), FIN
// when the handler is done.
//
// Driving it (TunnelService does):
//   OPEN for the name:   if (!handler.open(slot, now)) RST no_memory; else OPEN_OK
//   bytes or room:       n = handler.on_input(slot, readable, peer_finished, reply); consume n
//   the channel is gone: handler.close(slot)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/clock.h"

namespace sublink {

/// The outgoing side of one channel, as a handler writes to it.
class TunnelReply {
 public:
  /// Bytes write() takes now (the channel's free send queue).
  virtual size_t room() const = 0;
  /// Queues what fits of `bytes` as DATA; returns the count.
  virtual size_t write(std::span<const uint8_t> bytes) = 0;
  /// Nothing more follows: FIN after the queued DATA.
  virtual void finish() = 0;

 protected:
  ~TunnelReply() = default;
};

/// A service served inside the image, one session per channel. Fixed
/// memory: a handler serves as many channels at once as it has room for
/// and refuses the others.
class TunnelHandler {
 public:
  virtual ~TunnelHandler() = default;
  /// A channel opened to this service; `channel` names it until close().
  /// False when the handler has no room for another (RST no_memory).
  virtual bool open(uint16_t channel, Millis now) = 0;
  /// What the operator sent that was not taken yet (`bytes`, maybe empty)
  /// and whether the operator finished sending after it (`peer_finished`,
  /// only with no bytes left). Called whenever bytes arrive and at every
  /// step (the reply's room may have grown). Returns how many of `bytes`
  /// it took; the rest is offered again, and credit follows what it took.
  virtual size_t on_input(uint16_t channel, std::span<const uint8_t> bytes, bool peer_finished,
                          TunnelReply& reply) = 0;
  /// The channel is gone (FIN both ways, RST, link loss): its session ends.
  virtual void close(uint16_t channel) = 0;
};

/// One in-image service: OPEN for `name` goes to `handler` (which must
/// outlive the agent). Names as in `services` (1..kMaxServiceName bytes).
struct TunnelHandlerEntry {
  std::string_view name;
  TunnelHandler* handler = nullptr;
};

}  // namespace sublink
