#include "net/websocket/ws_server.h"

#include <cstdio>

namespace sublink {

namespace {

// Room for the longest answer to the upgrade request.
constexpr size_t kAnswerReserve = 256;

size_t max_of(size_t a, size_t b) { return a > b ? a : b; }

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

WsConnection::Shape server_shape(const WsServerConfig& c) {
  WsConnection::Shape shape;
  shape.masks_frames = false;
  shape.max_message_bytes = c.max_message_bytes;
  shape.send_limit = c.max_message_bytes;
  shape.input_bytes = max_of(max_of(c.receive_buffer_bytes, c.max_header_bytes), kWsMaxHeaderBytes + kWsMaxControlPayload);
  // The answer to the request, a largest message and the reserved close
  // frame (4 header bytes, unmasked, and 125 payload bytes).
  shape.output_bytes = kAnswerReserve + c.subprotocol.size() + kWsMaxHeaderBytes + c.max_message_bytes + 4 +
                       kWsMaxControlPayload;
  shape.initial = WsState::connecting;
  return shape;
}

}  // namespace

WsServer::WsServer(const WsServerConfig& config) : WsConnection(server_shape(config)), config_(config) {}

bool WsServer::read_opening(WsEvent& out) {
  request_ = parse_ws_upgrade_request(in_.readable(), config_.max_header_bytes);
  if (request_.status.reason() == Reason::would_block) return false;
  if (!request_.status.ok()) {
    (void)answer(request_.status.detail(), -1, {});
    return finish_closed(request_.status, 1006, false, out);
  }
  if (!offers(request_.protocols, config_.subprotocol)) {
    (void)answer(400, -1, {});
    return finish_closed(Status(Reason::upgrade_invalid, 400), 1006, false, out);
  }
  state_ = WsState::deciding;
  out = WsEvent{};
  out.type = WsEventType::request;
  out.request = request_;
  return true;
}

Status WsServer::accept() {
  if (state_ != WsState::deciding) return Reason::invalid_argument;
  char accept_key[28];
  Status s = compute_ws_accept(request_.key, accept_key);
  if (!s.ok()) return s;
  s = answer(101, -1, std::string_view(accept_key, sizeof(accept_key)));
  if (!s.ok()) return s;
  in_.consume(request_.header_bytes);  // what follows is already frames
  request_ = WsUpgradeRequestInfo{};
  state_ = WsState::open;
  return Status::Ok();
}

Status WsServer::refuse(int http_status, int32_t retry_after_s) {
  if (state_ != WsState::deciding || http_status < 400 || http_status > 599) return Reason::invalid_argument;
  Status s = answer(http_status, retry_after_s, {});
  if (!s.ok()) return s;
  state_ = WsState::closed;
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

}  // namespace sublink
