#include "firmware/agent/license_service.h"

#include <algorithm>
#include <array>

#include "firmware/license/license_record.h"

namespace sublink {

LicenseService::LicenseService(const Parts& p)
    : p_(p),
      held_(std::make_unique<License>()),
      scratch_(std::make_unique<License>()),
      retry_delay_(retry_min_ms()) {}

LicenseRefusal LicenseService::restore(std::span<const uint8_t> bytes, int32_t& fault) {
  // An empty record is no license (a revoke before revoked records were
  // kept); a revoked record holds none but keeps the replay floor.
  if (bytes.empty()) return LicenseRefusal::none;
  SignedLicense& stored = scratch_->signed_form;
  bool revoked = false;
  if (Status decoded = read_license_record(bytes, stored, &revoked); !decoded.ok()) {
    fault = decoded.detail() != 0 ? decoded.detail() : static_cast<int32_t>(RecordFault::bad_value);
    return LicenseRefusal::bad_record;
  }
  SignedLicense copy = stored;
  LicenseDecision d = verify_stored_license(p_.key, copy, p_.config.customer_id, p_.config.system_id, *held_);
  if (d.json.field != nullptr) {
    std::array<char, 96> why{};
    size_t n = d.json.describe(why);
    p_.log.write(LogLevel::error, "stored license refused", {why.data(), n});
  }
  if (revoked && d.accepted()) {
    revoked_issued_ = held_->terms.issued;
    p_.log.write(LogLevel::notice, "no license: the last one was revoked", held_->terms.serial.view());
  } else {
    has_license_ = d.accepted();
  }
  return d.refusal;
}

void LicenseService::on_link_up() {
  request_.reset();
  reset_retry();  // the request behind hello is a fresh start
}

void LicenseService::link_lost() {
  renew_at_ = kNever;
  request_.reset();
  retry_at_ = kNever;  // the next link asks anyway
}

void LicenseService::request() {
  int64_t id = p_.outbox.next_id();
  if (p_.outbox.commit(build_license_request(p_.outbox.space(), id, p_.config.features))) request_ = id;
}

void LicenseService::after_refused_grant(Millis now) {
  // A held license keeps the features on: a bad grant (solicited or not)
  // is no reason to bother the server. While a request is out, its answer
  // is still to come; one retry already scheduled is enough.
  if (has_license_ || request_ || retry_at_ != kNever) return;
  retry_at_ = saturating_add(now, retry_delay_);
  const Millis max = retry_max_ms();
  retry_delay_ = retry_delay_ > max / 2 ? max : retry_delay_ * 2;
}

void LicenseService::reset_retry() {
  retry_at_ = kNever;
  retry_delay_ = retry_min_ms();
}

void LicenseService::schedule_renewal(Millis now) {
  std::optional<Millis> utc = p_.server_time.now(now);
  if (!p_.session.welcomed() || !has_license_ || !utc) {
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
    renew_at_ = request_ ? saturating_add(now, kRenewRetryMinMs) : now;
  }
}

bool LicenseService::check_window(Millis now) {
  std::optional<Millis> utc = p_.server_time.now(now);
  if (!has_license_ || !utc) return false;
  LicenseRefusal r = license_window_refusal(held_->terms, *utc);
  if (r == LicenseRefusal::none) {
    // A license restored at boot (or kept through `expired`) is put back in
    // force now that a link is up and the server's clock vouches for it.
    if (p_.grace.link_up() && p_.grace.state() != LicenseState::licensed) p_.grace.on_license(true);
    if (renew_at_ == kNever) schedule_renewal(now);
    return false;
  }
  // Out of its window by the server's clock: stop using it, keep the record
  // (a newer grant replaces it).
  has_license_ = false;
  renew_at_ = kNever;
  p_.grace.on_license(false);
  p_.events.push(EventKind::license_refused, Severity::major, license_refusal_name(r));
  // Ask for a license now (when no request is out), then with the backoff
  // of a refused grant.
  if (p_.session.welcomed() && !request_) request();
  after_refused_grant(now);
  return true;
}

bool LicenseService::on_grant(const LicenseGrant& g, std::optional<int64_t> re, Millis now) {
  if (request_ && re == request_) request_.reset();
  LicenseContext context{p_.config.customer_id, p_.config.system_id, p_.server_time.now(now),
                         has_license_ ? held_.get() : nullptr, revoked_issued_};
  LicenseDecision d = accept_license_grant(p_.key, {g.license, g.sig, g.alg}, context, *scratch_);
  if (!d.accepted()) {
    p_.log.write(LogLevel::warning, "license refused", license_refusal_name(d.refusal));
    if (d.json.field != nullptr) {
      std::array<char, 96> why{};
      size_t n = d.json.describe(why);
      p_.log.write(LogLevel::warning, "license refused", {why.data(), n});
    }
    p_.events.push(EventKind::license_refused, Severity::warning, license_refusal_name(d.refusal));
    after_refused_grant(now);
    return false;
  }
  // A license that verifies is in force even when it cannot be stored
  // (PROTOCOL.md section 4): refusing it would leave the device on an
  // older license than the server believes, and a revoke of the new serial
  // would miss. The failure is reported (log, storage_failed event); after
  // a reboot the older stored license comes back and the next link asks
  // again.
  std::span<uint8_t> record = p_.records.scratch();
  Result<size_t> size = write_license_record(scratch_->signed_form, record);
  if (size.ok()) {
    (void)p_.records.store(RecordId::license, record.first(*size));
  } else {
    p_.log.write(LogLevel::error, "license record not built", reason_name(size.status().reason()));
  }
  std::swap(held_, scratch_);
  has_license_ = true;
  reset_retry();
  schedule_renewal(now);
  p_.grace.on_license(true);
  p_.events.push(EventKind::license_applied, Severity::info, held_->terms.serial.view());
  return true;
}

void LicenseService::on_denied(const LicenseDenied& d, std::optional<int64_t> re) {
  // A denial is the server's answer, not a fault to retry: it grants
  // again unsolicited (or on license.refresh) once entitled.
  if (request_ && re == request_) request_.reset();
  p_.log.write(LogLevel::warning, "license denied", d.code);
  p_.events.push(EventKind::license_denied, Severity::warning, d.code);
}

bool LicenseService::on_revoke(const LicenseRevoke& r, std::optional<int64_t> id) {
  // "*" revokes whatever is held: the server may not know which of its
  // grants the device applied (PROTOCOL.md section 4).
  bool held = has_license_ && (r.serial == "*" || held_->terms.serial == r.serial);
  BoundedString<kMaxLicenseIdLength> revoked;
  if (held) {
    revoked.assign(held_->terms.serial.view());
    // Features go off at once even when the record cannot be written: the
    // revoke is in force in memory and is repeated by the server if needed.
    // The record keeps the revoked license, marked so: its `issued` is the
    // floor that refuses it as a replay, also after a reboot.
    revoked_issued_ = std::max(revoked_issued_, held_->terms.issued);
    std::span<uint8_t> record = p_.records.scratch();
    Result<size_t> size = write_license_record(held_->signed_form, record, /*revoked=*/true);
    (void)p_.records.store(RecordId::license, size.ok() ? record.first(*size) : std::span<uint8_t>());
    has_license_ = false;
    p_.grace.on_revoke();
    p_.events.push(EventKind::license_revoked, Severity::major, revoked.view());
  }
  if (!id) {
    p_.log.write(LogLevel::warning, "license_revoke without id: no answer");
    return held;
  }
  if (held) {
    // The answer names the serial revoked, so a server that sent "*" learns it.
    (void)p_.outbox.commit(build_response_ok(p_.outbox.space(), *id, [&](JsonWriter& w) {
      w.begin_object().key("serial").string(revoked.view()).end_object();
    }));
  } else {
    (void)p_.outbox.commit(
        build_response_error(p_.outbox.space(), *id, "not_held", "no license with this serial is held"));
  }
  return held;
}

void LicenseService::renew_step(Millis now) {
  if (renew_at_ > now) return;
  std::optional<Millis> utc = p_.server_time.now(now);
  if (has_license_ && utc) {
    // Asked even while an earlier request is unanswered (a lost answer
    // must not cost the license); the intervals bound the count.
    p_.log.write(LogLevel::notice, "asking for a successor of the license before it expires", held_->terms.serial.view());
    request();
    Millis left = held_->terms.expires - *utc;
    renew_at_ = saturating_add(now, std::max(left / 2, kRenewRetryMinMs));
  } else {
    renew_at_ = kNever;
  }
}

void LicenseService::retry_step(Millis now) {
  if (!p_.session.channel_up() || retry_at_ > now) return;
  retry_at_ = kNever;
  p_.log.write(LogLevel::notice, "asking for a license again after a refused grant");
  request();
  if (!request_) after_refused_grant(now);  // not sent: try again later
}

Millis LicenseService::next_deadline() const {
  Millis next = kNever;
  if (p_.session.channel_up()) next = retry_at_;
  if (p_.session.welcomed()) next = std::min(next, renew_at_);
  return next;
}

void LicenseService::fill_status(AgentStatus& s) const {
  s.license_held = has_license_;
  if (!has_license_) return;
  s.serial = held_->terms.serial.view();
  s.expires = held_->terms.expires;
  s.features = held_->terms.feature_list();
}

}  // namespace sublink
