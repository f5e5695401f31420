// The client role of a WebSocket connection (PROTOCOL.md section 3): the
// device's end. It masks every frame it sends, refuses masked frames, and
// opens with the upgrade request, checking the server's answer (101 with
// the subprotocol, or a refusal with its Retry-After). Everything else is
// WsConnection's.
//
// Driving it:
//   client.start();                         // queues the upgrade request
//   then as WsConnection (ws_connection.h): the first event is `open`, or
//   `closed` when the server refused the upgrade (retry_after_s()).
//
// Memory: every buffer is allocated in the constructor, sized from the
// configuration; nothing allocates afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hal/random.h"
#include "hal/status.h"
#include "net/websocket/ws_connection.h"
#include "net/websocket/ws_handshake.h"

namespace sublink {

/// The strings are views. host, path and user_agent are read only while the
/// client is constructed and by start(), which writes them into the upgrade
/// request; the subprotocol must outlive the client (it is checked again
/// when the answer arrives).
struct WsClientConfig {
  std::string_view host;  // Host header value, e.g. "example.com" or "example.com:8443"
  std::string_view path = "/sublink/v1";
  std::string_view subprotocol = "sublink.v1";
  std::string_view user_agent = "sublink/0.1.0";
  /// Largest text message accepted (reassembled).
  size_t max_message_bytes = 65536;
  /// Largest binary message accepted; 0: max_message_bytes. Binary messages
  /// carry frames whose size another limit sets (tunnel frames: the window).
  size_t max_binary_message_bytes = 0;
  /// Largest message sent; 0: max_message_bytes. The output queue is sized
  /// from it (the upgrade request, one such message and a close frame), so
  /// a device that writes small messages keeps a small queue whatever it
  /// accepts.
  size_t max_send_message_bytes = 0;
  /// Largest upgrade answer header block; a longer one fails the upgrade.
  size_t max_header_bytes = 4096;
  /// Bytes feed() can hold before next_event() has to make room.
  size_t receive_buffer_bytes = 4096;
};

class WsClient final : public WsConnection {
 public:
  /// Allocates every buffer. `random` supplies the handshake key and the
  /// per-frame masks and must outlive the client.
  WsClient(const WsClientConfig& config, Random& random);

  /// Queues the upgrade request with a fresh key. invalid_argument when the
  /// configuration cannot make a request (empty host, CR/LF in a field,
  /// path not starting with '/') or start() was already called.
  [[nodiscard]] Status start();

  /// The server's Retry-After from a 503 answer, in seconds; -1 if none.
  int32_t retry_after_s() const { return retry_after_s_; }

 private:
  bool read_opening(WsEvent& out) override;

  WsClientConfig config_;
  Random& random_;
  WsHandshakeKey key_;
  int32_t retry_after_s_ = -1;
};

}  // namespace sublink
