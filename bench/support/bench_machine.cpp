#include "bench/support/bench_machine.h"

#include <sys/utsname.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>

namespace sublink::bench {
namespace {

// The first line of `path` that starts with `key`, after its colon.
std::string field(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) return "";
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

// `s` as a JSON string: the fields here are the kernel's and the CPU's
// names, so quotes, backslashes and control characters are all it needs.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

std::string machine_json() {
  std::string cpu = field("/proc/cpuinfo", "model name");
  if (cpu.empty()) cpu = "unknown";
  const double mem_kib = std::strtod(field("/proc/meminfo", "MemTotal").c_str(), nullptr);
  std::string debian;
  std::ifstream("/etc/debian_version") >> debian;
  if (debian.empty()) debian = "?";
  utsname u{};
  const std::string kernel = uname(&u) == 0 ? u.release : "?";
  double load[1] = {0.0};
  if (getloadavg(load, 1) != 1) load[0] = -1.0;
  char date[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", &tm);
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "\"cpus\": %u, \"memory_gib\": %.1f, \"load_average_at_start\": %.2f",
                std::thread::hardware_concurrency(), mem_kib / 1048576.0, load[0]);
  return "{\"cpu\": " + quoted(cpu) + ", " + numbers + ", \"kernel\": " + quoted(kernel) +
         ", \"debian\": " + quoted(debian) + ", \"date_utc\": " + quoted(date) + "}";
}

}  // namespace sublink::bench
