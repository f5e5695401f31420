// The one line that says what is wrong with a configuration, e.g.
//   config: 'ports[1]': expected integer 1..65535, got "x"
// kept in fixed storage (no heap, no printf) so the device can log it and a
// host tool can print it as is.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "hal/status.h"

namespace sublink {

class ConfigError {
 public:
  /// Longest message; longer ones are cut and end in "...".
  static constexpr size_t kMaxText = 255;

  /// No error.
  ConfigError() = default;

  /// Starts an error with `reason` (invalid_argument for a bad setting,
  /// out_of_memory when the text does not fit the JSON arena) and the
  /// message "config: ".
  static ConfigError begin(Reason reason);

  /// Appends text to the message.
  ConfigError& add(std::string_view text);
  /// Appends a decimal integer (64-bit, without printf: newlib's nano printf
  /// has no %lld).
  ConfigError& add_int(int64_t value);
  /// Appends `text` in double quotes, control characters and quotes escaped,
  /// cut after 40 characters: a hostile value cannot flood or split the log
  /// line.
  ConfigError& add_quoted(std::string_view text);

  bool ok() const { return status_.ok(); }
  Status status() const { return status_; }
  /// The message, one line, without a trailing newline; empty when ok().
  std::string_view message() const { return {text_.data(), size_}; }

 private:
  void put(char c);

  Status status_;
  std::array<char, kMaxText + 1> text_{};
  size_t size_ = 0;
  bool cut_ = false;
};

}  // namespace sublink
