#include "server_core/server_tunnel.h"

namespace sublink {

TunnelMuxLimits ServerTunnel::mux_limits(const ServerTunnelLimits& limits) {
  TunnelMuxLimits m;
  m.max_channels = limits.max_channels;
  m.window = limits.window;
  m.send_queue = limits.send_queue;
  m.idle_ms = limits.idle_ms;
  return m;
}

ServerTunnel::ServerTunnel(const ServerTunnelLimits& limits, ServerTunnelObserver& observer)
    : observer_(observer),
      slots_(limits.max_channels),
      buffer_(new uint8_t[TunnelMux::buffer_bytes(mux_limits(limits))]),
      owner_(limits.max_channels, 0),
      service_(limits.max_channels),
      op_(limits.max_channels),
      mux_(mux_limits(limits), slots_,
           std::span<uint8_t>(buffer_.get(), TunnelMux::buffer_bytes(mux_limits(limits))), *this) {}

Result<TunnelSlot> ServerTunnel::open(std::string_view service, std::string_view op, uint64_t owner) {
  if (service.empty() || service.size() > kTunnelMaxName || op.size() > kTunnelMaxName) {
    return Status(Reason::invalid_argument);
  }
  if (mux_.live_count() >= mux_.capacity()) return Status(Reason::out_of_memory);
  // At most capacity() ids are in use, so a free one is found within
  // capacity() + 1 tries.
  for (size_t tries = 0; tries <= mux_.capacity(); ++tries) {
    const uint16_t id = next_id_;
    next_id_ = next_id_ == UINT16_MAX ? kTunnelMinChannel : static_cast<uint16_t>(next_id_ + 1);
    Result<TunnelSlot> slot = mux_.open(id, service, op);
    if (slot.ok()) {
      owner_[*slot] = owner;
      service_[*slot] = std::string(service);
      op_[*slot] = std::string(op);
      return slot;
    }
    if (slot.status().reason() != Reason::protocol_violation) return slot.status();  // not "id in use"
  }
  return Status(Reason::out_of_memory);
}

Status ServerTunnel::receive(std::span<const uint8_t> message, Millis now) {
  mux_.tick(now);
  return mux_.receive(message);
}

void ServerTunnel::on_link_down() { mux_.on_link_down(); }

void ServerTunnel::on_tunnel_open(TunnelSlot slot, const TunnelFrame& /*open*/) {
  // Only the server opens channels (section 6): a device's OPEN is refused.
  mux_.reset(slot, TunnelReset::protocol);
}

void ServerTunnel::on_tunnel_accepted(TunnelSlot slot) { observer_.on_channel_accepted(*this, slot, owner_[slot]); }

void ServerTunnel::on_tunnel_readable(TunnelSlot slot) { observer_.on_channel_readable(*this, slot, owner_[slot]); }

void ServerTunnel::on_tunnel_closed(TunnelSlot slot, const TunnelClosed& closed) {
  const uint64_t owner = owner_[slot];
  owner_[slot] = 0;
  // A slot the device opened (refused above) has no owner: nobody to tell.
  if (owner != 0) observer_.on_channel_closed(*this, slot, owner, closed);
}

}  // namespace sublink
