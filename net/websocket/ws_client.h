// A sans-I/O RFC 6455 WebSocket client (PROTOCOL.md section 3). Bytes from
// the server go in with feed(), bytes for the server come out of output(),
// and what happened comes out of next_event(). It never blocks and never
// calls the OS, so the same code runs over TLS on Linux, over lwIP on a
// board and over the simulated network in virtual time.
//
// Driving it:
//   client.start();                         // queues the upgrade request
//   loop:
//     send output(), then consume_output(n) with what the transport took
//     n = client.feed(received);            // may take fewer bytes when full
//     while (client.next_event(ev)) ...     // also answers pings
//     feed the rest of `received`, if any
//   state() == closed and output() empty: close the transport.
//
// Memory: every buffer is allocated in the constructor, sized from the
// configuration; nothing allocates afterwards.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "hal/random.h"
#include "hal/status.h"
#include "net/bytes/byte_queue.h"
#include "net/websocket/utf8_validator.h"
#include "net/websocket/ws_frame.h"
#include "net/websocket/ws_handshake.h"

namespace sublink {

/// The strings are views: they must outlive the client (the subprotocol is
/// checked again when the answer arrives).
struct WsClientConfig {
  std::string_view host;  // Host header value, e.g. "example.com" or "example.com:8443"
  std::string_view path = "/sublink/v1";
  std::string_view subprotocol = "sublink.v1";
  std::string_view user_agent = "sublink/0.1.0";
  /// Largest message accepted (reassembled).
  size_t max_message_bytes = 65536;
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

enum class WsState : uint8_t {
  idle,        // constructed, start() not called yet
  connecting,  // upgrade request queued, waiting for the 101
  open,        // messages flow both ways
  closing,     // we sent a close frame and wait for the server's
  closed,      // done: flush output(), then close the transport
};

enum class WsEventType : uint8_t { open, text, binary, pong, closed };

struct WsEvent {
  WsEventType type = WsEventType::open;
  /// text/binary: the complete reassembled message; pong: its payload.
  /// Valid until the next call to next_event().
  std::span<const uint8_t> data;
  /// closed: the code of the close frame that ended the link (the server's
  /// when it closed, ours when we failed the link); 1005 when the server's
  /// close had no code, 1006 when the link ended without a close frame
  /// (failed upgrade).
  uint16_t close_code = 0;
  /// closed: the server's close reason (valid UTF-8), or empty.
  std::string_view close_reason;
  /// closed: true when the server started the close handshake.
  bool by_peer = false;
  /// closed: why the link ended. ok: our close() completed.
  /// closed_by_peer (detail: code): the server closed. Otherwise the
  /// failure: upgrade_*, protocol_violation, message_too_big, invalid_payload.
  Status status;

  std::string_view text() const { return {reinterpret_cast<const char*>(data.data()), data.size()}; }
};

class WsClient {
 public:
  /// Allocates every buffer. `random` supplies the handshake key and the
  /// per-frame masks and must outlive the client.
  WsClient(const WsClientConfig& config, Random& random);
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  /// Queues the upgrade request with a fresh key. invalid_argument when the
  /// configuration cannot make a request (empty host, CR/LF in a field,
  /// path not starting with '/') or start() was already called.
  Status start();

  /// Takes bytes received from the server. Returns how many were taken:
  /// fewer than given when the receive buffer is full, in which case
  /// next_event() must run before the rest can be fed. Bytes after the link
  /// closed are taken and dropped.
  size_t feed(std::span<const uint8_t> from_server);

  /// Bytes waiting to be sent to the server, oldest first.
  std::span<const uint8_t> output() const { return out_.readable(); }
  /// Drops the first `n` bytes of output() once the transport has taken them.
  void consume_output(size_t n) { out_.consume(n); }

  /// Processes received bytes until something happens. Returns false when
  /// more bytes are needed (or the link is closed and reported). Pings are
  /// answered here, protocol errors queue the matching close frame (1002,
  /// 1007, 1009) and end in a `closed` event.
  bool next_event(WsEvent& out);

  /// Queue one message. would_block before the link is open or when
  /// output() lacks room (send some first); connection_closed after a close
  /// frame was sent or received; out_of_memory when the message exceeds
  /// max_send_message_bytes; invalid_argument for text that is not UTF-8.
  Status send_text(std::string_view text);
  Status send_binary(std::span<const uint8_t> bytes);
  /// A ping with up to 125 bytes of payload; the pong comes as an event.
  Status send_ping(std::span<const uint8_t> payload = {});

  /// Starts the close handshake (e.g. 1000, or 1001 when the agent shuts
  /// down). invalid_argument for a code that may not be sent or a reason
  /// that is not UTF-8 or over 123 bytes. The link is closed when the
  /// server's close arrives.
  Status close(uint16_t code, std::string_view reason = {});

  WsState state() const { return state_; }
  /// Why the link failed or ended (see WsEvent::status); ok while healthy.
  Status failure() const { return failure_; }
  /// The server's Retry-After from a 503 answer, in seconds; -1 if none.
  int32_t retry_after_s() const { return retry_after_s_; }

 private:
  bool handle_upgrade(WsEvent& out);
  bool handle_frame_header(WsEvent& out, bool& produced);
  bool handle_control(const WsFrameHeader& h, WsEvent& out);
  bool fail(Reason reason, uint16_t close_code, WsEvent& out, int32_t detail = 0);
  Status queue_frame(WsOpcode opcode, std::span<const uint8_t> payload, std::span<const uint8_t> prefix = {});
  Status queue_close(uint16_t code, std::string_view reason);
  Status check_can_send(size_t payload_size);
  bool finish_closed(Status status, uint16_t code, bool by_peer, WsEvent& out);

  WsClientConfig config_;
  Random& random_;
  ByteQueue in_;
  ByteQueue out_;
  std::unique_ptr<uint8_t[]> message_;
  WsHandshakeKey key_;
  WsState state_ = WsState::idle;
  Status failure_;
  int32_t retry_after_s_ = -1;
  bool close_sent_ = false;

  // Reassembly of the current data message.
  bool in_message_ = false;
  bool message_is_text_ = false;
  size_t message_length_ = 0;
  Utf8Validator utf8_;
  // The data frame whose payload is being read, if any.
  bool in_frame_ = false;
  bool frame_fin_ = false;
  uint64_t frame_remaining_ = 0;
  // A message handed out by the last event; its buffer is reused next call.
  bool release_message_ = false;

  // Payload of the last control frame, for pong and close events.
  uint8_t control_[kWsMaxControlPayload] = {};
  size_t control_length_ = 0;
};

}  // namespace sublink
