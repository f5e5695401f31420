// The server role of the TLS+WebSocket chain (tls_ws_chain.h): one accepted
// connection of the reference server or the simulation. TLS 1.2 server
// (TlsServerSession, the device certificate verified) and the WebSocket
// server (WsServer); the handler decides the upgrade request (101 or a
// refusal), then hears messages. What the messages mean belongs to it.
//
// Driving it:
//   TlsWsServerChain chain(tls, ws, handler);     // allocates every buffer
//   chain.start();
//   then as TlsWsChain: receive(), send output(), consume_output(); the
//   transport broke or the server drops it: finish(why). ended(): drain
//   output() (the close frame, close_notify), then close the transport.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/status.h"
#include "net/tls/tls_server.h"
#include "net/tls_ws/tls_ws_chain.h"
#include "net/websocket/ws_server.h"

namespace sublink {

/// The answer to an upgrade request: 101, or a refusal (401, 403, 503...).
struct WsUpgradeDecision {
  int http_status = 101;
  int32_t retry_after_s = -1;  // with a refusal, when >= 0
};

/// What a server chain reports. Every method has a default. A handler may
/// call the chain's send_text/close/finish from inside these callbacks.
class TlsWsServerChainHandler {
 public:
  virtual ~TlsWsServerChainHandler() = default;
  /// The TLS handshake completed with a device certificate whose subject CN
  /// is `client_cn`, and the client asks to upgrade `request.path`.
  virtual WsUpgradeDecision on_upgrade(std::string_view /*client_cn*/, const WsUpgradeRequestInfo& /*request*/) {
    return {};
  }
  /// The WebSocket is open.
  virtual void on_open() {}
  /// A complete text message (valid during the call).
  virtual void on_text(std::string_view /*message*/) {}
  virtual void on_binary(std::span<const uint8_t> /*message*/) {}
};

class TlsWsServerChain final : public TlsWsChain {
 public:
  /// `tls` (loaded) and `handler` must outlive the chain, and so must the
  /// strings in `ws`. Buffers are allocated here, once.
  TlsWsServerChain(TlsServerConfig& tls, const WsServerConfig& ws, TlsWsServerChainHandler& handler);

  /// Begins the TLS handshake; a failure ends the chain.
  void start();

  /// Subject CN of the verified device certificate (empty before).
  std::string_view client_cn() const { return tls_session_.client_common_name(); }
  const TlsServerSession& tls() const { return tls_session_; }

 private:
  void on_tls_established() override {}
  void on_event(WsEvent& event) override;
  void on_ended() override;

  TlsServerSession tls_session_;
  WsServer ws_server_;
  TlsWsServerChainHandler& handler_;
};

}  // namespace sublink
