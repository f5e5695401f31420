#include "net/websocket/ws_server.h"

#include <cstdio>
#include <cstring>

namespace sublink {

namespace {

// A close frame we send: 4 header bytes (unmasked, short length) and at most
// 125 payload bytes, always kept free so a close can be queued.
constexpr size_t kCloseReserve = 4 + kWsMaxControlPayload;
// Room for the longest answer to the upgrade request.
constexpr size_t kAnswerReserve = 256;

size_t max_of(size_t a, size_t b) { return a > b ? a : b; }

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

const char* status_text(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 405: return "Method Not Allowed";
    case 426: return "Upgrade Required";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Client Error" : "Server Error";
  }
}

// True when the offered subprotocol list holds `wanted` exactly (RFC 6455
// 4.1: subprotocol names are compared as given).
bool offers(std::string_view list, std::string_view wanted) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == wanted) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

WsServer::WsServer(const WsServerConfig& config)
    : config_(config),
      in_(max_of(max_of(config.receive_buffer_bytes, config.max_header_bytes),
                 kWsMaxHeaderBytes + kWsMaxControlPayload)),
      out_(kAnswerReserve + config.subprotocol.size() + kWsMaxHeaderBytes + config.max_message_bytes +
           kCloseReserve),
      message_(new uint8_t[config.max_message_bytes ? config.max_message_bytes : 1]) {}

size_t WsServer::feed(std::span<const uint8_t> from_client) {
  if (state_ == WsServerState::closed) return from_client.size();
  size_t taken = 0;
  while (taken < from_client.size()) {
    std::span<uint8_t> room = in_.writable();
    if (room.empty()) break;
    const size_t n = room.size() < from_client.size() - taken ? room.size() : from_client.size() - taken;
    std::memcpy(room.data(), from_client.data() + taken, n);
    in_.commit(n);
    taken += n;
  }
  return taken;
}

bool WsServer::next_event(WsServerEvent& out) {
  if (release_message_) {
    release_message_ = false;
    in_message_ = false;
    message_length_ = 0;
  }
  for (;;) {
    switch (state_) {
      case WsServerState::handshake:
        return handle_request(out);
      case WsServerState::deciding:
      case WsServerState::closed:
        return false;
      case WsServerState::open:
      case WsServerState::closing:
        break;
    }
    if (in_frame_) {
      const std::span<const uint8_t> available = in_.readable();
      const size_t n = frame_remaining_ < available.size() ? static_cast<size_t>(frame_remaining_) : available.size();
      if (n == 0 && frame_remaining_ > 0) return false;
      uint8_t* dst = message_.get() + message_length_;
      for (size_t i = 0; i < n; ++i) dst[i] = available[i] ^ frame_mask_[(frame_mask_index_ + i) & 3];
      frame_mask_index_ += n;
      // Text is checked as it arrives, so a bad byte fails at once.
      if (message_is_text_ && !utf8_.feed({dst, n})) return fail(Reason::invalid_payload, 1007, out);
      message_length_ += n;
      frame_remaining_ -= n;
      in_.consume(n);
      if (frame_remaining_ > 0) continue;
      in_frame_ = false;
      if (!frame_fin_) continue;
      if (message_is_text_ && !utf8_.complete()) return fail(Reason::invalid_payload, 1007, out);
      out = WsServerEvent{};
      out.type = message_is_text_ ? WsServerEventType::text : WsServerEventType::binary;
      out.data = {message_.get(), message_length_};
      release_message_ = true;
      return true;
    }
    bool produced = false;
    if (!handle_frame_header(out, produced)) return produced;
  }
}

bool WsServer::handle_request(WsServerEvent& out) {
  request_ = parse_ws_upgrade_request(in_.readable(), config_.max_header_bytes);
  if (request_.status.reason() == Reason::would_block) return false;
  if (!request_.status.ok()) {
    answer(request_.status.detail(), -1, {});
    return finish_closed(request_.status, 1006, false, out);
  }
  if (!offers(request_.protocols, config_.subprotocol)) {
    answer(400, -1, {});
    return finish_closed(Status(Reason::upgrade_invalid, 400), 1006, false, out);
  }
  state_ = WsServerState::deciding;
  out = WsServerEvent{};
  out.type = WsServerEventType::request;
  out.request = request_;
  return true;
}

Status WsServer::accept() {
  if (state_ != WsServerState::deciding) return Reason::invalid_argument;
  char accept_key[28];
  Status s = compute_ws_accept(request_.key, accept_key);
  if (!s.ok()) return s;
  s = answer(101, -1, std::string_view(accept_key, sizeof(accept_key)));
  if (!s.ok()) return s;
  in_.consume(request_.header_bytes);  // what follows is already frames
  request_ = WsUpgradeRequestInfo{};
  state_ = WsServerState::open;
  return Status::Ok();
}

Status WsServer::refuse(int http_status, int32_t retry_after_s) {
  if (state_ != WsServerState::deciding || http_status < 400 || http_status > 599) return Reason::invalid_argument;
  Status s = answer(http_status, retry_after_s, {});
  if (!s.ok()) return s;
  state_ = WsServerState::closed;
  failure_ = Status::Ok();
  in_.clear();
  request_ = WsUpgradeRequestInfo{};
  return Status::Ok();
}

Status WsServer::answer(int http_status, int32_t retry_after_s, std::string_view accept) {
  char text[kAnswerReserve + 64];
  int n;
  if (http_status == 101) {
    n = std::snprintf(text, sizeof(text),
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %.*s\r\nSec-WebSocket-Protocol: %.*s\r\n\r\n",
                      static_cast<int>(accept.size()), accept.data(), static_cast<int>(config_.subprotocol.size()),
                      config_.subprotocol.data());
  } else {
    char retry[40] = "";
    if (retry_after_s >= 0) std::snprintf(retry, sizeof(retry), "Retry-After: %ld\r\n", static_cast<long>(retry_after_s));
    // 426 tells the client which version this server speaks (RFC 6455 4.4).
    const char* version = http_status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "";
    n = std::snprintf(text, sizeof(text), "HTTP/1.1 %d %s\r\n%s%sContent-Length: 0\r\nConnection: close\r\n\r\n",
                      http_status, status_text(http_status), retry, version);
  }
  if (n < 0 || static_cast<size_t>(n) >= sizeof(text)) return Reason::invalid_argument;
  return out_.push(std::string_view(text, static_cast<size_t>(n))) ? Status::Ok() : Status(Reason::out_of_memory);
}

bool WsServer::handle_frame_header(WsServerEvent& out, bool& produced) {
  const Result<WsFrameHeader> parsed = parse_ws_frame_header(in_.readable());
  if (!parsed.ok()) {
    if (parsed.status().reason() == Reason::would_block) return false;
    produced = fail(Reason::protocol_violation, 1002, out);
    return false;
  }
  const WsFrameHeader& h = *parsed;
  if (!h.masked) {  // RFC 6455 5.1: a server must fail an unmasked client frame
    produced = fail(Reason::protocol_violation, 1002, out);
    return false;
  }
  if (h.is_control()) {
    if (in_.size() < h.header_length + h.payload_length) return false;
    control_length_ = static_cast<size_t>(h.payload_length);
    const uint8_t* src = in_.readable().data() + h.header_length;
    for (size_t i = 0; i < control_length_; ++i) control_[i] = src[i] ^ h.mask_key[i & 3];
    in_.consume(h.header_length + control_length_);
    produced = handle_control(h, out);
    return !produced;
  }
  if (h.opcode == WsOpcode::continuation) {
    if (!in_message_) {
      produced = fail(Reason::protocol_violation, 1002, out);
      return false;
    }
  } else {
    if (in_message_) {
      produced = fail(Reason::protocol_violation, 1002, out);
      return false;
    }
    in_message_ = true;
    message_is_text_ = h.opcode == WsOpcode::text;
    message_length_ = 0;
    utf8_.reset();
  }
  if (h.payload_length > config_.max_message_bytes - message_length_) {
    produced = fail(Reason::message_too_big, 1009, out);
    return false;
  }
  in_.consume(h.header_length);
  in_frame_ = true;
  frame_fin_ = h.fin;
  frame_remaining_ = h.payload_length;
  std::memcpy(frame_mask_, h.mask_key, 4);
  frame_mask_index_ = 0;
  return true;
}

bool WsServer::handle_control(const WsFrameHeader& h, WsServerEvent& out) {
  const std::span<const uint8_t> payload(control_, control_length_);
  switch (h.opcode) {
    case WsOpcode::ping:
      // As the client: a pong that does not fit is dropped (a later pong
      // answers for it), the close frame's room stays free.
      if (!close_sent_ && out_.free_space() >= 4 + payload.size() + kCloseReserve) {
        queue_frame(WsOpcode::pong, payload);
      }
      return false;
    case WsOpcode::pong:
      out = WsServerEvent{};
      out.type = WsServerEventType::pong;
      out.data = payload;
      return true;
    case WsOpcode::close:
      break;
    default:
      return false;
  }
  uint16_t code = 1005;
  std::string_view reason;
  if (payload.size() == 1) return fail(Reason::protocol_violation, 1002, out);
  if (payload.size() >= 2) {
    code = static_cast<uint16_t>((payload[0] << 8) | payload[1]);
    if (!is_valid_ws_close_code(code)) return fail(Reason::protocol_violation, 1002, out);
    if (!is_valid_utf8(payload.subspan(2))) return fail(Reason::invalid_payload, 1007, out);
    reason = std::string_view(reinterpret_cast<const char*>(control_ + 2), payload.size() - 2);
  }
  if (close_sent_) {
    finish_closed(Status::Ok(), code, false, out);
  } else {
    queue_close(code == 1005 ? 1000 : code, {});
    close_sent_ = true;
    finish_closed(Status(Reason::closed_by_peer, code), code, true, out);
  }
  out.close_reason = reason;
  return true;
}

bool WsServer::fail(Reason reason, uint16_t close_code, WsServerEvent& out) {
  if (!close_sent_) {
    queue_close(close_code, {});
    close_sent_ = true;
  }
  return finish_closed(Status(reason), close_code, false, out);
}

bool WsServer::finish_closed(Status status, uint16_t code, bool by_peer, WsServerEvent& out) {
  state_ = WsServerState::closed;
  failure_ = status;
  in_.clear();
  in_frame_ = false;
  in_message_ = false;
  out = WsServerEvent{};
  out.type = WsServerEventType::closed;
  out.close_code = code;
  out.by_peer = by_peer;
  out.status = status;
  return true;
}

Status WsServer::queue_frame(WsOpcode opcode, std::span<const uint8_t> payload, std::span<const uint8_t> prefix) {
  const size_t length = prefix.size() + payload.size();
  uint8_t header[kWsMaxHeaderBytes];
  const size_t header_length = write_ws_server_frame_header(header, opcode, true, length);
  if (out_.free_space() < header_length + length) return Reason::would_block;
  out_.push(std::span<const uint8_t>(header, header_length));
  out_.push(prefix);
  out_.push(payload);
  return Status::Ok();
}

Status WsServer::queue_close(uint16_t code, std::string_view reason) {
  const uint8_t code_bytes[2] = {static_cast<uint8_t>(code >> 8), static_cast<uint8_t>(code)};
  return queue_frame(WsOpcode::close, as_bytes(reason), code_bytes);
}

Status WsServer::check_can_send(size_t payload_size) {
  if (state_ == WsServerState::handshake || state_ == WsServerState::deciding) return Reason::would_block;
  if (state_ != WsServerState::open || close_sent_) return Reason::connection_closed;
  if (out_.free_space() < kWsMaxHeaderBytes + payload_size + kCloseReserve) return Reason::would_block;
  return Status::Ok();
}

Status WsServer::send_text(std::string_view text) {
  if (text.size() > config_.max_message_bytes) return Reason::out_of_memory;
  if (!is_valid_utf8(text)) return Reason::invalid_argument;
  Status s = check_can_send(text.size());
  return s.ok() ? queue_frame(WsOpcode::text, as_bytes(text)) : s;
}

Status WsServer::send_binary(std::span<const uint8_t> bytes) {
  if (bytes.size() > config_.max_message_bytes) return Reason::out_of_memory;
  Status s = check_can_send(bytes.size());
  return s.ok() ? queue_frame(WsOpcode::binary, bytes) : s;
}

Status WsServer::send_ping(std::span<const uint8_t> payload) {
  if (payload.size() > kWsMaxControlPayload) return Reason::invalid_argument;
  Status s = check_can_send(payload.size());
  return s.ok() ? queue_frame(WsOpcode::ping, payload) : s;
}

Status WsServer::close(uint16_t code, std::string_view reason) {
  if (!is_valid_ws_close_code(code) || reason.size() > kWsMaxControlPayload - 2 || !is_valid_utf8(reason)) {
    return Reason::invalid_argument;
  }
  if (state_ == WsServerState::handshake || state_ == WsServerState::deciding) return Reason::would_block;
  if (state_ != WsServerState::open || close_sent_) return Reason::connection_closed;
  Status s = queue_close(code, reason);
  if (!s.ok()) return s;
  close_sent_ = true;
  state_ = WsServerState::closing;
  return Status::Ok();
}

}  // namespace sublink
