// The log of sublinkd and sublink-server: one line per entry on stderr with
// the "<N>" level prefix of sd-daemon(3), so journald files each line at its
// level and a plain terminal still reads well. Lines are written whole, in one write(2).
#pragma once

#include <cstdarg>
#include <string_view>

#include "hal/log_sink.h"

namespace sublink {

class StderrLog {
 public:
  /// Lines above `max_level` (LogLevel::debug shows all) are left out.
  /// Each line names `program` (a literal: it is kept, not copied).
  explicit StderrLog(LogLevel max_level = LogLevel::info, const char* program = "sublinkd")
      : max_level_(max_level), program_(program) {}

  void set_max_level(LogLevel level) { max_level_ = level; }
  void write(LogLevel level, const char* format, ...) __attribute__((format(printf, 3, 4)));
  void vwrite(LogLevel level, const char* format, va_list args);

  /// A LogSink for the agent writing through this log.
  LogSink sink();

 private:
  LogLevel max_level_;
  const char* program_;
};

}  // namespace sublink
