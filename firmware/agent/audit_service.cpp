#include "firmware/agent/audit_service.h"

#include <array>

namespace sublink {

AuditService::AuditService(const Parts& p) : p_(p) { usage_.configure(p.config.features); }

Status AuditService::restore(std::span<const uint8_t> record) {
  Status restored = usage_.restore(record);
  if (!restored.ok()) {
    // Refused whole (out of range values would overflow audit arithmetic):
    // the peaks and period start again from now.
    p_.log.write(LogLevel::error, "usage record damaged, refused", usage_.problem());
  }
  return restored;
}

void AuditService::schedule(Millis now) {
  // An audit is due once a license is held and the last acknowledged audit
  // is older than audit_s: decided again when a license arrives after the
  // welcome, so the first audit does not wait a full audit_s for it.
  std::optional<Millis> utc = p_.server_time.now(now);
  if (!p_.session.welcomed() || !p_.license.held() || !utc) {
    next_audit_ = kNever;
    return;
  }
  const Millis interval = p_.session.audit_interval();
  std::optional<Millis> last = usage_.last_ack();  // within [0, kMaxRecordUtcMs] (restore checks it)
  next_audit_ = (!last || *utc - *last >= interval) ? now : saturating_add(now, *last + interval - *utc);
}

void AuditService::schedule_if_idle(Millis now) {
  if (next_audit_ == kNever) schedule(now);
}

void AuditService::audit_now(Millis now) {
  send(now);
  next_audit_ = saturating_add(now, p_.session.audit_interval());
}

void AuditService::step(Millis now) {
  if (next_audit_ > now) return;
  if (p_.license.held()) {
    audit_now(now);
  } else {
    next_audit_ = kNever;  // scheduled again when a license arrives
  }
}

void AuditService::send(Millis now) {
  std::optional<Millis> to = p_.server_time.now(now);
  if (!p_.license.held() || !to || !p_.session.welcomed()) return;  // nothing to audit against
  usage_.start_period(*to);
  LicenseAudit audit;
  audit.serial = p_.license.terms().serial.view();
  audit.from = usage_.period_from().value_or(*to);
  audit.to = *to;
  audit.usage = usage_.usage();
  int64_t id = p_.outbox.next_id();
  if (p_.outbox.commit(build_license_audit(p_.outbox.space(), id, audit))) {
    request_ = id;
    audit_to_ = *to;
  }
}

void AuditService::on_ack(const AuditAck& a, std::optional<int64_t> re) {
  if (!request_ || re != request_) {
    p_.log.write(LogLevel::warning, "audit_ack for no audit in flight");
    return;
  }
  request_.reset();
  overuse_ = a.overuse;
  usage_.acknowledge(audit_to_);
  persist();
  if (a.overuse) p_.events.push(EventKind::audit_overuse, Severity::major);
}

void AuditService::link_lost() {
  next_audit_ = kNever;
  request_.reset();
}

void AuditService::persist_if_dirty() {
  if (usage_.dirty()) persist();
}

void AuditService::persist() {
  std::array<uint8_t, kMaxUsageRecordBytes> bytes{};
  Result<size_t> size = usage_.encode(bytes);
  if (!size.ok()) {
    p_.log.write(LogLevel::error, "usage not stored: out of range", usage_.problem());
    return;
  }
  (void)p_.records.store(RecordId::usage, {bytes.data(), *size});
}

}  // namespace sublink
