#include "boards/sim/sim_timeline.h"

#include <cinttypes>

namespace sublink {

void SimTimeline::add(Millis at, std::string_view who, std::string what) {
  SimTimelineEntry e{at, std::string(who), std::move(what)};
  if (echo_ != nullptr) std::fprintf(echo_, "%s\n", format(e).c_str());
  if (entries_.size() >= max_entries_) {
    ++dropped_;
    return;
  }
  entries_.push_back(std::move(e));
}

std::string SimTimeline::format_time(Millis at) {
  const bool negative = at < 0;
  const Millis t = negative ? -at : at;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%sd%02" PRId64 " %02" PRId64 ":%02" PRId64 ":%02" PRId64 ".%03" PRId64,
                negative ? "-" : "", t / 86'400'000, t / 3'600'000 % 24, t / 60'000 % 60, t / 1000 % 60, t % 1000);
  return buf;
}

std::string SimTimeline::format(const SimTimelineEntry& e) {
  std::string line = format_time(e.at);
  line += ' ';
  line += e.who;
  line.append(e.who.size() < 7 ? 7 - e.who.size() : 1, ' ');
  line += e.what;
  return line;
}

std::vector<std::string> SimTimeline::lines() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(format(e));
  return out;
}

std::vector<std::string> SimTimeline::lines_starting(std::string_view who, std::string_view prefix) const {
  std::vector<std::string> out;
  for (const auto& e : entries_) {
    if (e.who == who && std::string_view(e.what).substr(0, prefix.size()) == prefix) out.push_back(format(e));
  }
  return out;
}

}  // namespace sublink
