// Where a board sends the core's log lines (a UART, syslog, journald, a
// test): the core says what happened and how much it matters, the board
// decides where it goes. Beside the other board services (clocks, random,
// storage) so any layer above may log without depending on the agent.
#pragma once

#include <cstdint>
#include <string_view>

namespace sublink {

/// How much a log line matters, numbered as syslog's levels so a board can
/// pass them on (journald's "<N>" prefixes, a UART filter).
enum class LogLevel : uint8_t { critical = 2, error = 3, warning = 4, notice = 5, info = 6, debug = 7 };

/// Where the agent's log lines go (a UART, syslog, a test). `what` says what
/// happened, `detail` names the thing (a message type, a reason, an event).
struct LogSink {
  void (*write)(void* ctx, LogLevel level, std::string_view what, std::string_view detail) = nullptr;
  void* ctx = nullptr;
};

}  // namespace sublink
