#include "firmware/agent/session.h"

#include <algorithm>

#include "firmware/agent/text_builder.h"
#include "net/tls/certificate_date_clock.h"

namespace sublink {

namespace {
// How often a device waiting for NTP looks at its clock again.
constexpr Millis kClockWaitPollMs = 1000;
}  // namespace

Session::Session(const AgentConfig& config, MessageChannel& channel, Outbox& outbox, ServerTime& server_time,
                 const AgentLog& log)
    : config_(config), channel_(channel), outbox_(outbox), server_time_(server_time), log_(log) {}

// ---- Starting the channel ----------------------------------------------------------

bool Session::clock_usable() const {
  return config_.certificate_clock == nullptr || config_.certificate_clock->reading().source != ClockSource::build;
}

void Session::start(Millis now) {
  if (clock_usable() || config_.ntp_wait_ms <= 0) {
    channel_.start(now);
    return;
  }
  clock_wait_until_ = saturating_add(now, config_.ntp_wait_ms);
  std::array<char, 24> text{};
  TextBuilder wait(text);
  wait.number(static_cast<uint64_t>(config_.ntp_wait_ms / 1000)).add(" s");
  log_.write(LogLevel::notice, "no usable clock: waiting for NTP before the first link, at most", wait.view());
}

void Session::begin_step(Millis now) {
  if (clock_wait_until_ != kNever) {
    const bool set = clock_usable();
    if (set || clock_wait_until_ <= now) {
      clock_wait_until_ = kNever;
      if (!set) {
        log_.write(LogLevel::warning, "no NTP answer in time: linking with certificate dates checked against the build time");
      }
      note_clock_source();
      channel_.start(now);
    }
  }
  if (restart_at_ <= now) {
    restart_at_ = kNever;
    channel_.start(now);
  }
}

Session::StepResult Session::keep_alive(Millis now, int64_t uptime_s) {
  if (channel_up_ && now - last_contact_ >= 3 * heartbeat_ms_) {
    log_.write(LogLevel::warning, "dead link: no frame for 3 heartbeats");
    outbox_.drop(Status(Reason::connect_timeout));
    return StepResult::dead_link;
  }
  if (welcomed_ && next_heartbeat_ <= now) {
    (void)outbox_.commit(build_heartbeat(outbox_.space(), outbox_.next_id(), ++heartbeat_seq_, uptime_s));
    next_heartbeat_ = now + heartbeat_ms_;
  }
  return StepResult::nothing;
}

Millis Session::next_deadline(Millis now) const {
  Millis next = restart_at_;
  if (clock_wait_until_ != kNever) next = std::min({next, clock_wait_until_, saturating_add(now, kClockWaitPollMs)});
  if (channel_up_) next = std::min(next, last_contact_ + 3 * heartbeat_ms_);
  if (welcomed_) next = std::min(next, next_heartbeat_);
  return next;
}

void Session::stop() {
  restart_at_ = kNever;
  clock_wait_until_ = kNever;
}

// ---- The link --------------------------------------------------------------------

void Session::on_link_up(uint16_t port, Millis now) {
  channel_up_ = true;
  welcomed_ = false;
  refused_on_link_ = false;
  port_ = port;
  heartbeat_ms_ = kDefaultHeartbeatS * 1000;
  last_contact_ = now;
}

void Session::on_welcome(const Welcome& w, Millis now) {
  welcomed_ = true;
  // The server accepted us: only now may the reconnection backoff start
  // over (PROTOCOL.md 1.5); a link refused before this keeps it growing.
  channel_.link_accepted();
  heartbeat_ms_ = w.heartbeat_s * 1000;
  audit_ms_ = w.audit_s * 1000;
  learn_server_time(now, w.time);
  next_heartbeat_ = now + heartbeat_ms_;
}

void Session::on_heartbeat_ack(const HeartbeatAck& ack, Millis now) { learn_server_time(now, ack.time); }

void Session::on_disconnect(const Disconnect& dc, Millis now) {
  Millis delay = dc.retry_after_s.value_or(0) * 1000;
  log_.write(LogLevel::notice, "server asked to disconnect", dc.reason);
  channel_.set_retry_floor(delay);
  outbox_.close(1000, "disconnect");
  restart_at_ = saturating_add(now, delay);
}

void Session::on_error(const ServerError& err, Millis now) {
  log_.write(LogLevel::warning, "server error", err.code);
  // The server refused this device: its own words are why the link is down.
  if (!welcomed_) refused_on_link_ = true;
  note_failure(err.code, err.message.empty() ? std::string_view("the server refused the device") : err.message, now);
  if (err.retry_after_s) channel_.set_retry_floor(*err.retry_after_s * 1000);
}

void Session::close_for_violation(const Status& why, Millis now) {
  log_.write(LogLevel::warning, "closing: bad message from server", reason_name(why.reason()));
  std::array<char, 200> detail{};
  TextBuilder text(detail);
  text.add("the agent closed the link with code ").number(close_code_for(why)).add(": ").add(reason_hint(why.reason()));
  note_failure(reason_name(why.reason()), text.view(), now);
  outbox_.close(close_code_for(why), reason_name(why.reason()));
  restart_at_ = saturating_add(now, config_.violation_retry_ms);
}

void Session::on_link_down(Status why, Millis now) {
  log_.write(LogLevel::notice, "link down", reason_name(why.reason()));
  // Our own close (why.ok()) is no failure; after the server's `error` the
  // close that follows is its consequence, and the refusal stays the reason.
  if (why.ok() || refused_on_link_) return;
  std::array<char, 200> detail{};
  TextBuilder text(detail);
  if (why.reason() == Reason::closed_by_peer) {
    text.add("the server closed the link (WebSocket close ").number(static_cast<uint32_t>(why.detail())).add(")");
  } else {
    text.add(welcomed_ ? "the link was up, then: " : "before welcome: ").add(reason_hint(why.reason()));
  }
  note_failure(reason_name(why.reason()), text.view(), now);
}

void Session::on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view extra, Millis now) {
  // Where TCP went: through a proxy, the proxy's address and port.
  std::array<char, 48> address{};
  const size_t n = attempt.address.format({address.data(), address.size()});
  const bool v6 = attempt.address.family == 6;
  std::array<char, 200> detail{};
  TextBuilder text(detail);
  if (attempt.proxy_port != 0) text.add("proxy ");
  text.add(v6 ? "[" : "").add({address.data(), n}).add(v6 ? "]:" : ":");
  text.number(attempt.proxy_port != 0 ? attempt.proxy_port : attempt.port);
  if (attempt.proxy_port != 0) text.add(" (CONNECT to port ").number(attempt.port).add(")");
  text.add(": ").add(extra.empty() ? std::string_view(reason_hint(why.reason())) : extra);
  note_failure(reason_name(why.reason()), text.view(), now);
}

void Session::on_resolved(std::string_view name, Status status, Millis now) {
  if (status.ok()) return;
  std::array<char, 200> detail{};
  TextBuilder text(detail);
  text.add(name).add(": ");
  const char* words = config_.resolver_words != nullptr ? config_.resolver_words(status.detail()) : nullptr;
  if (words != nullptr) text.add(words).add(" - ");
  text.add(reason_hint(status.reason()));
  note_failure(reason_name(status.reason()), text.view(), now);
}

bool Session::lose(bool& was_welcomed) {
  if (!channel_up_) return false;
  channel_up_ = false;
  was_welcomed = welcomed_;
  welcomed_ = false;
  next_heartbeat_ = kNever;
  return true;
}

void Session::note_failure(std::string_view reason, std::string_view detail, Millis now) {
  TextBuilder(failure_reason_).add(reason);
  TextBuilder(failure_detail_).add(detail);
  failure_utc_ = server_time_.best_utc(now);
}

// ---- Time ------------------------------------------------------------------------

void Session::learn_server_time(Millis now, Millis utc) {
  server_time_.learn(now, utc);
  // PROTOCOL.md 2: once a link is up, the server's time is trusted for
  // certificate dates too (the next links, after a power cut without RTC).
  if (config_.certificate_clock == nullptr) return;
  if (!config_.certificate_clock->learn_server_time(now, utc)) {
    log_.write(LogLevel::warning, "server time before the firmware's build time: not taken for certificate dates");
  }
  note_clock_source();
}

void Session::note_clock_source() {
  if (config_.certificate_clock == nullptr) return;
  const ClockReading r = config_.certificate_clock->reading();
  if (static_cast<uint8_t>(r.source) == logged_clock_source_) return;
  if (r.source == ClockSource::build && clock_wait_until_ != kNever) return;  // not used while waiting for NTP
  logged_clock_source_ = static_cast<uint8_t>(r.source);
  switch (r.source) {
    case ClockSource::build:
      log_.write(LogLevel::warning,
                 "no trusted clock: certificate dates are checked against the firmware's build time (expired before "
                 "it: refused; valid only after it: accepted)",
                 "clock=build");
      break;
    case ClockSource::rtc:
      log_.write(LogLevel::notice, "certificate dates checked with the device clock, not synchronised", "clock=rtc");
      break;
    case ClockSource::server:
      log_.write(LogLevel::notice, "certificate dates checked with the server's time from welcome (trusted)",
                 "clock=server");
      break;
    case ClockSource::ntp:
      log_.write(LogLevel::info, "certificate dates checked with the NTP-synchronised clock", "clock=ntp");
      break;
  }
}

bool Session::clock_ready_at_boot() const { return clock_usable() || config_.ntp_wait_ms <= 0; }

void Session::fill_status(AgentStatus& s, WallClock& wall, Millis now) const {
  s.link_up = welcomed_;
  s.port = welcomed_ ? port_ : 0;
  if (config_.certificate_clock != nullptr) {
    const ClockReading r = config_.certificate_clock->reading();
    s.clock.trusted = r.trusted;
    s.clock.source = clock_source_name(r.source);
  } else {
    // No certificate clock installed (a test, a board that checks no
    // dates): the device clock as it reads itself.
    const WallTime w = wall.now();
    s.clock.trusted = w.trusted;
    s.clock.source = w.trusted ? "ntp" : "rtc";
  }
  if (failure_reason_[0] != '\0') {
    s.last_failure.reason = text_of(failure_reason_);
    s.last_failure.detail = text_of(failure_detail_);
    s.last_failure.when = failure_utc_;
  }
  // The next round: the agent's own restart (after `disconnect`, a
  // violation) or the link's backoff, whichever is later.
  if (clock_wait_until_ != kNever) {
    s.next_attempt.in_ms = std::max<Millis>(clock_wait_until_ - now, 0);
    s.next_attempt.waiting_for_clock = true;
  } else if (!channel_up_) {
    Millis at = channel_.next_attempt();
    if (restart_at_ != kNever) at = at == kNever ? restart_at_ : std::max(at, restart_at_);
    if (at != kNever) {
      s.next_attempt.in_ms = std::max<Millis>(at - now, 0);
      if (std::optional<Millis> utc = server_time_.best_utc(now)) s.next_attempt.at = *utc + *s.next_attempt.in_ms;
    }
  }
}

}  // namespace sublink
