#include "boards/host/link_narrator.h"

#include <cstdarg>

#include "net/posix/posix_lookups.h"

namespace sublink {

namespace {
// Where an attempt's TCP connection goes: the server's address and port,
// or through a proxy the proxy's, with the server port it asks CONNECT for.
const char* where(const AttemptInfo& a, char (&buf)[96]) {
  char addr[48];
  a.address.format(addr);
  if (a.proxy_port != 0) {
    snprintf(buf, sizeof buf, a.address.family == 6 ? "proxy [%s]:%u (CONNECT to port %u)" : "proxy %s:%u (CONNECT to port %u)",
             addr, a.proxy_port, a.port);
  } else {
    snprintf(buf, sizeof buf, a.address.family == 6 ? "[%s]:%u" : "%s:%u", addr, a.port);
  }
  return buf;
}
}  // namespace

LinkNarrator::LinkNarrator(FILE* out, MonotonicClock& clock) : out_(out), clock_(clock), origin_(clock.now_ms()) {}

void LinkNarrator::emit(LogLevel /*level*/, const char* line) {
  Millis t = clock_.now_ms() - origin_;
  fprintf(out_, "[%4lld.%03lld] %s\n", static_cast<long long>(t / 1000), static_cast<long long>(t % 1000), line);
  fflush(out_);
}

void LinkNarrator::say(const char* fmt, ...) {
  char line[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  emit(LogLevel::info, line);
}

void LinkNarrator::tell(LogLevel level, const char* fmt, ...) {
  char line[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  emit(level, line);
}

void LinkNarrator::on_resolved(std::string_view name, Status status, const AddressList& addresses) {
  if (!status.ok()) {
    const char* words = posix_resolver_words(status.detail());
    tell(LogLevel::warning, "resolve %.*s: FAILED (%s%s%s) - %s", static_cast<int>(name.size()), name.data(),
         reason_name(status.reason()), words ? ": " : "", words ? words : "", reason_hint(status.reason()));
    return;
  }
  char list[400] = {};
  size_t pos = 0;
  for (size_t i = 0; i < addresses.count && pos + 50 < sizeof list; ++i) {
    if (i) list[pos++] = ' ';
    pos += addresses.items[i].format({list + pos, sizeof list - pos});
  }
  say("resolved %.*s -> %s", static_cast<int>(name.size()), name.data(), list);
}

void LinkNarrator::on_attempt_step(const AttemptInfo& attempt, LinkStep step) {
  char w[96];
  switch (step) {
    case LinkStep::connecting: say("attempt #%u: connecting to %s", attempt.id, where(attempt, w)); break;
    case LinkStep::tcp_connected: say("attempt #%u: TCP connected to %s", attempt.id, where(attempt, w)); break;
    case LinkStep::tunnel_open: say("attempt #%u: proxy tunnel open to port %u", attempt.id, attempt.port); break;
    case LinkStep::tls_established:
      say("attempt #%u: TLS 1.2 established, server certificate verified, device certificate accepted", attempt.id);
      break;
    case LinkStep::upgraded: say("attempt #%u: WebSocket upgrade accepted (sublink.v1)", attempt.id); break;
  }
}

void LinkNarrator::on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text) {
  char w[96];
  tell(LogLevel::warning, "attempt #%u to %s FAILED: %s (%d)%s%.*s - %s", attempt.id, where(attempt, w), reason_name(why.reason()),
      static_cast<int>(why.detail()), text.empty() ? "" : ", ", static_cast<int>(text.size()), text.data(),
      reason_hint(why.reason()));
}

void LinkNarrator::on_round_failed(Status last, Millis retry_at) {
  Millis wait = retry_at - clock_.now_ms();
  tell(LogLevel::notice, "every address and port failed (last: %s); next round in %lld ms (backoff with jitter)",
      reason_name(last.reason()), static_cast<long long>(wait < 0 ? 0 : wait));
}

void LinkNarrator::on_link_up(const AttemptInfo& attempt, bool tls_resumed) { announce_link_up(attempt, tls_resumed); }

void LinkNarrator::announce_link_up(const AttemptInfo& attempt, bool tls_resumed) {
  char w[96];
  tell(LogLevel::notice, "LINK UP on %s%s", where(attempt, w), tls_resumed ? " (TLS session resumed)" : "");
}

void LinkNarrator::say_websocket_open(const AttemptInfo& attempt) {
  char w[96];
  say("attempt #%u: WebSocket open on %s, hello sent; the link is up at welcome", attempt.id, where(attempt, w));
}

void LinkNarrator::on_text(std::string_view message) {
  tell(LogLevel::debug, "received: %.*s", static_cast<int>(message.size() > 200 ? 200 : message.size()), message.data());
}

void LinkNarrator::on_link_down(Status why) {
  if (why.ok()) {
    say("link closed by us");
  } else {
    tell(LogLevel::warning, "LINK DOWN: %s (%d) - %s", reason_name(why.reason()), static_cast<int>(why.detail()),
        reason_hint(why.reason()));
  }
}

}  // namespace sublink
