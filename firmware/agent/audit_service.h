// Usage audits (PROTOCOL.md section 4, license_audit): the application
// reports what it uses, the tracker keeps the peaks of the period, and the
// audit goes out every audit_s while a license is held and the link is
// welcomed (and on `audit.now`). `audit_ack` closes the period and may say
// the device uses more than it is licensed for.
//
// Shaped like GraceClock: inputs are usage reports, `audit_ack`, the
// link's life and time (step()); the audit goes to the Outbox, the usage
// record to the RecordKeeper.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "firmware/agent/agent_config.h"
#include "firmware/agent/agent_log.h"
#include "firmware/agent/event_delivery.h"
#include "firmware/agent/license_service.h"
#include "firmware/agent/outbox.h"
#include "firmware/agent/record_keeper.h"
#include "firmware/agent/server_time.h"
#include "firmware/agent/session.h"
#include "firmware/agent/usage_tracker.h"
#include "firmware/protocol/server_messages.h"

namespace sublink {

class AuditService {
 public:
  struct Parts {
    const AgentConfig& config;
    const AgentLog& log;
    ServerTime& server_time;
    const Session& session;
    const LicenseService& license;
    EventDelivery& events;
    RecordKeeper& records;
    Outbox& outbox;
  };
  explicit AuditService(const Parts& parts);

  /// The usage record restored at boot; false (logged) when refused whole.
  Status restore(std::span<const uint8_t> record);
  /// The application has `in_use` of feature `name` now.
  Status report(std::string_view name, int64_t in_use) { return usage_.report(name, in_use); }

  /// Plans the next audit: due once a license is held and the last
  /// acknowledged audit is older than audit_s (welcome, a new license).
  void schedule(Millis now);
  /// schedule() unless an audit is planned already.
  void schedule_if_idle(Millis now);
  /// `audit.now`: an audit at once, the next one audit_s later.
  void audit_now(Millis now);
  /// `audit_ack` answering `re`.
  void on_ack(const AuditAck& ack, std::optional<int64_t> re);
  /// Sends the audit that is due (the link is welcomed).
  void step(Millis now);
  /// When step() has something to do next.
  Millis next_deadline() const { return next_audit_; }
  /// A new link: no audit is awaited on it.
  void on_link_up() { request_.reset(); }
  /// The link ended: nothing planned or awaited.
  void link_lost();

  /// Stores the usage counters when they changed since the last store.
  void persist_if_dirty();
  bool overuse() const { return overuse_; }

 private:
  void send(Millis now);
  void persist();

  Parts p_;

  UsageTracker usage_;
  Millis next_audit_ = kNever;
  std::optional<int64_t> request_;  // id of the audit awaiting audit_ack
  Millis audit_to_ = 0;
  bool overuse_ = false;
};

}  // namespace sublink
