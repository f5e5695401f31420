#include "linux_util/log/stderr_log.h"

#include <unistd.h>

#include <cstdio>

namespace sublink {

void StderrLog::write(LogLevel level, const char* format, ...) {
  va_list args;
  va_start(args, format);
  vwrite(level, format, args);
  va_end(args);
}

void StderrLog::vwrite(LogLevel level, const char* format, va_list args) {
  if (static_cast<int>(level) > static_cast<int>(max_level_)) return;
  char line[1024];
  int head = snprintf(line, sizeof(line), "<%d>%s: ", static_cast<int>(level), program_);
  int body = vsnprintf(line + head, sizeof(line) - head - 1, format, args);
  size_t size = static_cast<size_t>(head) + (body < 0 ? 0 : static_cast<size_t>(body));
  if (size > sizeof(line) - 2) size = sizeof(line) - 2;
  line[size++] = '\n';
  (void)!::write(STDERR_FILENO, line, size);
}

LogSink StderrLog::sink() {
  LogSink s;
  s.ctx = this;
  s.write = [](void* ctx, LogLevel level, std::string_view what, std::string_view detail) {
    auto* log = static_cast<StderrLog*>(ctx);
    if (detail.empty()) {
      log->write(level, "%.*s", static_cast<int>(what.size()), what.data());
    } else {
      log->write(level, "%.*s: %.*s", static_cast<int>(what.size()), what.data(), static_cast<int>(detail.size()),
                 detail.data());
    }
  };
  return s;
}

}  // namespace sublink
