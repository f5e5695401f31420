#include "bench/server_links/process_stats.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace sublink {

namespace {

// A "Name:   1234 kB" line of /proc/PID/status, in bytes.
Result<size_t> status_kilobytes(pid_t pid, const char* name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return Status(Reason::io_error);
  const size_t name_size = std::strlen(name);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, name_size, name) == 0 && line.size() > name_size && line[name_size] == ':') {
      return static_cast<size_t>(std::strtoull(line.c_str() + name_size + 1, nullptr, 10)) * 1024;
    }
  }
  return Status(Reason::io_error);
}

}  // namespace

Result<size_t> resident_bytes(pid_t pid) { return status_kilobytes(pid, "VmRSS"); }

Result<size_t> peak_resident_bytes(pid_t pid) { return status_kilobytes(pid, "VmHWM"); }

Result<double> cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!in || !std::getline(in, text)) return Status(Reason::io_error);
  // The command name may hold spaces and parentheses: fields start after
  // the last ')'. utime and stime are fields 14 and 15 (state is field 3).
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return Status(Reason::io_error);
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (number == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace sublink
