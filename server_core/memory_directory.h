// A Directory held in memory: the records of tests and of the virtual-time
// simulation, where a fleet of devices talks to one server in one process.
// Besides the Directory interface it lets the caller register systems,
// change entitlements and read back everything the sessions recorded.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server_core/directory.h"

namespace sublink {

class MemoryDirectory final : public Directory {
 public:
  /// Registers a system (or replaces its record): entitlements, term and
  /// suspension take effect at the next lookup.
  void put_system(SystemRecord record);
  /// Registers a customer with no systems yet.
  void put_customer(std::string customer_id);
  /// The record of `system_id`, nullptr when not registered. Changes made
  /// through it take effect at the next lookup.
  SystemRecord* system(std::string_view system_id);

  /// While true every Directory method fails with io_error, as a database
  /// that is down would (tests of the session's `busy` path).
  void set_failing(bool failing) { failing_ = failing; }

  // ---- What the sessions recorded -------------------------------------------
  const std::vector<IssuedLicense>& issued() const { return issued_; }
  const std::vector<RevocationRecord>& revocations() const { return revocations_; }
  const std::vector<ConnectionHistory>& connections() const { return connections_; }
  const std::vector<AuditRecord>& audits() const { return audits_; }
  /// Every alarm raised, oldest first (cleared ones included).
  const std::vector<SystemAlarm>& alarms() const { return alarms_; }
  /// Clears the standing alarm of `kind` for `system_id` at `at`; false when none stands.
  bool clear_alarm(std::string_view system_id, std::string_view kind, Millis at);
  /// Events stored for `system_id`, in the order they were stored (so in
  /// seq order within each stream; empty when none).
  const std::vector<DeviceEvent>& events(std::string_view system_id) const;

  // ---- Directory --------------------------------------------------------------
  Result<SystemLookup> find_system(std::string_view customer_id, std::string_view system_id) override;
  Result<std::string> next_serial(std::string_view system_id) override;
  Status record_issued(const IssuedLicense& license) override;
  Result<std::optional<IssuedLicense>> last_issued(std::string_view system_id) override;
  Status record_revoked(std::string_view system_id, std::string_view serial, std::string_view reason,
                        Millis at) override;
  Result<bool> is_revoked(std::string_view system_id, std::string_view serial) override;
  Result<int64_t> connection_up(const ConnectionRecord& connection) override;
  Status connection_down(int64_t id, Millis at, std::string_view reason) override;
  Status connection_contact(int64_t id, Millis at) override;
  Status record_audit(const AuditRecord& audit) override;
  Result<int64_t> store_events(std::string_view system_id, std::string_view stream,
                               std::span<const DeviceEvent> events) override;
  Status raise_alarm(const SystemAlarm& alarm) override;
  Result<bool> alarm_standing(std::string_view system_id, std::string_view kind) override;

 private:
  std::set<std::string, std::less<>> customers_;
  std::map<std::string, SystemRecord, std::less<>> systems_;
  uint64_t serial_counter_ = 0;
  std::vector<IssuedLicense> issued_;
  std::vector<RevocationRecord> revocations_;
  std::vector<ConnectionHistory> connections_;
  std::vector<AuditRecord> audits_;
  std::map<std::string, std::vector<DeviceEvent>, std::less<>> events_;
  std::vector<SystemAlarm> alarms_;
  bool failing_ = false;
};

}  // namespace sublink
