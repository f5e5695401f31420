#include "net/websocket/utf8_validator.h"

namespace sublink {

bool Utf8Validator::feed(std::span<const uint8_t> bytes) {
  if (failed_) return false;
  for (uint8_t b : bytes) {
    if (need_ == 0) {
      if (b < 0x80) continue;
      // Lead byte: how many continuation bytes follow, and the range of the
      // first one (RFC 3629 section 4 table), which rules out overlongs
      // (E0, F0), UTF-16 surrogates (ED) and values above U+10FFFF (F4).
      low_ = 0x80;
      high_ = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        need_ = 1;
      } else if (b == 0xE0) {
        need_ = 2;
        low_ = 0xA0;
      } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
        need_ = 2;
      } else if (b == 0xED) {
        need_ = 2;
        high_ = 0x9F;
      } else if (b == 0xF0) {
        need_ = 3;
        low_ = 0x90;
      } else if (b >= 0xF1 && b <= 0xF3) {
        need_ = 3;
      } else if (b == 0xF4) {
        need_ = 3;
        high_ = 0x8F;
      } else {
        failed_ = true;  // C0, C1, F5..FF, or a continuation byte out of place
        return false;
      }
    } else {
      if (b < low_ || b > high_) {
        failed_ = true;
        return false;
      }
      --need_;
      low_ = 0x80;
      high_ = 0xBF;
    }
  }
  return true;
}

bool is_valid_utf8(std::span<const uint8_t> bytes) {
  Utf8Validator v;
  return v.feed(bytes) && v.complete();
}

bool is_valid_utf8(std::string_view text) {
  return is_valid_utf8(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace sublink
