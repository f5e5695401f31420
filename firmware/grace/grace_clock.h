// The grace clock (PROTOCOL.md section 5): decides whether subscription
// features run while the link is down, raises the grace alarm on schedule,
// and keeps grace time honest against clock changes and power cuts.
//
// Sans-I/O: every input carries the monotonic time; outputs (state changes,
// events, "checkpoint now" with the record bytes) queue up for poll(). Call
// next_deadline() to know when to call advance() again. Drain poll() after
// every input: the output queue is bounded.
//
// Time rules:
//  - Grace elapsed time is counted from the monotonic clock while the state
//    is `grace`; wall clock changes never move it.
//  - After a reboot, the time spent powered off is added only when a trusted
//    UTC (welcome, heartbeat_ack, NTP) shows how long it was: trusted UTC
//    minus the record's trusted UTC plus the time run since boot. Until then
//    the state holds and counts only the monotonic time since boot.
//  - While in grace the record is checkpointed at least every
//    grace_checkpoint, and every start writes one (marked running); only an
//    orderly stop writes one marked clean (clean_stop_record()). A start in
//    grace that finds a running record follows an unclean stop (crash, kill,
//    power cut) and is charged grace_checkpoint at once, the most that can
//    have gone unrecorded, so a crash loop of any period cannot freeze
//    grace. These charges are kept apart (unmeasured) until a trusted UTC
//    measures the whole gap; then the measured gap counts instead of them.
//  - A trusted UTC that is earlier than the record adds nothing: under
//    skew_limit it is `clock_skew`, beyond it `clock_rollback`.
//  - The device clock is never trusted for time. Before any trusted UTC this
//    boot, it going backwards (against its previous reading or the record)
//    is `clock_rollback`; once a trusted UTC is known, its difference from
//    it is `clock_skew` (under skew_limit), `clock_rollback` (behind) or
//    `clock_jump` (ahead), each reported once per change of the difference.
//    A device clock before earliest_valid_utc is unset, not tampered.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "firmware/events/event.h"
#include "firmware/grace/grace_config.h"
#include "firmware/grace/grace_record.h"
#include "hal/clock.h"

namespace sublink {

enum class GraceOutputType : uint8_t {
  state_changed,  // `state` is the new state, `previous` the old one
  event,          // an event for the event queue: `event`, `severity`, `payload`
  checkpoint,     // write `record` to storage now
};

struct GraceOutput {
  GraceOutputType type = GraceOutputType::event;
  Millis at_mono = 0;                 // monotonic time it happened, exact to the ms
  std::optional<Millis> utc_ms;       // UTC then, when known (trusted, else the device clock)
  LicenseState state = LicenseState::unlicensed;
  LicenseState previous = LicenseState::unlicensed;
  EventKind event = EventKind::grace_started;
  Severity severity = Severity::info;
  EventPayload payload;               // days_left for grace events; detail = seconds for clock events
  GraceRecordBytes record{};          // checkpoint only
};

class GraceClock {
 public:
  /// Outputs that fit between two polls; one input produces at most a few.
  static constexpr size_t kOutputCapacity = 16;

  explicit GraceClock(const GraceConfig& config = {});

  // ---- Inputs -------------------------------------------------------------

  /// Start of a boot: `wall` is the device clock now, `restored` the last
  /// checkpoint (empty on first boot or when it failed to decode). The link
  /// is down at boot, so a license held with a `licensed` record enters grace.
  void on_boot(Millis mono_now, WallTime wall, const std::optional<GraceRecord>& restored);

  /// on_boot() when storage also held a genuine license (`license_restored`).
  /// A license with no account of its grace (the record missing, damaged,
  /// or older than the license: a power cut between storing the license
  /// and the checkpoint) starts `expired`, features off, with the UTC and
  /// device clock of whatever record was found: a fresh 30 days would let
  /// anyone who can erase one flash record run unlicensed forever. The
  /// license is back in force (on_license(true)) once the server is
  /// reached and vouches for it. Without a license, a record that says one
  /// is held is told otherwise (on_license(false)).
  void on_boot(Millis mono_now, WallTime wall, const std::optional<GraceRecord>& restored, bool license_restored);

  /// The link is up (`welcome`); `server_time_ms` is trusted. Clears the
  /// alarm and resets grace; `expired` stays until on_license(true).
  void on_link_up(Millis mono_now, Millis server_time_ms);

  /// The link closed: a held license enters grace.
  void on_link_down(Millis mono_now);

  /// A trusted UTC reading (heartbeat_ack `time`, NTP).
  void on_trusted_time(Millis mono_now, Millis utc_ms);

  /// A periodic reading of the device clock. Readings marked trusted count as
  /// on_trusted_time().
  void on_wall_clock(Millis mono_now, WallTime wall);

  /// A valid license was accepted (true) or there is none (false). Takes
  /// effect at the time of the last input: call advance() first when time passed.
  void on_license(bool held);

  /// The held license was revoked: features off at once, no grace.
  void on_revoke();

  /// Lets time pass: raises due alarms, expires grace, checkpoints.
  void advance(Millis mono_now);

  // ---- Outputs ------------------------------------------------------------

  /// The oldest queued output, removed from the queue.
  std::optional<GraceOutput> poll();
  /// Outputs dropped because nobody polled (0 when the driver drains them).
  uint32_t lost_outputs() const { return lost_outputs_; }

  /// When advance() has something to do next: an alarm, expiry or checkpoint.
  Millis next_deadline() const;

  // ---- Queries (as of the last input) ---------------------------------------

  LicenseState state() const { return state_; }
  bool features_on() const { return sublink::features_on(state_); }
  bool link_up() const { return link_up_; }
  bool alarm_active() const { return alarm_active_; }
  bool license_held() const { return license_held_; }
  Millis elapsed_ms() const { return elapsed_; }
  Millis remaining_ms() const;
  /// True after a boot until a trusted UTC has measured the time powered off.
  bool offline_time_pending() const { return offline_pending_; }
  /// UTC now by the best source (trusted, else the device clock), if any.
  std::optional<Millis> utc_now() const { return utc_at(last_mono_); }
  /// What a checkpoint would store now (marked running: not a clean stop).
  GraceRecord record() const;
  /// An orderly stop at `mono_now` (SIGTERM, a board's power-fail warning):
  /// lets time pass to then and returns the record to store last, marked as
  /// a clean stop, so the next start is charged nothing beyond it.
  GraceRecord clean_stop_record(Millis mono_now);
  /// True when the restored record was not a clean stop.
  bool unclean_start() const { return unclean_start_; }
  /// Grace time charged for unclean stops and not yet measured by a trusted clock.
  Millis unmeasured_ms() const { return unmeasured_; }

 private:
  void run_until(Millis mono_now);
  void read_wall(WallTime wall);
  void finish_input();
  void move_to(Millis mono);
  void add_elapsed(Millis ms);
  Millis checkpoint_every() const;
  void raise_alarm();
  void expire();
  void set_state(LicenseState next);
  void reset_grace();
  void clear_alarm();
  void start_grace();
  void apply_trusted(Millis utc_ms);
  void compare_device_clock();
  void report_clock(EventKind kind, Millis difference);
  void emit_event(EventKind kind, Severity severity, const EventPayload& payload);
  void checkpoint();
  void push(const GraceOutput& out);
  std::optional<Millis> utc_at(Millis mono) const;
  std::optional<Millis> trusted_utc_at(Millis mono) const;
  std::optional<Millis> wall_at(Millis mono) const;
  int32_t days_left() const;
  Severity alarm_severity() const;
  Millis mono_when_elapsed(Millis target) const;

  GraceConfig config_;
  LicenseState state_ = LicenseState::unlicensed;
  bool license_held_ = false;
  bool link_up_ = false;
  bool alarm_active_ = false;
  Millis elapsed_ = 0;         // 0 .. grace_period
  Millis unmeasured_ = 0;      // part of elapsed_ charged for unclean stops, not yet measured
  bool unclean_start_ = false;
  uint32_t alarms_raised_ = 0;
  Millis last_mono_ = 0;
  Millis next_checkpoint_ = kNever;

  // UTC measured from a trusted source this boot.
  bool trusted_known_ = false;
  Millis trusted_utc_ = 0;
  Millis trusted_mono_ = 0;
  // UTC of the last checkpoint before this boot, projected with the run
  // time since boot only: short of the truth by the time powered off.
  bool offline_pending_ = false;
  Millis record_utc_ = 0;
  Millis boot_mono_ = 0;
  // The device clock: its last reading, or the record's value (a lower bound).
  bool wall_known_ = false;
  bool wall_read_this_boot_ = false;
  Millis wall_utc_ = 0;
  Millis wall_mono_ = 0;
  Millis last_reported_offset_ = 0;

  std::array<GraceOutput, kOutputCapacity> outputs_{};
  size_t out_head_ = 0;
  size_t out_count_ = 0;
  uint32_t lost_outputs_ = 0;
  bool changed_ = false;  // something the record holds changed since the last checkpoint
};

}  // namespace sublink
