#include "server_core/memory_directory.h"

#include <algorithm>

namespace sublink {

namespace {
const Status kDown(Reason::io_error);
}  // namespace

void MemoryDirectory::put_system(SystemRecord record) {
  customers_.insert(record.customer_id);
  std::string id = record.system_id;
  systems_[id] = std::move(record);
}

void MemoryDirectory::put_customer(std::string customer_id) { customers_.insert(std::move(customer_id)); }

SystemRecord* MemoryDirectory::system(std::string_view system_id) {
  auto it = systems_.find(system_id);
  return it == systems_.end() ? nullptr : &it->second;
}

const std::vector<DeviceEvent>& MemoryDirectory::events(std::string_view system_id) const {
  static const std::vector<DeviceEvent> kNone;
  auto it = events_.find(system_id);
  return it == events_.end() ? kNone : it->second;
}

Result<SystemLookup> MemoryDirectory::find_system(std::string_view customer_id, std::string_view system_id) {
  if (failing_) return kDown;
  SystemLookup lookup;
  if (customers_.find(customer_id) == customers_.end()) {
    lookup.match = SystemMatch::unknown_customer;
    return lookup;
  }
  auto it = systems_.find(system_id);
  if (it == systems_.end()) {
    lookup.match = SystemMatch::unknown_system;
  } else if (it->second.customer_id != customer_id) {
    lookup.match = SystemMatch::other_customer;
  } else {
    lookup.match = SystemMatch::found;
    lookup.record = it->second;
  }
  return lookup;
}

Result<std::string> MemoryDirectory::next_serial(std::string_view) {
  if (failing_) return kDown;
  return "L-" + std::to_string(++serial_counter_);
}

Status MemoryDirectory::record_issued(const IssuedLicense& license) {
  if (failing_) return kDown;
  issued_.push_back(license);
  return Status::Ok();
}

Result<std::optional<IssuedLicense>> MemoryDirectory::last_issued(std::string_view system_id) {
  if (failing_) return kDown;
  for (auto it = issued_.rbegin(); it != issued_.rend(); ++it) {
    if (it->system_id == system_id) return std::optional<IssuedLicense>(*it);
  }
  return std::optional<IssuedLicense>();
}

Status MemoryDirectory::record_revoked(std::string_view system_id, std::string_view serial, std::string_view reason,
                                       Millis at) {
  if (failing_) return kDown;
  Result<bool> known = is_revoked(system_id, serial);
  if (*known) return Status::Ok();
  revocations_.push_back({std::string(system_id), std::string(serial), std::string(reason), at});
  return Status::Ok();
}

Result<bool> MemoryDirectory::is_revoked(std::string_view system_id, std::string_view serial) {
  if (failing_) return kDown;
  return std::any_of(revocations_.begin(), revocations_.end(),
                     [&](const RevocationRecord& r) { return r.system_id == system_id && r.serial == serial; });
}

Result<int64_t> MemoryDirectory::connection_up(const ConnectionRecord& connection) {
  if (failing_) return kDown;
  ConnectionHistory h;
  h.id = static_cast<int64_t>(connections_.size()) + 1;
  h.record = connection;
  connections_.push_back(std::move(h));
  return connections_.back().id;
}

Status MemoryDirectory::connection_down(int64_t id, Millis at, std::string_view reason) {
  if (failing_) return kDown;
  if (id < 1 || id > static_cast<int64_t>(connections_.size())) return Status(Reason::invalid_argument);
  ConnectionHistory& h = connections_[static_cast<size_t>(id - 1)];
  h.down = at;
  h.down_reason = reason;
  return Status::Ok();
}

Status MemoryDirectory::connection_contact(int64_t id, Millis at) {
  if (failing_) return kDown;
  if (id < 1 || id > static_cast<int64_t>(connections_.size())) return Status(Reason::invalid_argument);
  connections_[static_cast<size_t>(id - 1)].last_contact = at;
  return Status::Ok();
}

Status MemoryDirectory::record_audit(const AuditRecord& audit) {
  if (failing_) return kDown;
  audits_.push_back(audit);
  return Status::Ok();
}

Result<int64_t> MemoryDirectory::store_events(std::string_view system_id, std::string_view stream,
                                              std::span<const DeviceEvent> events) {
  if (failing_) return kDown;
  std::vector<DeviceEvent>& stored = events_[std::string(system_id)];
  int64_t highest = 0;
  for (const DeviceEvent& e : stored) {
    if (e.stream == stream) highest = std::max(highest, e.seq);
  }
  for (const DeviceEvent& e : events) {
    if (e.seq <= highest) continue;
    stored.push_back(e);
    stored.back().stream = std::string(stream);
    highest = e.seq;
  }
  return highest;
}

Status MemoryDirectory::raise_alarm(const SystemAlarm& alarm) {
  if (failing_) return kDown;
  Result<bool> standing = alarm_standing(alarm.system_id, alarm.kind);
  if (!*standing) {
    SystemAlarm stored = alarm;
    stored.cleared.reset();
    alarms_.push_back(std::move(stored));
  }
  return Status::Ok();
}

Result<bool> MemoryDirectory::alarm_standing(std::string_view system_id, std::string_view kind) {
  if (failing_) return kDown;
  for (const SystemAlarm& a : alarms_) {
    if (a.system_id == system_id && a.kind == kind && !a.cleared) return true;
  }
  return false;
}

bool MemoryDirectory::clear_alarm(std::string_view system_id, std::string_view kind, Millis at) {
  for (SystemAlarm& a : alarms_) {
    if (a.system_id == system_id && a.kind == kind && !a.cleared) {
      a.cleared = at;
      return true;
    }
  }
  return false;
}

}  // namespace sublink
