#include "bench/server_links/load_client.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

namespace sublink {

namespace {

constexpr int kEventsPerTurn = 512;
// The ramp's longest wait: the set-up window refills as links come up.
constexpr Millis kRampWaitMs = 50;
// The hold's longest wait between looks at the clock.
constexpr Millis kHoldWaitMs = 1000;

bool setting_up(LinkStage stage) {
  return stage == LinkStage::connecting || stage == LinkStage::tls || stage == LinkStage::upgrading ||
         stage == LinkStage::greeting;
}

}  // namespace

Millis monotonic_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<Millis>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

LoadClient::LoadClient(const FleetSetup& fleet, size_t concurrency, Millis setup_timeout_ms)
    : fleet_(fleet), concurrency_(std::max<size_t>(concurrency, 1)), setup_timeout_ms_(setup_timeout_ms) {}

LoadClient::~LoadClient() {
  links_.clear();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status LoadClient::open() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  return epoll_fd_ < 0 ? Status(Reason::io_error, errno) : Status::Ok();
}

Status LoadClient::add_device(std::string system_id, std::span<const uint8_t> certificate_der) {
  auto link = std::make_unique<DeviceLink>(fleet_, std::move(system_id));
  const Status s = link->prepare(certificate_der);
  if (!s.ok()) return s;
  links_.push_back(std::move(link));
  interest_.push_back(0);
  return Status::Ok();
}

RampResult LoadClient::ramp(const std::function<void(const RampResult&)>& progress, Millis progress_every_ms) {
  ramp_ = RampResult{};
  ramp_.first_start = monotonic_ms();
  Millis next_progress = ramp_.first_start + progress_every_ms;
  setup_order_.reserve(links_.size());
  while (ramp_.up + ramp_.failed < links_.size()) {
    const Millis now = monotonic_ms();
    if (progress && now >= next_progress) {
      progress(ramp_);
      next_progress = now + progress_every_ms;
    }
    start_next(now);
    turn(kRampWaitMs);
  }
  return ramp_;
}

HoldResult LoadClient::hold(Millis duration_ms, Millis drain_ms) {
  HoldResult result;
  uint64_t sent_before = 0, answered_before = 0;
  for (const auto& link : links_) {
    sent_before += link->heartbeats_sent();
    answered_before += link->heartbeats_answered();
  }
  lost_ = 0;
  heartbeats_on_ = true;
  const Millis end = monotonic_ms() + duration_ms;
  for (Millis now = monotonic_ms(); now < end; now = monotonic_ms()) {
    Millis wait = std::min(end - now, kHoldWaitMs);
    if (!heartbeats_.empty()) wait = std::clamp<Millis>(heartbeats_.top().first - now, 0, wait);
    turn(wait);
  }
  // No new heartbeats: wait for the answers to those under way.
  heartbeats_on_ = false;
  const Millis drain_end = monotonic_ms() + drain_ms;
  for (;;) {
    bool open = false;
    for (const auto& link : links_) {
      if (link->stage() == LinkStage::up && link->heartbeats_answered() < link->heartbeats_sent()) {
        open = true;
        break;
      }
    }
    if (!open || monotonic_ms() >= drain_end) break;
    turn(kRampWaitMs);
  }
  for (const auto& link : links_) {
    result.heartbeats_sent += link->heartbeats_sent();
    result.heartbeats_answered += link->heartbeats_answered();
    if (link->stage() != LinkStage::up) continue;
    ++result.up_at_end;
    if (link->heartbeats_answered() < link->heartbeats_sent()) ++result.unanswered_links;
  }
  result.heartbeats_sent -= sent_before;
  result.heartbeats_answered -= answered_before;
  result.lost = lost_;
  return result;
}

void LoadClient::close_all() {
  for (auto& link : links_) link->fail("closed at the end of the run");
  std::fill(interest_.begin(), interest_.end(), 0);
}

std::map<std::string, size_t> LoadClient::failures() const {
  std::map<std::string, size_t> out;
  for (const auto& link : links_) {
    if (link->stage() == LinkStage::failed) ++out[link->failure()];
  }
  return out;
}

void LoadClient::turn(Millis wait_ms) {
  epoll_event events[kEventsPerTurn];
  const int ready = ::epoll_wait(epoll_fd_, events, kEventsPerTurn, static_cast<int>(wait_ms));
  for (int i = 0; i < ready; ++i) {
    const Millis now = monotonic_ms();
    const uint32_t index = events[i].data.u32;
    DeviceLink& link = *links_[index];
    const LinkStage before = link.stage();
    link.on_ready(events[i].events, now);
    after(index, before, now);
    // A handshake step costs milliseconds of CPU: heartbeats that fell due
    // meanwhile go out now, not after the whole batch (the server drops a
    // link it has not heard from for three intervals).
    run_heartbeats(monotonic_ms());
  }
  const Millis now = monotonic_ms();
  run_heartbeats(now);
  expire_setups(now);
}

void LoadClient::start_next(Millis now) {
  while (setting_up_ < concurrency_ && next_start_ < links_.size()) {
    const auto index = static_cast<uint32_t>(next_start_++);
    ++setting_up_;
    setup_order_.push_back(index);
    links_[index]->start(now);
    after(index, LinkStage::idle, now);
  }
}

void LoadClient::after(uint32_t index, LinkStage before, Millis now) {
  DeviceLink& link = *links_[index];
  const LinkStage stage = link.stage();
  if (stage != before) {
    if (stage == LinkStage::up) {
      --setting_up_;
      ++ramp_.up;
      ramp_.last_up = now;
      heartbeats_.push({now + link.heartbeat_interval_ms(), index});
    } else if (stage == LinkStage::failed) {
      if (before == LinkStage::up) {
        ++lost_;
      } else {
        --setting_up_;
        ++ramp_.failed;
      }
    }
  }
  // A closed socket left the epoll set by itself.
  const uint32_t want = link.fd() < 0 ? 0 : EPOLLIN | (link.wants_write() ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  if (want == interest_[index]) return;
  if (want != 0) {
    epoll_event interest{};
    interest.events = want;
    interest.data.u32 = index;
    const int op = interest_[index] == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (::epoll_ctl(epoll_fd_, op, link.fd(), &interest) != 0) {
      link.fail("epoll_ctl failed");
      return after(index, stage, now);
    }
  }
  interest_[index] = want;
}

void LoadClient::expire_setups(Millis now) {
  // Links start in time order, so the first one still setting up and not
  // yet late means no later one is late either.
  while (setup_scan_ < setup_order_.size()) {
    const uint32_t index = setup_order_[setup_scan_];
    DeviceLink& link = *links_[index];
    const LinkStage stage = link.stage();
    if (setting_up(stage)) {
      if (now - link.started_at() < setup_timeout_ms_) return;
      link.fail(std::string("not up within the set-up timeout (stuck while ") + link_stage_name(stage) + ")");
      after(index, stage, now);
    }
    ++setup_scan_;
  }
}

void LoadClient::run_heartbeats(Millis now) {
  while (!heartbeats_.empty() && heartbeats_.top().first <= now) {
    const uint32_t index = heartbeats_.top().second;
    heartbeats_.pop();
    DeviceLink& link = *links_[index];
    if (!heartbeats_on_ || link.stage() != LinkStage::up) continue;
    link.send_heartbeat(now);
    after(index, LinkStage::up, now);
    heartbeats_.push({now + link.heartbeat_interval_ms(), index});
  }
}

}  // namespace sublink
