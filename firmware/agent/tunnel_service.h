// Tunnels (PROTOCOL.md section 6), the device's side: the server opens
// channels through the link to the local services the configuration maps
// (`services`: NAME -> host:port), and this service connects each one as
// an owner on the SocketDriver and moves the bytes both ways through the
// shared channel table (net/tunnel/tunnel_mux.h).
//
// - OPEN connects only to the endpoint `services` maps the name to; an
//   unknown name, an OPEN before the server's `welcome` (not_allowed: the
//   server has not accepted this device on the link yet), a local connect
//   that fails or takes longer than connect_timeout and a full table are
//   each answered with RST and their reason. Any operator identity is
//   taken (PROTOCOL.md section 6 bounds it only by the frame); up to
//   kMaxTunnelOperator bytes it is kept whole for tunnel_opened and
//   tunnels.list, a longer one is kept cut and marked with U+2026. Early
//   data waits in the table until the local connection is up.
// - A name in settings.handlers is a service inside the image
//   (tunnel_handler.h): accepted at once, its bytes go to the handler, its
//   answer goes out of the channel's send queue; no socket is involved.
// - Credit is granted only as the local socket takes the bytes; the link is
//   always read (a slow local service stops only its channel's credit).
//   Bytes from the local socket are taken only while the channel's send
//   queue has room for a whole socket read; then the socket stops
//   receiving (SocketDriver::set_receiving) and TCP slows the service.
// - step() writes frames after the agent's JSON messages, control frames
//   always, DATA only while the link has less than one frame queued: a
//   heartbeat never waits behind more than one DATA frame.
// - FIN half-close both ways: the local service's EOF sends FIN after what
//   it sent, and the server's bytes still reach it until the server's FIN
//   (a service that reads the request to its end, then answers); the
//   server's FIN, once its bytes are written, half-closes the local socket.
// - Link loss, shutdown (RST shutdown to each channel first) and the
//   service's destruction close every local socket and lookup.
// - Events: tunnel_opened {channel, service, operator} once the local
//   connection is up, tunnel_closed {channel, service, bytes_in, bytes_out,
//   seconds, reason} when it ends.
//
// Memory: the table's storage is allocated once, at construction:
// TunnelService::memory_bound(settings) bytes; nothing afterwards.
//
// Driving it (the agent does; see agent.h):
//   settings.handlers = entries;  // optional: {"status", &status_page}, ...
//   TunnelService tunnels({settings, driver, link, events, log, server_time});
//   welcome:        tunnels.set_link_accepted(true)
//   binary message: if (!tunnels.on_binary(message, now).ok()) close the link with 1002
//   drain step:     after the JSON messages, tunnels.step(now)
//   link down:      tunnels.link_lost(now)
//   shutdown:       tunnels.shutdown(now) before the link's close
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "firmware/agent/agent_log.h"
#include "firmware/agent/agent_tunnels.h"
#include "firmware/agent/agent_status.h"
#include "firmware/agent/event_delivery.h"
#include "firmware/agent/server_time.h"
#include "firmware/config/device_config.h"
#include "hal/clock.h"
#include "hal/status.h"
#include "net/link/binary_channel.h"
#include "net/link/socket_driver.h"
#include "net/tunnel/tunnel_mux.h"

namespace sublink {

/// The channel table's limits for `settings`: the send queue holds a whole
/// socket read beyond a DATA frame, so a socket stops receiving only when
/// less than one read fits.
TunnelMuxLimits tunnel_mux_limits(const TunnelSettings& settings);

/// The largest frame the service writes: settings.max_frame_bytes within
/// kTunnelMaxControlFrame..kTunnelMaxFrameBytes.
size_t tunnel_frame_capacity(const TunnelSettings& settings);

/// tunnel_closed's `reason` from its code in the event payload: "fin",
/// "link_lost" or an RST reason name.
const char* tunnel_closed_reason_name(int64_t code);

class TunnelService final : public AgentTunnels, private TunnelMuxListener, private SocketEvents {
 public:
  /// Operator identity bytes kept per channel (a longer one is kept cut).
  static constexpr size_t kMaxOperator = kMaxTunnelOperator;

  struct Parts {
    const TunnelSettings& settings;
    SocketDriver& driver;
    BinaryChannel& link;
    EventDelivery& events;
    const AgentLog& log;
    const ServerTime& time;
  };
  explicit TunnelService(const Parts& parts);
  ~TunnelService() override;
  TunnelService(const TunnelService&) = delete;
  TunnelService& operator=(const TunnelService&) = delete;

  /// All the tunnel memory for `settings`: the table and its buffers
  /// (TunnelMux::memory_bound), this object and its per-channel records.
  static size_t memory_bound(const TunnelSettings& settings);

  /// The server's `welcome` arrived (true) or the link is gone (false):
  /// channels may be opened only in between.
  void set_link_accepted(bool accepted) override { accepted_ = accepted; }

  /// One binary message from the server. protocol_violation when it is
  /// malformed (the agent closes the link with 1002).
  [[nodiscard]] Status on_binary(std::span<const uint8_t> message, Millis now) override;

  /// Timers (connect timeouts, idle channels), then frames out while the
  /// link has room, then sockets that may read again.
  void step(Millis now) override;
  /// When step() is due at the latest.
  Millis next_deadline(Millis now) const override;

  /// The link is gone: every channel ends (link_lost), local sockets close.
  void link_lost(Millis now) override;
  /// An orderly stop: RST shutdown on every channel, written to the link
  /// now (the agent closes the link right after), local sockets closed.
  void shutdown(Millis now) override;

  /// The open channels (views valid until the next call into the service).
  std::span<const TunnelListing> list(Millis now) const override;
  size_t open_channels() const { return mux_.live_count(); }

 private:
  struct Local {
    // handler: served inside the image (settings.handlers[service]).
    enum class Phase : uint8_t { none, resolving, connecting, open, local_closed, handler };
    Phase phase = Phase::none;
    uint8_t service = 0;  // index into settings.services (settings.handlers with a handler)
    TunnelHandler* handler = nullptr;
    bool receiving = true;
    bool shut_sent = false;
    bool opened_event = false;
    ResolveId resolve = 0;
    SocketId socket = 0;
    Millis deadline = 0;  // connecting: the connect timeout
    Millis opened_ms = 0;
    uint8_t op_length = 0;
    std::array<char, kMaxOperator> op{};
  };

  // TunnelMuxListener
  void on_tunnel_open(TunnelSlot slot, const TunnelFrame& open) override;
  void on_tunnel_accepted(TunnelSlot slot) override;
  void on_tunnel_readable(TunnelSlot slot) override;
  void on_tunnel_closed(TunnelSlot slot, const TunnelClosed& closed) override;
  // SocketEvents
  void on_resolved(ResolveId request, Status status, const AddressList& addresses) override;
  void on_connected(SocketId id) override;
  void on_received(SocketId id, std::span<const uint8_t> bytes) override;
  void on_writable(SocketId id) override;
  bool on_peer_finished(SocketId id) override;
  void on_socket_error(SocketId id, Status status) override;

  Local* by_socket(SocketId id, TunnelSlot& slot);
  void to_local(TunnelSlot slot);
  // An OPEN for a service inside the image: true when the name is one
  // (the channel is then accepted or refused).
  bool open_handler(TunnelSlot slot, const TunnelFrame& open);
  void to_handler(TunnelSlot slot);
  void report_opened(TunnelSlot slot, Local& l);
  void resume_reading();
  void write_frames();
  void release_local(Local& l);
  std::string_view service_name(const Local& l) const;

  const TunnelSettings& settings_;
  SocketDriver& driver_;
  BinaryChannel& link_;
  EventDelivery& events_;
  const AgentLog& log_;
  const ServerTime& time_;
  TunnelMuxLimits limits_;
  std::unique_ptr<TunnelChannel[]> slots_;
  std::unique_ptr<uint8_t[]> buffer_;
  std::unique_ptr<Local[]> locals_;
  std::unique_ptr<TunnelListing[]> listing_;
  TunnelMux mux_;
  Millis now_ = 0;
  bool accepted_ = false;
  // A frame taken from the table that the link did not take yet.
  size_t frame_capacity_;
  std::unique_ptr<uint8_t[]> frame_;
  size_t frame_length_ = 0;
};

}  // namespace sublink
