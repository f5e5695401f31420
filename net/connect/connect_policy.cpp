#include "net/connect/connect_policy.h"

#include <algorithm>

namespace sublink {

namespace {

// Deadlines are computed from times the caller gives us; a far-future `now`
// must saturate at kNever rather than wrap into the past.
Millis add_saturating(Millis t, Millis d) {
  if (d <= 0) return t;
  return t > kNever - d ? kNever : t + d;
}

// A start time that is due whatever the caller's clock reads.
constexpr Millis kDueNow = INT64_MIN;

}  // namespace

ConnectPolicy::ConnectPolicy(const ConnectConfig& config, Random& random) : config_(config), random_(random) {
  config_.port_count = std::min(config_.port_count, ConnectConfig::kMaxPorts);
  config_.stagger_ms = std::max<Millis>(config_.stagger_ms, 0);
  config_.connect_timeout_ms = std::max<Millis>(config_.connect_timeout_ms, 0);
  config_.retry_min_ms = std::max<Millis>(config_.retry_min_ms, 0);
  config_.retry_max_ms = std::max(config_.retry_max_ms, config_.retry_min_ms);
}

void ConnectPolicy::start_round(Millis now, size_t address_count) {
  last_now_ = now;
  queue_aborts_of_pending();
  state_ = State::connecting;
  address_count_ = std::min(address_count, kMaxAddresses);
  next_candidate_ = 0;
  start_now_ = true;
  last_start_ = now;
  last_failure_ = address_count == 0 ? Status(Reason::dns_failed) : Status();
  retry_at_ = kNever;
}

ConnectAction ConnectPolicy::poll(Millis now) {
  last_now_ = now;
  ConnectAction action;
  if (abort_count_ > 0) {
    action.kind = ConnectAction::Kind::abort_attempt;
    action.attempt = aborts_[--abort_count_];
    return action;
  }
  if (state_ != State::connecting) return action;

  // Timeouts first, earliest deadline first, so the order of reports does
  // not depend on where an attempt sits in the array.
  Attempt* expired = nullptr;
  for (size_t c = 0; c < next_candidate_; ++c) {
    Attempt& a = attempts_[c];
    if (a.pending && a.deadline <= now && (expired == nullptr || a.deadline < expired->deadline)) expired = &a;
  }
  if (expired != nullptr) {
    expired->pending = false;
    start_now_ = true;
    last_failure_ = Status(Reason::connect_timeout);
    action.kind = ConnectAction::Kind::abort_attempt;
    action.attempt = expired->id;
    action.why = last_failure_;
    return action;
  }

  if (next_candidate_ < candidate_count() && next_start_time() <= now) {
    const size_t c = next_candidate_++;
    Attempt& a = attempts_[c];
    a.id = next_id_;
    a.deadline = add_saturating(now, config_.connect_timeout_ms);
    a.pending = true;
    next_id_ = next_id_ == UINT32_MAX ? 1 : next_id_ + 1;
    last_start_ = now;
    start_now_ = false;
    action.kind = ConnectAction::Kind::start_attempt;
    action.attempt = a.id;
    action.address_index = c / config_.port_count;
    action.port = config_.ports[c % config_.port_count];
    return action;
  }

  if (next_candidate_ >= candidate_count() && !any_pending()) {
    state_ = State::waiting;
    retry_at_ = add_saturating(now, draw_wait());
    action.kind = ConnectAction::Kind::round_failed;
    action.why = last_failure_;
    action.retry_at = retry_at_;
  }
  return action;
}

void ConnectPolicy::on_attempt_failed(AttemptId id, Status why, Millis now) {
  last_now_ = now;
  Attempt* a = find_pending(id);
  if (a == nullptr) return;
  a->pending = false;
  start_now_ = true;
  last_failure_ = why;
}

bool ConnectPolicy::on_attempt_succeeded(AttemptId id, Millis now) {
  last_now_ = now;
  Attempt* a = find_pending(id);
  if (a == nullptr) return false;
  a->pending = false;
  queue_aborts_of_pending();
  state_ = State::connected;
  accepted_ = false;
  retry_floor_ = 0;
  retry_at_ = kNever;
  return true;
}

void ConnectPolicy::on_link_accepted() {
  if (state_ != State::connected) return;
  accepted_ = true;
  failed_rounds_ = 0;
}

Millis ConnectPolicy::on_link_down(Millis now) {
  last_now_ = now;
  if (state_ != State::connected) return retry_at();
  state_ = State::waiting;
  // A refused link (never accepted) keeps failed_rounds_ from the rounds
  // before it, so its wait is one more doubling; an accepted one starts
  // from retry_min.
  accepted_ = false;
  retry_at_ = add_saturating(now, draw_wait());
  return retry_at_;
}

void ConnectPolicy::set_retry_floor(Millis delay_ms) { retry_floor_ = std::max(retry_floor_, delay_ms); }

void ConnectPolicy::reset_backoff() { failed_rounds_ = 0; }

void ConnectPolicy::abandon_round() {
  if (state_ != State::connecting) return;
  for (Attempt& a : attempts_) a.pending = false;
  abort_count_ = 0;  // the driver closed them: nothing is left to report
  state_ = State::idle;
}

Millis ConnectPolicy::next_deadline() const {
  if (abort_count_ > 0) return last_now_;
  if (state_ == State::waiting) return retry_at_;
  if (state_ != State::connecting) return kNever;
  Millis next = kNever;
  for (size_t c = 0; c < next_candidate_; ++c) {
    if (attempts_[c].pending) next = std::min(next, attempts_[c].deadline);
  }
  if (next_candidate_ < candidate_count()) {
    next = std::min(next, std::max(next_start_time(), last_now_));
  } else if (!any_pending()) {
    next = last_now_;  // the round failure is due
  }
  return next;
}

ConnectPolicy::Attempt* ConnectPolicy::find_pending(AttemptId id) {
  if (state_ != State::connecting) return nullptr;
  for (size_t c = 0; c < next_candidate_; ++c) {
    if (attempts_[c].pending && attempts_[c].id == id) return &attempts_[c];
  }
  return nullptr;
}

bool ConnectPolicy::any_pending() const {
  for (size_t c = 0; c < next_candidate_; ++c) {
    if (attempts_[c].pending) return true;
  }
  return false;
}

void ConnectPolicy::queue_aborts_of_pending() {
  for (size_t c = 0; c < next_candidate_; ++c) {
    if (attempts_[c].pending && abort_count_ < aborts_.size()) {
      attempts_[c].pending = false;
      aborts_[abort_count_++] = attempts_[c].id;
    }
  }
  next_candidate_ = 0;
}

size_t ConnectPolicy::pending_count() const {
  size_t n = 0;
  for (size_t c = 0; c < next_candidate_; ++c) n += attempts_[c].pending ? 1 : 0;
  return n;
}

Millis ConnectPolicy::next_start_time() const {
  if (config_.max_pending > 0 && pending_count() >= config_.max_pending) return kNever;
  if (start_now_ || !any_pending()) return kDueNow;
  if (config_.stagger_ms == 0) return kNever;
  return add_saturating(last_start_, config_.stagger_ms);
}

Millis ConnectPolicy::draw_wait() {
  // Full jitter (uniform in [0, bound]) spreads a fleet that lost the server
  // at the same moment; the bound doubles per consecutive failure.
  Millis bound = config_.retry_min_ms;
  for (uint32_t i = 0; i < failed_rounds_ && bound < config_.retry_max_ms; ++i) {
    bound = bound > config_.retry_max_ms / 2 ? config_.retry_max_ms : bound * 2;
  }
  bound = std::min(bound, config_.retry_max_ms);
  Millis wait = static_cast<Millis>(random_.uniform(static_cast<uint64_t>(bound)));
  wait = std::max(wait, retry_floor_);
  retry_floor_ = 0;
  if (failed_rounds_ < UINT32_MAX) ++failed_rounds_;
  return wait;
}

}  // namespace sublink
