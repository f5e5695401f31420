// The device's status page: a read-only HTTP/1.0 page served inside the
// image through a tunnel (PROTOCOL.md section 6; a board maps a service
// name, "status" on mps2-an385, to it). It answers one request per channel:
// GET / gets "HTTP/1.0 200 OK", text/plain, Content-Length and the section 7
// status in a few lines, then FIN:
//   sublink status of SYS-0001
//   state: licensed
//   license: L-1, expires 1767225600000 (UTC ms), features recording=1 trunks=30
//   grace: elapsed 0 s, remaining 2592000 s, alarm off
//   link: up, port 8443
//   last_failure: none
// Anything else gets its error status (HttpRequestHead: 400, 404, 405, 414,
// 431) with a one-line body. Bytes after the request are taken and dropped,
// so the operator's side never stalls on credit.
//
// Memory: fixed, in the object: kSessions request heads and one page
// buffer (pages are rendered and queued whole, one at a time). A channel
// beyond kSessions is refused (the tunnel service answers RST no_memory).
//
// Driving it (a board does; see boards/mps2-an385/agent_loop.cpp):
//   StatusPage page(agent_status_source, system_id);
//   TunnelHandlerEntry entries[] = {{"status", &page}};
//   settings.tunnels.handlers = entries;   // before Agent::enable_tunnels
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "firmware/agent/http_request_head.h"
#include "firmware/agent/management.h"
#include "firmware/agent/tunnel_handler.h"

namespace sublink {

/// The status page's body for `status` of device `system_id` (the text
/// above), cut at out.size() - 1 bytes; returns its length.
size_t render_status_text(const AgentStatus& status, std::string_view system_id, std::span<char> out);

class StatusPage final : public TunnelHandler {
 public:
  /// Channels served at once.
  static constexpr size_t kSessions = 2;
  /// The largest response: head and body (32 features of 31-character
  /// names, 63-character ids and a 128-byte failure detail take 2 KiB).
  static constexpr size_t kMaxResponse = 2304;

  /// `status` and `system_id` must outlive the page.
  StatusPage(const StatusSource& status, std::string_view system_id) : status_(status), system_id_(system_id) {}

  bool open(uint16_t channel, Millis now) override;
  size_t on_input(uint16_t channel, std::span<const uint8_t> bytes, bool peer_finished, TunnelReply& reply) override;
  void close(uint16_t channel) override;

  /// Sessions in use (leak checks).
  size_t sessions_in_use() const;

 private:
  struct Session {
    bool used = false;
    bool answered = false;
    uint16_t channel = 0;
    HttpRequestHead head;
  };
  Session* find(uint16_t channel);
  // Renders the answer to `verdict` into page_; returns its bytes.
  std::span<const uint8_t> render(HttpRequestHead::Verdict verdict);

  const StatusSource& status_;
  std::string_view system_id_;
  std::array<Session, kSessions> sessions_{};
  std::array<char, kMaxResponse> page_{};
};

}  // namespace sublink
