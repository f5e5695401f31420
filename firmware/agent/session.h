// The session: one link's life as the agent sees it (PROTOCOL.md sections
// 1.5 and 4). It knows whether the channel is up and the server has said
// `welcome`, keeps the link alive with heartbeats and drops it when the
// server falls silent for 3 of them, learns the server's time, restarts the
// channel after a `disconnect` or a violation, waits for NTP before the
// first link when no clock is usable, and remembers why the link is down
// (status `last_failure`).
//
// Shaped like GraceClock: inputs are the link's reports, the session
// messages (welcome, heartbeat_ack, disconnect, error) and time (step());
// messages go to the Outbox; next_deadline() says when to step again.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "firmware/agent/agent_config.h"
#include "firmware/agent/agent_log.h"
#include "firmware/agent/agent_status.h"
#include "firmware/agent/outbox.h"
#include "firmware/agent/server_time.h"
#include "firmware/protocol/server_messages.h"
#include "net/link/link.h"
#include "net/link/message_channel.h"

namespace sublink {

class Session {
 public:
  /// What step() found: the link died of silence (the caller treats it as
  /// the link lost).
  enum class StepResult : uint8_t { nothing, dead_link };

  Session(const AgentConfig& config, MessageChannel& channel, Outbox& outbox, ServerTime& server_time,
          const AgentLog& log);

  /// Starts the channel, or first waits for NTP when no clock is usable
  /// (Agent::start).
  void start(Millis now);
  /// Starts the channel when the NTP wait or a restart delay is over.
  void begin_step(Millis now);
  /// Drops a silent link (dead_link: the caller treats the link as lost)
  /// and sends the heartbeat that is due; `uptime_s` goes in it.
  StepResult keep_alive(Millis now, int64_t uptime_s);
  /// When step() has something to do next.
  Millis next_deadline(Millis now) const;
  /// An orderly stop: no more restarts or waits.
  void stop();

  /// The WebSocket is open (a new link, not yet welcomed).
  void on_link_up(uint16_t port, Millis now);
  /// Any frame arrived: the server is alive.
  void on_contact(Millis now) { last_contact_ = now; }
  /// `welcome`: the link is accepted; heartbeats start.
  void on_welcome(const Welcome& welcome, Millis now);
  /// `heartbeat_ack`: the server's time.
  void on_heartbeat_ack(const HeartbeatAck& ack, Millis now);
  /// `disconnect`: close with 1000 and come back after the server's delay.
  void on_disconnect(const Disconnect& disconnect, Millis now);
  /// `error`: the server's own words are why the link is down.
  void on_error(const ServerError& error, Millis now);
  /// A message that broke the protocol: close with its code, come back
  /// after violation_retry_ms.
  void close_for_violation(const Status& why, Millis now);
  /// The channel reported the link down (`why`, our own close when ok).
  void on_link_down(Status why, Millis now);
  /// An attempt failed / a name did not resolve: the status last_failure.
  void on_attempt_failed(const AttemptInfo& attempt, Status why, std::string_view text, Millis now);
  void on_resolved(std::string_view name, Status status, Millis now);
  /// The link ended (our close, theirs, a failure): true when it was up.
  /// `was_welcomed` says whether the server had accepted it.
  bool lose(bool& was_welcomed);

  /// Reads the clock certificate dates are checked with and logs it when it
  /// changes (also every wall clock poll).
  void note_clock_source();
  /// True when a clock is usable at boot or no NTP wait is configured: the
  /// log names the clock from the start.
  bool clock_ready_at_boot() const;

  bool channel_up() const { return channel_up_; }
  bool welcomed() const { return welcomed_; }
  uint16_t port() const { return port_; }
  Millis audit_interval() const { return audit_ms_; }
  /// The status fields of the session: last_failure, next_attempt, clock.
  void fill_status(AgentStatus& s, WallClock& wall, Millis now) const;

 private:
  void learn_server_time(Millis now, Millis utc);
  bool clock_usable() const;
  void note_failure(std::string_view reason, std::string_view detail, Millis now);

  const AgentConfig& config_;
  MessageChannel& channel_;
  Outbox& outbox_;
  ServerTime& server_time_;
  const AgentLog& log_;

  bool channel_up_ = false;
  bool welcomed_ = false;
  uint16_t port_ = 0;
  Millis heartbeat_ms_ = kDefaultHeartbeatS * 1000;
  Millis audit_ms_ = kDefaultAuditS * 1000;
  Millis last_contact_ = 0;
  Millis next_heartbeat_ = kNever;
  int64_t heartbeat_seq_ = 0;
  Millis restart_at_ = kNever;
  /// While start() waits for NTP: when the wait ends (kNever otherwise).
  Millis clock_wait_until_ = kNever;

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
};

}  // namespace sublink
