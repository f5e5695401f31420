// The boot-time restore of the agent's durable records, one record at a
// time, in the order that keeps what each needs: the boot counter, the
// device's instance, the event log (so damage found anywhere can be
// reported as events in its stream), the license (verified again, never
// trusted as stored), the grace account, and the usage counters.
//
// A missing record is a fresh device (a missing identity makes a new
// instance); a damaged one is reported as an event (record_damaged naming
// the record, or license_refused for a license that no longer verifies),
// named in the log and the status with what was kept and what was lost,
// and replaced by a safe default.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "firmware/agent/agent_config.h"
#include "firmware/agent/agent_log.h"
#include "firmware/agent/audit_service.h"
#include "firmware/agent/event_delivery.h"
#include "firmware/agent/license_service.h"
#include "firmware/agent/record_keeper.h"
#include "firmware/grace/grace_clock.h"
#include "hal/hex64.h"
#include "hal/random.h"

namespace sublink {

/// Who this device is in hello: its boot count and instance (section 4).
struct DeviceIdentity {
  uint64_t boot_count = 0;
  /// boot_count is durably stored: hello may carry it (else 0).
  bool boot_counted = false;
  /// nullopt when none is stored and a new one could not be made or stored.
  std::optional<Hex64Text> instance;
};

class RecordRestore {
 public:
  struct Parts {
    const AgentConfig& config;
    const AgentLog& log;
    Random& random;
    WallClock& wall;
    RecordKeeper& records;
    EventDelivery& events;
    LicenseService& license;
    AuditService& audit;
    GraceClock& grace;
  };
  explicit RecordRestore(const Parts& parts) : p_(parts) {}

  /// Restores every record and counts this boot into `identity`. Returns
  /// the first platform storage error (io_error with errno) while still
  /// starting safely, else Ok.
  Status run(Millis now, DeviceIdentity& identity);

 private:
  /// Reads `id`; on an unreadable record sets `fault`. A value that is an
  /// older copy because the newest was damaged counts as read.
  std::optional<std::span<const uint8_t>> read(RecordId id, std::span<uint8_t> buffer, int32_t& fault);
  /// Keeps a platform error (not "not found", not damage) as the result.
  void note(const Status& s);
  /// Damage found before the event log runs in its stream waits for it.
  void defer(RecordId id, int32_t fault, const char* consequence);

  void boot_counter(DeviceIdentity& identity);
  void instance(DeviceIdentity& identity);
  void event_log();
  bool license();
  void grace_account(Millis now, bool license_held);
  void usage();

  Parts p_;
  Status first_error_;
  struct Pending {
    RecordId id;
    int32_t fault;
    const char* consequence;
  };
  std::array<Pending, 4> pending_{};
  size_t pending_count_ = 0;
};

}  // namespace sublink
