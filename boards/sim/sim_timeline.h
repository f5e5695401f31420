// What happened in a simulation run, in virtual time: one line per thing a
// person reading the run cares about (power, boots, clock changes, state
// changes, link up and down, events recorded and delivered, faults and
// server actions). Two runs with the same seed give the same lines, which is
// how determinism is checked; the sublink-sim tool prints them.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "hal/clock.h"

namespace sublink {

struct SimTimelineEntry {
  Millis at = 0;        // world time since the start of the run
  std::string who;      // "device", "server", "net", "world"
  std::string what;
};

class SimTimeline {
 public:
  /// Lines after `max_entries` are counted but not kept, so a run of months
  /// with a chatty fault cannot eat the host's memory.
  explicit SimTimeline(size_t max_entries = 200000) : max_entries_(max_entries) {}

  void add(Millis at, std::string_view who, std::string what);
  /// Prints new lines to `out` as they are added (nullptr: stop).
  void echo_to(std::FILE* out) { echo_ = out; }

  const std::vector<SimTimelineEntry>& entries() const { return entries_; }
  uint64_t dropped() const { return dropped_; }
  /// Every entry formatted as by format(), in order.
  std::vector<std::string> lines() const;
  /// Lines whose `what` starts with `prefix` (for assertions).
  std::vector<std::string> lines_starting(std::string_view who, std::string_view prefix) const;

  /// "d03 04:05:06.789 device  state grace": day, time of day since start.
  static std::string format(const SimTimelineEntry& entry);
  /// "d03 04:05:06.789" for a world time since start.
  static std::string format_time(Millis at);

 private:
  size_t max_entries_;
  std::vector<SimTimelineEntry> entries_;
  uint64_t dropped_ = 0;
  std::FILE* echo_ = nullptr;
};

}  // namespace sublink
