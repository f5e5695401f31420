#include "hal/hex64.h"

namespace sublink {

Hex64Text format_hex64(uint64_t value) {
  constexpr char kDigits[] = "0123456789abcdef";
  Hex64Text out{};
  for (size_t i = 0; i < kHex64Length; ++i) {
    out[kHex64Length - 1 - i] = kDigits[value & 0xF];
    value >>= 4;
  }
  return out;
}

std::optional<uint64_t> parse_hex64(std::string_view text) {
  if (text.size() != kHex64Length) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    value = (value << 4) | digit;
  }
  return value;
}

}  // namespace sublink
