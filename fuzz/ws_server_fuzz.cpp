// The WebSocket server (net/websocket), the server role: the client's
// upgrade request and the frame stream, fed in input-chosen chunk sizes.
// The first input byte picks the mode (the raw request, or frames behind a
// valid request) and the chunk size.
//
// Invariants: a reported request has a path starting with '/', a Host and a
// 24-character key, and the 101 the server answers it with is one a
// WebSocket client accepts for that key (parse_ws_upgrade_response); a
// refused request is answered with the HTTP status in its detail; messages
// respect max_message_bytes, text is valid UTF-8; nothing is reported after
// `closed`, and closed is reported exactly when the state is closed.
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "net/websocket/utf8_validator.h"
#include "net/websocket/ws_handshake.h"
#include "net/websocket/ws_server.h"

using namespace sublink;
using sublink::fuzz::check;

namespace {

constexpr std::string_view kRequest =
    "GET /sublink/v1 HTTP/1.1\r\nHost: fuzz.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: sublink.v1\r\n\r\n";

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool raw_request = data[0] & 1;
  const size_t chunk = 1 + (data[0] >> 1) % 64;
  std::span<const uint8_t> input(data + 1, size - 1);

  WsServerConfig config;
  config.max_message_bytes = 1024;
  config.receive_buffer_bytes = 512;
  WsServer server(config);
  WsEvent event;
  bool closed = false;
  auto drain = [&] {
    while (server.next_event(event)) {
      check(!closed);
      switch (event.type) {
        case WsEventType::request: {
          const WsUpgradeRequestInfo& r = event.request;
          check(r.status.ok() && !r.path.empty() && r.path[0] == '/' && !r.host.empty() && r.key.size() == 24);
          char accept[28];
          check(compute_ws_accept(r.key, accept).ok());
          const size_t queued = server.output().size();
          check(server.accept().ok());
          WsUpgradeResponse answer =
              parse_ws_upgrade_response(server.output().subspan(queued), 4096, {accept, sizeof(accept)}, "sublink.v1");
          check(answer.status.ok() && answer.http_status == 101);
          break;
        }
        case WsEventType::text:
          check(is_valid_utf8(event.data));
          [[fallthrough]];
        case WsEventType::binary:
          check(event.data.size() <= config.max_message_bytes);
          (void)server.send_binary(event.data);  // the send path with what came in
          break;
        case WsEventType::pong:
          check(event.data.size() <= kWsMaxControlPayload);
          break;
        case WsEventType::open:  // the client role's event
          break;
        case WsEventType::closed:
          closed = true;
          if (event.status.reason() == Reason::upgrade_invalid) {
            const int status = event.status.detail();
            check(status >= 400 && status <= 499);
          }
          break;
      }
      server.consume_output(server.output().size() / 2);  // leave some queued: output pressure
    }
  };
  if (!raw_request) {
    check(server.feed(bytes_of(kRequest)) == kRequest.size());
    drain();
    check(server.state() == WsState::open);
  }
  while (!input.empty()) {
    const size_t n = input.size() < chunk ? input.size() : chunk;
    const size_t taken = server.feed(input.first(n));
    input = input.subspan(taken);
    drain();
    check(taken > 0);  // a full buffer always makes room once its events are taken
  }
  check(closed == (server.state() == WsState::closed));
  return 0;
}
