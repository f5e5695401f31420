#include "firmware/agent/agent.h"

#include <algorithm>
#include <variant>

#include "firmware/agent/boot_counter.h"
#include "firmware/agent/device_instance.h"
#include "firmware/agent/event_wire.h"
#include "firmware/grace/grace_record.h"
#include "firmware/json/json_reader.h"
#include "firmware/license/license_acceptance.h"
#include "firmware/license/license_record.h"
#include "net/tls/certificate_date_clock.h"

namespace sublink {

namespace {
constexpr std::string_view kKnownMethods[] = {"status.get", "audit.now", "license.refresh",
                                              "events.get", "tunnel.open", "tunnel.close"};

bool params_empty_or_object(const cJSON* params) {
  JsonType t = json_type_of(params);
  return t == JsonType::missing || t == JsonType::null || t == JsonType::object;
}

Millis saturating_add(Millis a, Millis b) {
  Millis r;
  return __builtin_add_overflow(a, b, &r) ? kNever : r;
}

// Appends to a fixed text buffer, cutting what does not fit.
class TextBuilder {
 public:
  explicit TextBuilder(std::span<char> out) : out_(out) {
    if (!out_.empty()) out_[0] = '\0';
  }
  TextBuilder& add(std::string_view s) {
    for (char c : s) {
      if (n_ + 1 < out_.size()) out_[n_++] = c;
    }
    if (!out_.empty()) out_[n_] = '\0';
    return *this;
  }
  TextBuilder& number(uint64_t v) {
    char digits[20];
    size_t d = 0;
    do {
      digits[d++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (d > 0) add({&digits[--d], 1});
    return *this;
  }
  std::string_view view() const { return {out_.data(), n_}; }

 private:
  std::span<char> out_;
  size_t n_ = 0;
};

std::string_view text_of(const std::array<char, 128>& a) {
  size_t n = 0;
  while (n < a.size() && a[n] != '\0') ++n;
  return {a.data(), n};
}
}  // namespace

Agent::Agent(const AgentConfig& config, MessageChannel& channel, Storage& storage, MonotonicClock& mono,
             WallClock& wall, const LicenseKey& key, Random& random)
    : config_(config),
      channel_(channel),
      storage_(storage),
      mono_(mono),
      wall_(wall),
      key_(key),
      random_(random),
      grace_(config.grace),
      events_(std::max(config.event_capacity, EventQueue::kMinCapacity)),
      event_record_size_(EventQueue::max_serialized_size(events_.capacity())),
      held_(std::make_unique<License>()),
      scratch_(std::make_unique<License>()) {
  event_record_ = std::make_unique<uint8_t[]>(event_record_size_);
  if (config_.event_batch == 0) config_.event_batch = 1;
  usage_.configure(config_.features);
  config_.license_retry_min_ms = std::max<Millis>(config_.license_retry_min_ms, 1);
  config_.license_retry_max_ms = std::max(config_.license_retry_max_ms, config_.license_retry_min_ms);
  license_retry_delay_ = config_.license_retry_min_ms;
}

void Agent::log(LogLevel level, std::string_view what, std::string_view detail) const {
  if (config_.log.write != nullptr) config_.log.write(config_.log.ctx, level, what, detail);
}

void Agent::log_event(EventKind kind, Severity severity, const EventPayload& payload) const {
  if (config_.log.write == nullptr) return;
  // A site engineer reads grace alarms in the log first: say how long is left.
  LogLevel level = severity == Severity::critical ? LogLevel::critical
                   : severity == Severity::major  ? LogLevel::error
                   : severity == Severity::info   ? LogLevel::notice
                                                  : LogLevel::warning;
  std::array<char, 64> text{};
  size_t n = 0;
  auto put = [&](std::string_view s) {
    for (char c : s) {
      if (n + 1 < text.size()) text[n++] = c;
    }
  };
  put(kind_name(kind));
  put(" (");
  put(severity_name(severity));
  if (payload.days_left >= 0) {
    char digits[12];
    size_t d = 0;
    uint32_t v = static_cast<uint32_t>(payload.days_left);
    do {
      digits[d++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    put(", ");
    while (d > 0) put({&digits[--d], 1});
    put(payload.days_left == 1 ? " day left" : " days left");
  }
  put(")");
  config_.log.write(config_.log.ctx, level, "event", {text.data(), n});
}

// ---- Boot ----------------------------------------------------------------------

Status Agent::boot(Millis now) {
  boot_mono_ = now;
  Status first_error;
  auto note = [&](const Status& s) {
    if (!s.ok() && !is_not_found(s) && !is_corrupt(s) && first_error.ok()) first_error = s;
  };
  // Damage found before the event log is restored is remembered and turned
  // into events once the log runs in its stream, so the restore does not
  // overwrite them.
  struct Pending {
    RecordId id;
    int32_t fault;
    const char* consequence;
  };
  Pending pending[4] = {};
  size_t pending_count = 0;
  auto defer = [&](RecordId id, int32_t fault, const char* consequence) {
    if (pending_count < 4) pending[pending_count++] = {id, fault, consequence};
  };
  // Reads `id`; on an unreadable record remembers the damage. A value that
  // is an older copy because the newest was damaged counts as read.
  auto read = [&](RecordId id, std::span<uint8_t> buffer, int32_t& fault) -> std::optional<std::span<const uint8_t>> {
    fault = 0;
    Result<size_t> r = storage_.read(id, buffer);
    if (r.ok()) {
      if (storage_.read_fell_back(id)) fault = kDamageNewestCopy;
      return std::span<const uint8_t>(buffer.data(), *r);
    }
    note(r.status());
    if (!is_not_found(r.status())) fault = is_corrupt(r.status()) ? kDamageNoIntactCopy : kDamageReadFailed;
    return std::nullopt;
  };

  // Boot counter. A damaged counter restarts at 1: the server learns of the
  // reboot from the record_damaged event.
  uint64_t previous = 0;
  int32_t fault = 0;
  if (auto bytes = read(RecordId::boot, record_, fault)) {
    Result<uint64_t> count = decode_boot_record(*bytes);
    if (count.ok()) {
      previous = *count;
    } else {
      fault = count.status().detail();
    }
  }
  if (fault != 0) defer(RecordId::boot, fault, "boot counter restarted");
  boot_count_ = next_boot_count(previous);
  BootRecordBytes boot_record = encode_boot_record(boot_count_);
  Status boot_stored = store_status(RecordId::boot, boot_record);
  note(boot_stored);
  // A count that is not durable would be counted again by the next start
  // (it reads the old value back): hello says 0 (not counted) instead of
  // a number another boot will also send.
  boot_counted_ = boot_stored.ok();
  if (!boot_counted_) log(LogLevel::error, "boot counter not stored: this start is not counted", reason_name(boot_stored.reason()));

  // Instance: the same for the device's whole life, a new one only when its
  // record is gone (then the server may see one replacement it cannot tell
  // from a clone's, never the several that make an alarm).
  if (auto bytes = read(RecordId::identity, record_, fault)) {
    Result<uint64_t> instance = decode_identity_record(*bytes);
    if (instance.ok()) {
      instance_ = format_hex64(*instance);
      if (fault == kDamageNewestCopy) {
        // The older copy's instance is kept, and stored again so the record
        // is whole once more (else every boot would report the same damage).
        IdentityRecordBytes identity = encode_identity_record(*instance);
        note(store_status(RecordId::identity, identity));
        defer(RecordId::identity, fault, "older copy of the instance kept");
      }
    } else {
      fault = instance.status().detail();
    }
  }
  if (!instance_) {
    Result<uint64_t> made = make_instance(random_);
    if (made.ok()) {
      IdentityRecordBytes identity = encode_identity_record(*made);
      // An instance that is not durable would be made anew at every start,
      // and a restart loop would look like two appliances taking turns: it
      // goes in hello only once stored (the server counts no replacement
      // of a link that says no instance). The failure is reported as
      // storage_failed once the event log runs.
      Status stored = store_status(RecordId::identity, identity);
      note(stored);
      if (stored.ok()) {
        instance_ = format_hex64(*made);
      } else {
        log(LogLevel::error, "instance not stored: hello says none this start", reason_name(stored.reason()));
      }
    } else {
      log(LogLevel::error, "no instance: the random source failed", reason_name(made.status().reason()));
    }
    if (fault != 0) {
      defer(RecordId::identity, fault, instance_ ? "new instance made" : "no instance until one can be made and stored");
    }
  }

  // Event log. When it starts empty (first boot, a wiped state, a record
  // lost or damaged) its seqs may already be at the server: a new stream
  // keeps new events from being taken for duplicates. When storage fell
  // back to an older copy, the events it kept go out in their stream (the
  // server drops any it already has) and new ones in a new stream, since the
  // newer copy may have issued the seqs that follow.
  std::span<uint8_t> event_buffer{event_record_.get(), event_record_size_};
  uint32_t events_lost = 0;
  int32_t events_fault = 0;
  if (auto bytes = read(RecordId::events, event_buffer, events_fault)) {
    Status restored = events_.restore(*bytes);
    if (!restored.ok()) {
      events_fault = restored.detail();
      events_lost = EventQueue::events_in_record(*bytes);
    }
  }
  if (events_fault != 0 || events_.needs_new_stream()) start_event_stream();
  event_stream_text_ = stream_text(events_.stream());
  events_restored_ = true;
  for (size_t i = 0; i < kMaxRecordIds; ++i) {
    if (unreported_failures_[i] == 0) continue;
    push_storage_failed(static_cast<RecordId>(i), unreported_failures_[i] == -1 ? 0 : unreported_failures_[i]);
    unreported_failures_[i] = 0;
  }
  if (events_fault != 0) {
    std::array<char, 96> consequence_text{};
    TextBuilder consequence(consequence_text);
    if (events_fault == kDamageNewestCopy) {
      consequence.add("older copy kept (").number(events_.size()).add(" undelivered events), newer events lost");
    } else if (events_lost > 0) {
      consequence.number(events_lost).add(events_lost == 1 ? " undelivered event lost" : " undelivered events lost");
    } else {
      consequence.add("undelivered events lost");
    }
    consequence.add(", new stream ").add({stream_text(events_.stream()).data(), kStreamTextSize});
    note_damage(RecordId::events, events_fault, consequence.view(), events_lost);
  }
  for (size_t i = 0; i < pending_count; ++i) note_damage(pending[i].id, pending[i].fault, pending[i].consequence);
  pending_count = 0;

  // License: verified again with the key, never trusted as stored. An empty
  // record is no license (a revoke before revoked records were kept); a
  // revoked record holds none but keeps the replay floor.
  LicenseRefusal license_refusal = LicenseRefusal::none;
  if (auto bytes = read(RecordId::license, record_, fault); bytes && !bytes->empty()) {
    SignedLicense& stored = scratch_->signed_form;
    bool revoked = false;
    if (Status decoded = read_license_record(*bytes, stored, &revoked); !decoded.ok()) {
      license_refusal = LicenseRefusal::bad_record;
      fault = decoded.detail() != 0 ? decoded.detail() : static_cast<int32_t>(RecordFault::bad_value);
    } else {
      SignedLicense copy = stored;
      LicenseDecision d = verify_stored_license(key_, copy, config_.customer_id, config_.system_id, *held_);
      license_refusal = d.refusal;
      if (d.json.field != nullptr) {
        std::array<char, 96> why{};
        size_t n = d.json.describe(why);
        log(LogLevel::error, "stored license refused", {why.data(), n});
      }
      if (revoked && d.accepted()) {
        revoked_issued_ = held_->terms.issued;
        log(LogLevel::notice, "no license: the last one was revoked", held_->terms.serial.view());
      } else {
        has_license_ = d.accepted();
      }
    }
  }
  if (fault != 0 && fault != kDamageNewestCopy) license_refusal = LicenseRefusal::bad_record;
  if (fault != 0) {
    note_damage(RecordId::license, fault,
                fault == kDamageNewestCopy ? "older copy kept, the newer license lost until granted again"
                                           : "license lost until the server grants it again");
  }
  if (license_refusal != LicenseRefusal::none) {
    push_event(EventKind::license_refused, Severity::major, license_refusal_name(license_refusal));
  }

  // Grace accounting.
  std::optional<GraceRecord> grace_record;
  if (auto bytes = read(RecordId::grace, record_, fault)) {
    Result<GraceRecord> r = decode_grace_record(*bytes);
    if (r.ok()) {
      grace_record = *r;
    } else {
      fault = r.status().detail();
    }
  }
  if (fault != 0) {
    note_damage(RecordId::grace, fault,
                fault == kDamageNewestCopy ? "older checkpoint kept, grace time since it lost"
                : has_license_             ? "grace account lost, state expired until the server is reached"
                                           : "grace account lost");
  }
  if (has_license_ && !(grace_record && grace_record->license_held)) {
    // A genuine license but no account of its grace: the record is missing,
    // damaged, or predates the license (power cut between storing the
    // license and the checkpoint). Starting a fresh 30 days here would let
    // anyone who can erase one flash record run unlicensed forever, so the
    // device starts `expired` (features off) and becomes `licensed` again as
    // soon as the server is reached and the license is still valid.
    GraceRecord expired;
    expired.state = LicenseState::expired;
    expired.license_held = true;
    expired.elapsed_ms = config_.grace.grace_period;
    if (grace_record) {
      expired.utc_ms = grace_record->utc_ms;
      expired.wall_ms = grace_record->wall_ms;
    }
    grace_record = expired;
  }
  grace_.on_boot(now, wall_.now(), grace_record);
  if (!has_license_ && grace_.license_held()) grace_.on_license(false);
  next_wall_read_ = saturating_add(now, config_.wall_clock_poll_ms);
  // The log says from the start which clock checks certificate dates; with
  // none yet, once start() has waited for NTP.
  if (clock_usable() || config_.ntp_wait_ms <= 0) note_clock_source();

  // Usage for audits.
  std::array<uint8_t, kMaxUsageRecordBytes> usage_bytes{};
  if (auto bytes = read(RecordId::usage, usage_bytes, fault)) {
    Status restored = usage_.restore(*bytes);
    if (!restored.ok()) {
      // Refused whole (out of range values would overflow audit arithmetic):
      // the peaks and period start again from now.
      log(LogLevel::error, "usage record damaged, refused", usage_.problem());
      fault = restored.detail() != 0 ? restored.detail() : static_cast<int32_t>(RecordFault::bad_value);
    }
  }
  if (fault != 0) {
    note_damage(RecordId::usage, fault,
                fault == kDamageNewestCopy ? "older counters kept, usage since lost" : "usage since the last audit lost");
  }

  pump_grace();
  persist_events();
  notify();
  return first_error;
}

void Agent::start_event_stream() {
  // A stream id only has to differ from every earlier one of this device:
  // 64 random bits. Should the random source fail, the boot count and the
  // clocks still make a value this device has not used.
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::array<uint8_t, 8> bytes{};
    StreamId id = 0;
    if (random_.fill(bytes).ok()) {
      for (uint8_t b : bytes) id = id << 8 | b;
    } else {
      log(LogLevel::error, "random source failed: event stream id from the boot count and clocks");
      WallTime w = wall_.now();
      uint64_t x = boot_count_ * 0x9E3779B97F4A7C15ull ^ static_cast<uint64_t>(mono_.now_ms()) ^
                   (static_cast<uint64_t>(w.utc_ms) << 20) ^ static_cast<uint64_t>(attempt);
      x ^= x >> 31;
      x *= 0xBF58476D1CE4E5B9ull;
      id = x ^ (x >> 29);
    }
    if (events_.start_stream(id).ok()) {
      event_stream_text_ = stream_text(id);
      log(LogLevel::notice, "event log: new stream", {stream_text(id).data(), kStreamTextSize});
      return;
    }
  }
}

void Agent::note_damage(RecordId id, int32_t fault, std::string_view consequence, uint32_t events_lost) {
  const char* name = record_name(id);
  std::array<char, 128> unused{};
  std::array<char, 128>& text = damage_count_ < kMaxDamageNotes ? damage_text_[damage_count_++] : unused;
  TextBuilder t(text);
  t.add(name).add(fault == kDamageNewestCopy ? ": newest copy damaged" : ": record damaged (");
  if (fault != kDamageNewestCopy) t.add(record_damage_name(fault)).add(")");
  t.add(", ").add(consequence);
  log(LogLevel::error, "record damaged", t.view());
  EventPayload p;
  p.set_text(name);
  p.detail = fault;
  p.count = events_lost;
  queue_event(EventKind::record_damaged, Severity::major, best_utc(mono_.now_ms()), p);
}

// ---- Time ----------------------------------------------------------------------

std::optional<Millis> Agent::server_now(Millis now) const {
  if (!server_known_) return std::nullopt;
  return server_utc_ + (now - server_mono_);
}

std::optional<Millis> Agent::best_utc(Millis now) const {
  if (auto s = server_now(now)) return s;
  WallTime w = wall_.now();
  if (w.set && w.utc_ms >= config_.grace.earliest_valid_utc) return w.utc_ms;
  return std::nullopt;
}

void Agent::learn_server_time(Millis now, Millis utc) {
  server_known_ = true;
  server_utc_ = utc;
  server_mono_ = now;
  learn_certificate_time(now, utc);
}

void Agent::learn_certificate_time(Millis now, Millis utc) {
  // PROTOCOL.md 2: once a link is up, the server's time is trusted for
  // certificate dates too (the next links, after a power cut without RTC).
  if (config_.certificate_clock == nullptr) return;
  if (!config_.certificate_clock->learn_server_time(now, utc)) {
    log(LogLevel::warning, "server time before the firmware's build time: not taken for certificate dates");
  }
  note_clock_source();
}

void Agent::note_clock_source() {
  if (config_.certificate_clock == nullptr) return;
  const ClockReading r = config_.certificate_clock->reading();
  if (static_cast<uint8_t>(r.source) == logged_clock_source_) return;
  if (r.source == ClockSource::build && clock_wait_until_ != kNever) return;  // not used while waiting for NTP
  logged_clock_source_ = static_cast<uint8_t>(r.source);
  switch (r.source) {
    case ClockSource::build:
      log(LogLevel::warning,
          "no trusted clock: certificate dates are checked against the firmware's build time (expired before it: "
          "refused; valid only after it: accepted)",
          "clock=build");
      break;
    case ClockSource::rtc:
      log(LogLevel::notice, "certificate dates checked with the device clock, not synchronised", "clock=rtc");
      break;
    case ClockSource::server:
      log(LogLevel::notice, "certificate dates checked with the server's time from welcome (trusted)", "clock=server");
      break;
    case ClockSource::ntp:
      log(LogLevel::info, "certificate dates checked with the NTP-synchronised clock", "clock=ntp");
      break;
  }
}

// ---- Step ----------------------------------------------------------------------

namespace {
// How often a device waiting for NTP looks at its clock again.
constexpr Millis kClockWaitPollMs = 1000;
}  // namespace

bool Agent::clock_usable() const {
  return config_.certificate_clock == nullptr || config_.certificate_clock->reading().source != ClockSource::build;
}

void Agent::start(Millis now) {
  if (clock_usable() || config_.ntp_wait_ms <= 0) {
    channel_.start(now);
    return;
  }
  clock_wait_until_ = saturating_add(now, config_.ntp_wait_ms);
  std::array<char, 24> text{};
  TextBuilder wait(text);
  wait.number(static_cast<uint64_t>(config_.ntp_wait_ms / 1000)).add(" s");
  log(LogLevel::notice, "no usable clock: waiting for NTP before the first link, at most", wait.view());
}

Millis Agent::step(Millis now) {
  if (clock_wait_until_ != kNever) {
    const bool set = clock_usable();
    if (set || clock_wait_until_ <= now) {
      clock_wait_until_ = kNever;
      if (!set) log(LogLevel::warning, "no NTP answer in time: linking with certificate dates checked against the build time");
      note_clock_source();
      channel_.start(now);
    }
  }
  if (restart_at_ <= now) {
    restart_at_ = kNever;
    channel_.start(now);
  }
  if (next_wall_read_ <= now) {
    note_clock_source();
    grace_.on_wall_clock(now, wall_.now());
    next_wall_read_ = saturating_add(now, config_.wall_clock_poll_ms);
  }
  grace_.advance(now);
  pump_grace();
  if (channel_up_ && now - last_contact_ >= 3 * heartbeat_ms_) {
    log(LogLevel::warning, "dead link: no frame for 3 heartbeats");
    channel_.drop(Status(Reason::connect_timeout));
    link_lost(now);
  }
  if (welcomed_) {
    if (next_heartbeat_ <= now) {
      send(build_heartbeat(out_, next_id_++, ++heartbeat_seq_, (now - boot_mono_) / 1000));
      next_heartbeat_ = now + heartbeat_ms_;
    }
    if (next_audit_ <= now) {
      if (has_license_) {
        send_audit(now);
        next_audit_ = saturating_add(now, audit_ms_);
      } else {
        next_audit_ = kNever;  // scheduled again when a license arrives
      }
    }
    if (renew_at_ <= now) {
      std::optional<Millis> utc = server_now(now);
      if (has_license_ && utc) {
        // Asked even while an earlier request is unanswered (a lost answer
        // must not cost the license); the intervals bound the count.
        log(LogLevel::notice, "asking for a successor of the license before it expires", held_->terms.serial.view());
        send_license_request();
        Millis left = held_->terms.expires - *utc;
        renew_at_ = saturating_add(now, std::max(left / 2, kRenewRetryMinMs));
      } else {
        renew_at_ = kNever;
      }
    }
    send_events();
  }
  if (channel_up_ && license_retry_at_ <= now) {
    license_retry_at_ = kNever;
    log(LogLevel::notice, "asking for a license again after a refused grant");
    send_license_request();
    if (!license_request_) after_refused_grant(now);  // not sent: try again later
  }
  Millis next = std::min({restart_at_, next_wall_read_, grace_.next_deadline()});
  if (clock_wait_until_ != kNever) next = std::min({next, clock_wait_until_, saturating_add(now, kClockWaitPollMs)});
  if (channel_up_) next = std::min({next, last_contact_ + 3 * heartbeat_ms_, license_retry_at_});
  if (welcomed_) next = std::min({next, next_heartbeat_, next_audit_, renew_at_});
  return next;
}

// ---- Outputs -------------------------------------------------------------------

void Agent::pump_grace() {
  bool changed = false;
  while (std::optional<GraceOutput> out = grace_.poll()) {
    switch (out->type) {
      case GraceOutputType::state_changed: changed = true; break;
      case GraceOutputType::event:
        log_event(out->event, out->severity, out->payload);
        queue_event(out->event, out->severity, out->utc_ms, out->payload);
        break;
      case GraceOutputType::checkpoint: {
        (void)store(RecordId::grace, out->record);
        // Peaks ride along with the grace checkpoint (hourly and at every
        // state change) instead of wearing the flash at every call.
        if (usage_.dirty()) persist_usage();
        break;
      }
    }
  }
  persist_events();
  if (changed) notify();
}

void Agent::push_event(EventKind kind, Severity severity, std::string_view text) {
  EventPayload p;
  p.set_text(text);
  log_event(kind, severity, p);
  queue_event(kind, severity, best_utc(mono_.now_ms()), p);
}

void Agent::queue_event(EventKind kind, Severity severity, std::optional<Millis> utc, const EventPayload& payload) {
  // A stream near the end of its seq space hands over to a new one; the
  // events still queued in it go out first, in their own stream.
  if (events_.needs_new_stream()) start_event_stream();
  if (events_.push(kind, severity, utc, payload) == 0) {
    log(LogLevel::error, "event not queued: no event stream", kind_name(kind));
  }
}

bool Agent::store(RecordId id, std::span<const uint8_t> bytes) { return store_status(id, bytes).ok(); }

Status Agent::store_status(RecordId id, std::span<const uint8_t> bytes) {
  Status s = storage_.write(id, bytes);
  const uint32_t bit = uint32_t{1} << static_cast<unsigned>(id);
  if (s.ok()) {
    failing_records_ &= ~bit;
    if (failing_records_ == 0) storage_text_[0] = '\0';
    return s;
  }
  const char* name = record_name(id);
  // "events not stored: /var/lib/sublink/events.tmp: No space left on
  // device": the record, and the file and the system's words from storage.
  const std::string_view why = storage_.failure_text(s);
  TextBuilder(storage_text_).add(name != nullptr ? name : "record").add(": ").add(why);
  std::array<char, 40> what{};
  log(LogLevel::error, TextBuilder(what).add(name != nullptr ? name : "record").add(" not stored").view(), why);
  if ((failing_records_ & bit) == 0) {
    failing_records_ |= bit;
    // Once per streak: a full disk must not fill the event log with copies.
    // Before the log is restored at boot, the event waits for it (the
    // restore would replace it).
    if (events_restored_) {
      push_storage_failed(id, s.detail());
    } else {
      unreported_failures_[static_cast<size_t>(id) % kMaxRecordIds] = s.detail() == 0 ? -1 : s.detail();
    }
  }
  return s;
}

void Agent::push_storage_failed(RecordId id, int32_t detail) {
  const char* name = record_name(id);
  EventPayload p;
  p.set_text(name != nullptr ? name : "record");
  p.detail = detail;
  log_event(EventKind::storage_failed, Severity::major, p);
  queue_event(EventKind::storage_failed, Severity::major, best_utc(mono_.now_ms()), p);
}

void Agent::persist_events() {
  if (!events_.dirty()) return;
  Result<size_t> size = events_.serialize({event_record_.get(), event_record_size_});
  if (!size.ok()) {
    log(LogLevel::error, "events not serialized", reason_name(size.status().reason()));
    return;
  }
  if (store(RecordId::events, {event_record_.get(), *size})) events_.mark_persisted();
}

void Agent::persist_usage() {
  std::array<uint8_t, kMaxUsageRecordBytes> bytes{};
  Result<size_t> size = usage_.encode(bytes);
  if (!size.ok()) {
    log(LogLevel::error, "usage not stored: out of range", usage_.problem());
    return;
  }
  (void)store(RecordId::usage, {bytes.data(), *size});
}

void Agent::notify() {
  if (callback_ != nullptr) callback_(callback_ctx_, grace_.state());
}

bool Agent::send(const Result<size_t>& built) {
  if (!built.ok()) {
    log(LogLevel::error, "message not built", reason_name(built.status().reason()));
    return false;
  }
  Status s = channel_.send_text({out_.data(), *built});
  if (!s.ok()) log(LogLevel::warning, "message not sent", reason_name(s.reason()));
  return s.ok();
}

void Agent::send_hello() {
  HelloMessage h;
  h.customer_id = config_.customer_id;
  h.system_id = config_.system_id;
  h.agent = config_.agent_version;
  h.fw = config_.fw;
  h.boot = boot_counted_ ? static_cast<int64_t>(boot_count_) : 0;
  StreamText stream = stream_text(events_.stream());
  h.event_stream = {stream.data(), stream.size()};
  if (instance_) h.instance = std::string_view(instance_->data(), instance_->size());
  WallTime wall = wall_.now();
  Millis now = mono_.now_ms();
  if (wall.trusted && wall.set) {
    h.time = wall.utc_ms;
  } else {
    h.time = server_now(now);
  }
  h.state = state_name(grace_.state());
  h.grace_elapsed_s = grace_.elapsed_ms() / 1000;
  if (has_license_) h.license_serial = held_->terms.serial.view();
  send(build_hello(out_, next_id_++, h));
}

void Agent::send_license_request() {
  int64_t id = next_id_++;
  if (send(build_license_request(out_, id, config_.features))) license_request_ = id;
}

void Agent::after_refused_grant(Millis now) {
  // A held license keeps the features on: a bad grant (solicited or not)
  // is no reason to bother the server. While a request is out, its answer
  // is still to come; one retry already scheduled is enough.
  if (has_license_ || license_request_ || license_retry_at_ != kNever) return;
  license_retry_at_ = saturating_add(now, license_retry_delay_);
  license_retry_delay_ = license_retry_delay_ > config_.license_retry_max_ms / 2
                             ? config_.license_retry_max_ms
                             : license_retry_delay_ * 2;
}

void Agent::reset_license_retry() {
  license_retry_at_ = kNever;
  license_retry_delay_ = config_.license_retry_min_ms;
}

void Agent::send_audit(Millis now) {
  std::optional<Millis> to = server_now(now);
  if (!has_license_ || !to || !welcomed_) return;  // nothing to audit against
  usage_.start_period(*to);
  LicenseAudit audit;
  audit.serial = held_->terms.serial.view();
  audit.from = usage_.period_from().value_or(*to);
  audit.to = *to;
  audit.usage = usage_.usage();
  int64_t id = next_id_++;
  if (send(build_license_audit(out_, id, audit))) {
    audit_request_ = id;
    audit_to_ = *to;
  }
}

void Agent::send_events() {
  if (!welcomed_ || events_request_ || events_.empty()) return;
  persist_events();  // a seq the server sees must never be reused after a power cut
  if (events_.dirty()) return;
  std::span<const Event> batch = events_.batch(std::min<size_t>(config_.event_batch, 8));
  std::array<WireEvent, 8> wire;
  std::array<EventMessage, 8> messages;
  for (size_t i = 0; i < batch.size(); ++i) {
    to_wire_event(batch[i], wire[i]);
    messages[i] = wire[i].message;
  }
  // A batch is one stream; legacy events (numbered before streams) go
  // without `stream`, as they did then.
  StreamText stream = stream_text(batch.front().stream);
  std::optional<std::string_view> stream_field;
  if (batch.front().stream != kLegacyStream) stream_field = std::string_view(stream.data(), stream.size());
  int64_t id = next_id_++;
  if (send(build_event_batch(out_, id, stream_field, {messages.data(), batch.size()}))) {
    events_request_ = id;
    events_in_flight_ = batch.front().stream;
  }
}

void Agent::shutdown(Millis now) {
  // Also when the link is down: close() stops the reconnection rounds.
  channel_.close(1001, "going away");
  link_lost(now);
  restart_at_ = kNever;
  clock_wait_until_ = kNever;
  grace_.advance(now);
  pump_grace();
  // Written last and marked clean: the next start is charged nothing for
  // an unrecorded stretch (PROTOCOL.md section 5).
  GraceRecordBytes record = encode_grace_record(grace_.clean_stop_record(now));
  (void)store(RecordId::grace, record);
  if (usage_.dirty()) persist_usage();
  persist_events();
  log(LogLevel::info, "shut down: grace account, usage and events stored");
}

// ---- Link ------------------------------------------------------------------------

void Agent::on_link_up(const AttemptInfo& attempt, bool /*tls_resumed*/) {
  Millis now = mono_.now_ms();
  channel_up_ = true;
  welcomed_ = false;
  refused_on_link_ = false;
  port_ = attempt.port;
  next_id_ = 1;
  heartbeat_ms_ = kDefaultHeartbeatS * 1000;
  last_contact_ = now;
  events_request_.reset();
  audit_request_.reset();
  license_request_.reset();
  reset_license_retry();  // the request below is a fresh start
  send_hello();
  send_license_request();
}

void Agent::link_lost(Millis now) {
  if (!channel_up_) return;
  channel_up_ = false;
  bool was_welcomed = welcomed_;
  welcomed_ = false;
  next_heartbeat_ = next_audit_ = renew_at_ = kNever;
  events_request_.reset();
  audit_request_.reset();
  license_request_.reset();
  license_retry_at_ = kNever;  // the next link asks anyway
  if (was_welcomed) {
    grace_.on_link_down(now);
    pump_grace();
  }
}

void Agent::on_link_down(Status why) {
  const Millis now = mono_.now_ms();
  log(LogLevel::notice, "link down", reason_name(why.reason()));
  // Our own close (why.ok()) is no failure; after the server's `error` the
  // close that follows is its consequence, and the refusal stays the reason.
  if (!why.ok() && !refused_on_link_) {
    std::array<char, 200> detail{};
    TextBuilder text(detail);
    if (why.reason() == Reason::closed_by_peer) {
      text.add("the server closed the link (WebSocket close ").number(static_cast<uint32_t>(why.detail())).add(")");
    } else {
      text.add(welcomed_ ? "the link was up, then: " : "before welcome: ").add(reason_hint(why.reason()));
    }
    note_failure(reason_name(why.reason()), text.view(), now);
  }
  link_lost(now);
}

void Agent::on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view extra) {
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
  note_failure(reason_name(why.reason()), text.view(), mono_.now_ms());
}

void Agent::on_resolved(std::string_view name, Status status, const AddressList& /*addresses*/) {
  if (status.ok()) return;
  std::array<char, 200> detail{};
  TextBuilder(detail).add(name).add(": ").add(reason_hint(status.reason()));
  note_failure(reason_name(status.reason()), {detail.data(), std::char_traits<char>::length(detail.data())},
               mono_.now_ms());
}

void Agent::note_failure(std::string_view reason, std::string_view detail, Millis now) {
  TextBuilder(failure_reason_).add(reason);
  TextBuilder(failure_detail_).add(detail);
  failure_utc_ = best_utc(now);
}

void Agent::close_for_violation(const Status& why, Millis now) {
  log(LogLevel::warning, "closing: bad message from server", reason_name(why.reason()));
  std::array<char, 200> detail{};
  TextBuilder text(detail);
  text.add("the agent closed the link with code ").number(close_code_for(why)).add(": ").add(reason_hint(why.reason()));
  note_failure(reason_name(why.reason()), text.view(), now);
  channel_.close(close_code_for(why), reason_name(why.reason()));
  link_lost(now);
  restart_at_ = saturating_add(now, config_.violation_retry_ms);
}

void Agent::on_text(std::string_view message) {
  Millis now = mono_.now_ms();
  if (!channel_up_) return;
  last_contact_ = now;  // any frame is contact, even one we refuse
  JsonResult<ServerMessage> parsed = parse_server_message(message);
  if (!parsed.ok()) {
    close_for_violation(parsed.status(), now);
    return;
  }
  grace_.advance(now);
  handle(parsed.value(), now);
  pump_grace();
}

void Agent::handle(ServerMessage& m, Millis now) {
  if (auto* w = std::get_if<Welcome>(&m.body)) {
    on_welcome(*w, now);
  } else if (auto* ack = std::get_if<HeartbeatAck>(&m.body)) {
    learn_server_time(now, ack->time);
    grace_.on_trusted_time(now, ack->time);
    check_license_window(now);
  } else if (auto* g = std::get_if<LicenseGrant>(&m.body)) {
    if (license_request_ && m.re == license_request_) license_request_.reset();
    on_grant(*g, now);
  } else if (auto* d = std::get_if<LicenseDenied>(&m.body)) {
    // A denial is the server's answer, not a fault to retry: it grants
    // again unsolicited (or on license.refresh) once entitled.
    if (license_request_ && m.re == license_request_) license_request_.reset();
    log(LogLevel::warning, "license denied", d->code);
    push_event(EventKind::license_denied, Severity::warning, d->code);
  } else if (auto* r = std::get_if<LicenseRevoke>(&m.body)) {
    on_revoke(*r, m.id, now);
  } else if (auto* a = std::get_if<AuditAck>(&m.body)) {
    if (!audit_request_ || m.re != audit_request_) {
      log(LogLevel::warning, "audit_ack for no audit in flight");
      return;
    }
    audit_request_.reset();
    audit_overuse_ = a->overuse;
    usage_.acknowledge(audit_to_);
    persist_usage();
    if (a->overuse) push_event(EventKind::audit_overuse, Severity::major);
  } else if (auto* e = std::get_if<EventAck>(&m.body)) {
    // The ack names its stream; an ack without one is for legacy events.
    StreamId stream = kLegacyStream;
    if (e->stream && !parse_stream_text(*e->stream, stream)) {
      log(LogLevel::warning, "event_ack ignored: stream is not 16 lower-case hex digits", *e->stream);
      return;
    }
    Status acked = events_.ack(stream, static_cast<uint64_t>(e->upto));
    if (!acked.ok()) {
      log(LogLevel::warning,
          acked.detail() == EventQueue::kAckUnknownStream ? "event_ack for another stream acknowledges nothing"
                                                          : "event_ack names events never sent",
          e->stream.value_or("(no stream)"));
      return;
    }
    if (events_request_ && stream == events_in_flight_) events_request_.reset();
    persist_events();
  } else if (auto* q = std::get_if<Request>(&m.body)) {
    on_request(*q, *m.id, now);
  } else if (auto* dc = std::get_if<Disconnect>(&m.body)) {
    Millis delay = dc->retry_after_s.value_or(0) * 1000;
    log(LogLevel::notice, "server asked to disconnect", dc->reason);
    channel_.set_retry_floor(delay);
    channel_.close(1000, "disconnect");
    link_lost(now);
    restart_at_ = saturating_add(now, delay);
  } else if (auto* err = std::get_if<ServerError>(&m.body)) {
    log(LogLevel::warning, "server error", err->code);
    // The server refused this device: its own words are why the link is down.
    if (!welcomed_) refused_on_link_ = true;
    note_failure(err->code, err->message.empty() ? std::string_view("the server refused the device") : err->message,
                 now);
    if (err->retry_after_s) channel_.set_retry_floor(*err->retry_after_s * 1000);
  } else if (auto* u = std::get_if<UnknownMessage>(&m.body)) {
    log(LogLevel::info, "unknown message type ignored", u->type);
  }
}

void Agent::on_welcome(const Welcome& w, Millis now) {
  welcomed_ = true;
  // The server accepted us: only now may the reconnection backoff start
  // over (PROTOCOL.md 1.5); a link refused before this keeps it growing.
  channel_.link_accepted();
  heartbeat_ms_ = w.heartbeat_s * 1000;
  audit_ms_ = w.audit_s * 1000;
  learn_server_time(now, w.time);
  grace_.on_link_up(now, w.time);
  check_license_window(now);
  next_heartbeat_ = now + heartbeat_ms_;
  schedule_audit(now);
  schedule_renewal(now);
  step(now);
}

void Agent::schedule_audit(Millis now) {
  // An audit is due once a license is held and the last acknowledged audit
  // is older than audit_s: decided again when a license arrives after the
  // welcome, so the first audit does not wait a full audit_s for it.
  std::optional<Millis> utc = server_now(now);
  if (!welcomed_ || !has_license_ || !utc) {
    next_audit_ = kNever;
    return;
  }
  std::optional<Millis> last = usage_.last_ack();  // within [0, kMaxRecordUtcMs] (restore checks it)
  next_audit_ = (!last || *utc - *last >= audit_ms_) ? now : saturating_add(now, *last + audit_ms_ - *utc);
}

void Agent::schedule_renewal(Millis now) {
  std::optional<Millis> utc = server_now(now);
  if (!welcomed_ || !has_license_ || !utc) {
    renew_at_ = kNever;
    return;
  }
  // issued <= expires, both within the license time range (license.h): no overflow.
  const LicenseTerms& t = held_->terms;
  Millis ask_utc = t.expires - (t.expires - t.issued) / 4;
  if (ask_utc > *utc) {
    renew_at_ = saturating_add(now, ask_utc - *utc);
  } else {
    // Due already: a request that is out (the one behind hello) counts as
    // the first ask.
    renew_at_ = license_request_ ? saturating_add(now, kRenewRetryMinMs) : now;
  }
}

void Agent::check_license_window(Millis now) {
  std::optional<Millis> utc = server_now(now);
  if (!has_license_ || !utc) return;
  LicenseRefusal r = license_window_refusal(held_->terms, *utc);
  if (r == LicenseRefusal::none) {
    // A license restored at boot (or kept through `expired`) is put back in
    // force now that a link is up and the server's clock vouches for it.
    if (grace_.link_up() && grace_.state() != LicenseState::licensed) grace_.on_license(true);
    if (next_audit_ == kNever) schedule_audit(now);
    if (renew_at_ == kNever) schedule_renewal(now);
    return;
  }
  // Out of its window by the server's clock: stop using it, keep the record
  // (a newer grant replaces it).
  has_license_ = false;
  renew_at_ = kNever;
  grace_.on_license(false);
  push_event(EventKind::license_refused, Severity::major, license_refusal_name(r));
  notify();
  // Ask for a license now (when no request is out), then with the backoff
  // of a refused grant.
  if (welcomed_ && !license_request_) send_license_request();
  after_refused_grant(now);
}

void Agent::on_grant(const LicenseGrant& g, Millis now) {
  LicenseContext context{config_.customer_id, config_.system_id, server_now(now),
                         has_license_ ? held_.get() : nullptr, revoked_issued_};
  LicenseDecision d = accept_license_grant(key_, {g.license, g.sig, g.alg}, context, *scratch_);
  if (!d.accepted()) {
    log(LogLevel::warning, "license refused", license_refusal_name(d.refusal));
    if (d.json.field != nullptr) {
      std::array<char, 96> why{};
      size_t n = d.json.describe(why);
      log(LogLevel::warning, "license refused", {why.data(), n});
    }
    push_event(EventKind::license_refused, Severity::warning, license_refusal_name(d.refusal));
    after_refused_grant(now);
    return;
  }
  // A license that verifies is in force even when it cannot be stored
  // (PROTOCOL.md section 4): refusing it would leave the device on an
  // older license than the server believes, and a revoke of the new serial
  // would miss. The failure is reported (log, storage_failed event); after
  // a reboot the older stored license comes back and the next link asks
  // again.
  Result<size_t> size = write_license_record(scratch_->signed_form, record_);
  if (size.ok()) {
    (void)store(RecordId::license, {record_.data(), *size});
  } else {
    log(LogLevel::error, "license record not built", reason_name(size.status().reason()));
  }
  std::swap(held_, scratch_);
  has_license_ = true;
  reset_license_retry();
  if (next_audit_ == kNever) schedule_audit(now);
  schedule_renewal(now);
  grace_.on_license(true);
  push_event(EventKind::license_applied, Severity::info, held_->terms.serial.view());
  pump_grace();
  notify();
}

void Agent::on_revoke(const LicenseRevoke& r, const std::optional<int64_t>& id, Millis /*now*/) {
  // "*" revokes whatever is held: the server may not know which of its
  // grants the device applied (PROTOCOL.md section 4).
  bool held = has_license_ && (r.serial == "*" || held_->terms.serial == r.serial);
  BoundedString<kMaxLicenseIdLength> revoked;
  if (held) revoked.assign(held_->terms.serial.view());
  if (held) {
    // Features go off at once even when the record cannot be written: the
    // revoke is in force in memory and is repeated by the server if needed.
    // The record keeps the revoked license, marked so: its `issued` is the
    // floor that refuses it as a replay, also after a reboot.
    revoked_issued_ = std::max(revoked_issued_, held_->terms.issued);
    Result<size_t> size = write_license_record(held_->signed_form, record_, /*revoked=*/true);
    (void)store(RecordId::license, size.ok() ? std::span<const uint8_t>(record_.data(), *size) : std::span<const uint8_t>());
    has_license_ = false;
    grace_.on_revoke();
    push_event(EventKind::license_revoked, Severity::major, revoked.view());
    pump_grace();
    notify();
  }
  if (!id) {
    log(LogLevel::warning, "license_revoke without id: no answer");
    return;
  }
  if (held) {
    // The answer names the serial revoked, so a server that sent "*" learns it.
    send(build_response_ok(out_, *id, [&](JsonWriter& w) {
      w.begin_object().key("serial").string(revoked.view()).end_object();
    }));
  } else {
    send(build_response_error(out_, *id, "not_held", "no license with this serial is held"));
  }
}

bool Agent::method_allowed(std::string_view method) const {
  return std::find(config_.allowed_methods.begin(), config_.allowed_methods.end(), method) !=
         config_.allowed_methods.end();
}

void Agent::on_request(const Request& q, int64_t id, Millis now) {
  auto error = [&](std::string_view code, std::string_view message) {
    send(build_response_error(out_, id, code, message));
  };
  auto ok_empty = [&] { send(build_response_ok(out_, id, [](JsonWriter& w) { w.begin_object().end_object(); })); };
  if (std::find(std::begin(kKnownMethods), std::end(kKnownMethods), q.method) == std::end(kKnownMethods)) {
    return error("unknown_method", q.method);
  }
  if (!method_allowed(q.method)) return error("not_allowed", q.method);
  if (q.method == "tunnel.open" || q.method == "tunnel.close") {
    JsonReader r(q.params);
    if (q.method == "tunnel.open") {
      (void)r.string("service");
    } else {
      (void)r.integer("channel", 0, 65535);
    }
    if (!r.ok()) return error("bad_params", r.error().field != nullptr ? r.error().field : "params");
    return error("not_allowed", "tunnels are not supported by this agent yet");
  }
  if (!params_empty_or_object(q.params)) return error("bad_params", "params must be an object");
  if (q.method == "status.get") {
    AgentStatus s = snapshot();
    send(build_response_ok(out_, id, [&](JsonWriter& w) { write_status_json(w, s); }));
  } else if (q.method == "license.refresh") {
    ok_empty();
    send_license_request();
  } else if (q.method == "audit.now") {
    if (!has_license_) return error("bad_params", "no license held: nothing to audit");
    ok_empty();
    send_audit(now);
    next_audit_ = saturating_add(now, audit_ms_);
  } else if (q.method == "events.get") {
    int64_t after = 0;
    if (json_type_of(q.params) == JsonType::object) {
      JsonReader r(q.params);
      after = r.integer_or("after", 0, 0);
      if (!r.ok()) return error("bad_params", "after must be a seq (integer >= 0)");
    }
    std::span<const Event> pending = events_.batch(8, static_cast<uint64_t>(after));
    send(build_response_ok(out_, id, [&](JsonWriter& w) {
      StreamText stream = stream_text(pending.empty() ? events_.stream() : pending.front().stream);
      w.begin_object().key("pending").integer(static_cast<int64_t>(events_.size()));
      if (pending.empty() || pending.front().stream != kLegacyStream) w.key("stream").string({stream.data(), stream.size()});
      w.key("events").begin_array();
      for (const Event& e : pending) {
        WireEvent wire;
        to_wire_event(e, wire);
        write_event_object(w, wire.message);
      }
      w.end_array().end_object();
    }));
  }
}

// ---- Application -----------------------------------------------------------------

bool Agent::feature_enabled(std::string_view name) const {
  return has_license_ && grace_.features_on() && held_->terms.feature_on(name);
}

uint32_t Agent::feature_quantity(std::string_view name) const {
  return feature_enabled(name) ? held_->terms.quantity(name) : 0;
}

Status Agent::report_usage(std::string_view name, int64_t in_use) { return usage_.report(name, in_use); }

AgentStatus Agent::snapshot() const {
  AgentStatus s;
  s.state = grace_.state();
  s.link_up = welcomed_;
  s.port = welcomed_ ? port_ : 0;
  s.grace_elapsed_s = grace_.elapsed_ms() / 1000;
  s.grace_remaining_s = grace_.remaining_ms() / 1000;
  s.alarm = grace_.alarm_active();
  s.license_held = has_license_;
  if (has_license_) {
    s.serial = held_->terms.serial.view();
    s.expires = held_->terms.expires;
    s.features = held_->terms.feature_list();
  }
  s.events_pending = events_.size();
  s.boot = boot_counted_ ? boot_count_ : 0;
  s.audit_overuse = audit_overuse_;
  if (config_.certificate_clock != nullptr) {
    const ClockReading r = config_.certificate_clock->reading();
    s.clock.trusted = r.trusted;
    s.clock.source = clock_source_name(r.source);
  } else {
    // No certificate clock installed (a test, a board that checks no
    // dates): the device clock as it reads itself.
    const WallTime w = wall_.now();
    s.clock.trusted = w.trusted;
    s.clock.source = w.trusted ? "ntp" : "rtc";
  }
  if (failure_reason_[0] != '\0') {
    s.last_failure.reason = {failure_reason_.data(), std::char_traits<char>::length(failure_reason_.data())};
    s.last_failure.detail = {failure_detail_.data(), std::char_traits<char>::length(failure_detail_.data())};
    s.last_failure.when = failure_utc_;
  }
  // The next round: the agent's own restart (after `disconnect`, a
  // violation) or the link's backoff, whichever is later.
  if (!channel_up_) {
    Millis at = channel_.next_attempt();
    if (restart_at_ != kNever) at = at == kNever ? restart_at_ : std::max(at, restart_at_);
    if (at != kNever) {
      const Millis now = mono_.now_ms();
      s.next_attempt.in_ms = std::max<Millis>(at - now, 0);
      if (std::optional<Millis> utc = best_utc(now)) s.next_attempt.at = *utc + *s.next_attempt.in_ms;
    }
  }
  s.event_stream = {event_stream_text_.data(), event_stream_text_.size()};
  if (failing_records_ != 0) s.storage = {storage_text_.data(), std::char_traits<char>::length(storage_text_.data())};
  for (size_t i = 0; i < damage_count_ && i < s.damaged.size(); ++i) s.damaged[i] = text_of(damage_text_[i]);
  s.damaged_count = std::min(damage_count_, s.damaged.size());
  return s;
}

}  // namespace sublink
