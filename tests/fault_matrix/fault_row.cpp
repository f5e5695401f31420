#include "fault_matrix/fault_row.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace sublink::test {
namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

void fault_row(const std::string& fault, const std::string& outcome, const std::string& reason) {
  ::testing::Test::RecordProperty("fault", fault);
  ::testing::Test::RecordProperty("outcome", outcome);
  ::testing::Test::RecordProperty("reason", reason);
  // One line, flushed before anything else the test prints: ctest keeps only
  // the first kilobyte of a passing test's output.
  std::printf("fault-matrix-row: {\"fault\":%s,\"outcome\":%s,\"reason\":%s}\n", json_string(fault).c_str(),
              json_string(outcome).c_str(), json_string(reason).c_str());
  std::fflush(stdout);
}

long rss_kib(int pid) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status") : "/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      long kib = -1;
      fields >> kib;
      return kib;
    }
  }
  return -1;
}

}  // namespace sublink::test
