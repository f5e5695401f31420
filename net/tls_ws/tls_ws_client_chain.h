// The client role of the TLS+WebSocket chain (tls_ws_chain.h): the device's
// end of PROTOCOL.md sections 2 and 3. TLS 1.2 client to the configured
// server name (TlsSession); once TLS is up, the WebSocket client (WsClient)
// and its upgrade request, built from the Host value (the server name, with
// the port unless 443), the path and the user agent.
//
// Driving it (a Link attempt does this once TCP, and a proxy's CONNECT if
// any, are through):
//   chain.emplace(tls, config, random, handler);   // allocates the TLS queues
//   chain->start(port);                            // queues the ClientHello
//   then as TlsWsChain: receive(), send output(), consume_output(). The
//   handler hears tls_established, then open (or the chain ends: a refused
//   upgrade is end_status() upgrade_* with retry_after_s()), then messages.
//
// Memory: the TLS queues are allocated in the constructor, the WebSocket's
// buffers once TLS is established (an attempt that fails earlier never
// holds them); nothing allocates afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "hal/random.h"
#include "hal/status.h"
#include "net/tls/tls_client.h"
#include "net/tls_ws/tls_ws_chain.h"
#include "net/websocket/ws_client.h"

namespace sublink {

/// What a client chain connects to and how. The strings are views that must
/// outlive every chain made from this configuration.
struct TlsWsClientChainConfig {
  std::string_view server;  // DNS name or IP literal (`server`): TLS's name and the Host header's
  std::string_view path = "/sublink/v1";
  std::string_view user_agent = "sublink/0.1.0";
  size_t max_message_bytes = 65536;  // largest text message accepted (`max_message_bytes`)
  /// Largest binary message accepted (tunnel frames); 0: max_message_bytes.
  size_t max_binary_message_bytes = 0;
  /// Largest message sent; 0: max_message_bytes (sizes the WebSocket
  /// output queue, WsClientConfig).
  size_t max_send_message_bytes = 0;
};

/// What a client chain reports. Every method has an empty default. A
/// handler may call the chain's send/close/finish from inside these, never
/// destroy it.
class TlsWsClientChainHandler {
 public:
  /// The TLS handshake completed (the upgrade request is queued next).
  virtual void on_tls_established() {}
  /// What the WebSocket reported: open (the server accepted the upgrade),
  /// then text, binary and pong (their bytes valid only during the call).
  /// The end is not an event: the chain has ended() when it returns.
  virtual void on_event(const WsEvent& /*event*/) {}

 protected:
  /// Never destroyed through this interface.
  ~TlsWsClientChainHandler() = default;
};

class TlsWsClientChain final : public TlsWsChain {
 public:
  /// `tls` (loaded), `config`, `random` and `handler` must outlive the
  /// chain. Allocates the TLS queues.
  TlsWsClientChain(TlsClientConfig& tls, const TlsWsClientChainConfig& config, Random& random,
                   TlsWsClientChainHandler& handler);

  /// Begins the TLS handshake with config.server (offering a kept session)
  /// for a connection to `port`. A failure ends the chain (end_status(),
  /// end_text()).
  void start(uint16_t port);

  /// True when the completed handshake resumed a kept TLS session.
  bool resumed() const { return tls_session_.resumed(); }
  /// The server's Retry-After with a 503 refusal, in seconds; -1 if none.
  int32_t retry_after_s() const { return ws_client_ ? ws_client_->retry_after_s() : -1; }

 private:
  void on_tls_established() override;
  void on_event(WsEvent& event) override;

  TlsSession tls_session_;
  std::optional<WsClient> ws_client_;
  const TlsWsClientChainConfig& config_;
  Random& random_;
  TlsWsClientChainHandler& handler_;
  uint16_t port_ = 0;  // the server port, for the Host header
};

}  // namespace sublink
