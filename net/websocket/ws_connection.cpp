#include "net/websocket/ws_connection.h"

#include <algorithm>
#include <cstring>

namespace sublink {

namespace {

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

WsConnection::WsConnection(const Shape& shape)
    : in_(shape.input_bytes),
      out_(shape.output_bytes),
      state_(shape.initial),
      masks_frames_(shape.masks_frames),
      random_(shape.random),
      max_message_bytes_(shape.max_message_bytes),
      max_binary_message_bytes_(shape.max_binary_message_bytes != 0 ? shape.max_binary_message_bytes
                                                                    : shape.max_message_bytes),
      send_limit_(shape.send_limit),
      message_(new uint8_t[std::max<size_t>({max_message_bytes_, max_binary_message_bytes_, 1})]) {}

size_t WsConnection::feed(std::span<const uint8_t> from_peer) {
  if (state_ == WsState::closed) return from_peer.size();
  size_t taken = 0;
  while (taken < from_peer.size()) {
    std::span<uint8_t> room = in_.writable();
    if (room.empty()) break;
    const size_t n = room.size() < from_peer.size() - taken ? room.size() : from_peer.size() - taken;
    std::memcpy(room.data(), from_peer.data() + taken, n);
    in_.commit(n);
    taken += n;
  }
  return taken;
}

bool WsConnection::next_event(WsEvent& out) {
  if (release_message_) {
    release_message_ = false;
    in_message_ = false;
    message_length_ = 0;
  }
  for (;;) {
    switch (state_) {
      case WsState::idle:
      case WsState::deciding:
      case WsState::closed:
        return false;
      case WsState::connecting:
        return read_opening(out);
      case WsState::open:
      case WsState::closing:
        break;
    }

    if (in_frame_) {
      const std::span<const uint8_t> available = in_.readable();
      const size_t n = frame_remaining_ < available.size() ? static_cast<size_t>(frame_remaining_) : available.size();
      if (n == 0 && frame_remaining_ > 0) return false;
      uint8_t* dst = message_.get() + message_length_;
      for (size_t i = 0; i < n; ++i) dst[i] = available[i] ^ frame_mask_[(frame_mask_index_ + i) & 3];
      frame_mask_index_ += n;
      // Text is checked as it arrives, so a bad byte fails the connection
      // before the rest of a large message is waited for.
      if (message_is_text_ && !utf8_.feed({dst, n})) return fail(Reason::invalid_payload, 1007, out);
      message_length_ += n;
      frame_remaining_ -= n;
      in_.consume(n);
      if (frame_remaining_ > 0) continue;
      in_frame_ = false;
      if (!frame_fin_) continue;
      if (message_is_text_ && !utf8_.complete()) return fail(Reason::invalid_payload, 1007, out);
      out = WsEvent{};
      out.type = message_is_text_ ? WsEventType::text : WsEventType::binary;
      out.data = {message_.get(), message_length_};
      release_message_ = true;
      return true;
    }

    bool produced = false;
    if (!read_frame_header(out, produced)) return produced;
  }
}

// Returns true to keep processing; false to return `produced` to the caller.
bool WsConnection::read_frame_header(WsEvent& out, bool& produced) {
  const Result<WsFrameHeader> parsed = parse_ws_frame_header(in_.readable());
  if (!parsed.ok()) {
    if (parsed.status().reason() == Reason::would_block) return false;
    produced = fail(Reason::protocol_violation, 1002, out);
    return false;
  }
  const WsFrameHeader& h = *parsed;
  // RFC 6455 5.1: a client fails a masked server frame, a server an
  // unmasked client frame.
  if (h.masked == masks_frames_) {
    produced = fail(Reason::protocol_violation, 1002, out);
    return false;
  }

  if (h.is_control()) {
    if (in_.size() < h.header_length + h.payload_length) return false;  // wait for all of it
    control_length_ = static_cast<size_t>(h.payload_length);
    const uint8_t* src = in_.readable().data() + h.header_length;
    for (size_t i = 0; i < control_length_; ++i) control_[i] = src[i] ^ h.mask_key[i & 3];
    in_.consume(h.header_length + control_length_);
    produced = read_control(h, out);
    return !produced;
  }

  if (h.opcode == WsOpcode::continuation) {
    if (!in_message_) {
      produced = fail(Reason::protocol_violation, 1002, out);
      return false;
    }
  } else {
    if (in_message_) {  // a new message inside a fragmented one
      produced = fail(Reason::protocol_violation, 1002, out);
      return false;
    }
    in_message_ = true;
    message_is_text_ = h.opcode == WsOpcode::text;
    message_length_ = 0;
    utf8_.reset();
  }
  // The header already tells whether the message can fit: fail now rather
  // than after reading up to 2^63 bytes.
  const size_t limit = message_is_text_ ? max_message_bytes_ : max_binary_message_bytes_;
  if (h.payload_length > limit - message_length_) {
    produced = fail(Reason::message_too_big, 1009, out);
    return false;
  }
  in_.consume(h.header_length);
  in_frame_ = true;
  frame_fin_ = h.fin;
  frame_remaining_ = h.payload_length;
  std::memcpy(frame_mask_, h.mask_key, 4);  // zeros for an unmasked frame
  frame_mask_index_ = 0;
  return true;
}

bool WsConnection::read_control(const WsFrameHeader& h, WsEvent& out) {
  const std::span<const uint8_t> payload(control_, control_length_);
  switch (h.opcode) {
    case WsOpcode::ping:
      // Answered while we may still send. With output() full of unsent data
      // the pong is dropped: RFC 6455 5.5.3 lets a later pong answer for
      // earlier pings, and the close frame's room must stay free.
      if (!close_sent_ && out_.free_space() >= short_header_bytes() + payload.size() + close_reserve()) {
        (void)queue_frame(WsOpcode::pong, payload);
      }
      return false;
    case WsOpcode::pong:
      out = WsEvent{};
      out.type = WsEventType::pong;
      out.data = payload;
      return true;
    case WsOpcode::close:
      break;
    default:
      return false;
  }

  uint16_t code = 1005;  // "no status received"
  std::string_view reason;
  if (payload.size() == 1) return fail(Reason::protocol_violation, 1002, out);
  if (payload.size() >= 2) {
    code = static_cast<uint16_t>((payload[0] << 8) | payload[1]);
    if (!is_valid_ws_close_code(code)) return fail(Reason::protocol_violation, 1002, out);
    if (!is_valid_utf8(payload.subspan(2))) return fail(Reason::invalid_payload, 1007, out);
    reason = std::string_view(reinterpret_cast<const char*>(control_ + 2), payload.size() - 2);
  }
  if (close_sent_) {
    // The answer to our close: the handshake is complete.
    finish_closed(Status::Ok(), code, false, out);
  } else {
    (void)queue_close(code == 1005 ? 1000 : code, {});
    close_sent_ = true;
    finish_closed(Status(Reason::closed_by_peer, code), code, true, out);
  }
  out.close_reason = reason;
  return true;
}

bool WsConnection::fail(Reason reason, uint16_t close_code, WsEvent& out) {
  if (!close_sent_) {
    (void)queue_close(close_code, {});
    close_sent_ = true;
  }
  return finish_closed(Status(reason), close_code, false, out);
}

bool WsConnection::finish_closed(Status status, uint16_t code, bool by_peer, WsEvent& out) {
  state_ = WsState::closed;
  failure_ = status;
  in_.clear();
  in_frame_ = false;
  in_message_ = false;
  out = WsEvent{};
  out.type = WsEventType::closed;
  out.close_code = code;
  out.by_peer = by_peer;
  out.status = status;
  return true;
}

Status WsConnection::queue_frame(WsOpcode opcode, std::span<const uint8_t> payload, std::span<const uint8_t> prefix) {
  const size_t length = prefix.size() + payload.size();
  // A server's frames go unmasked: its mask stays zero and no key is sent.
  uint8_t mask[4] = {};
  if (masks_frames_) {
    Status s = random_->fill(mask);
    if (!s.ok()) return s;
  }
  uint8_t header[kWsMaxHeaderBytes];
  const size_t header_length = write_ws_frame_header(header, opcode, true, length, masks_frames_ ? mask : nullptr);
  if (out_.free_space() < header_length + length) return Reason::would_block;
  out_.push(std::span<const uint8_t>(header, header_length));
  // Masked through a small stack buffer: no second copy of the message.
  uint8_t chunk[256];
  size_t index = 0;
  for (std::span<const uint8_t> part : {prefix, payload}) {
    while (!part.empty()) {
      const size_t n = part.size() < sizeof(chunk) ? part.size() : sizeof(chunk);
      for (size_t i = 0; i < n; ++i, ++index) chunk[i] = part[i] ^ mask[index & 3];
      out_.push(std::span<const uint8_t>(chunk, n));
      part = part.subspan(n);
    }
  }
  return Status::Ok();
}

Status WsConnection::queue_close(uint16_t code, std::string_view reason) {
  const uint8_t code_bytes[2] = {static_cast<uint8_t>(code >> 8), static_cast<uint8_t>(code)};
  return queue_frame(WsOpcode::close, as_bytes(reason), code_bytes);
}

Status WsConnection::check_can_send(size_t payload_size) {
  if (state_ < WsState::open) return Reason::would_block;  // the opening handshake is not done
  if (state_ != WsState::open || close_sent_) return Reason::connection_closed;
  if (out_.free_space() < kWsMaxHeaderBytes + payload_size + close_reserve()) return Reason::would_block;
  return Status::Ok();
}

Status WsConnection::send_text(std::string_view text) {
  if (text.size() > send_limit_) return Reason::out_of_memory;
  if (!is_valid_utf8(text)) return Reason::invalid_argument;
  Status s = check_can_send(text.size());
  return s.ok() ? queue_frame(WsOpcode::text, as_bytes(text)) : s;
}

Status WsConnection::send_binary(std::span<const uint8_t> bytes) {
  if (bytes.size() > send_limit_) return Reason::out_of_memory;
  Status s = check_can_send(bytes.size());
  return s.ok() ? queue_frame(WsOpcode::binary, bytes) : s;
}

Status WsConnection::send_ping(std::span<const uint8_t> payload) {
  if (payload.size() > kWsMaxControlPayload) return Reason::invalid_argument;
  Status s = check_can_send(payload.size());
  return s.ok() ? queue_frame(WsOpcode::ping, payload) : s;
}

Status WsConnection::close(uint16_t code, std::string_view reason) {
  if (!is_valid_ws_close_code(code) || reason.size() > kWsMaxControlPayload - 2 || !is_valid_utf8(reason)) {
    return Reason::invalid_argument;
  }
  if (state_ < WsState::open) return Reason::would_block;  // the opening handshake is not done
  if (state_ != WsState::open || close_sent_) return Reason::connection_closed;
  Status s = queue_close(code, reason);
  if (!s.ok()) return s;
  close_sent_ = true;
  state_ = WsState::closing;
  return Status::Ok();
}

}  // namespace sublink
