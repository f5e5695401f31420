// The link as the tunnels see it (PROTOCOL.md section 6): binary messages
// out, one tunnel frame each, and how much is still queued to go, so
// tunnel DATA is written only while the link has room and never sits in
// front of a heartbeat by more than one frame. The Link is one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "hal/status.h"

namespace sublink {

class BinaryChannel {
 public:
  /// True while a WebSocket is open to write to.
  virtual bool up() const = 0;
  /// Bytes queued on the link and not yet taken by the socket (WebSocket
  /// frames and TLS records).
  virtual size_t output_queued() const = 0;
  /// Queues one binary message: would_block when not up or the output is
  /// full (the message is not taken then).
  [[nodiscard]] virtual Status send_binary(std::span<const uint8_t> message) = 0;

 protected:
  ~BinaryChannel() = default;
};

}  // namespace sublink
