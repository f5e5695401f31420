#include "server_core/server_session.h"

#include <cJSON.h>

#include <algorithm>
#include <array>
#include <variant>

#include "firmware/json/json_document.h"
#include "firmware/json/json_reader.h"
#include "firmware/protocol/device_messages.h"
#include "firmware/protocol/server_messages.h"
#include "net/websocket/utf8_validator.h"
#include "server_core/json_text.h"

namespace sublink {

namespace {

// RFC 6455: a close frame's reason fits in 123 bytes.
constexpr size_t kMaxCloseReason = 123;

std::string close_reason_for(const JsonError& error) {
  // A raw control character is named (with its offset) so the device's
  // log shows what it sent; any other syntax error is just not JSON.
  if (error.status.reason() == Reason::invalid_payload && error.problem != JsonProblem::control_char) {
    return "invalid_payload";
  }
  std::array<char, kMaxCloseReason + 1> text{};
  size_t n = error.describe(text);
  return std::string(text.data(), std::min(n, kMaxCloseReason));
}

Millis saturating_add(Millis a, Millis b) {
  Millis r;
  return __builtin_add_overflow(a, b, &r) ? kNever : r;
}

std::optional<std::string> owned(const std::optional<std::string_view>& view) {
  if (!view) return std::nullopt;
  return std::string(*view);
}

/// The whole value as compact JSON (cJSON on the installed hooks).
std::string print(const cJSON* item) {
  if (item == nullptr) return "null";
  char* text = cJSON_PrintUnformatted(item);
  if (text == nullptr) return "null";
  std::string out(text);
  cJSON_free(text);
  return out;
}

/// What the session keeps of a hello: the device as the operator sees it.
HelloInfo hello_info_of(const HelloMessage& h) {
  HelloInfo info;
  info.agent = std::string(h.agent);
  info.fw = std::string(h.fw);
  info.role = std::string(h.role);
  info.boot = h.boot;
  if (!h.event_stream.empty()) info.event_stream = std::string(h.event_stream);
  info.instance = owned(h.instance);
  info.device_time = h.time;
  info.state = std::string(h.state);
  info.grace_elapsed_s = h.grace_elapsed_s;
  info.license_serial = owned(h.license_serial);
  if (h.services.received()) {
    info.services.emplace();
    for (std::string_view name : h.services) info.services->emplace_back(name);
  }
  return info;
}

/// An answer to the device's request `re` (nullopt: unsolicited).
Envelope answer_to(std::optional<int64_t> re) { return Envelope{std::nullopt, re}; }

/// A request of the server's, answered with `re` = id.
Envelope request_id(int64_t id) { return Envelope{id, std::nullopt}; }

/// audit_ack's `over`: [{name, peak, licensed}], the features used beyond their entitlement.
Result<std::string> overuse_json(const std::vector<Overuse>& over) {
  return write_json_text([&](JsonWriter& w) {
    w.begin_array();
    for (const Overuse& o : over) {
      w.begin_object().key("name").string(o.name).key("peak").integer(o.peak).key("licensed").integer(o.licensed)
          .end_object();
    }
    w.end_array();
  });
}

}  // namespace

ServerSession::ServerSession(SessionSettings settings, Directory& directory, LicenseSigner& signer,
                             IdentityRegistry& identities, PeerInfo peer, Millis now)
    : settings_(std::move(settings)),
      directory_(directory),
      signer_(signer),
      identities_(identities),
      peer_(std::move(peer)),
      opened_(now),
      last_contact_(now) {}

ServerSession::~ServerSession() {
  if (!system_id_.empty()) identities_.unlink(system_id_, *this);
}

std::map<std::string, uint32_t> requested_quantities(const LicenseRequest& request) {
  std::map<std::string, uint32_t> asked;
  for (const FeatureRequest& f : request.features) {
    auto qty = static_cast<uint32_t>(f.qty);  // 0..2^32-1, checked by the reader
    auto [it, fresh] = asked.emplace(std::string(f.name), qty);
    if (!fresh) it->second = std::max(it->second, qty);
  }
  return asked;
}

// ---- Output ------------------------------------------------------------------------

bool ServerSession::ready() const { return welcomed_ && !closing() && !blackhole_; }

void ServerSession::send(Result<std::string> message) {
  // Every string the session writes was read from valid UTF-8 or checked by
  // the operator action, so a build failure is a bug worth a loud close.
  if (!message.ok()) return close(1011, "message_not_built");
  output_.messages.push_back(std::move(*message));
}

void ServerSession::close(uint16_t code, std::string reason) {
  if (close_requested_ || closed_) return;
  close_requested_ = true;
  if (reason.size() > kMaxCloseReason) reason.resize(kMaxCloseReason);
  output_.close = CloseRequest{code, std::move(reason)};
}

void ServerSession::refuse(std::optional<int64_t> re, std::string_view code, std::string_view message,
                           std::optional<int64_t> retry_after_s) {
  send(message_text(answer_to(re), ServerError{code, message, retry_after_s}));
  close(1008, std::string(code));
}

void ServerSession::busy(std::optional<int64_t> re) {
  refuse(re, "busy", "the server cannot serve this request now", settings_.busy_retry_s);
}

SessionOutput ServerSession::take_output() {
  SessionOutput out = std::move(output_);
  output_ = SessionOutput{};
  return out;
}

bool ServerSession::has_output() const {
  return !output_.messages.empty() || output_.close.has_value() || output_.identity.has_value();
}

void ServerSession::wake() {
  if (on_wake_) on_wake_();
}

// ---- Transport ---------------------------------------------------------------------

void ServerSession::on_text(std::string_view text, Millis now) {
  if (closing()) return;
  last_contact_ = now;
  if (blackhole_) return;
  JsonResult<DeviceMessage> parsed = parse_device_message(text);
  if (!parsed.ok()) return close(close_code_for(parsed.status()), close_reason_for(parsed.error()));
  handle(parsed.value(), now);
}

void ServerSession::handle(const DeviceMessage& m, Millis now) {
  if (!welcomed_) {
    if (!std::holds_alternative<HelloMessage>(m.body)) {
      return refuse(m.id, "hello_expected", "the first message must be hello");
    }
    return on_hello(m, now);
  }
  if (std::holds_alternative<HelloMessage>(m.body)) return close(1002, "hello_repeated");
  if (std::holds_alternative<Heartbeat>(m.body)) {
    send(message_text(answer_to(m.id), HeartbeatAck{now}));
  } else if (std::holds_alternative<LicenseRequest>(m.body)) {
    on_license_request(m, now);
  } else if (std::holds_alternative<LicenseAudit>(m.body)) {
    on_audit(m, now);
  } else if (std::holds_alternative<EventBatch>(m.body)) {
    on_events(m);
  } else if (std::holds_alternative<Response>(m.body)) {
    on_response(m);
  }
  // Unknown types are ignored (forward compatibility).
}

Millis ServerSession::step(Millis now) {
  if (closing() || blackhole_) return kNever;
  if (!welcomed_) {
    Millis deadline = saturating_add(opened_, settings_.hello_timeout_ms);
    if (now < deadline) return deadline;
    close(1008, "hello_timeout");
    return kNever;
  }
  Millis dead_at = saturating_add(last_contact_, 3 * settings_.heartbeat_s * 1000);
  if (now >= dead_at) {
    close(1001, "no_contact");
    return kNever;
  }
  if (now >= disconnect_deadline_) {
    close(1000, "disconnect");
    return kNever;
  }
  if (now >= renew_at_) {
    renew_at_ = kNever;  // once per license, whatever the outcome
    grant(std::nullopt, now);
    if (closing()) return kNever;
  }
  return std::min({dead_at, renew_at_, disconnect_deadline_});
}

void ServerSession::on_closed(Millis now, std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  output_ = SessionOutput{};
  if (!system_id_.empty()) identities_.unlink(system_id_, *this);
  // Nobody is left to tell when this fails; the record just lacks its end.
  if (connection_id_ != 0) {
    (void)directory_.connection_contact(connection_id_, last_contact_);
    (void)directory_.connection_down(connection_id_, now, reason);
  }
}

// ---- Device messages -----------------------------------------------------------------

void ServerSession::on_hello(const DeviceMessage& m, Millis now) {
  const auto& hello = std::get<HelloMessage>(m.body);
  if (hello.proto != kProtocolVersion) {
    return refuse(m.id, "unsupported_proto", "this server speaks sublink/1 (proto 1)");
  }
  if (hello.system_id != peer_.certificate_cn) {
    return refuse(m.id, "system_mismatch", "system_id differs from the device certificate");
  }
  Result<SystemLookup> lookup = directory_.find_system(hello.customer_id, hello.system_id);
  if (!lookup.ok()) return busy(m.id);
  switch (lookup->match) {
    case SystemMatch::found: break;
    case SystemMatch::unknown_customer: return refuse(m.id, "unknown_customer", "no such customer");
    case SystemMatch::unknown_system: return refuse(m.id, "system_mismatch", "system not registered");
    case SystemMatch::other_customer:
      return refuse(m.id, "system_mismatch", "system registered to another customer");
  }
  if (identities_.settings().policy == DuplicateIdentityPolicy::refuse) {
    // Refused until an operator clears the alarm, whichever appliance asks.
    Result<bool> standing = directory_.alarm_standing(hello.system_id, kDuplicateIdentityAlarm);
    if (!standing.ok()) return busy(m.id);
    if (*standing) {
      output_.identity =
          IdentityNotice{std::string(hello.system_id), owned(hello.instance), std::nullopt, "", false, 0, true, true};
      return refuse(m.id, "duplicate_identity", "another appliance uses this system's identity",
                    settings_.duplicate_identity_retry_s);
    }
  }
  ConnectionRecord record{std::string(hello.system_id), std::string(hello.customer_id), peer_.port, peer_.address, now};
  Result<int64_t> id = directory_.connection_up(record);
  if (!id.ok()) return busy(m.id);
  connection_id_ = *id;
  customer_id_ = hello.customer_id;
  system_id_ = hello.system_id;
  hello_ = hello_info_of(hello);
  if (!apply_identity(m.id, now)) return;
  license_serial_ = hello_.license_serial;
  held_serial_ = hello_.license_serial;
  unconfirmed_serials_.clear();
  welcomed_ = true;
  connected_since_ = now;
  // The session is opaque to the device: the connection's id, as a JSON string.
  std::string session = "\"" + std::to_string(connection_id_) + "\"";
  send(message_text(answer_to(m.id),
                    Welcome{now, settings_.heartbeat_s, settings_.audit_s, JsonValue::of_text(session)}));
  if (!revoke_again_if_revoked(now)) busy(std::nullopt);
}

bool ServerSession::apply_identity(std::optional<int64_t> re, Millis now) {
  // Only the appliance's own link (role primary, or a peer that names no
  // role) holds the system's link; a probe such as `sublinkctl doctor`
  // checks hello and welcome beside it and is never granted a license.
  if (!is_primary()) return true;
  IdentityVerdict verdict = identities_.link(system_id_, hello_.instance, *this, now);
  if (verdict.replaced == nullptr && !verdict.duplicate) return true;
  IdentityNotice notice{system_id_, hello_.instance, verdict.replaced_instance, "", verdict.counted,
                        verdict.replacements_in_window, verdict.duplicate, false};
  if (verdict.replaced != nullptr) notice.replaced_peer = verdict.replaced->peer_.address;
  if (verdict.duplicate) {
    SystemAlarm alarm{system_id_, std::string(kDuplicateIdentityAlarm), now, "", std::nullopt};
    alarm.detail = "instances " + verdict.replaced_instance.value_or("?") + " and " + hello_.instance.value_or("?") +
                   " took turns " + std::to_string(verdict.replacements_in_window) + " times within " +
                   std::to_string(identities_.settings().window_ms / 1000) + " s";
    // A failure here is not the device's fault: the link goes on, and the
    // next replacement raises the alarm again (raising is idempotent).
    (void)directory_.raise_alarm(alarm);
  }
  if (verdict.duplicate && identities_.settings().policy == DuplicateIdentityPolicy::refuse) {
    if (verdict.replaced != nullptr) verdict.replaced->refuse_duplicate(now);
    identities_.unlink(system_id_, *this);
    (void)directory_.connection_down(connection_id_, now, "duplicate_identity");
    connection_id_ = 0;
    notice.refused = true;
    output_.identity = std::move(notice);
    refuse(re, "duplicate_identity", "another appliance uses this system's identity",
           settings_.duplicate_identity_retry_s);
    return false;
  }
  if (verdict.replaced != nullptr) verdict.replaced->replace(now);
  output_.identity = std::move(notice);
  return true;
}

void ServerSession::replace(Millis) {
  if (closing()) return;
  replaced_ = true;
  // Sent whatever the link's state (even blackholed): the device still on
  // it, if any, must learn why it lost the link.
  send(message_text(Envelope{}, Disconnect{"replaced", settings_.replaced_retry_s}));
  close(1000, "replaced");
  wake();
}

void ServerSession::refuse_duplicate(Millis) {
  if (closing()) return;
  refuse(std::nullopt, "duplicate_identity", "another appliance uses this system's identity",
         settings_.duplicate_identity_retry_s);
  wake();
}

bool ServerSession::revoke_again_if_revoked(Millis now) {
  if (!hello_.license_serial) return true;
  Result<bool> revoked = directory_.is_revoked(system_id_, *hello_.license_serial);
  if (!revoked.ok()) return false;
  if (*revoked) (void)revoke(*hello_.license_serial, "revoked", now);
  return true;
}

bool ServerSession::is_primary() const { return hello_.role.empty() || hello_.role == "primary"; }

void ServerSession::on_license_request(const DeviceMessage& m, Millis now) {
  if (!is_primary()) {
    send(message_text(answer_to(m.id), LicenseDenied{"not_primary", "only the appliance's primary link is licensed"}));
    return;
  }
  requested_ = requested_quantities(std::get<LicenseRequest>(m.body));
  if (grant(m.id, now) == GrantOutcome::failed) busy(m.id);
}

ServerSession::GrantOutcome ServerSession::grant(std::optional<int64_t> re, Millis now) {
  Result<SystemLookup> lookup = directory_.find_system(customer_id_, system_id_);
  if (!lookup.ok()) return GrantOutcome::failed;
  auto deny = [&](std::string_view code, std::string_view message) {
    send(message_text(answer_to(re), LicenseDenied{code, message}));
    return GrantOutcome::denied;
  };
  if (lookup->match != SystemMatch::found) return deny("not_entitled", "system no longer registered");
  const SystemRecord& system = lookup->record;
  if (system.suspended) return deny("suspended", "the subscription is suspended");

  LicenseContent content;
  // Quantities are the lower of what was asked and what is paid for; a
  // feature with nothing to grant is left out rather than granted as 0.
  auto add = [&](const std::string& name, uint32_t asked) {
    auto entitled = system.entitlements.find(name);
    if (entitled == system.entitlements.end()) return;
    uint32_t qty = std::min(asked, entitled->second);
    if (qty > 0) content.features.push_back({name, qty});
  };
  if (requested_) {
    for (const auto& [name, qty] : *requested_) add(name, qty);
  } else {
    for (const auto& [name, qty] : system.entitlements) add(name, qty);
  }
  if (content.features.empty()) return deny("not_entitled", "none of the requested features is entitled");

  Result<std::optional<IssuedLicense>> last = directory_.last_issued(system_id_);
  if (!last.ok()) return GrantOutcome::failed;
  // The device refuses a grant not issued after the one it holds (replay),
  // so issue times only grow, even when grants follow within a millisecond.
  Millis issued = now;
  if (*last && (*last)->issued >= issued) issued = (*last)->issued + 1;
  Millis expires = std::min(saturating_add(issued, settings_.license_lifetime_ms), system.subscription_end);
  if (expires <= issued) return deny("subscription_ended", "the subscription term is over");

  Result<std::string> serial = directory_.next_serial(system_id_);
  if (!serial.ok()) return GrantOutcome::failed;
  content.serial = *serial;
  content.customer_id = customer_id_;
  content.system_id = system_id_;
  content.issued = issued;
  content.not_before = issued - settings_.not_before_slack_ms;
  content.expires = expires;
  Result<SignedGrant> signed_grant = signer_.sign_license(content);
  if (!signed_grant.ok()) return GrantOutcome::failed;
  IssuedLicense record{system_id_, content.serial, issued, expires, content.features};
  if (!directory_.record_issued(record).ok()) return GrantOutcome::failed;

  LicenseGrant grant_message{signed_grant->license, signed_grant->sig, "ES256", std::nullopt};
  if (!settings_.kid.empty()) grant_message.kid = settings_.kid;
  send(message_text(answer_to(re), grant_message));
  license_serial_ = content.serial;
  unconfirmed_serials_.push_back(content.serial);
  renew_at_ = issued + (expires - issued) / 2;
  return GrantOutcome::granted;
}

void ServerSession::on_audit(const DeviceMessage& m, Millis now) {
  const auto& audit = std::get<LicenseAudit>(m.body);
  Result<SystemLookup> lookup = directory_.find_system(customer_id_, system_id_);
  if (!lookup.ok()) return busy(m.id);
  AuditRecord record;
  record.system_id = system_id_;
  record.serial = audit.serial;
  record.from = audit.from;
  record.to = audit.to;
  for (const FeatureUsage& u : audit.usage) record.usage.push_back({std::string(u.name), u.in_use, u.peak});
  record.received = now;
  // Usage is judged against what the system is paid for now.
  for (const FeatureUsageReport& u : record.usage) {
    uint32_t licensed = 0;
    if (lookup->match == SystemMatch::found) {
      auto it = lookup->record.entitlements.find(u.name);
      if (it != lookup->record.entitlements.end()) licensed = it->second;
    }
    int64_t highest = std::max(u.in_use, u.peak);
    if (highest > static_cast<int64_t>(licensed)) record.over.push_back({u.name, highest, licensed});
  }
  record.result = record.over.empty() ? AuditResult::ok : AuditResult::overuse;
  if (!directory_.record_audit(record).ok()) return busy(m.id);
  device_holds(std::string(audit.serial));  // an audit names the license in force
  last_audit_ = record.result;
  Result<std::string> over = overuse_json(record.over);
  if (!over.ok()) return send(over.status());
  send(message_text(answer_to(m.id), AuditAck{record.result == AuditResult::overuse, JsonValue::of_text(*over)}));
}

void ServerSession::on_events(const DeviceMessage& m) {
  const auto& batch = std::get<EventBatch>(m.body);
  // A batch without a stream comes from a device before streams: kept under
  // kLegacyEventStream, acknowledged without `stream`.
  std::string stream(batch.stream.value_or(kLegacyEventStream));
  std::vector<DeviceEvent> events;
  for (const EventMessage& e : batch.events) {
    events.push_back(DeviceEvent{stream, e.seq, e.time, std::string(e.kind), print(e.object)});
  }
  Result<int64_t> upto = directory_.store_events(system_id_, stream, events);
  if (!upto.ok()) return busy(m.id);
  // license_applied / license_revoked say which license the device holds.
  for (const DeviceEvent& e : events) {
    if (e.kind != "license_applied" && e.kind != "license_revoked") continue;
    auto doc = JsonDocument::parse(e.json);
    if (!doc.ok()) continue;
    JsonReader r(doc->root());
    std::optional<std::string_view> serial = r.optional_string("serial");
    if (!r.ok() || !serial) continue;
    if (e.kind == "license_applied") {
      device_holds(std::string(*serial));
    } else if (held_serial_ == *serial) {
      held_serial_.reset();
    }
  }
  send(message_text(answer_to(m.id), EventAck{batch.stream, *upto}));
}

void ServerSession::on_response(const DeviceMessage& m) {
  const Response& answer = std::get<Response>(m.body);
  DeviceResponse response{answer.re, answer.ok, answer.ok ? print(answer.result) : std::string(),
                          std::string(answer.error_code), std::string(answer.error_message)};
  auto it = pending_.find(response.id);
  // An answer to nothing this session asked (or asked twice) is ignored.
  if (it == pending_.end() || it->second) return;
  it->second = response;
  auto revoke = std::find(revoke_ids_.begin(), revoke_ids_.end(), response.id);
  if (revoke != revoke_ids_.end()) {
    revoke_ids_.erase(revoke);
    // The device processes messages in order: every grant sent before the
    // revoke was applied or refused before it, and now nothing is held.
    if (response.ok) {
      held_serial_.reset();
      unconfirmed_serials_.clear();
    }
  }
  if (on_response_) on_response_(response);
}

void ServerSession::device_holds(const std::string& serial) {
  held_serial_ = serial;
  // Grants up to this one are settled; a later one may still be in flight.
  auto it = std::find(unconfirmed_serials_.begin(), unconfirmed_serials_.end(), serial);
  if (it != unconfirmed_serials_.end()) unconfirmed_serials_.erase(unconfirmed_serials_.begin(), it + 1);
}

// ---- Operator actions ------------------------------------------------------------------

bool ServerSession::push_grant(Millis now) {
  if (!ready() || !is_primary()) return false;
  return grant(std::nullopt, now) == GrantOutcome::granted;
}

std::optional<int64_t> ServerSession::revoke(std::string_view serial, std::string_view reason, Millis now) {
  if (!ready() || !is_valid_utf8(serial) || !is_valid_utf8(reason)) return std::nullopt;
  if (!directory_.record_revoked(system_id_, serial, reason, now).ok()) return std::nullopt;
  int64_t id = next_id_++;
  pending_[id] = std::nullopt;
  send(message_text(request_id(id), LicenseRevoke{serial, reason}));
  revoke_ids_.push_back(id);
  if (license_serial_ == serial || serial == "*") license_serial_.reset();
  return id;
}

std::optional<ServerSession::HeldRevoke> ServerSession::revoke_held(std::string_view reason, Millis now) {
  if (!ready() || !is_valid_utf8(reason)) return std::nullopt;
  if (!held_serial_ && unconfirmed_serials_.empty()) return std::nullopt;
  // Every license the device may hold is recorded revoked, so a device
  // that comes back holding any of them is told again (revoke_again_if_revoked).
  std::vector<std::string> candidates = unconfirmed_serials_;
  if (held_serial_) candidates.insert(candidates.begin(), *held_serial_);
  for (const std::string& serial : candidates) {
    if (!directory_.record_revoked(system_id_, serial, reason, now).ok()) return std::nullopt;
  }
  HeldRevoke sent;
  sent.serial = unconfirmed_serials_.empty() ? *held_serial_ : "*";
  int64_t id = next_id_++;
  pending_[id] = std::nullopt;
  send(message_text(request_id(id), LicenseRevoke{sent.serial, reason}));
  revoke_ids_.push_back(id);
  license_serial_.reset();
  sent.id = id;
  return sent;
}

bool ServerSession::disconnect(std::string_view reason, std::optional<int64_t> retry_after_s, Millis now) {
  if (!ready() || !is_valid_utf8(reason) || (retry_after_s && *retry_after_s < 0)) return false;
  send(message_text(Envelope{}, Disconnect{reason, retry_after_s}));
  disconnect_deadline_ = saturating_add(now, settings_.hello_timeout_ms);
  return true;
}

std::optional<int64_t> ServerSession::request(std::string_view method, std::string_view params_json, Millis) {
  if (!ready() || !is_valid_utf8(method) || !is_valid_utf8(params_json)) return std::nullopt;
  if (!params_json.empty() && !JsonDocument::parse(params_json).ok()) return std::nullopt;
  int64_t id = next_id_++;
  pending_[id] = std::nullopt;
  send(message_text(request_id(id), Request{method, JsonValue::of_text(params_json)}));
  return id;
}

std::optional<DeviceResponse> ServerSession::take_response(int64_t id) {
  auto it = pending_.find(id);
  if (it == pending_.end() || !it->second) return std::nullopt;
  DeviceResponse response = std::move(*it->second);
  pending_.erase(it);
  return response;
}

// ---- State ---------------------------------------------------------------------------------

SessionInfo ServerSession::info() const {
  SessionInfo i;
  i.system_id = system_id_;
  i.customer_id = customer_id_;
  i.peer = peer_.address;
  i.port = peer_.port;
  i.welcomed = welcomed_;
  i.closing = closing();
  i.blackholed = blackhole_;
  i.opened = opened_;
  i.connected_since = connected_since_;
  i.last_contact = last_contact_;
  i.license_serial = license_serial_;
  i.held_serial = held_serial_;
  i.unconfirmed_serials = unconfirmed_serials_;
  i.last_audit = last_audit_;
  i.hello = hello_;
  i.connection_id = connection_id_;
  i.replaced = replaced_;
  return i;
}

}  // namespace sublink
