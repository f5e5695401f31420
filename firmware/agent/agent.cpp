#include "firmware/agent/agent.h"

#include <algorithm>
#include <variant>

#include "firmware/agent/tunnel_service.h"
#include "firmware/grace/grace_record.h"

namespace sublink {

namespace {
// One handler per message type, for std::visit.
template <class... Handlers>
struct MessageTable : Handlers... {
  using Handlers::operator()...;
};
template <class... Handlers>
MessageTable(Handlers...) -> MessageTable<Handlers...>;
}  // namespace

Agent::Agent(const AgentConfig& config, MessageChannel& channel, Storage& storage, MonotonicClock& mono,
             WallClock& wall, const LicenseKey& key, Random& random)
    : config_(config),
      mono_(mono),
      wall_(wall),
      random_(random),
      log_(config.log),
      outbox_(channel, log_),
      server_time_(wall, config.grace.earliest_valid_utc),
      grace_(config.grace),
      events_(config_, log_, server_time_, mono, wall, random),
      records_(storage, log_, events_),
      session_(config_, channel, outbox_, server_time_, log_),
      license_({config_, key, log_, server_time_, session_, grace_, events_, records_, outbox_}),
      audit_({config_, log_, server_time_, session_, license_, events_, records_, outbox_}) {}

// ---- Boot, start, step, shutdown ----------------------------------------------

Status Agent::boot(Millis now) {
  boot_mono_ = now;
  RecordRestore restore({config_, log_, random_, wall_, records_, events_, license_, audit_, grace_});
  Status first_error = restore.run(now, identity_);
  next_wall_read_ = saturating_add(now, config_.wall_clock_poll_ms);
  // The log says from the start which clock checks certificate dates; with
  // none yet, once start() has waited for NTP.
  if (session_.clock_ready_at_boot()) session_.note_clock_source();
  pump_grace();
  events_.persist(records_);
  notify();
  return first_error;
}

void Agent::enable_tunnels(SocketDriver& driver, BinaryChannel& link) {
  tunnels_ = std::make_unique<TunnelService>(
      TunnelService::Parts{config_.tunnels, driver, link, events_, log_, server_time_});
}

void Agent::start(Millis now) { session_.start(now); }

Millis Agent::step(Millis now) {
  // The drain: what the callbacks left goes out first, in order; from here
  // on the services write at once.
  outbox_.begin_drain();
  session_.begin_step(now);
  if (next_wall_read_ <= now) {
    session_.note_clock_source();
    grace_.on_wall_clock(now, wall_.now());
    next_wall_read_ = saturating_add(now, config_.wall_clock_poll_ms);
  }
  grace_.advance(now);
  pump_grace();
  if (session_.keep_alive(now, (now - boot_mono_) / 1000) == Session::StepResult::dead_link) link_lost(now);
  if (session_.welcomed()) {
    audit_.step(now);
    license_.renew_step(now);
    events_.send_batch(outbox_, records_);
  }
  license_.retry_step(now);
  outbox_.end_drain();
  Millis next = std::min({next_wall_read_, grace_.next_deadline(), session_.next_deadline(now),
                          license_.next_deadline()});
  if (session_.welcomed()) next = std::min(next, audit_.next_deadline());
  if (tunnels_ != nullptr) {
    // After every JSON message of this step, and only while the link has room.
    tunnels_->step(now);
    next = std::min(next, tunnels_->next_deadline(now));
  }
  return next;
}

void Agent::shutdown(Millis now) {
  outbox_.begin_drain();
  // Every channel hears RST shutdown before the link closes.
  if (tunnels_ != nullptr) tunnels_->shutdown(now);
  // Also when the link is down: close() stops the reconnection rounds.
  outbox_.close(1001, "going away");
  link_lost(now);
  session_.stop();
  grace_.advance(now);
  pump_grace();
  // Written last and marked clean: the next start is charged nothing for
  // an unrecorded stretch (PROTOCOL.md section 5).
  GraceRecordBytes record = encode_grace_record(grace_.clean_stop_record(now));
  (void)records_.store(RecordId::grace, record);
  audit_.persist_if_dirty();
  events_.persist(records_);
  outbox_.end_drain();
  log_.write(LogLevel::info, "shut down: grace account, usage and events stored");
}

// ---- Link ------------------------------------------------------------------------

void Agent::on_link_up(const AttemptInfo& attempt, bool /*tls_resumed*/) {
  const Millis now = mono_.now_ms();
  session_.on_link_up(attempt.port, now);
  outbox_.restart();
  events_.link_lost();
  audit_.on_link_up();
  license_.on_link_up();
  send_hello();
  license_.request();
}

void Agent::on_link_down(Status why) {
  const Millis now = mono_.now_ms();
  session_.on_link_down(why, now);
  outbox_.discard();  // nothing more can go out on this link
  link_lost(now);
}

void Agent::on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text) {
  session_.on_attempt_failed(attempt, why, text, mono_.now_ms());
}

void Agent::on_resolved(std::string_view name, Status status, const AddressList& /*addresses*/) {
  session_.on_resolved(name, status, mono_.now_ms());
}

void Agent::link_lost(Millis now) {
  // Every channel is gone with the link (PROTOCOL.md section 6).
  if (tunnels_ != nullptr) tunnels_->link_lost(now);
  bool was_welcomed = false;
  if (!session_.lose(was_welcomed)) return;
  events_.link_lost();
  audit_.link_lost();
  license_.link_lost();
  if (was_welcomed) {
    grace_.on_link_down(now);
    pump_grace();
  }
}

void Agent::send_hello() {
  HelloMessage h;
  h.customer_id = config_.customer_id;
  h.system_id = config_.system_id;
  h.agent = config_.agent_version;
  h.fw = config_.fw;
  h.boot = identity_.boot_counted ? static_cast<int64_t>(identity_.boot_count) : 0;
  StreamText stream = stream_text(events_.stream());
  h.event_stream = {stream.data(), stream.size()};
  if (identity_.instance) h.instance = std::string_view(identity_.instance->data(), identity_.instance->size());
  WallTime wall = wall_.now();
  Millis now = mono_.now_ms();
  if (wall.trusted && wall.set) {
    h.time = wall.utc_ms;
  } else {
    h.time = server_time_.now(now);
  }
  h.state = state_name(grace_.state());
  h.grace_elapsed_s = grace_.elapsed_ms() / 1000;
  if (license_.held()) h.license_serial = license_.terms().serial.view();
  if (tunnels_ != nullptr) h.services = config_.service_names;
  (void)outbox_.commit(build_hello(outbox_.space(), outbox_.next_id(), h));
}

// ---- Server messages ---------------------------------------------------------------

void Agent::on_text(std::string_view message) {
  Millis now = mono_.now_ms();
  if (!session_.channel_up()) return;
  session_.on_contact(now);  // any frame is contact, even one we refuse
  JsonResult<ServerMessage> parsed = parse_server_message(message);
  if (!parsed.ok()) {
    session_.close_for_violation(parsed.status(), now);
    link_lost(now);
    return;
  }
  grace_.advance(now);
  route(parsed.value(), now);
  pump_grace();
}

void Agent::on_binary(std::span<const uint8_t> message) {
  Millis now = mono_.now_ms();
  if (!session_.channel_up()) return;
  session_.on_contact(now);  // any frame is contact
  if (tunnels_ == nullptr) {
    log_.write(LogLevel::info, "tunnel frame ignored: this device has no tunnels");
    return;
  }
  Status s = tunnels_->on_binary(message, now);
  if (!s.ok()) {
    session_.close_for_violation(s, now);
    link_lost(now);
  }
}

void Agent::route(ServerMessage& m, Millis now) {
  std::visit(
      MessageTable{
          [&](const Welcome& w) { on_welcome(w, now); },
          [&](const HeartbeatAck& a) { on_heartbeat_ack(a, now); },
          [&](const LicenseGrant& g) {
            if (license_.on_grant(g, m.re, now)) license_changed(now);
          },
          [&](const LicenseDenied& d) { license_.on_denied(d, m.re); },
          [&](const LicenseRevoke& r) {
            if (license_.on_revoke(r, m.id)) license_changed(now);
          },
          [&](const AuditAck& a) { audit_.on_ack(a, m.re); },
          [&](const EventAck& e) { events_.on_ack(e, records_); },
          [&](const Request& q) {
            // Management keeps no state between requests: made for each one.
            Management({config_.allowed_methods, *this, license_, audit_, events_, outbox_, tunnels_.get()})
                .on_request(q, *m.id, now);
          },
          [&](const Disconnect& d) {
            session_.on_disconnect(d, now);
            link_lost(now);
          },
          [&](const ServerError& e) { session_.on_error(e, now); },
          [&](const UnknownMessage& u) { log_.write(LogLevel::info, "unknown message type ignored", u.type); },
      },
      m.body);
}

void Agent::on_welcome(const Welcome& w, Millis now) {
  session_.on_welcome(w, now);
  if (tunnels_ != nullptr) tunnels_->set_link_accepted(true);
  grace_.on_link_up(now, w.time);
  check_license_window(now);
  audit_.schedule(now);
  license_.schedule_renewal(now);
  // What is due now (the first audit, buffered events) goes out at the
  // next step(), which the board runs right after this callback.
}

void Agent::on_heartbeat_ack(const HeartbeatAck& ack, Millis now) {
  session_.on_heartbeat_ack(ack, now);
  grace_.on_trusted_time(now, ack.time);
  check_license_window(now);
}

void Agent::check_license_window(Millis now) {
  if (license_.check_window(now)) {
    license_changed(now);
  } else if (license_.held()) {
    audit_.schedule_if_idle(now);
  }
}

void Agent::license_changed(Millis now) {
  audit_.schedule_if_idle(now);
  pump_grace();
  notify();
}

// ---- Outputs -------------------------------------------------------------------

void Agent::pump_grace() {
  bool changed = false;
  while (std::optional<GraceOutput> out = grace_.poll()) {
    switch (out->type) {
      case GraceOutputType::state_changed: changed = true; break;
      case GraceOutputType::event:
        log_.event(out->event, out->severity, out->payload);
        events_.queue_event(out->event, out->severity, out->utc_ms, out->payload);
        break;
      case GraceOutputType::checkpoint:
        (void)records_.store(RecordId::grace, out->record);
        // Peaks ride along with the grace checkpoint (hourly and at every
        // state change) instead of wearing the flash at every call.
        audit_.persist_if_dirty();
        break;
    }
  }
  events_.persist(records_);
  if (changed) notify();
}

void Agent::notify() {
  if (callback_ != nullptr) callback_(callback_ctx_, grace_.state());
}

// ---- Application -----------------------------------------------------------------

bool Agent::feature_enabled(std::string_view name) const {
  return license_.held() && grace_.features_on() && license_.terms().feature_on(name);
}

uint32_t Agent::feature_quantity(std::string_view name) const {
  return feature_enabled(name) ? license_.terms().quantity(name) : 0;
}

AgentStatus Agent::snapshot() const {
  AgentStatus s;
  s.state = grace_.state();
  session_.fill_status(s, wall_, mono_.now_ms());
  s.grace_elapsed_s = grace_.elapsed_ms() / 1000;
  s.grace_remaining_s = grace_.remaining_ms() / 1000;
  s.alarm = grace_.alarm_active();
  license_.fill_status(s);
  s.events_pending = events_.queue().size();
  s.boot = identity_.boot_counted ? identity_.boot_count : 0;
  s.audit_overuse = audit_.overuse();
  s.event_stream = events_.stream_text();
  if (std::string_view failure = records_.failure_text(); !failure.empty()) s.storage = failure;
  s.damaged_count = std::min(records_.damage_count(), s.damaged.size());
  for (size_t i = 0; i < s.damaged_count; ++i) s.damaged[i] = records_.damage(i);
  if (tunnels_ != nullptr) s.tunnels = tunnels_->list(mono_.now_ms());
  return s;
}

}  // namespace sublink
