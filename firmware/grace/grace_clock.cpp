#include "firmware/grace/grace_clock.h"

#include <algorithm>

namespace sublink {

namespace {
// A non-positive duration would stall or divide by zero: use the default.
GraceConfig sanitised(GraceConfig c) {
  const GraceConfig d;
  if (c.grace_period <= 0) c.grace_period = d.grace_period;
  if (c.alarm_delay < 0) c.alarm_delay = d.alarm_delay;
  if (c.alarm_interval <= 0) c.alarm_interval = d.alarm_interval;
  if (c.checkpoint_interval <= 0) c.checkpoint_interval = d.checkpoint_interval;
  if (c.grace_checkpoint <= 0) c.grace_checkpoint = d.grace_checkpoint;
  // Longer than the grace period means nothing: the period ends first.
  c.grace_period = std::min(c.grace_period, kMaxGraceDurationMs);
  c.grace_checkpoint = std::min(c.grace_checkpoint, c.grace_period);
  if (c.skew_limit <= 0) c.skew_limit = d.skew_limit;
  if (c.skew_tolerance < 0) c.skew_tolerance = d.skew_tolerance;
  return c;
}

Millis saturating_add(Millis a, Millis b) {
  Millis r;
  return __builtin_add_overflow(a, b, &r) ? kNever : r;
}

Millis abs_ms(Millis v) { return v < 0 ? -v : v; }
}  // namespace

GraceClock::GraceClock(const GraceConfig& config) : config_(sanitised(config)) {}

// ---- Time --------------------------------------------------------------------

Millis GraceClock::mono_when_elapsed(Millis target) const {
  return saturating_add(last_mono_, std::max<Millis>(0, target - elapsed_));
}

void GraceClock::move_to(Millis mono) {
  if (mono <= last_mono_) return;
  if (state_ == LicenseState::grace) add_elapsed(mono - last_mono_);
  last_mono_ = mono;
}

void GraceClock::add_elapsed(Millis ms) {
  // Past the grace period nothing more is owed: elapsed stays in the
  // record's range, and the arithmetic on it cannot overflow.
  elapsed_ = std::clamp<Millis>(saturating_add(elapsed_, ms), 0, config_.grace_period);
}

Millis GraceClock::checkpoint_every() const {
  return state_ == LicenseState::grace ? std::min(config_.checkpoint_interval, config_.grace_checkpoint)
                                       : config_.checkpoint_interval;
}

void GraceClock::run_until(Millis mono_now) {
  mono_now = std::max(mono_now, last_mono_);  // a monotonic clock never goes back
  while (state_ == LicenseState::grace) {
    Millis next_alarm = config_.alarm_delay;
    Millis step;
    if (__builtin_mul_overflow(static_cast<Millis>(alarms_raised_), config_.alarm_interval, &step)) {
      next_alarm = kNever;
    } else {
      next_alarm = saturating_add(next_alarm, step);
    }
    Millis due = std::min(mono_when_elapsed(config_.grace_period), mono_when_elapsed(next_alarm));
    if (due > mono_now) break;
    move_to(due);
    if (elapsed_ >= config_.grace_period) {
      expire();
    } else {
      raise_alarm();
    }
  }
  move_to(mono_now);
  if (next_checkpoint_ <= last_mono_) checkpoint();
}

Millis GraceClock::next_deadline() const {
  Millis next = next_checkpoint_;
  if (state_ == LicenseState::grace) {
    next = std::min(next, mono_when_elapsed(config_.grace_period));
    Millis step;
    if (!__builtin_mul_overflow(static_cast<Millis>(alarms_raised_), config_.alarm_interval, &step)) {
      next = std::min(next, mono_when_elapsed(saturating_add(config_.alarm_delay, step)));
    }
  }
  return next;
}

Millis GraceClock::remaining_ms() const {
  if (state_ != LicenseState::grace && state_ != LicenseState::expired) return config_.grace_period;
  return std::max<Millis>(0, config_.grace_period - elapsed_);
}

int32_t GraceClock::days_left() const {
  Millis left = std::max<Millis>(0, config_.grace_period - elapsed_);
  return static_cast<int32_t>((left + kDayMs - 1) / kDayMs);
}

Severity GraceClock::alarm_severity() const {
  // Integer thresholds so day 15, 20 and 25 of 30 switch at the exact ms.
  const Millis p = config_.grace_period;
  if (elapsed_ * 6 >= p * 5) return Severity::critical;
  if (elapsed_ * 3 >= p * 2) return Severity::major;
  if (elapsed_ * 2 >= p) return Severity::minor;
  return Severity::warning;
}

std::optional<Millis> GraceClock::trusted_utc_at(Millis mono) const {
  if (!trusted_known_) return std::nullopt;
  return trusted_utc_ + (mono - trusted_mono_);
}

std::optional<Millis> GraceClock::wall_at(Millis mono) const {
  if (!wall_known_) return std::nullopt;
  return wall_utc_ + (mono - wall_mono_);
}

std::optional<Millis> GraceClock::utc_at(Millis mono) const {
  if (trusted_known_) return trusted_utc_at(mono);
  if (wall_read_this_boot_) return wall_at(mono);
  return std::nullopt;
}

// ---- Transitions ---------------------------------------------------------------

void GraceClock::set_state(LicenseState next) {
  if (next == state_) return;
  GraceOutput out;
  out.type = GraceOutputType::state_changed;
  out.at_mono = last_mono_;
  out.utc_ms = utc_at(last_mono_);
  out.previous = state_;
  out.state = next;
  state_ = next;
  push(out);
  changed_ = true;
}

void GraceClock::reset_grace() {
  elapsed_ = 0;
  unmeasured_ = 0;
  alarms_raised_ = 0;
  alarm_active_ = false;
  changed_ = true;
}

void GraceClock::clear_alarm() {
  bool was_running = state_ == LicenseState::grace || state_ == LicenseState::expired;
  if (was_running || alarm_active_) {
    EventPayload p;
    p.days_left = days_left();
    emit_event(EventKind::grace_cleared, Severity::info, p);
  }
  reset_grace();
}

void GraceClock::start_grace() {
  reset_grace();
  set_state(LicenseState::grace);
  EventPayload p;
  p.days_left = days_left();
  emit_event(EventKind::grace_started, Severity::warning, p);
}

void GraceClock::raise_alarm() {
  alarms_raised_ = static_cast<uint32_t>((elapsed_ - config_.alarm_delay) / config_.alarm_interval + 1);
  alarm_active_ = true;
  EventPayload p;
  p.days_left = days_left();
  emit_event(EventKind::grace_alarm, alarm_severity(), p);
}

void GraceClock::expire() {
  // The grace alarm belongs to grace (PROTOCOL.md section 5, and the
  // model's invariant): at expiry the critical grace_expired takes over.
  alarm_active_ = false;
  set_state(LicenseState::expired);
  EventPayload p;
  p.days_left = 0;
  emit_event(EventKind::grace_expired, Severity::critical, p);
}

void GraceClock::report_clock(EventKind kind, Millis difference) {
  EventPayload p;
  p.detail = difference / kSecondMs;
  Severity s = kind == EventKind::clock_rollback ? Severity::major
               : kind == EventKind::clock_jump   ? Severity::minor
                                                 : Severity::info;
  emit_event(kind, s, p);
}

void GraceClock::apply_trusted(Millis utc_ms) {
  if (offline_pending_) {
    offline_pending_ = false;
    Millis powered_off = utc_ms - (record_utc_ + (last_mono_ - boot_mono_));
    // What unclean stops were charged stood in for this gap: the measured
    // gap counts instead, not both (so a short gap gives some back).
    const Millis charged = unmeasured_;
    unmeasured_ = 0;
    changed_ = true;
    if (powered_off >= 0) {
      if (state_ == LicenseState::grace) add_elapsed(powered_off - charged);
    } else {
      if (state_ == LicenseState::grace) add_elapsed(-charged);
      report_clock(abs_ms(powered_off) < config_.skew_limit ? EventKind::clock_skew
                                                             : EventKind::clock_rollback,
                   powered_off);
    }
  }
  trusted_known_ = true;
  trusted_utc_ = utc_ms;
  trusted_mono_ = last_mono_;
  compare_device_clock();
  run_until(last_mono_);  // powered-off time may have made alarms or expiry due
}

void GraceClock::compare_device_clock() {
  if (!trusted_known_ || !wall_read_this_boot_) return;
  Millis offset = *wall_at(last_mono_) - *trusted_utc_at(last_mono_);
  if (abs_ms(offset - last_reported_offset_) < config_.skew_tolerance) return;
  last_reported_offset_ = offset;
  if (abs_ms(offset) < config_.skew_tolerance) return;  // back in step: nothing to say
  if (abs_ms(offset) < config_.skew_limit) {
    report_clock(EventKind::clock_skew, offset);
  } else {
    report_clock(offset < 0 ? EventKind::clock_rollback : EventKind::clock_jump, offset);
  }
}

// ---- Outputs -------------------------------------------------------------------

void GraceClock::emit_event(EventKind kind, Severity severity, const EventPayload& payload) {
  GraceOutput out;
  out.type = GraceOutputType::event;
  out.at_mono = last_mono_;
  out.utc_ms = utc_at(last_mono_);
  out.state = state_;
  out.previous = state_;
  out.event = kind;
  out.severity = severity;
  out.payload = payload;
  push(out);
  changed_ = true;
}

void GraceClock::checkpoint() {
  next_checkpoint_ = saturating_add(last_mono_, checkpoint_every());
  changed_ = false;
  GraceOutput out;
  out.type = GraceOutputType::checkpoint;
  out.at_mono = last_mono_;
  out.utc_ms = utc_at(last_mono_);
  out.state = state_;
  out.previous = state_;
  out.record = encode_grace_record(record());
  push(out);
}

void GraceClock::finish_input() {
  if (changed_) checkpoint();
}

void GraceClock::push(const GraceOutput& out) {
  if (out.type == GraceOutputType::checkpoint) {
    // One pending checkpoint is enough: the newest record replaces it and
    // moves to the end, behind the events it records.
    for (size_t i = 0; i < out_count_; ++i) {
      size_t at = (out_head_ + i) % kOutputCapacity;
      if (outputs_[at].type != GraceOutputType::checkpoint) continue;
      for (size_t j = i; j + 1 < out_count_; ++j) {
        outputs_[(out_head_ + j) % kOutputCapacity] = outputs_[(out_head_ + j + 1) % kOutputCapacity];
      }
      --out_count_;
      break;
    }
  }
  if (out_count_ == kOutputCapacity) {
    out_head_ = (out_head_ + 1) % kOutputCapacity;
    --out_count_;
    ++lost_outputs_;
  }
  outputs_[(out_head_ + out_count_) % kOutputCapacity] = out;
  ++out_count_;
}

std::optional<GraceOutput> GraceClock::poll() {
  if (out_count_ == 0) return std::nullopt;
  GraceOutput out = outputs_[out_head_];
  out_head_ = (out_head_ + 1) % kOutputCapacity;
  --out_count_;
  return out;
}

GraceRecord GraceClock::record() const {
  GraceRecord r;
  r.state = state_;
  r.license_held = license_held_;
  r.alarm_active = alarm_active_;
  r.elapsed_ms = elapsed_;
  r.unmeasured_ms = std::min(unmeasured_, elapsed_);
  r.alarms_raised = alarms_raised_;
  if (trusted_known_) {
    r.utc_ms = trusted_utc_at(last_mono_);
  } else if (offline_pending_) {
    r.utc_ms = record_utc_ + (last_mono_ - boot_mono_);
  }
  r.wall_ms = wall_at(last_mono_);
  return r;
}

GraceRecord GraceClock::clean_stop_record(Millis mono_now) {
  run_until(mono_now);
  finish_input();
  GraceRecord r = record();
  r.clean_stop = true;
  return r;
}

// ---- Inputs --------------------------------------------------------------------

void GraceClock::on_boot(Millis mono_now, WallTime wall, const std::optional<GraceRecord>& restored,
                         bool license_restored) {
  if (!license_restored || (restored && restored->license_held)) {
    on_boot(mono_now, wall, restored);
    if (!license_restored && license_held_) on_license(false);
    return;
  }
  GraceRecord expired;
  expired.state = LicenseState::expired;
  expired.license_held = true;
  expired.elapsed_ms = config_.grace_period;
  if (restored) {
    expired.utc_ms = restored->utc_ms;
    expired.wall_ms = restored->wall_ms;
  }
  on_boot(mono_now, wall, expired);
}

void GraceClock::on_boot(Millis mono_now, WallTime wall, const std::optional<GraceRecord>& restored) {
  last_mono_ = boot_mono_ = mono_now;
  next_checkpoint_ = saturating_add(mono_now, config_.checkpoint_interval);
  link_up_ = false;
  trusted_known_ = false;
  wall_read_this_boot_ = false;
  last_reported_offset_ = 0;
  changed_ = false;
  GraceRecord r = restored.value_or(GraceRecord{});
  if (!grace_record_in_range(r)) {  // the decoder refuses these; a caller's own record is not trusted either
    GraceRecord expired;
    expired.state = LicenseState::expired;
    expired.license_held = r.license_held;
    expired.elapsed_ms = config_.grace_period;
    r = expired;
  }
  state_ = r.state;
  license_held_ = r.license_held;
  alarm_active_ = r.alarm_active && r.state == LicenseState::grace;
  elapsed_ = std::min(r.elapsed_ms, config_.grace_period);
  unmeasured_ = std::min(r.unmeasured_ms, elapsed_);
  alarms_raised_ = r.alarms_raised;
  unclean_start_ = restored.has_value() && !r.clean_stop;
  offline_pending_ = r.utc_ms.has_value();
  record_utc_ = r.utc_ms.value_or(0);
  wall_known_ = r.wall_ms.has_value();
  wall_utc_ = r.wall_ms.value_or(0);
  wall_mono_ = mono_now;
  if (state_ == LicenseState::licensed) start_grace();  // the link is down at boot
  // An unclean stop in grace: the time since the last checkpoint went
  // unrecorded. Charge the most it can be, grace_checkpoint (PROTOCOL.md
  // section 5), so no pattern of crashes or power cuts freezes grace; a
  // trusted clock that measures the gap later replaces the charge.
  if (unclean_start_ && r.state == LicenseState::grace) {
    const Millis before = elapsed_;
    add_elapsed(config_.grace_checkpoint);
    unmeasured_ = saturating_add(unmeasured_, elapsed_ - before);
  }
  read_wall(wall);
  run_until(mono_now);
  changed_ = true;  // every start is recorded: from now on the record says "running"
  finish_input();
}

void GraceClock::on_link_up(Millis mono_now, Millis server_time_ms) {
  run_until(mono_now);
  apply_trusted(server_time_ms);
  link_up_ = true;
  if (state_ == LicenseState::grace) {
    clear_alarm();
    set_state(LicenseState::licensed);
  } else if (state_ == LicenseState::expired) {
    clear_alarm();
  }
  finish_input();
}

void GraceClock::on_link_down(Millis mono_now) {
  run_until(mono_now);
  link_up_ = false;
  if (state_ == LicenseState::licensed) start_grace();
  finish_input();
}

void GraceClock::on_trusted_time(Millis mono_now, Millis utc_ms) {
  run_until(mono_now);
  apply_trusted(utc_ms);
  finish_input();
}

void GraceClock::read_wall(WallTime wall) {
  if (!wall.set || wall.utc_ms < config_.earliest_valid_utc) return;  // unset: unknown, not tampered
  if (wall.trusted) {
    wall_known_ = wall_read_this_boot_ = true;
    wall_utc_ = wall.utc_ms;
    wall_mono_ = last_mono_;
    apply_trusted(wall.utc_ms);
    return;
  }
  if (!trusted_known_ && wall_known_) {
    Millis moved = wall.utc_ms - *wall_at(last_mono_);
    if (moved <= -config_.skew_tolerance) report_clock(EventKind::clock_rollback, moved);
  }
  wall_known_ = wall_read_this_boot_ = true;
  wall_utc_ = wall.utc_ms;
  wall_mono_ = last_mono_;
  compare_device_clock();
}

void GraceClock::on_wall_clock(Millis mono_now, WallTime wall) {
  run_until(mono_now);
  read_wall(wall);
  finish_input();
}

void GraceClock::on_license(bool held) {
  license_held_ = held;
  if (held) {
    if (state_ == LicenseState::unlicensed) {
      if (link_up_) {
        set_state(LicenseState::licensed);
      } else {
        start_grace();
      }
    } else if (state_ == LicenseState::expired && link_up_) {
      reset_grace();
      set_state(LicenseState::licensed);
    }
  } else if (state_ == LicenseState::licensed || state_ == LicenseState::grace) {
    clear_alarm();
    set_state(LicenseState::unlicensed);
  }
  changed_ = true;  // license_held is part of the record
  finish_input();
}

void GraceClock::on_revoke() {
  license_held_ = false;
  if (state_ != LicenseState::unlicensed) {
    clear_alarm();
    set_state(LicenseState::unlicensed);
  }
  changed_ = true;
  finish_input();
}

void GraceClock::advance(Millis mono_now) {
  run_until(mono_now);
  finish_input();
}

}  // namespace sublink
