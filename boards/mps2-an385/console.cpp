#include "boards/mps2-an385/console.h"

#include "boards/mps2-an385/cmsdk_uart.h"
#include "hal/decimal.h"

namespace sublink::mps2 {

namespace {

// Days since 1970-01-01 to a civil date (proleptic Gregorian).
void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

}  // namespace

ConsoleLine& ConsoleLine::add(std::string_view text) {
  for (char c : text) {
    if (size_ == sizeof text_) break;
    text_[size_++] = c;
  }
  return *this;
}

ConsoleLine& ConsoleLine::add_uint(uint64_t value) { return add(decimal(value).view()); }

ConsoleLine& ConsoleLine::add_int(int64_t value) {
  return add(decimal_signed(value).view());
}

ConsoleLine& ConsoleLine::add_utc(int64_t utc_ms) {
  const int64_t ms_per_day = 86400000;
  int64_t days = utc_ms / ms_per_day;
  int64_t rest = utc_ms % ms_per_day;
  if (rest < 0) {
    rest += ms_per_day;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  auto two = [this](uint64_t v) {
    if (v < 10) add("0");
    add_uint(v);
  };
  add_int(y).add("-");
  two(m);
  add("-");
  two(d);
  add("T");
  two(static_cast<uint64_t>(rest / 3600000));
  add(":");
  two(static_cast<uint64_t>(rest / 60000 % 60));
  add(":");
  two(static_cast<uint64_t>(rest / 1000 % 60));
  add(".");
  const uint64_t ms = static_cast<uint64_t>(rest % 1000);
  if (ms < 100) add("0");
  if (ms < 10) add("0");
  add_uint(ms);
  return add("Z");
}

ConsoleLine& ConsoleLine::add_ipv4(const uint8_t bytes[4]) {
  for (int i = 0; i < 4; ++i) {
    if (i) add(".");
    add_uint(bytes[i]);
  }
  return *this;
}

void ConsoleLine::emit() {
  uart_write("[mps2] ");
  uart_write({text_, size_});
  uart_write("\n");
  size_ = 0;
}

void console_line(std::string_view text) { ConsoleLine().add(text).emit(); }

}  // namespace sublink::mps2
