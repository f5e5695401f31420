// One connection's TLS and WebSocket layers chained, sans-I/O, for either
// end: ciphertext from the transport goes in with receive(), ciphertext for
// the transport comes out of output(), and what the WebSocket reports goes
// to the role's handler. The transport (a Link attempt's socket, the
// reference server's poll loop, the simulated network) only moves bytes and
// closes its end once ended() and what it still sends of output() is sent.
//
// Everything the two ends share lives here: feeding ciphertext to TLS,
// advancing the handshake, decrypting records into the WebSocket, moving
// WebSocket output through TLS as far as the ciphertext queue has room,
// sending, closing, and how the chain ends (end_status(), end_text()).
// What differs is the role, a subclass:
//   TlsWsClientChain (tls_ws_client_chain.h): the device's end. TLS client
//     to a server name; once TLS is up it builds the upgrade request from
//     host, path and user agent, and reports open, messages and pongs.
//   TlsWsServerChain (tls_ws_server_chain.h): an accepted connection.
//     TLS server; the handler decides the upgrade (101 or a refusal).
//
// Driving it (either role, after the role's own start):
//   n = chain.receive(ciphertext);           // the handler hears what completes
//   send chain.output() to the transport; chain.consume_output(sent);
//   chain.send_text(...), chain.close(1000)  // then send output() again
//   chain.ended(): send the rest of output() (the close frame, close_notify)
//   when the transport should have it, then close the transport.
//
// Memory: the role allocates the layers' buffers (at construction, or when
// the layer starts); nothing allocates afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/status.h"
#include "net/tls/tls_pipe.h"
#include "net/websocket/ws_connection.h"

namespace sublink {

class TlsWsChain {
 public:
  TlsWsChain(const TlsWsChain&) = delete;
  TlsWsChain& operator=(const TlsWsChain&) = delete;

  /// Takes ciphertext from the transport and runs both layers (the handler
  /// hears what completes). Returns how many bytes were taken: all of them
  /// unless the chain ended. A chain that cannot take any of them even
  /// after processing ends with out_of_memory ("TLS input queue full")
  /// rather than spin.
  size_t receive(std::span<const uint8_t> ciphertext);

  /// Ciphertext for the transport, oldest first.
  std::span<const uint8_t> output() const { return tls_.output(); }
  /// The transport took `n` bytes of output(); more of the WebSocket's
  /// output moves into the freed room.
  void consume_output(size_t n) {
    tls_.consume_output(n);
    pump();
  }
  /// Bytes still queued for the peer, in the WebSocket and in TLS.
  size_t queued() const { return (ws_ ? ws_->output().size() : 0) + tls_.output().size(); }

  /// Queue one message on the open WebSocket (statuses as
  /// WsConnection::send_text); connection_closed once the chain ended.
  [[nodiscard]] Status send_text(std::string_view text) {
    return sending() ? sent(ws_->send_text(text)) : Status(Reason::connection_closed);
  }
  [[nodiscard]] Status send_binary(std::span<const uint8_t> bytes) {
    return sending() ? sent(ws_->send_binary(bytes)) : Status(Reason::connection_closed);
  }
  /// A ping with up to 125 bytes of payload (WsConnection::send_ping).
  [[nodiscard]] Status send_ping(std::span<const uint8_t> payload) {
    return sending() ? sent(ws_->send_ping(payload)) : Status(Reason::connection_closed);
  }
  /// Starts the close handshake (as WsConnection::close); connection_closed
  /// before the WebSocket exists or once the chain ended.
  [[nodiscard]] Status close(uint16_t code, std::string_view reason = {}) {
    return sending() ? sent(ws_->close(code, reason)) : Status(Reason::connection_closed);
  }

  /// Ends the chain now with `why` (the transport broke, we drop the
  /// connection, or the handler gives up on it): what the WebSocket still
  /// has goes into output() first, the server role adds close_notify, and
  /// nothing is processed afterwards.
  void finish(Status why) { end(why, End::other); }

  /// The transport ended with `why` (reset, closed by the peer). A peer
  /// that rejects the handshake sends an alert and closes: before the
  /// WebSocket opened, that alert is the reason the chain ends with (and
  /// end_text() says what the TLS layer saw); otherwise it is `why`.
  void transport_ended(Status why);

  /// True once the session is over: after the close handshake, a refused
  /// upgrade, a TLS or WebSocket failure, the end of the transport, or
  /// finish(). output() may still hold the last bytes for the peer.
  bool ended() const { return ended_; }
  /// Why it ended: ok after our close completed or a refused upgrade (the
  /// server's view); closed_by_peer (detail: code); the TLS or WebSocket
  /// failure (a client sees a refusal as upgrade_*); or finish's.
  Status end_status() const { return end_status_; }
  /// A short text for the log about how it ended: the TLS layer's failure
  /// ("verify: expired"), "cannot build the upgrade request", "connection
  /// ended during the upgrade", "TLS input queue full"; empty otherwise.
  std::string_view end_text() const;
  /// True when the WebSocket reported the end (a close handshake, a
  /// refused upgrade, a failed connection): output() then holds its last
  /// frame for the peer.
  bool ended_by_websocket() const { return end_ == End::websocket; }
  /// True once the WebSocket opened (the upgrade was answered 101).
  bool opened() const { return opened_; }

 protected:
  /// `tls` belongs to the role and must outlive the chain; its buffers
  /// may be unused until the role starts it.
  explicit TlsWsChain(TlsPipe& tls) : tls_(tls) {}
  /// Destroyed as its role, never through this base.
  ~TlsWsChain() = default;

  /// Why the chain ended, for end_text().
  enum class End : uint8_t { none, other, websocket, tls_failure, upgrade_request, during_upgrade, input_full };

  /// Advances the handshake and reads what TLS has decrypted into the
  /// WebSocket (the role runs it after starting TLS).
  void step();
  /// Ends the chain with `why`; `end` says where it came from.
  void end(Status why, End end);
  /// The role's WebSocket, once it exists (from the TLS handshake on, for
  /// the client); the chain does nothing with the WebSocket before.
  void attach(WsConnection& ws) { ws_ = &ws; }
  /// Marks the WebSocket open (the role reports it to its handler).
  void mark_opened() { opened_ = true; }
  /// Moves the WebSocket's output through TLS into output(), as far as the
  /// ciphertext queue has room; a TLS failure ends the chain.
  void pump();

  /// The TLS handshake just completed (the client builds its WebSocket
  /// here). The chain may have ended when it returns.
  virtual void on_tls_established() = 0;
  /// One event of the WebSocket other than `closed`, for the role to handle
  /// and report. The chain may have ended when it returns.
  virtual void on_event(WsEvent& event) = 0;
  /// The chain just ended, with what the WebSocket had left in output()
  /// (the server adds close_notify here; the device just closes its socket).
  virtual void on_ended() {}

  TlsPipe& tls_;

 private:
  bool process();
  // True while there is a WebSocket to send on: it exists, not ended.
  [[gnu::always_inline]] bool sending() const { return ws_ != nullptr && !ended_; }
  // Moves a queued frame on its way; returns `queued`.
  Status sent(Status queued);

  WsConnection* ws_ = nullptr;
  Status end_status_;
  End end_ = End::none;
  bool ended_ = false;
  bool opened_ = false;
};

}  // namespace sublink
