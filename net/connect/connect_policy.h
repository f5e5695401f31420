// Connection policy (PROTOCOL.md section 1): decides WHEN to start WHICH
// connection attempt and when a round has failed. Pure logic in time given
// by the caller; a driver (POSIX poll loop, lwIP, the simulation) executes
// the decisions and reports what happened.
//
// State machine
//
//   idle ──start_round──► connecting ──on_attempt_succeeded──► connected
//                           │    ▲                                  │
//            every candidate│    │start_round             on_link_down
//                    failed ▼    │                                  ▼
//                          waiting ◄────────────────────────────────┘
//
// In `connecting`, the candidates are the resolved addresses x the
// configured ports, address-major, so the ports alternate 443, 8443, 443,
// 8443, ... The first candidate starts at once. The next one starts when
// any attempt fails (at once: a refusal must not cost a stagger), or
// `stagger_ms` after the latest start while attempts are still pending
// (happy-eyeballs style, RFC 8305), so a port that a firewall silently
// drops does not hold up the others. With stagger 0 there is never more
// than one attempt pending. Every attempt keeps its own deadline
// (`connect_timeout_ms` after its start) for the whole chain: TCP, proxy,
// TLS, WebSocket upgrade. When every candidate has failed, the round fails
// and the policy enters `waiting` with a retry time chosen by exponential
// backoff with full jitter; the driver resolves the name again at that time
// and calls start_round. The first attempt to succeed wins; every other
// pending attempt is aborted.
//
// A link that opens is not yet a success (section 1.5): the server may still
// refuse the device (an `error`, a close 1008, a close before `welcome`).
// Only on_link_accepted (the agent saw `welcome`) resets the backoff; a link
// that goes down before it counts as one more failed round, so a refused
// device backs off like one that cannot connect at all. A link that was
// accepted and goes down waits a jittered [0, retry_min] first, so a fleet
// does not return in one burst when a server restarts.
//
// Memory is fixed: at most kMaxAddresses x kMaxPorts candidates per round,
// each attempted at most once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "hal/clock.h"
#include "hal/random.h"
#include "hal/status.h"

namespace sublink {

/// Timing and ports of a connection round; the `_s` settings of the
/// configuration file converted to milliseconds by the caller.
struct ConnectConfig {
  static constexpr size_t kMaxPorts = 8;
  std::array<uint16_t, kMaxPorts> ports{443, 8443};
  size_t port_count = 2;             // ports beyond kMaxPorts are ignored
  Millis stagger_ms = 300;           // 0: strictly one attempt after another
  // Attempts in flight at once; 0: no limit (the stagger alone paces them).
  // At the limit the next waits for one to fail or time out, then starts at
  // once: a link with room for one attempt tries its ports in turn.
  size_t max_pending = 0;
  Millis connect_timeout_ms = 5000;  // per attempt, for the whole chain
  Millis retry_min_ms = 1000;        // backoff bound after the first failed round
  Millis retry_max_ms = 300000;      // cap of the backoff bound
};

/// Identifies one attempt across rounds, so a late report about an attempt
/// of an earlier round is recognised and ignored. Never 0.
using AttemptId = uint32_t;

/// What the driver must do now; see ConnectPolicy::poll.
struct ConnectAction {
  enum class Kind : uint8_t {
    nothing,        // nothing due: sleep until next_deadline()
    start_attempt,  // open a connection to address_index:port as `attempt`
    abort_attempt,  // close `attempt`; why.ok() means another attempt won
    round_failed,   // every candidate failed; call start_round at retry_at
  };
  Kind kind = Kind::nothing;
  AttemptId attempt = 0;
  size_t address_index = 0;  // index into the resolver's answer
  uint16_t port = 0;
  Status why;                 // abort_attempt: connect_timeout, or ok when superseded;
                              // round_failed: the last failure of the round
  Millis retry_at = kNever;   // round_failed: when to start the next round
};

class ConnectPolicy {
 public:
  static constexpr size_t kMaxAddresses = 8;
  static constexpr size_t kMaxCandidates = kMaxAddresses * ConnectConfig::kMaxPorts;

  enum class State : uint8_t { idle, connecting, connected, waiting };

  /// `random` supplies the backoff jitter and must outlive the policy.
  /// Out-of-range settings are clamped (port_count to kMaxPorts, negative
  /// times to 0, retry_max below retry_min raised to retry_min).
  ConnectPolicy(const ConnectConfig& config, Random& random);

  /// Starts a round over `address_count` freshly resolved addresses (more
  /// than kMaxAddresses are ignored; 0, a failed resolution, makes the round
  /// fail at the next poll). Attempts still pending from an earlier round
  /// are aborted first (abort_attempt with an ok status).
  void start_round(Millis now, size_t address_count);

  /// The next thing to do at `now`. Call repeatedly until it returns
  /// Kind::nothing, then again at next_deadline() or after any report.
  ConnectAction poll(Millis now);

  /// The attempt failed anywhere in its chain (refused, TLS, upgrade...).
  /// The round goes on: the next candidate starts at once. Reports about
  /// attempts that are no longer pending are ignored.
  void on_attempt_failed(AttemptId id, Status why, Millis now);

  /// The attempt completed the whole chain. Returns false when it is not a
  /// pending attempt of this round (timed out, superseded, stale): the
  /// driver must then close it. On true, every other pending attempt is
  /// aborted at the following polls. The backoff is NOT reset: the server
  /// has not accepted the device yet (see on_link_accepted).
  bool on_attempt_succeeded(AttemptId id, Millis now);

  /// The server accepted the device on the open link (`welcome`): the
  /// backoff is reset. Ignored unless a link is up.
  void on_link_accepted();

  /// The link that an attempt established went down. Enters `waiting` and
  /// returns the retry time. After an accepted link it is drawn in
  /// [0, retry_min] (a fleet does not reconnect in lockstep after a server
  /// restart); after a link the server never accepted (a refusal) it is
  /// drawn like that of one more failed round, so the bound keeps doubling.
  Millis on_link_down(Millis now);

  /// A server-given delay (503 Retry-After, error.retry_after_s,
  /// disconnect.retry_after_s): the next wait is at least `delay_ms`. Used
  /// once, by the next failed round or link loss.
  void set_retry_floor(Millis delay_ms);

  /// Forgets the consecutive failed rounds: the next wait is bounded by
  /// retry_min again. on_link_accepted does this by itself.
  void reset_backoff();

  /// The driver stopped the round it was making (a close before any
  /// attempt completed; it closed the attempts itself): no attempt starts,
  /// times out or fails after this, and the round counts as neither failed
  /// nor won. The policy is idle until start_round. Ignored unless connecting.
  void abandon_round();

  /// The earliest time poll() has something to do (a stagger start or an
  /// attempt deadline), the retry time while waiting, or kNever.
  Millis next_deadline() const;

  State state() const { return state_; }
  /// When the next round should start; kNever unless waiting.
  Millis retry_at() const { return state_ == State::waiting ? retry_at_ : kNever; }
  /// Consecutive failed rounds (refused links and link losses included)
  /// since the last accepted link.
  uint32_t failed_rounds() const { return failed_rounds_; }
  /// True while the open link has been accepted (on_link_accepted).
  bool link_accepted() const { return state_ == State::connected && accepted_; }

 private:
  struct Attempt {
    AttemptId id = 0;
    Millis deadline = kNever;
    bool pending = false;
  };

  size_t candidate_count() const { return address_count_ * config_.port_count; }
  Attempt* find_pending(AttemptId id);
  bool any_pending() const;
  size_t pending_count() const;
  void queue_aborts_of_pending();
  Millis next_start_time() const;
  Millis draw_wait();

  ConnectConfig config_;
  Random& random_;
  State state_ = State::idle;
  size_t address_count_ = 0;
  size_t next_candidate_ = 0;  // candidates before it have been started
  Millis last_start_ = 0;
  bool start_now_ = false;  // a failure asked for the next candidate at once
  AttemptId next_id_ = 1;
  std::array<Attempt, kMaxCandidates> attempts_{};  // indexed by candidate
  // Superseded attempts still to be reported. New attempts start only once
  // it is empty, so it never holds more than one round's attempts.
  std::array<AttemptId, kMaxCandidates> aborts_{};
  size_t abort_count_ = 0;
  Status last_failure_;  // reported with round_failed, for the log
  Millis last_now_ = 0;  // "due now" for next_deadline()
  uint32_t failed_rounds_ = 0;
  bool accepted_ = false;  // the open link saw `welcome`
  Millis retry_floor_ = 0;
  Millis retry_at_ = kNever;
};

}  // namespace sublink
