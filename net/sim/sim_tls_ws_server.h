// A simulated sublink/1 server endpoint for scenario tests: accepts over a
// SimNetwork, speaks TLS 1.2 through TlsServerSession (mutual
// authentication, as the real server) and WebSocket through WsServer, and
// hands complete messages to a pluggable handler, which can send text back
// and close. It knows nothing of the sublink/1 messages: the protocol logic
// belongs to the handler (a later simulated or reference server).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "net/sim/sim_network.h"
#include "net/tls/tls_server.h"
#include "net/tls_ws/tls_ws_server_chain.h"
#include "net/websocket/ws_server.h"

namespace sublink {

/// Names one accepted connection for the life of the server. Never 0.
using SimSessionId = uint64_t;

/// The answer to an upgrade request: 101, or a refusal (401, 403, 503...).
struct SimUpgradeDecision {
  int http_status = 101;
  int32_t retry_after_s = -1;  // with a refusal, when >= 0
};

/// What the server's owner hears. Every method has a default.
class SimServerHandler {
 public:
  virtual ~SimServerHandler() = default;
  /// The TLS handshake completed; `client_cn` is the device certificate's
  /// subject CN, and the upgrade request asks for `request.path`.
  virtual SimUpgradeDecision on_upgrade(SimSessionId /*session*/, std::string_view /*client_cn*/,
                                        const WsUpgradeRequestInfo& /*request*/) {
    return {};
  }
  /// The WebSocket is open.
  virtual void on_open(SimSessionId /*session*/) {}
  /// A complete text message (valid during the call).
  virtual void on_text(SimSessionId /*session*/, std::string_view /*message*/) {}
  virtual void on_binary(SimSessionId /*session*/, std::span<const uint8_t> /*message*/) {}
  /// The session ended: the close code in the status detail when the
  /// device closed (closed_by_peer), ok after our close(), or the failure
  /// (TLS, WebSocket, connection_reset, connection_closed).
  virtual void on_closed(SimSessionId /*session*/, Status /*why*/) {}
};

class SimTlsWsServer {
 public:
  /// `net`, `tls` (loaded) and `handler` must outlive the server; the
  /// strings in `ws` too.
  SimTlsWsServer(SimNetwork& net, TlsServerConfig& tls, const WsServerConfig& ws, SimServerHandler& handler);
  ~SimTlsWsServer();
  SimTlsWsServer(const SimTlsWsServer&) = delete;
  SimTlsWsServer& operator=(const SimTlsWsServer&) = delete;

  /// Starts accepting on (host, port).
  void listen(const IpAddress& host, uint16_t port);

  /// Queues a text message on an open session. invalid_argument for an
  /// unknown session; otherwise as WsServer::send_text.
  Status send_text(SimSessionId session, std::string_view message);
  Status send_binary(SimSessionId session, std::span<const uint8_t> message);
  /// Starts the close handshake with `code`; as WsServer::close.
  Status close(SimSessionId session, uint16_t code, std::string_view reason = {});

  /// Resets the session's connection at once (RST), as a crash or a
  /// middlebox would; on_closed follows with connection_reset.
  /// invalid_argument for an unknown session.
  Status reset(SimSessionId session);
  /// Resets every session, handshakes under way included (the process died).
  void reset_all();

  /// While on, the CPU time spent on what the clients send is added up: TLS,
  /// WebSocket and the handler's answers, what a link costs a server. A
  /// benchmark then weighs the server's work apart from the devices' in
  /// the same process. Off by default: reading a thread's CPU clock costs a
  /// system call.
  void meter_cpu(bool on) { metering_ = on; }
  /// The CPU seconds metered so far.
  double metered_cpu_s() const { return metered_cpu_s_; }

  /// Sessions alive now (accepted, not yet ended).
  size_t sessions() const { return sessions_.size(); }
  /// The client CN of a session's verified certificate, empty if unknown.
  std::string_view client_common_name(SimSessionId session) const;
  /// The client's address and the server port a session came in on
  /// (no address and port 0 for an unknown session).
  IpAddress peer(SimSessionId session) const;
  uint16_t local_port(SimSessionId session) const;

 private:
  class Session;
  friend class Session;
  class CpuMeter;
  void accept(SimConnection& connection);
  void ended(SimSessionId id);

  SimNetwork& net_;
  TlsServerConfig& tls_;
  WsServerConfig ws_;
  SimServerHandler& handler_;
  SimSessionId next_id_ = 1;
  bool metering_ = false;
  int metered_depth_ = 0;  // a metered call inside another is counted once
  double metered_cpu_s_ = 0;
  std::map<SimSessionId, std::unique_ptr<Session>> sessions_;
  std::vector<std::unique_ptr<Session>> ended_;  // freed on the next accept or end
};

}  // namespace sublink
