#include "firmware/agent/audit_service.h"

#include <array>

namespace sublink {

AuditService::AuditService(const Parts& p)
    : log_(p.log),
      server_time_(p.server_time),
      session_(p.session),
      license_(p.license),
      events_(p.events),
      records_(p.records),
      outbox_(p.outbox) {
  usage_.configure(p.config.features);
}

Status AuditService::restore(std::span<const uint8_t> record) {
  Status restored = usage_.restore(record);
  if (!restored.ok()) {
    // Refused whole (out of range values would overflow audit arithmetic):
    // the peaks and period start again from now.
    log_.write(LogLevel::error, "usage record damaged, refused", usage_.problem());
  }
  return restored;
}

void AuditService::schedule(Millis now) {
  // An audit is due once a license is held and the last acknowledged audit
  // is older than audit_s: decided again when a license arrives after the
  // welcome, so the first audit does not wait a full audit_s for it.
  std::optional<Millis> utc = server_time_.now(now);
  if (!session_.welcomed() || !license_.held() || !utc) {
    next_audit_ = kNever;
    return;
  }
  const Millis interval = session_.audit_interval();
  std::optional<Millis> last = usage_.last_ack();  // within [0, kMaxRecordUtcMs] (restore checks it)
  next_audit_ = (!last || *utc - *last >= interval) ? now : saturating_add(now, *last + interval - *utc);
}

void AuditService::schedule_if_idle(Millis now) {
  if (next_audit_ == kNever) schedule(now);
}

void AuditService::audit_now(Millis now) {
  send(now);
  next_audit_ = saturating_add(now, session_.audit_interval());
}

void AuditService::step(Millis now) {
  if (next_audit_ > now) return;
  if (license_.held()) {
    audit_now(now);
  } else {
    next_audit_ = kNever;  // scheduled again when a license arrives
  }
}

void AuditService::send(Millis now) {
  std::optional<Millis> to = server_time_.now(now);
  if (!license_.held() || !to || !session_.welcomed()) return;  // nothing to audit against
  usage_.start_period(*to);
  LicenseAudit audit;
  audit.serial = license_.terms().serial.view();
  audit.from = usage_.period_from().value_or(*to);
  audit.to = *to;
  audit.usage = usage_.usage();
  int64_t id = outbox_.next_id();
  if (outbox_.commit(build_license_audit(outbox_.space(), id, audit))) {
    request_ = id;
    audit_to_ = *to;
  }
}

void AuditService::on_ack(const AuditAck& a, std::optional<int64_t> re) {
  if (!request_ || re != request_) {
    log_.write(LogLevel::warning, "audit_ack for no audit in flight");
    return;
  }
  request_.reset();
  overuse_ = a.overuse;
  usage_.acknowledge(audit_to_);
  persist();
  if (a.overuse) events_.push(EventKind::audit_overuse, Severity::major);
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
    log_.write(LogLevel::error, "usage not stored: out of range", usage_.problem());
    return;
  }
  (void)records_.store(RecordId::usage, {bytes.data(), *size});
}

}  // namespace sublink
