// The agent: the sublink/1 state machine of PROTOCOL.md sections 4 and 5 on
// top of a MessageChannel. It says hello, keeps the link alive with
// heartbeats and drops it when the server falls silent, applies, stores and
// revokes licenses, audits usage, delivers the durable event log, answers
// management requests, and runs the grace clock that decides whether the
// application's subscription features are on.
//
// Sans-I/O: it never blocks and never reads a clock on its own schedule.
// Inputs are boot(), step() and the LinkListener callbacks; outputs are
// messages on the channel, records in Storage and the state callback.
//
// Hosting it (single-threaded: every call from one thread or task):
//  - Super-loop: agent.boot(now); then forever
//        Millis deadline = std::min(agent.step(now), link.poll(now));
//        wait for a socket event or the deadline (WFI, poll(2), ...);
//    and route the Link's listener to the agent (the Link is constructed
//    with the agent as its LinkListener), then channel.start(now).
//  - FreeRTOS / Zephyr: one task owns the Link and the agent; it blocks on
//    its queue / k_poll with the timeout min(agent.step(now), link.poll(now))
//    - now, and network callbacks post to that queue instead of calling the
//    agent from another context. The application reads feature_enabled()
//    from other tasks only through the state callback (post a copy) or with
//    the task's mutex held: the agent itself takes no locks.
//
// Memory: everything is fixed at construction (the event queue and its
// record buffer are allocated there); steady state allocates nothing.
// Parsing uses whatever JsonArena the board installed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "firmware/agent/agent_config.h"
#include "firmware/agent/agent_status.h"
#include "firmware/agent/usage_tracker.h"
#include "firmware/events/event_queue.h"
#include "firmware/grace/grace_clock.h"
#include "firmware/license/license.h"
#include "firmware/license/license_key.h"
#include "firmware/license/license_record.h"
#include "firmware/protocol/server_messages.h"
#include "hal/hex64.h"
#include "hal/clock.h"
#include "hal/random.h"
#include "hal/status.h"
#include "hal/storage.h"
#include "net/link/link.h"
#include "net/link/message_channel.h"

namespace sublink {

/// Called after every licensing state change and every change of the
/// license held (features may differ while the state stays `licensed`).
using StateCallback = void (*)(void* ctx, LicenseState state);

class Agent final : public LinkListener {
 public:
  /// A held license is renewed (a license_request while the link is up)
  /// once a quarter of its lifetime (issued to expires) is left; the
  /// reference server pushes a successor at half-life on its own, so this
  /// is the device's fallback. Without an answer that brings a successor,
  /// it asks again after half of the time then left, never sooner than
  /// kRenewRetryMinMs after the previous ask: at most about
  /// log2(lifetime / kRenewRetryMinMs) requests per license, never a storm.
  static constexpr Millis kRenewRetryMinMs = 60'000;

  /// Largest message the agent writes (a status answer with 32 features, an
  /// event batch of 8 summaries fit with room to spare).
  static constexpr size_t kOutputBytes = 4096;

  /// Everything referenced must outlive the agent. `key` must be loaded.
  /// `random` makes the device's instance at its first boot and event
  /// stream ids.
  Agent(const AgentConfig& config, MessageChannel& channel, Storage& storage, MonotonicClock& mono,
        WallClock& wall, const LicenseKey& key, Random& random);
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  /// Restores the durable records and counts this boot. A missing record is
  /// a fresh device (a missing identity makes a new instance); a damaged one
  /// is reported as an event (record_damaged naming the record, or
  /// license_refused for a license that no longer verifies), named in the
  /// log and the status with what was kept and what was lost, and replaced
  /// by a safe default. An event log that starts empty (first boot, record
  /// missing or damaged) starts a new event stream. Returns the first platform storage error (io_error
  /// with errno) while still starting safely, else Ok. Call once, before
  /// step() and before starting the channel.
  Status boot(Millis now);

  /// Starts the channel (the first connection round) after boot(). With no
  /// usable clock (certificate_clock reads `build`) it first waits for NTP:
  /// the round starts as soon as the clock is set, or after ntp_wait_ms
  /// with certificate dates checked against the build time (PROTOCOL.md
  /// section 2). Call once; later rounds the agent starts itself.
  void start(Millis now);

  /// Does what is due at `now` (heartbeat, audit, dead-link check, grace
  /// alarms and checkpoints, restarting the channel after a disconnect);
  /// returns when it wants to be called again at the latest.
  Millis step(Millis now);

  /// An orderly stop (the daemon's SIGTERM, a board's power-down warning):
  /// closes the link with 1001 (going away), so grace starts as for any
  /// interruption, and stores the grace account, usage and events as of
  /// `now`, so a clean stop loses no grace time. Call step() no more.
  void shutdown(Millis now);

  // ---- LinkListener ---------------------------------------------------------
  /// The WebSocket is open: sends hello and, right behind it, license_request.
  void on_link_up(const AttemptInfo& attempt, bool tls_resumed) override;
  /// One server message.
  void on_text(std::string_view message) override;
  /// The link closed: a held license enters grace. A failure (anything but
  /// our own close) becomes the status `last_failure`, unless the server
  /// refused the device on this link (`error`): its reason is kept.
  void on_link_down(Status why) override;
  /// An attempt failed: the status `last_failure` names the reason, where
  /// it went (the proxy's address and port through a proxy) and why.
  void on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text) override;
  /// A name that did not resolve is the round's failure (`last_failure`).
  void on_resolved(std::string_view name, Status status, const AddressList& addresses) override;

  // ---- Application API ------------------------------------------------------
  /// True when `name` is licensed with a quantity above zero and the state
  /// lets features run (licensed or grace).
  bool feature_enabled(std::string_view name) const;
  /// Licensed quantity of `name` while features run, else 0.
  uint32_t feature_quantity(std::string_view name) const;
  LicenseState state() const { return grace_.state(); }
  /// True from the server's `welcome` until the link closes: the link is up
  /// in PROTOCOL.md's sense (an open WebSocket alone is not).
  bool link_accepted() const { return welcomed_; }
  /// The section 7 status (views valid until the next call into the agent).
  AgentStatus snapshot() const;
  /// The stream new events are numbered in (hello `event_stream`).
  StreamId event_stream() const { return events_.stream(); }
  /// `fn(ctx, state)` after every state or license change; nullptr clears it.
  void set_state_callback(StateCallback fn, void* ctx) {
    callback_ = fn;
    callback_ctx_ = ctx;
  }
  /// The application has `in_use` of feature `name` now; the audit reports
  /// it and the peak of the period. invalid_argument for a feature that is
  /// not configured or a negative count.
  Status report_usage(std::string_view name, int64_t in_use);

 private:
  void log(LogLevel level, std::string_view what, std::string_view detail = {}) const;
  void log_event(EventKind kind, Severity severity, const EventPayload& payload) const;
  std::optional<Millis> server_now(Millis now) const;
  std::optional<Millis> best_utc(Millis now) const;
  /// Remembers why the link is down or was refused (status last_failure).
  void note_failure(std::string_view reason, std::string_view detail, Millis now);
  void pump_grace();
  void push_event(EventKind kind, Severity severity, std::string_view text = {});
  void queue_event(EventKind kind, Severity severity, std::optional<Millis> utc, const EventPayload& payload);
  void start_event_stream();
  void note_damage(RecordId id, int32_t fault, std::string_view consequence, uint32_t events_lost = 0);
  /// Writes record `id`. A failure is logged with the record's name and the
  /// system's words, shown in the status `storage`, and pushed once per
  /// failure streak of the record as a `storage_failed` event (text: the
  /// record's name); a success ends the record's streak. True when stored.
  bool store(RecordId id, std::span<const uint8_t> bytes);
  /// store() returning the write's status.
  Status store_status(RecordId id, std::span<const uint8_t> bytes);
  void push_storage_failed(RecordId id, int32_t detail);
  void persist_events();
  void persist_usage();
  void notify();
  bool send(const Result<size_t>& built);
  void send_hello();
  void send_license_request();
  void after_refused_grant(Millis now);
  void reset_license_retry();
  void send_audit(Millis now);
  void send_events();
  void link_lost(Millis now);
  void learn_server_time(Millis now, Millis utc);
  void check_license_window(Millis now);
  void schedule_audit(Millis now);
  void schedule_renewal(Millis now);
  void close_for_violation(const Status& why, Millis now);
  void handle(ServerMessage& message, Millis now);
  void on_welcome(const Welcome& welcome, Millis now);
  void on_grant(const LicenseGrant& grant, Millis now);
  void on_revoke(const LicenseRevoke& revoke, const std::optional<int64_t>& id, Millis now);
  void on_request(const Request& request, int64_t id, Millis now);
  bool method_allowed(std::string_view method) const;
  void learn_certificate_time(Millis now, Millis utc);
  void note_clock_source();
  /// The certificate clock reads NTP, the server's time or a set RTC (or
  /// the board installed none): a link need not wait for NTP.
  bool clock_usable() const;

  AgentConfig config_;
  MessageChannel& channel_;
  Storage& storage_;
  MonotonicClock& mono_;
  WallClock& wall_;
  const LicenseKey& key_;
  Random& random_;

  GraceClock grace_;
  EventQueue events_;
  std::unique_ptr<uint8_t[]> event_record_;
  size_t event_record_size_;
  UsageTracker usage_;
  std::unique_ptr<License> held_;     // valid while has_license_
  std::unique_ptr<License> scratch_;  // a grant under test
  bool has_license_ = false;

  StateCallback callback_ = nullptr;
  void* callback_ctx_ = nullptr;

  uint64_t boot_count_ = 0;
  bool boot_counted_ = false;  // boot_count_ is durably stored: hello may carry it
  /// This device's instance (section 4), sent in hello; nullopt when none
  /// is stored and a new one could not be made or stored this start.
  std::optional<Hex64Text> instance_;
  Millis boot_mono_ = 0;
  Millis next_wall_read_ = 0;
  Millis restart_at_ = kNever;
  /// `issued` of the newest license revoked (0: none), restored from the
  /// revoked license record: a grant must be issued later (no replay).
  Millis revoked_issued_ = 0;
  /// While start() waits for NTP: when the wait ends (kNever otherwise).
  Millis clock_wait_until_ = kNever;

  // The current connection.
  bool channel_up_ = false;
  bool welcomed_ = false;
  uint16_t port_ = 0;
  int64_t next_id_ = 1;
  Millis heartbeat_ms_ = kDefaultHeartbeatS * 1000;
  Millis audit_ms_ = kDefaultAuditS * 1000;
  Millis last_contact_ = 0;
  Millis next_heartbeat_ = kNever;
  Millis next_audit_ = kNever;
  int64_t heartbeat_seq_ = 0;
  std::optional<int64_t> events_request_;  // id of the batch awaiting event_ack
  StreamId events_in_flight_ = kLegacyStream;  // the stream of that batch
  std::optional<int64_t> audit_request_;   // id of the audit awaiting audit_ack
  Millis audit_to_ = 0;
  bool audit_overuse_ = false;
  std::optional<int64_t> license_request_;  // id of the request awaiting grant/denied
  Millis license_retry_at_ = kNever;        // when to ask again after a refused grant
  Millis license_retry_delay_ = 0;          // the backoff for the next refusal
  Millis renew_at_ = kNever;                // when to ask for a successor of the held license

  // Why the link is down or was last refused (status `last_failure`): the
  // reason name or the server's error code, one line of detail, and when
  // (UTC, when known). refused_on_link_: the server sent `error` on the
  // current link, so its close does not replace the server's reason.
  std::array<char, 40> failure_reason_{};
  std::array<char, 200> failure_detail_{};
  std::optional<Millis> failure_utc_;
  bool refused_on_link_ = false;

  // The clock certificate dates were last seen checked with (logged when
  // it changes); 0xff before the first look.
  uint8_t logged_clock_source_ = 0xff;

  // The server's clock: UTC at a monotonic instant.
  bool server_known_ = false;
  Millis server_utc_ = 0;
  Millis server_mono_ = 0;

  // Storage: records whose latest write failed (bit per RecordId), the
  // status text of the last failure, and the damage found at boot.
  uint32_t failing_records_ = 0;
  bool events_restored_ = false;  // storage_failed events wait for the log at boot
  std::array<int32_t, kMaxRecordIds> unreported_failures_{};  // detail (-1: 0) per record, 0: none
  StreamText event_stream_text_{};
  std::array<char, 256> storage_text_{};
  static constexpr size_t kMaxDamageNotes = 6;
  std::array<std::array<char, 128>, kMaxDamageNotes> damage_text_{};
  size_t damage_count_ = 0;

  std::array<char, kOutputBytes> out_{};
  std::array<uint8_t, kMaxLicenseRecordBytes> record_{};
};

}  // namespace sublink
