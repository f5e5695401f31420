// The load client: a fleet of DeviceLinks in one process on one epoll loop.
// It ramps the fleet up with a bounded number of links being set up at
// once (as devices trickle in after a server restart, not as one SYN
// flood), then holds every link idle, sending each link's heartbeats at
// the interval the server gave in welcome.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "bench/server_links/device_link.h"
#include "hal/clock.h"
#include "hal/status.h"

namespace sublink {

struct RampResult {
  size_t up = 0;
  size_t failed = 0;
  Millis first_start = 0;  // monotonic ms
  Millis last_up = 0;      // the last link that came up
};

struct HoldResult {
  size_t up_at_end = 0;          // links still up when the hold ended
  size_t lost = 0;               // links that were up and failed during the hold
  uint64_t heartbeats_sent = 0;  // during the hold, by every link
  uint64_t heartbeats_answered = 0;
  size_t unanswered_links = 0;   // up links with a heartbeat never answered
};

class LoadClient {
 public:
  /// `fleet` must outlive the client. `concurrency`: links set up at once;
  /// `setup_timeout_ms`: a link not up this long after its start fails.
  LoadClient(const FleetSetup& fleet, size_t concurrency, Millis setup_timeout_ms);
  ~LoadClient();
  LoadClient(const LoadClient&) = delete;
  LoadClient& operator=(const LoadClient&) = delete;

  /// Creates epoll; io_error (detail: errno).
  Status open();
  /// Adds one device with its DER certificate (links start in this order).
  Status add_device(std::string system_id, std::span<const uint8_t> certificate_der);

  /// Starts every link and runs until each is up or failed; tells
  /// `progress` (when set) how far it got every `progress_every_ms`.
  RampResult ramp(const std::function<void(const RampResult&)>& progress = {}, Millis progress_every_ms = 10000);
  /// Keeps the fleet for `duration_ms`, heartbeats going, then waits up to
  /// `drain_ms` for the answers to the heartbeats still open.
  HoldResult hold(Millis duration_ms, Millis drain_ms);
  /// Closes every socket at once (the server sees the links drop).
  void close_all();

  size_t size() const { return links_.size(); }
  /// How many links failed for each reason, for the report.
  std::map<std::string, size_t> failures() const;

 private:
  using Timer = std::pair<Millis, uint32_t>;  // (when, link index)

  /// Waits at most `wait_ms` for sockets, handles them and the due timers.
  void turn(Millis wait_ms);
  void start_next(Millis now);
  /// After a link was handled: epoll interest, its heartbeat, its place in
  /// the set-up window.
  void after(uint32_t index, LinkStage before, Millis now);
  void expire_setups(Millis now);
  void run_heartbeats(Millis now);

  const FleetSetup& fleet_;
  size_t concurrency_;
  Millis setup_timeout_ms_;
  int epoll_fd_ = -1;
  std::vector<std::unique_ptr<DeviceLink>> links_;
  std::vector<uint32_t> interest_;  // epoll events registered per link (0: not registered)
  size_t next_start_ = 0;
  size_t setting_up_ = 0;
  std::vector<uint32_t> setup_order_;  // started links in start order, to time them out
  size_t setup_scan_ = 0;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> heartbeats_;
  bool heartbeats_on_ = true;
  RampResult ramp_;
  size_t lost_ = 0;  // links that were up and failed since the hold began
};

/// Monotonic milliseconds.
Millis monotonic_ms();

}  // namespace sublink
