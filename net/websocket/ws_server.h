// The server role of RFC 6455, sans-I/O: the mirror of WsClient for the
// simulation's server and the reference server. Bytes from the client go in
// with feed(), bytes for the client come out of output(), and what happened
// comes out of next_event(). The upgrade request is handed to the caller,
// which accepts it (101 with Sec-WebSocket-Protocol) or refuses it (401,
// 403, 503 with Retry-After); a request no RFC 6455 client sends is answered
// 400/405/426 here. Client frames must be masked (an unmasked one fails the
// connection with 1002); server frames are not.
//
// Driving it:
//   n = server.feed(received);
//   while (server.next_event(ev)) {
//     request: server.accept() or server.refuse(503, 30)
//     text/binary/pong/closed: ...
//   }
//   send output(), consume_output(n); state() == closed and output() empty:
//   close the transport.
//
// Memory: every buffer is allocated in the constructor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "hal/status.h"
#include "net/bytes/byte_queue.h"
#include "net/websocket/utf8_validator.h"
#include "net/websocket/ws_frame.h"
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

enum class WsServerState : uint8_t {
  handshake,  // waiting for the upgrade request
  deciding,   // request reported, accept() or refuse() expected
  open,       // messages flow both ways
  closing,    // we sent a close frame and wait for the client's
  closed,     // done: flush output(), then close the transport
};

enum class WsServerEventType : uint8_t { request, text, binary, pong, closed };

struct WsServerEvent {
  WsServerEventType type = WsServerEventType::request;
  /// request: the client's upgrade request, valid until accept()/refuse().
  WsUpgradeRequestInfo request;
  /// text/binary: the reassembled message; pong: its payload. Valid until
  /// the next call to next_event().
  std::span<const uint8_t> data;
  /// closed: as WsEvent::close_code (1005 no code, 1006 no close frame).
  uint16_t close_code = 0;
  /// closed: the client's close reason (valid UTF-8), or empty.
  std::string_view close_reason;
  /// closed: true when the client started the close handshake.
  bool by_peer = false;
  /// closed: ok when our close() completed or we refused the upgrade;
  /// closed_by_peer (detail: code); protocol_violation, message_too_big,
  /// invalid_payload; upgrade_invalid (detail: the HTTP status answered).
  Status status;

  std::string_view text() const { return {reinterpret_cast<const char*>(data.data()), data.size()}; }
};

class WsServer {
 public:
  explicit WsServer(const WsServerConfig& config);
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  /// Takes bytes from the client; fewer than given when the receive buffer
  /// is full (run next_event() first). Bytes after close are dropped.
  size_t feed(std::span<const uint8_t> from_client);

  std::span<const uint8_t> output() const { return out_.readable(); }
  void consume_output(size_t n) { out_.consume(n); }

  /// Processes received bytes until something happens; false when more
  /// bytes (or a decision on the request) are needed.
  bool next_event(WsServerEvent& out);

  /// Answers the reported request with 101 and the subprotocol.
  /// invalid_argument when no request is waiting for a decision.
  Status accept();
  /// Answers the reported request with `http_status` (401, 403, 503, any
  /// 4xx/5xx) and, when retry_after_s >= 0, Retry-After; then closed.
  /// invalid_argument for a status outside 400..599 or no request waiting.
  Status refuse(int http_status, int32_t retry_after_s = -1);

  /// Queue one message; the same results as WsClient::send_text/binary.
  Status send_text(std::string_view text);
  Status send_binary(std::span<const uint8_t> bytes);
  Status send_ping(std::span<const uint8_t> payload = {});
  /// Starts the close handshake; as WsClient::close.
  Status close(uint16_t code, std::string_view reason = {});

  WsServerState state() const { return state_; }
  /// Why the connection ended; ok while healthy.
  Status failure() const { return failure_; }

 private:
  bool handle_request(WsServerEvent& out);
  bool handle_frame_header(WsServerEvent& out, bool& produced);
  bool handle_control(const WsFrameHeader& h, WsServerEvent& out);
  bool fail(Reason reason, uint16_t close_code, WsServerEvent& out);
  bool finish_closed(Status status, uint16_t code, bool by_peer, WsServerEvent& out);
  Status answer(int http_status, int32_t retry_after_s, std::string_view accept);
  Status queue_frame(WsOpcode opcode, std::span<const uint8_t> payload, std::span<const uint8_t> prefix = {});
  Status queue_close(uint16_t code, std::string_view reason);
  Status check_can_send(size_t payload_size);

  WsServerConfig config_;
  ByteQueue in_;
  ByteQueue out_;
  std::unique_ptr<uint8_t[]> message_;
  WsServerState state_ = WsServerState::handshake;
  Status failure_;
  WsUpgradeRequestInfo request_;
  bool close_sent_ = false;

  bool in_message_ = false;
  bool message_is_text_ = false;
  size_t message_length_ = 0;
  Utf8Validator utf8_;
  bool in_frame_ = false;
  bool frame_fin_ = false;
  uint64_t frame_remaining_ = 0;
  uint8_t frame_mask_[4] = {};
  size_t frame_mask_index_ = 0;
  bool release_message_ = false;

  uint8_t control_[kWsMaxControlPayload] = {};
  size_t control_length_ = 0;
};

}  // namespace sublink
