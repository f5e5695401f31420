// Licensing (PROTOCOL.md section 4): the license the device holds, and how
// it gets and keeps one. It asks with license_request (behind hello, on
// `license.refresh`, again after a refused grant with a backoff, and for a
// successor once a quarter of the held license's life is left), verifies
// and stores `license_grant`, answers `license_revoke`, and takes a license
// out of force when the server's clock says it is outside its window.
//
// Shaped like GraceClock: inputs are the licensing messages, the link's
// life and time (renew_step(), retry_step()); requests and answers go to
// the Outbox, the record to the RecordKeeper, events to EventDelivery.
// Methods that change the license held return true: the agent then tells
// the application (state callback) and brings the audit schedule along.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "firmware/agent/agent_config.h"
#include "firmware/agent/agent_log.h"
#include "firmware/agent/agent_status.h"
#include "firmware/agent/event_delivery.h"
#include "firmware/agent/outbox.h"
#include "firmware/agent/record_keeper.h"
#include "firmware/agent/server_time.h"
#include "firmware/agent/session.h"
#include "firmware/grace/grace_clock.h"
#include "firmware/license/license.h"
#include "firmware/license/license_acceptance.h"
#include "firmware/license/license_key.h"
#include "firmware/protocol/server_messages.h"

namespace sublink {

class LicenseService {
 public:
  /// A held license is renewed (a license_request while the link is up)
  /// once a quarter of its lifetime (issued to expires) is left; the
  /// reference server pushes a successor at half-life on its own, so this
  /// is the device's fallback. Without an answer that brings a successor,
  /// it asks again after half of the time then left, never sooner than
  /// kRenewRetryMinMs after the previous ask: at most about
  /// log2(lifetime / kRenewRetryMinMs) requests per license, never a storm.
  static constexpr Millis kRenewRetryMinMs = 60'000;

  struct Parts {
    const AgentConfig& config;
    const LicenseKey& key;
    const AgentLog& log;
    ServerTime& server_time;
    const Session& session;
    GraceClock& grace;
    EventDelivery& events;
    RecordKeeper& records;
    Outbox& outbox;
  };
  explicit LicenseService(const Parts& parts);

  /// The stored license, verified again with the key (never trusted as
  /// stored). `fault` becomes the record's damage when it does not decode.
  /// Returns why it was refused, or none.
  LicenseRefusal restore(std::span<const uint8_t> record, int32_t& fault);

  /// A new link: the request behind hello is a fresh start.
  void on_link_up();
  /// The link ended: nothing is awaited any more.
  void link_lost();
  /// Asks for a license (license_request).
  void request();
  /// After `welcome` and every `heartbeat_ack`: a held license is put back in
  /// force once the server's clock vouches for it, or taken out of force.
  bool check_window(Millis now);
  /// The renewal is planned again (welcome, a new license).
  void schedule_renewal(Millis now);
  /// `license_grant` answering request `re` (or unsolicited).
  bool on_grant(const LicenseGrant& grant, std::optional<int64_t> re, Millis now);
  /// `license_denied`.
  void on_denied(const LicenseDenied& denied, std::optional<int64_t> re);
  /// `license_revoke`, answered when it has an id.
  bool on_revoke(const LicenseRevoke& revoke, std::optional<int64_t> id);
  /// Asks for a successor when the renewal is due (the link is welcomed).
  void renew_step(Millis now);
  /// Asks again when the backoff after a refused grant is over.
  void retry_step(Millis now);
  /// When renew_step()/retry_step() have something to do next.
  Millis next_deadline() const;

  bool held() const { return has_license_; }
  /// The license in force; meaningful while held().
  const LicenseTerms& terms() const { return held_->terms; }
  void fill_status(AgentStatus& s) const;

 private:
  void after_refused_grant(Millis now);
  void reset_retry();
  /// license_retry_min_ms and _max_ms, made usable (min >= 1, max >= min).
  Millis retry_min_ms() const { return std::max<Millis>(p_.config.license_retry_min_ms, 1); }
  Millis retry_max_ms() const { return std::max(p_.config.license_retry_max_ms, retry_min_ms()); }

  Parts p_;

  std::unique_ptr<License> held_;     // valid while has_license_
  std::unique_ptr<License> scratch_;  // a grant under test
  bool has_license_ = false;
  /// `issued` of the newest license revoked (0: none), restored from the
  /// revoked license record: a grant must be issued later (no replay).
  Millis revoked_issued_ = 0;
  std::optional<int64_t> request_;  // id of the request awaiting grant/denied
  Millis retry_at_ = kNever;        // when to ask again after a refused grant
  Millis retry_delay_ = 0;          // the backoff for the next refusal
  Millis renew_at_ = kNever;        // when to ask for a successor of the held license
};

}  // namespace sublink
