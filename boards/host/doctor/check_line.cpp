#include "boards/host/doctor/check_line.h"

#include <utility>

namespace sublink {

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::pass: return "PASS";
    case Verdict::warn: return "WARN";
    case Verdict::fail: return "FAIL";
  }
  return "?";
}

CheckLine& CheckLine::fact(const std::string& name, int64_t value) {
  facts.push_back({name, {}, value, true});
  return *this;
}

CheckLine& CheckLine::fact(const std::string& name, const std::string& value) {
  facts.push_back({name, value, 0, false});
  return *this;
}

CheckLine pass_line(std::string check, std::string what) {
  CheckLine l;
  l.check = std::move(check);
  l.what = std::move(what);
  return l;
}

CheckLine warn_line(std::string check, std::string what, std::string fix) {
  CheckLine l = pass_line(std::move(check), std::move(what));
  l.verdict = Verdict::warn;
  l.fix = std::move(fix);
  return l;
}

CheckLine fail_line(std::string check, std::string what, std::string fix) {
  CheckLine l = warn_line(std::move(check), std::move(what), std::move(fix));
  l.verdict = Verdict::fail;
  return l;
}

std::string check_line_text(const CheckLine& line) {
  std::string out = std::string(verdict_name(line.verdict)) + "  " + line.what;
  if (!line.fix.empty()) out += " \u2014 " + line.fix;
  return out;
}

}  // namespace sublink
