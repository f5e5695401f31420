// One link's tunnel channels on the server (PROTOCOL.md section 6): the
// shared channel table (net/tunnel/tunnel_mux.h) in the opener's role, the
// channel ids the server allocates, and who each channel belongs to. Made
// when the operator's first connection needs a channel on the link, so a
// link nobody tunnels through costs no tunnel memory; gone with the link.
//
// Sans-I/O like the table: the device connection hands it the device's
// binary messages and pulls its frames; the operator's side (the forwards)
// writes and reads channel bytes and hears what happens through
// ServerTunnelObserver.
//
// Driving it:
//   ServerTunnel& t = connection.tunnel();           // made on first use
//   Result<TunnelSlot> s = t.open("http", "alice", stream_id);  // OPEN goes out
//   t.mux().write(*s, bytes) ... t.mux().finish(*s)  // the operator's bytes
//   binary message in:  if (!t.receive(message).ok()) close the link with 1002
//   output:             while (n = t.mux().next_frame(buf)) send binary
//   link down:          t.on_link_down()  (every channel ends: link_lost)
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hal/status.h"
#include "net/tunnel/tunnel_mux.h"

namespace sublink {

class ServerTunnel;

/// What the operator's side hears about its channels. Calls come from
/// inside receive(), tick(), on_link_down() and the table's own calls.
class ServerTunnelObserver {
 public:
  virtual ~ServerTunnelObserver() = default;
  /// The device accepted channel `slot` (OPEN_OK).
  virtual void on_channel_accepted(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner) = 0;
  /// Bytes for the operator arrived on `slot`, or the device finished (FIN).
  virtual void on_channel_readable(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner) = 0;
  /// The channel ended; `slot` is free after this call.
  virtual void on_channel_closed(ServerTunnel& tunnel, TunnelSlot slot, uint64_t owner,
                                 const TunnelClosed& closed) = 0;
};

/// What the server allows itself on one link. The device sets its own
/// max_channels; the server's is only a ceiling on its own memory.
struct ServerTunnelLimits {
  /// Channels one link may carry at once (1..1024).
  uint16_t max_channels = 32;
  /// The window the server grants the device per channel, sized like the
  /// device's default (tunnel_window_bytes): the bandwidth-delay product of
  /// 10 Mbit/s at 200 ms RTT (250 kB), doubled as credit is renewed once half
  /// the window is free (bench/tunnel). What a slow operator costs is bounded
  /// by it.
  uint32_t window = 512 * 1024;
  /// The operator's bytes queued per channel before its socket is not read.
  uint32_t send_queue = 64 * 1024;
  /// The device resets idle channels itself (tunnel_idle_s); 0: the server
  /// does not.
  Millis idle_ms = 0;
};

class ServerTunnel final : private TunnelMuxListener {
 public:
  /// `limits` must pass check_tunnel_limits; `observer` outlives this.
  ServerTunnel(const ServerTunnelLimits& limits, ServerTunnelObserver& observer);
  ServerTunnel(const ServerTunnel&) = delete;
  ServerTunnel& operator=(const ServerTunnel&) = delete;

  /// Opens a channel to the device's `service` for operator `op`, under the
  /// next free channel id; `owner` names it in the observer's calls.
  /// out_of_memory when every slot is taken, invalid_argument for a name
  /// out of range (1..255 bytes service, 0..255 operator).
  [[nodiscard]] Result<TunnelSlot> open(std::string_view service, std::string_view op, uint64_t owner);

  /// A binary message from the device (as TunnelMux::receive).
  [[nodiscard]] Status receive(std::span<const uint8_t> message, Millis now);
  /// Every channel ends (link_lost); nothing more is sent.
  void on_link_down();

  /// The table, for the channels' bytes and the frames going out.
  TunnelMux& mux() { return mux_; }
  const TunnelMux& mux() const { return mux_; }
  /// The service and operator of a live slot.
  const std::string& service(TunnelSlot slot) const { return service_[slot]; }
  const std::string& op(TunnelSlot slot) const { return op_[slot]; }

 private:
  static TunnelMuxLimits mux_limits(const ServerTunnelLimits& limits);
  // TunnelMuxListener
  void on_tunnel_open(TunnelSlot slot, const TunnelFrame& open) override;
  void on_tunnel_accepted(TunnelSlot slot) override;
  void on_tunnel_readable(TunnelSlot slot) override;
  void on_tunnel_closed(TunnelSlot slot, const TunnelClosed& closed) override;

  ServerTunnelObserver& observer_;
  std::vector<TunnelChannel> slots_;
  /// The table's queues; not zeroed, so pages cost memory only once a
  /// channel's bytes pass through them.
  std::unique_ptr<uint8_t[]> buffer_;
  std::vector<uint64_t> owner_;
  std::vector<std::string> service_;
  std::vector<std::string> op_;
  uint16_t next_id_ = kTunnelMinChannel;  // ids go round 1..65535, so a freed id rests before its reuse
  TunnelMux mux_;
};

}  // namespace sublink
