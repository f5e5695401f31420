// Integers as decimal text, for code that has no printf: the device's JSON
// writer, configuration errors, proxy requests, the board console. One
// conversion for all of them, so every caller writes the same digits and the
// image holds one copy (hal/decimal.cpp says why it is not std::to_chars).
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
  friend DecimalText decimal_text(uint64_t magnitude, bool negative);
  char text_[kMaxSize] = {};
  uint8_t size_ = 0;
};

/// `magnitude` in decimal, after a '-' when `negative`: the one conversion
/// behind decimal() and decimal_signed(), so the image holds one copy.
DecimalText decimal_text(uint64_t magnitude, bool negative);

/// `value` in decimal, without leading zeros.
inline DecimalText decimal(uint64_t value) { return decimal_text(value, false); }

/// `value` in decimal, with '-' before a negative value. The magnitude is
/// taken as unsigned: -INT64_MIN does not fit an int64_t.
inline DecimalText decimal_signed(int64_t value) {
  return decimal_text(value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value), value < 0);
}

}  // namespace sublink
