#include "firmware/agent/status_page.h"

#include <cstring>

#include "firmware/agent/text_builder.h"
#include "hal/decimal.h"

namespace sublink {

namespace {

// Room kept before the body for the response head, which is written once
// the body's length is known: the status line, four fixed headers and a
// 4-digit length take under 200 bytes.
constexpr size_t kHeadRoom = 200;

std::string_view error_body(HttpRequestHead::Verdict verdict) {
  using V = HttpRequestHead::Verdict;
  switch (verdict) {
    case V::bad_request: return "bad request: expected 'GET / HTTP/1.0'\n";
    case V::not_found: return "not found: this device serves only /\n";
    case V::method_not_allowed: return "method not allowed: this page is read-only (GET)\n";
    case V::uri_too_long: return "request line too long: at most 128 bytes\n";
    case V::head_too_large: return "request too large: at most 4096 bytes of head\n";
    case V::incomplete:
    case V::get_root: break;
  }
  return "";
}

}  // namespace

size_t render_status_text(const AgentStatus& s, std::string_view system_id, std::span<char> out) {
  TextBuilder t(out);
  t.add("sublink status of ").add(system_id).add("\nstate: ").add(state_name(s.state)).add("\nlicense: ");
  if (s.license_held) {
    t.add(s.serial).add(", expires ").number(static_cast<uint64_t>(s.expires)).add(" (UTC ms), features");
    for (const LicensedFeature& f : s.features) t.add(" ").add(f.name.view()).add("=").number(f.qty);
  } else {
    t.add("none");
  }
  t.add("\ngrace: elapsed ").add(decimal_signed(s.grace_elapsed_s).view()).add(" s, remaining ");
  t.add(decimal_signed(s.grace_remaining_s).view()).add(" s, alarm ").add(s.alarm ? "on" : "off");
  t.add("\nlink: ").add(s.link_up ? "up" : "down");
  if (s.link_up) t.add(", port ").number(s.port);
  t.add("\nlast_failure: ");
  if (s.last_failure.reason.empty()) {
    t.add("none");
  } else {
    t.add(s.last_failure.reason);
    if (!s.last_failure.detail.empty()) t.add(" (").add(s.last_failure.detail).add(")");
  }
  t.add("\n");
  return t.view().size();
}

StatusPage::Session* StatusPage::find(uint16_t channel) {
  for (Session& s : sessions_) {
    if (s.used && s.channel == channel) return &s;
  }
  return nullptr;
}

bool StatusPage::open(uint16_t channel, Millis /*now*/) {
  for (Session& s : sessions_) {
    if (s.used) continue;
    s = Session{};
    s.used = true;
    s.channel = channel;
    return true;
  }
  return false;
}

void StatusPage::close(uint16_t channel) {
  if (Session* s = find(channel)) *s = Session{};
}

size_t StatusPage::sessions_in_use() const {
  size_t n = 0;
  for (const Session& s : sessions_) n += s.used;
  return n;
}

size_t StatusPage::on_input(uint16_t channel, std::span<const uint8_t> bytes, bool peer_finished,
                            TunnelReply& reply) {
  Session* s = find(channel);
  if (s == nullptr || s->answered) return bytes.size();  // after the answer: dropped
  size_t taken = s->head.feed(bytes);
  if (peer_finished) s->head.end_of_input();
  const HttpRequestHead::Verdict verdict = s->head.verdict();
  if (verdict == HttpRequestHead::Verdict::incomplete) return taken;
  const std::span<const uint8_t> response = render(verdict);
  // Queued whole or not at all: the page is a snapshot, so a later try
  // renders it again instead of sending two halves of two snapshots.
  if (reply.room() < response.size()) return taken;
  (void)reply.write(response);
  reply.finish();
  s->answered = true;
  return bytes.size();
}

std::span<const uint8_t> StatusPage::render(HttpRequestHead::Verdict verdict) {
  const std::span<char> body_space = std::span<char>(page_).subspan(kHeadRoom);
  size_t body = 0;
  if (verdict == HttpRequestHead::Verdict::get_root) {
    body = render_status_text(status_.snapshot(), system_id_, body_space);
  } else {
    body = TextBuilder(body_space).add(error_body(verdict)).view().size();
  }
  std::array<char, kHeadRoom + 1> head_text{};
  TextBuilder head(head_text);
  head.add("HTTP/1.0 ").add(http_status_line(verdict)).add("\r\nContent-Type: text/plain; charset=utf-8\r\n");
  if (verdict == HttpRequestHead::Verdict::method_not_allowed) head.add("Allow: GET\r\n");
  head.add("Content-Length: ").number(body).add("\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n");
  const std::string_view h = head.view();
  char* start = page_.data() + kHeadRoom - h.size();
  std::memcpy(start, h.data(), h.size());
  return {reinterpret_cast<const uint8_t*>(start), h.size() + body};
}

}  // namespace sublink
