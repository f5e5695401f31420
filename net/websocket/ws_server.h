// The server role of a WebSocket connection, for the simulation's server
// and the reference server: the mirror of WsClient. Its frames go out
// unmasked and client frames must be masked (an unmasked one fails the
// connection with 1002). It opens by reading the upgrade request and
// reporting it (a `request` event); the caller accepts it (101 with
// Sec-WebSocket-Protocol) or refuses it (401, 403, 503 with Retry-After). A
// request no RFC 6455 client sends is answered 400/405/426/431 here and
// ends in `closed`. Everything else is WsConnection's.
//
// Driving it:
//   n = server.feed(received);
//   while (server.next_event(ev)) {
//     request: server.accept() or server.refuse(503, 30)
//     text/binary/pong/closed: as WsConnection (ws_connection.h)
//   }
//   send output(), consume_output(n); state() == closed and output() empty:
//   close the transport.
//
// Memory: every buffer is allocated in the constructor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hal/status.h"
#include "net/websocket/ws_connection.h"
#include "net/websocket/ws_handshake.h"

namespace sublink {

struct WsServerConfig {
  /// The subprotocol this server speaks; a request that does not offer it
  /// is refused with 400. Must outlive the server.
  std::string_view subprotocol = "sublink.v1";
  /// Largest message accepted (reassembled) and sent.
  size_t max_message_bytes = 65536;
  /// Largest upgrade request header block; a longer one is answered 431.
  size_t max_header_bytes = 4096;
  /// Bytes feed() can hold before next_event() has to make room.
  size_t receive_buffer_bytes = 4096;
};

class WsServer final : public WsConnection {
 public:
  explicit WsServer(const WsServerConfig& config);

  /// Answers the reported request with 101 and the subprotocol.
  /// invalid_argument when no request is waiting for a decision.
  [[nodiscard]] Status accept();
  /// Answers the reported request with `http_status` (401, 403, 503, any
  /// 4xx/5xx) and, when retry_after_s >= 0, Retry-After; then closed.
  /// invalid_argument for a status outside 400..599 or no request waiting.
  [[nodiscard]] Status refuse(int http_status, int32_t retry_after_s = -1);

 private:
  bool read_opening(WsEvent& out) override;
  Status answer(int http_status, int32_t retry_after_s, std::string_view accept);

  WsServerConfig config_;
  WsUpgradeRequestInfo request_;
};

}  // namespace sublink
