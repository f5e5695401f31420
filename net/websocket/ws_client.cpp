#include "net/websocket/ws_client.h"

namespace sublink {

namespace {

size_t max_of(size_t a, size_t b) { return a > b ? a : b; }

size_t send_limit_of(const WsClientConfig& c) {
  return c.max_send_message_bytes != 0 ? c.max_send_message_bytes : c.max_message_bytes;
}

WsConnection::Shape client_shape(const WsClientConfig& c, Random& random) {
  const WsUpgradeRequest request{c.host, c.path, c.subprotocol, c.user_agent, std::string_view("x", 24)};
  WsConnection::Shape shape;
  shape.masks_frames = true;
  shape.random = &random;
  shape.max_message_bytes = c.max_message_bytes;
  shape.max_binary_message_bytes = c.max_binary_message_bytes;
  shape.send_limit = send_limit_of(c);
  // A whole control frame must fit, and a whole upgrade answer.
  shape.input_bytes = max_of(max_of(c.receive_buffer_bytes, c.max_header_bytes), kWsMaxHeaderBytes + kWsMaxControlPayload);
  // The request may still be queued when the first message is sent, and a
  // largest message (or a pong, whichever is larger) must fit beside the
  // reserved close frame (6 header bytes, masked, and 125 payload bytes).
  shape.output_bytes = ws_upgrade_request_size(request) + kWsMaxHeaderBytes +
                       max_of(send_limit_of(c), kWsMaxControlPayload) + 6 + kWsMaxControlPayload;
  shape.initial = WsState::idle;
  return shape;
}

}  // namespace

WsClient::WsClient(const WsClientConfig& config, Random& random)
    : WsConnection(client_shape(config, random)), config_(config), random_(random) {}

Status WsClient::start() {
  if (state_ != WsState::idle) return Reason::invalid_argument;
  Status s = make_ws_handshake_key(random_, key_);
  if (!s.ok()) return s;
  const WsUpgradeRequest request{config_.host, config_.path, config_.subprotocol, config_.user_agent,
                                 key_.key_text()};
  s = write_ws_upgrade_request(request, out_);
  if (!s.ok()) return s;
  state_ = WsState::connecting;
  return Status::Ok();
}

bool WsClient::read_opening(WsEvent& out) {
  const WsUpgradeResponse r =
      parse_ws_upgrade_response(in_.readable(), config_.max_header_bytes, key_.accept_text(), config_.subprotocol);
  if (r.status.reason() == Reason::would_block) return false;
  retry_after_s_ = r.retry_after_s;
  if (!r.status.ok()) return finish_closed(r.status, 1006, false, out);
  in_.consume(r.header_bytes);  // what follows is already frames
  state_ = WsState::open;
  out = WsEvent{};
  out.type = WsEventType::open;
  return true;
}

}  // namespace sublink
