// Integers as decimal text, for code that has no printf: the device's JSON
// writer, configuration errors, proxy requests, the board console. One
// place on std::to_chars, so every caller writes the same digits and the
// image holds one copy of the conversion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sublink {

/// The decimal text of one integer: "0", "42", "-9223372036854775808".
class DecimalText {
 public:
  /// Longest text: 20 digits (UINT64_MAX) or '-' and 19 digits (INT64_MIN).
  static constexpr size_t kMaxSize = 20;

  /// The digits, with a leading '-' for a negative value; not NUL-terminated.
  std::string_view view() const { return {text_, size_}; }

 private:
  friend DecimalText decimal(uint64_t value);
  friend DecimalText decimal_signed(int64_t value);
  char text_[kMaxSize] = {};
  uint8_t size_ = 0;
};

/// `value` in decimal, without leading zeros.
DecimalText decimal(uint64_t value);

/// `value` in decimal, with '-' before a negative value.
DecimalText decimal_signed(int64_t value);

}  // namespace sublink
