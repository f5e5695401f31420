#include "firmware/agent/agent_log.h"

#include <array>

#include "firmware/agent/text_builder.h"

namespace sublink {

void AgentLog::event(EventKind kind, Severity severity, const EventPayload& payload) const {
  if (sink_.write == nullptr) return;
  // A site engineer reads grace alarms in the log first: say how long is left.
  LogLevel level = severity == Severity::critical ? LogLevel::critical
                   : severity == Severity::major  ? LogLevel::error
                   : severity == Severity::info   ? LogLevel::notice
                                                  : LogLevel::warning;
  std::array<char, 64> text{};
  TextBuilder line(text);
  line.add(kind_name(kind)).add(" (").add(severity_name(severity));
  if (payload.days_left >= 0) {
    line.add(", ").number(static_cast<uint32_t>(payload.days_left));
    line.add(payload.days_left == 1 ? " day left" : " days left");
  }
  line.add(")");
  sink_.write(sink_.ctx, level, "event", line.view());
}

}  // namespace sublink
