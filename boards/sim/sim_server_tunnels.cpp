// The simulated server's side of the tunnels (PROTOCOL.md section 6): the
// same channel table as sublink-server (ServerTunnel) on the device's
// welcomed session, with an operator that takes every byte at once and
// logs when each arrived, so a test sees the device's order and fairness.
#include "boards/sim/sim_server.h"

namespace sublink {

std::optional<size_t> SimServer::open_channel(const std::string& service, const std::string& op) {
  SimSessionId id = 0;
  if (welcomed_session(&id) == nullptr) return std::nullopt;
  std::unique_ptr<ServerTunnel>& tunnel = tunnels_[id];
  ServerTunnelObserver& observer = *this;
  if (!tunnel) tunnel = std::make_unique<ServerTunnel>(ServerTunnelLimits{}, observer);
  const size_t index = channels_.size();
  // Owner 0 is ServerTunnel's "nobody": channel `index` is owner index + 1.
  Result<TunnelSlot> slot = tunnel->open(service, op, index + 1);
  if (!slot.ok()) return std::nullopt;
  SimChannelLog log;
  log.service = service;
  log.channel = tunnel->mux().channel_id(*slot);
  log.opened_at = net_.now();
  channels_.push_back(std::move(log));
  channel_refs_.push_back({id, *slot, true});
  note("tunnel: channel " + std::to_string(channels_.back().channel) + " to " + service + " opened");
  flush_tunnel(id);
  return index;
}

size_t SimServer::channel_write(size_t index, std::span<const uint8_t> bytes) {
  if (index >= channel_refs_.size() || !channel_refs_[index].live) return 0;
  const ChannelRef ref = channel_refs_[index];
  const size_t n = tunnels_.at(ref.session)->mux().write(ref.slot, bytes);
  flush_tunnel(ref.session);
  return n;
}

void SimServer::channel_finish(size_t index) {
  if (index >= channel_refs_.size() || !channel_refs_[index].live) return;
  const ChannelRef ref = channel_refs_[index];
  tunnels_.at(ref.session)->mux().finish(ref.slot);
  flush_tunnel(ref.session);
}

void SimServer::on_binary(SimSessionId id, std::span<const uint8_t> message) {
  auto t = tunnels_.find(id);
  if (t == tunnels_.end()) return;  // no channel was ever opened on this link
  if (!t->second->receive(message, net_.now()).ok()) {
    note("tunnel: a malformed frame from the device; closes with 1002");
    (void)server_->close(id, 1002, "tunnel frame");
    return;
  }
  flush_tunnel(id);
}

void SimServer::flush_tunnel(SimSessionId id) {
  auto t = tunnels_.find(id);
  if (t == tunnels_.end()) return;
  frame_.resize(kTunnelMaxFrameBytes);
  // The server's DATA is what the tests queue: a few small requests, so
  // every frame due goes out at once, after the session's JSON messages.
  for (size_t n; (n = t->second->mux().next_frame(frame_)) > 0;) {
    if (!server_->send_binary(id, {frame_.data(), n}).ok()) return;  // the session is gone
  }
}

void SimServer::on_channel_accepted(ServerTunnel& /*tunnel*/, TunnelSlot /*slot*/, uint64_t owner) {
  channels_.at(owner - 1).accepted_at = net_.now();
}

void SimServer::on_channel_readable(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner) {
  SimChannelLog& log = channels_.at(owner - 1);
  TunnelMux& mux = tunnel.mux();
  for (std::span<const uint8_t> bytes = mux.readable(slot); !bytes.empty(); bytes = mux.readable(slot)) {
    log.received.insert(log.received.end(), bytes.begin(), bytes.end());
    log.arrivals.emplace_back(net_.now(), log.received.size());
    mux.consume(slot, bytes.size());  // the credit goes back at the next flush
  }
  if (mux.peer_finished(slot)) log.device_finished = true;
}

void SimServer::on_channel_closed(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner, const TunnelClosed& closed) {
  if (closed.end == TunnelClosed::End::fin) on_channel_readable(tunnel, slot, owner);
  SimChannelLog& log = channels_.at(owner - 1);
  log.closed = closed;
  channel_refs_.at(owner - 1).live = false;
  note("tunnel: channel " + std::to_string(log.channel) + " closed: " + closed.reason_name() + ", " +
       std::to_string(log.received.size()) + " bytes from the device");
}

}  // namespace sublink
