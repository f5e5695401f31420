// One line of the doctor's report: a verdict, what was found, and the fix a
// site engineer can act on ("allow TCP 8443 to 192.0.2.7"). Printed as
// "PASS  what — fix" or as one object of the --json report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sublink {

enum class Verdict : uint8_t { pass, warn, fail };

/// "PASS", "WARN" or "FAIL".
const char* verdict_name(Verdict verdict);

/// A measured value for the JSON report ("offset_ms": -12, "address": "...").
struct CheckFact {
  std::string name;
  std::string text;
  int64_t number = 0;
  bool is_number = false;
};

struct CheckLine {
  /// Which check: config, clock, dns, tcp, tls, websocket, hello, rtt,
  /// throughput.
  std::string check;
  Verdict verdict = Verdict::pass;
  std::string what;
  std::string fix;    // empty when there is nothing to do
  uint16_t port = 0;  // the server port the line is about; 0 for none
  std::vector<CheckFact> facts;

  CheckLine& fact(const std::string& name, int64_t value);
  CheckLine& fact(const std::string& name, const std::string& value);
};

/// A PASS, WARN or FAIL line.
CheckLine pass_line(std::string check, std::string what);
CheckLine warn_line(std::string check, std::string what, std::string fix);
CheckLine fail_line(std::string check, std::string what, std::string fix);

/// "FAIL  what — fix" (no newline); "PASS  what" without a fix.
std::string check_line_text(const CheckLine& line);

}  // namespace sublink
