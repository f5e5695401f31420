// One device's TCP connection to the reference server: the socket, the
// chained TLS and WebSocket layers and the ServerSession, which is created
// once the upgrade request arrives with a verified device certificate.
// Driven by the server's poll loop; never blocks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hal/clock.h"
#include "net/tls_ws/tls_ws_server_chain.h"
#include "server_core/server_session.h"
#include "tools/server/server_context.h"

namespace sublink {

/// The path of PROTOCOL.md section 3; any other is answered 404.
inline constexpr std::string_view kSublinkPath = "/sublink/v1";

class DeviceConnection final : private TlsWsServerChainHandler {
 public:
  /// Takes ownership of the connected, non-blocking socket `fd`. `address`
  /// is the device's "ip:port", `port` the server port it reached, `now`
  /// server UTC ms.
  DeviceConnection(ServerContext& context, int fd, std::string address, uint16_t port, Millis now);
  /// Records the end (once) and closes the socket.
  ~DeviceConnection() override;
  DeviceConnection(const DeviceConnection&) = delete;
  DeviceConnection& operator=(const DeviceConnection&) = delete;

  int fd() const { return fd_; }
  /// The socket has data (or an end): reads what is there and runs it.
  void on_readable(Millis now);
  /// The socket takes data again.
  void on_writable(Millis now);
  /// Runs the timers; returns when it wants to run again (kNever: none).
  Millis step(Millis now);
  /// Closes the WebSocket with 1001 (the server is stopping).
  void shut_down(Millis now);
  /// Ends the connection at once without any close handshake, recording
  /// `why`: with a TCP reset when `reset` (the operator dropped the device),
  /// else with an orderly FIN. done() is true afterwards.
  void close_now(Millis now, std::string_view why, bool reset);

  /// The session once the upgrade arrived, else nullptr. After acting on
  /// it, step() sends what it produced.
  ServerSession* session() { return session_.get(); }
  uint16_t port() const { return port_; }

  /// While on, the connection is a hung server to the device: the session
  /// drops what arrives and answers nothing (ServerSession::set_blackhole),
  /// and the loop stops reading the socket and writing to it, watching it
  /// only for the device going away. False when there is no session yet.
  bool set_blackhole(bool on);
  bool blackholed() const { return blackholed_; }

  /// The link's tunnel channels, made on first use (context.tunnel_observer
  /// must be set). After acting on it, the loop's serviced() sends its
  /// frames.
  ServerTunnel& tunnel();
  /// The tunnel channels if any were ever opened, else nullptr.
  ServerTunnel* existing_tunnel() { return tunnel_.get(); }

  /// True while ciphertext waits for the socket (poll for POLLOUT).
  bool wants_write() const { return !chain_.output().empty(); }
  /// True when the connection is over and the socket can go.
  bool done() const { return done_; }

 private:
  WsUpgradeDecision on_upgrade(std::string_view client_cn, const WsUpgradeRequestInfo& request) override;
  void on_text(std::string_view message) override;
  void on_binary(std::span<const uint8_t> message) override;
  /// Sends tunnel frames while the WebSocket takes them, after every
  /// session message (control first: JSON, then the table's own order).
  void send_tunnel_frames();

  /// Queues the session's output on the WebSocket, sends what the socket
  /// takes, and finishes the connection once the chain has ended.
  void settle(Millis now);
  void take_session_output();
  /// Logs what the identity rules did on this connection's hello.
  void log_identity(const IdentityNotice& notice);
  void send_pending();
  void flush_socket();
  void end(Millis now, std::string_view why);

  ServerContext& context_;
  int fd_;
  std::string address_;
  uint16_t port_;
  Millis opened_;
  TlsWsServerChain chain_;
  std::unique_ptr<ServerSession> session_;
  std::unique_ptr<ServerTunnel> tunnel_;
  /// A frame pulled from the table that the WebSocket had no room for yet
  /// (frames are pulled one at a time, so at most one waits here).
  std::vector<uint8_t> held_frame_;
  size_t held_frame_bytes_ = 0;
  std::deque<std::string> pending_;  // session messages the WebSocket had no room for
  size_t pending_bytes_ = 0;
  std::optional<CloseRequest> pending_close_;
  Millis now_ = 0;  // the time of the call being handled, for chain callbacks
  /// Once we closed (or the chain ended with bytes left for the socket), a
  /// device that does not answer or read is dropped at this time.
  Millis linger_until_ = kNever;
  bool socket_failed_ = false;
  bool blackholed_ = false;
  bool done_ = false;
  bool ended_ = false;
};

}  // namespace sublink
