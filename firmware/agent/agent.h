// The agent: the sublink/1 state machine of PROTOCOL.md sections 4 and 5 on
// top of a MessageChannel, as a router over small services, each in its own
// file pair and each shaped like GraceClock (messages and time in, outputs
// handed back, its own next deadline):
//   Session        session.h          the link's life: hello, welcome, heartbeats, dead link, last_failure
//   LicenseService license_service.h  license_request, grant, denied, revoke, renewal, the license window
//   AuditService   audit_service.h    usage reports, license_audit every audit_s, audit_ack
//   EventDelivery  event_delivery.h   the durable event log, its streams, batches and event_ack
//   Management     management.h       `request`: a table of methods (status.get, ...)
//   TunnelService  tunnel_service.h   tunnel frames (binary messages): channels to local services
//   RecordRestore  record_restore.h   the boot-time restore of every record
//   GraceClock     firmware/grace     the 30-day grace clock that decides whether features run
// with RecordKeeper (every record write, storage failures, damage notes)
// and the Outbox (what the agent writes, and when) beside them. The agent
// hands each server message to its service (a table by message type),
// merges the services' deadlines, and writes to the channel from one drain
// step only (step(), shutdown()): never from inside a LinkListener callback.
//
// Sans-I/O: it never blocks and never reads a clock on its own schedule.
// Inputs are boot(), step() and the LinkListener callbacks; outputs are
// messages on the channel (written by step()), records in Storage and the
// state callback.
//
// Driving it (single-threaded: every call from one thread or task):
//  - Any board: AgentRunner (agent_runner.h) wires the Link to the agent,
//    with the board's own LinkListener beside it for its narration; then
//        agent.enable_tunnels(driver, link);   // a board with tunnels (sublinkd)
//        agent.boot(now); agent.start(now);
//        forever: deadline = runner.step(now); wait for a socket event or the deadline
//    runner.step() steps the agent (the drain), polls the link, and asks
//    to run again at once when the link's reports left output waiting.
//  - By hand: the Link is constructed with the agent as its LinkListener;
//    agent.boot(now); agent.start(now); forever:
//        Millis deadline = std::min(agent.step(now), link.poll(now));
//        if (agent.output_pending()) deadline = now;
//        wait for a socket event or the deadline (WFI, poll(2), ...);
//  - FreeRTOS / Zephyr: one task owns the Link and the agent; it blocks on
//    its queue / k_poll with the timeout of runner.step(now) - now, and
//    network callbacks post to that queue instead of calling the agent from
//    another context. The application reads feature_enabled() from other
//    tasks only through the state callback (post a copy) or with the task's
//    mutex held: the agent itself takes no locks.
//
// Memory: everything is fixed at construction (the event queue and its
// record buffer are allocated there); steady state allocates nothing.
// Parsing uses whatever JsonArena the board installed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "firmware/agent/agent_config.h"
#include "firmware/agent/agent_log.h"
#include "firmware/agent/agent_status.h"
#include "firmware/agent/audit_service.h"
#include "firmware/agent/event_delivery.h"
#include "firmware/agent/license_service.h"
#include "firmware/agent/management.h"
#include "firmware/agent/outbox.h"
#include "firmware/agent/record_keeper.h"
#include "firmware/agent/record_restore.h"
#include "firmware/agent/server_time.h"
#include "firmware/agent/session.h"
#include "firmware/agent/agent_tunnels.h"
#include "firmware/events/event_queue.h"
#include "firmware/grace/grace_clock.h"
#include "firmware/license/license_key.h"
#include "firmware/protocol/server_messages.h"
#include "hal/clock.h"
#include "hal/random.h"
#include "hal/status.h"
#include "hal/storage.h"
#include "net/link/link.h"
#include "net/link/binary_channel.h"
#include "net/link/message_channel.h"
#include "net/link/socket_driver.h"

namespace sublink {

/// Called after every licensing state change and every change of the
/// license held (features may differ while the state stays `licensed`).
using StateCallback = void (*)(void* ctx, LicenseState state);

class Agent final : public LinkListener, private StatusSource {
 public:
  /// See LicenseService::kRenewRetryMinMs.
  static constexpr Millis kRenewRetryMinMs = LicenseService::kRenewRetryMinMs;
  /// Largest message the agent writes (Outbox::kBytes).
  static constexpr size_t kOutputBytes = Outbox::kBytes;

  /// Everything referenced must outlive the agent, `config` too (it is
  /// referenced, not copied: a board keeps it anyway). `key` must be loaded.
  /// `random` makes the device's instance at its first boot and event
  /// stream ids.
  Agent(const AgentConfig& config, MessageChannel& channel, Storage& storage, MonotonicClock& mono,
        WallClock& wall, const LicenseKey& key, Random& random);
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  /// Restores the durable records and counts this boot (RecordRestore). An
  /// event log that starts empty (first boot, record missing or damaged)
  /// starts a new event stream. Returns the first platform storage error
  /// (io_error with errno) while still starting safely, else Ok. Call once,
  /// before step() and before starting the channel.
  Status boot(Millis now);

  /// Gives the device tunnels (PROTOCOL.md section 6) to config.tunnels'
  /// services: local sockets open on `driver`, frames go out on `link`
  /// (the Link the agent writes to). Allocates the tunnel memory
  /// (TunnelService::memory_bound) once. Call before start(); without it
  /// tunnel frames are ignored and hello offers no services.
  void enable_tunnels(SocketDriver& driver, BinaryChannel& link);

  /// Starts the channel (the first connection round) after boot(). With no
  /// usable clock (certificate_clock reads `build`) it first waits for NTP:
  /// the round starts as soon as the clock is set, or after ntp_wait_ms
  /// with certificate dates checked against the build time (PROTOCOL.md
  /// section 2). Call once; later rounds the agent starts itself.
  void start(Millis now);

  /// The drain step: writes what the callbacks since the last step left in
  /// the outbox, then does what is due at `now` (heartbeat, audit, dead-link
  /// check, grace alarms and checkpoints, restarting the channel after a
  /// disconnect), then tunnel frames while the link has room (after the
  /// JSON messages: a heartbeat never waits behind queued tunnel DATA);
  /// returns when it wants to be called again at the latest.
  Millis step(Millis now);

  /// True when a callback left output for the next step(): call it now.
  bool output_pending() const { return outbox_.pending(); }
  /// Only the first part of step(): writes what the callbacks left for the
  /// channel, and nothing else (a host that steps the agent on a schedule
  /// of its own, a test that plays the server message by message).
  void drain() {
    outbox_.begin_drain();
    outbox_.end_drain();
  }

  /// An orderly stop (the daemon's SIGTERM, a board's power-down warning):
  /// closes the link with 1001 (going away), so grace starts as for any
  /// interruption, and stores the grace account, usage and events as of
  /// `now`, so a clean stop loses no grace time. Call step() no more.
  void shutdown(Millis now);

  // ---- LinkListener: inputs only, never a write to the channel ----------------
  /// The WebSocket is open: hello and, right behind it, license_request go
  /// out at the next step().
  void on_link_up(const AttemptInfo& attempt, bool tls_resumed) override;
  /// One server message, handed to its service.
  void on_text(std::string_view message) override;
  /// One tunnel frame, handed to the tunnels; a malformed one closes the
  /// link with 1002.
  void on_binary(std::span<const uint8_t> message) override;
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
  bool link_accepted() const { return session_.welcomed(); }
  /// The section 7 status (views valid until the next call into the agent).
  AgentStatus snapshot() const override;
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
  Status report_usage(std::string_view name, int64_t in_use) { return audit_.report(name, in_use); }

 private:
  void route(ServerMessage& message, Millis now);
  void on_welcome(const Welcome& welcome, Millis now);
  void on_heartbeat_ack(const HeartbeatAck& ack, Millis now);
  /// After a service changed the license held: the state callback.
  void license_changed(Millis now);
  void check_license_window(Millis now);
  void send_hello();
  void link_lost(Millis now);
  void pump_grace();
  void notify();

  const AgentConfig& config_;
  MonotonicClock& mono_;
  WallClock& wall_;
  Random& random_;
  AgentLog log_;
  Outbox outbox_;
  ServerTime server_time_;
  GraceClock grace_;
  EventDelivery events_;
  RecordKeeper records_;
  Session session_;
  LicenseService license_;
  AuditService audit_;
  std::unique_ptr<AgentTunnels> tunnels_;

  StateCallback callback_ = nullptr;
  void* callback_ctx_ = nullptr;
  DeviceIdentity identity_;
  Millis boot_mono_ = 0;
  Millis next_wall_read_ = 0;
};

}  // namespace sublink
