// Console lines of the board: one line per milestone, "[mps2] ..." on
// UART0, so a test harness can follow the run (README.md lists them).
// Formatting is done here rather than with printf: newlib-nano's printf
// has no 64-bit integers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sublink::mps2 {

/// Builds one console line; emit() writes it with the "[mps2] " prefix and
/// a newline. Text beyond the line's capacity is cut.
class ConsoleLine {
 public:
  ConsoleLine& add(std::string_view text);
  ConsoleLine& add_uint(uint64_t value);
  ConsoleLine& add_int(int64_t value);
  /// UTC milliseconds as ISO 8601 ("2025-01-31T12:00:00.250Z").
  ConsoleLine& add_utc(int64_t utc_ms);
  /// An IPv4 address in network byte order as dotted decimal.
  ConsoleLine& add_ipv4(const uint8_t bytes[4]);
  void emit();

 private:
  char text_[200];
  size_t size_ = 0;
};

/// Writes "[mps2] " + `text` + newline.
void console_line(std::string_view text);

}  // namespace sublink::mps2
