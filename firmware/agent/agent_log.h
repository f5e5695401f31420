// The agent's log: lines to the board's LogSink, and the one-line form of
// an event (a site engineer reads grace alarms in the log first).
#pragma once

#include <string_view>

#include "firmware/agent/agent_config.h"
#include "firmware/events/event_queue.h"

namespace sublink {

class AgentLog {
 public:
  explicit AgentLog(LogSink sink) : sink_(sink) {}
  /// One line: `what` happened, `detail` names the thing.
  void write(LogLevel level, std::string_view what, std::string_view detail = {}) const {
    if (sink_.write != nullptr) sink_.write(sink_.ctx, level, what, detail);
  }
  /// An event as "grace_alarm (minor, 3 days left)", its level from its severity.
  void event(EventKind kind, Severity severity, const EventPayload& payload) const;

 private:
  LogSink sink_;
};

}  // namespace sublink
