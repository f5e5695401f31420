// One accepted server connection's TLS and WebSocket layers chained,
// sans-I/O: ciphertext from the transport goes in with receive(), ciphertext
// for the transport comes out of output(), and complete messages go to a
// handler. The transport (the simulated network, the reference server's
// poll loop) only moves bytes and closes its end once ended() and output()
// is drained; what the messages mean belongs to the handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/status.h"
#include "net/tls/tls_server.h"
#include "net/websocket/ws_server.h"

namespace sublink {

/// The answer to an upgrade request: 101, or a refusal (401, 403, 503...).
struct WsUpgradeDecision {
  int http_status = 101;
  int32_t retry_after_s = -1;  // with a refusal, when >= 0
};

/// What a chain reports. Every method has a default. A handler may call the
/// chain's send_text/close/finish from inside these callbacks.
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

class TlsWsServerChain {
 public:
  /// `tls` (loaded) and `handler` must outlive the chain, and so must the
  /// strings in `ws`. Buffers are allocated here, once.
  TlsWsServerChain(TlsServerConfig& tls, const WsServerConfig& ws, TlsWsServerChainHandler& handler);
  TlsWsServerChain(const TlsWsServerChain&) = delete;
  TlsWsServerChain& operator=(const TlsWsServerChain&) = delete;

  /// Begins the TLS handshake; a failure ends the chain.
  void start();

  /// Takes ciphertext from the transport and runs both layers (the handler
  /// hears what completes). Returns how many bytes were taken: all of them
  /// unless the chain ended. A chain that cannot take any of them even
  /// after processing ends with out_of_memory rather than spin.
  size_t receive(std::span<const uint8_t> ciphertext);

  /// Ciphertext for the transport, oldest first.
  std::span<const uint8_t> output() const { return tls_.output(); }
  /// The transport took `n` bytes of output(); more of the WebSocket's
  /// output moves into the freed room.
  void consume_output(size_t n);

  /// Queue one message on the open WebSocket (as WsServer::send_text).
  Status send_text(std::string_view text);
  Status send_binary(std::span<const uint8_t> bytes);
  /// Starts the close handshake (as WsServer::close).
  Status close(uint16_t code, std::string_view reason = {});

  /// Ends the chain now with `why` (the transport broke, or the server
  /// drops the connection): a completed TLS session gets close_notify in
  /// output(), and nothing is processed afterwards.
  void finish(Status why);

  /// True once the session is over: after the close handshake, a refused
  /// upgrade, a TLS or WebSocket failure, or finish(). Drain output(), then
  /// close the transport.
  bool ended() const { return ended_; }
  /// Why it ended: ok after our close completed or a refused upgrade;
  /// closed_by_peer (detail: code); the TLS/WebSocket failure; or finish's.
  Status end_status() const { return end_status_; }

  /// Subject CN of the verified device certificate (empty before).
  std::string_view client_cn() const { return tls_.client_common_name(); }
  const TlsServerSession& tls() const { return tls_; }

 private:
  void step();
  bool process();
  void pump();

  TlsServerSession tls_;
  WsServer ws_;
  TlsWsServerChainHandler& handler_;
  bool ended_ = false;
  Status end_status_;
};

}  // namespace sublink
