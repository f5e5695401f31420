// What the agent asks of its tunnels (PROTOCOL.md section 6): the calls it
// makes from its inputs and its drain step. TunnelService is the one
// implementation; the agent holds it through this interface so a board that
// never calls Agent::enable_tunnels links none of the tunnel code.
#pragma once

#include <cstdint>
#include <span>

#include "firmware/agent/agent_status.h"
#include "hal/clock.h"
#include "hal/status.h"

namespace sublink {

class AgentTunnels {
 public:
  virtual ~AgentTunnels() = default;
  /// The server's `welcome` arrived (true): channels may be opened.
  virtual void set_link_accepted(bool accepted) = 0;
  /// One binary message; protocol_violation closes the link with 1002.
  [[nodiscard]] virtual Status on_binary(std::span<const uint8_t> message, Millis now) = 0;
  /// Timers, then frames out while the link has room (after the JSON).
  virtual void step(Millis now) = 0;
  virtual Millis next_deadline(Millis now) const = 0;
  /// Every channel ends with the link.
  virtual void link_lost(Millis now) = 0;
  /// RST shutdown on every channel, written before the link closes.
  virtual void shutdown(Millis now) = 0;
  /// The open channels (views valid until the next call).
  virtual std::span<const TunnelListing> list(Millis now) const = 0;
};

}  // namespace sublink
