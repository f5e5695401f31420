// One RFC 6455 connection, sans-I/O, for either end (PROTOCOL.md section 3).
// Bytes from the peer go in with feed(), bytes for the peer come out of
// output(), and what happened comes out of next_event(). It never blocks
// and never calls the OS, so the same code runs over TLS on Linux, over
// lwIP on a board and over the simulated network in virtual time.
//
// Everything after the opening handshake is the same for both ends and
// lives here: the receive path (frame headers, reassembly, UTF-8 checks),
// control frames (pings answered, pongs reported, the close handshake),
// failing the connection with the matching close code, and sending. What
// differs is the role, a subclass: WsClient (masks what it sends, refuses
// masked frames, sends the upgrade request and checks the answer) and
// WsServer (the mirror: reads the request, the caller accepts or refuses).
//
// Driving it (either role, after the role's own opening step):
//   loop:
//     send output(), then consume_output(n) with what the transport took
//     n = connection.feed(received);          // may take fewer bytes when full
//     while (connection.next_event(ev)) ...   // also answers pings
//     feed the rest of `received`, if any
//   state() == closed and output() empty: close the transport.
//
// Memory: every buffer is allocated in the constructor, sized from the
// role's configuration; nothing allocates afterwards.
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

/// In order: every state before `open` is part of the opening handshake.
enum class WsState : uint8_t {
  idle,        // client: constructed, start() not called yet
  connecting,  // the opening handshake: the client waits for the 101, the server for the request
  deciding,    // server: request reported, accept() or refuse() expected
  open,        // messages flow both ways
  closing,     // we sent a close frame and wait for the peer's
  closed,      // done: flush output(), then close the transport
};

enum class WsEventType : uint8_t {
  open,     // client: the server accepted the upgrade
  request,  // server: the client's upgrade request, to accept() or refuse()
  text,
  binary,
  pong,
  closed,
};

struct WsEvent {
  WsEventType type = WsEventType::open;
  /// request: the client's upgrade request, valid until accept()/refuse().
  WsUpgradeRequestInfo request;
  /// text/binary: the complete reassembled message; pong: its payload.
  /// Valid until the next call to next_event().
  std::span<const uint8_t> data;
  /// closed: the code of the close frame that ended the connection (the
  /// peer's when it closed, ours when we failed it); 1005 when the peer's
  /// close had no code, 1006 when it ended without a close frame (a failed
  /// or refused opening handshake).
  uint16_t close_code = 0;
  /// closed: the peer's close reason (valid UTF-8), or empty.
  std::string_view close_reason;
  /// closed: true when the peer started the close handshake.
  bool by_peer = false;
  /// closed: why the connection ended. ok: our close() completed.
  /// closed_by_peer (detail: code): the peer closed. Otherwise the
  /// failure: upgrade_* (the client's view of the answer; the server's
  /// upgrade_invalid with the HTTP status answered as detail),
  /// protocol_violation, message_too_big, invalid_payload.
  Status status;

  std::string_view text() const { return {reinterpret_cast<const char*>(data.data()), data.size()}; }
};

class WsConnection {
 public:
  /// What the role fixes. `random` supplies the masks and must outlive the
  /// connection when `masks_frames` (the client); it may be null otherwise.
  struct Shape {
    bool masks_frames = false;   // frames sent are masked, frames received must not be
    Random* random = nullptr;
    size_t max_message_bytes = 0;  // largest text message accepted (reassembled)
    size_t max_binary_message_bytes = 0;  // largest binary message accepted; 0: max_message_bytes
    size_t send_limit = 0;         // largest message sent
    size_t input_bytes = 0;        // receive buffer
    size_t output_bytes = 0;       // send queue, the opening handshake's bytes included
    WsState initial = WsState::idle;
  };

  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  /// Takes bytes received from the peer. Returns how many were taken:
  /// fewer than given when the receive buffer is full, in which case
  /// next_event() must run before the rest can be fed. Bytes after the
  /// connection closed are taken and dropped.
  size_t feed(std::span<const uint8_t> from_peer);

  /// Bytes waiting to be sent to the peer, oldest first.
  std::span<const uint8_t> output() const { return out_.readable(); }
  /// Drops the first `n` bytes of output() once the transport has taken them.
  void consume_output(size_t n) { out_.consume(n); }

  /// Processes received bytes until something happens. Returns false when
  /// more bytes (or the server's decision on a request) are needed, or the
  /// connection is closed and reported. Pings are answered here, protocol
  /// errors queue the matching close frame (1002, 1007, 1009) and end in a
  /// `closed` event.
  bool next_event(WsEvent& out);

  /// Queue one message. would_block before the connection is open or when
  /// output() lacks room (send some first); connection_closed after a close
  /// frame was sent or received; out_of_memory when the message exceeds the
  /// role's send limit; invalid_argument for text that is not UTF-8.
  [[nodiscard]] Status send_text(std::string_view text);
  [[nodiscard]] Status send_binary(std::span<const uint8_t> bytes);
  /// A ping with up to 125 bytes of payload; the pong comes as an event.
  [[nodiscard]] Status send_ping(std::span<const uint8_t> payload = {});

  /// Starts the close handshake (e.g. 1000, or 1001 when the agent shuts
  /// down). invalid_argument for a code that may not be sent or a reason
  /// that is not UTF-8 or over 123 bytes. The connection is closed when the
  /// peer's close arrives.
  [[nodiscard]] Status close(uint16_t code, std::string_view reason = {});

  WsState state() const { return state_; }
  /// Why the connection failed or ended (see WsEvent::status); ok while healthy.
  Status failure() const { return failure_; }

 protected:
  explicit WsConnection(const Shape& shape);
  /// A connection is destroyed as its role (WsClient, WsServer), never
  /// through this base: no virtual destructor to carry in the image.
  ~WsConnection() = default;

  /// The role's step while state() is connecting: reads the peer's opening
  /// bytes from in_. Returns true with an event (open, request, or closed
  /// through finish_closed), or false when more bytes are needed.
  virtual bool read_opening(WsEvent& out) = 0;

  /// A close frame we send, header included: always kept free in out_ so a
  /// close can be queued.
  size_t close_reserve() const { return short_header_bytes() + kWsMaxControlPayload; }
  /// Header bytes of a frame with at most 125 bytes of payload.
  size_t short_header_bytes() const { return masks_frames_ ? 6 : 4; }

  /// Ends the connection and fills `out` with the closed event. Returns true.
  bool finish_closed(Status status, uint16_t code, bool by_peer, WsEvent& out);

  ByteQueue in_;
  ByteQueue out_;
  WsState state_;
  Status failure_;

 private:
  bool read_frame_header(WsEvent& out, bool& produced);
  bool read_control(const WsFrameHeader& h, WsEvent& out);
  bool fail(Reason reason, uint16_t close_code, WsEvent& out);
  Status queue_frame(WsOpcode opcode, std::span<const uint8_t> payload, std::span<const uint8_t> prefix = {});
  Status queue_close(uint16_t code, std::string_view reason);
  Status check_can_send(size_t payload_size);

  const bool masks_frames_;
  Random* random_;
  const size_t max_message_bytes_;
  const size_t max_binary_message_bytes_;
  const size_t send_limit_;
  std::unique_ptr<uint8_t[]> message_;
  bool close_sent_ = false;

  // Reassembly of the current data message.
  bool in_message_ = false;
  bool message_is_text_ = false;
  size_t message_length_ = 0;
  Utf8Validator utf8_;
  // The data frame whose payload is being read, if any, and its mask (a
  // frame from a client).
  bool in_frame_ = false;
  bool frame_fin_ = false;
  uint64_t frame_remaining_ = 0;
  uint8_t frame_mask_[4] = {};
  size_t frame_mask_index_ = 0;
  // A message handed out by the last event; its buffer is reused next call.
  bool release_message_ = false;

  // Payload of the last control frame, for pong and close events.
  uint8_t control_[kWsMaxControlPayload] = {};
  size_t control_length_ = 0;
};

}  // namespace sublink
