// Incremental UTF-8 validation for WebSocket text messages and close
// reasons. RFC 6455 wants a text message failed as soon as its bytes cannot
// be UTF-8, even when the message arrives in many frames and many reads, so
// the validator keeps its position inside a sequence between calls.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sublink {

class Utf8Validator {
 public:
  /// Checks the next bytes of a stream. Returns false once the stream can no
  /// longer be valid UTF-8 (overlong forms, surrogates, code points above
  /// U+10FFFF, stray continuation bytes); it then stays false until reset().
  bool feed(std::span<const uint8_t> bytes);

  /// True when the bytes so far are valid and do not end inside a sequence:
  /// the check at the end of a message.
  bool complete() const { return !failed_ && need_ == 0; }

  /// True while no invalid byte has been seen (a sequence may be open).
  bool ok() const { return !failed_; }

  void reset() { *this = Utf8Validator(); }

 private:
  uint8_t need_ = 0;    // continuation bytes still expected
  uint8_t low_ = 0x80;  // allowed range of the next continuation byte; the
  uint8_t high_ = 0xBF; // first one is narrowed to forbid overlongs etc.
  bool failed_ = false;
};

/// Whole-string check: valid UTF-8 that does not end inside a sequence.
bool is_valid_utf8(std::span<const uint8_t> bytes);
bool is_valid_utf8(std::string_view text);

}  // namespace sublink
