// A fixed text buffer the agent's services write status and log lines
// into: what does not fit is cut, never an overflow or an allocation.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "hal/decimal.h"

namespace sublink {

/// Appends to a fixed, always NUL-terminated text buffer, cutting what does
/// not fit.
class TextBuilder {
 public:
  explicit TextBuilder(std::span<char> out) : out_(out) {
    if (!out_.empty()) out_[0] = '\0';
  }
  /// Appends `s` (cut at the end of the buffer).
  TextBuilder& add(std::string_view s) {
    for (char c : s) {
      if (n_ + 1 < out_.size()) out_[n_++] = c;
    }
    if (!out_.empty()) out_[n_] = '\0';
    return *this;
  }
  /// Appends `v` in decimal.
  TextBuilder& number(uint64_t v) { return add(decimal(v).view()); }
  /// The text so far.
  std::string_view view() const { return {out_.data(), n_}; }

 private:
  std::span<char> out_;
  size_t n_ = 0;
};

/// The text in a NUL-terminated buffer (all of it when there is no NUL).
template <size_t N>
std::string_view text_of(const std::array<char, N>& a) {
  size_t n = 0;
  while (n < N && a[n] != '\0') ++n;
  return {a.data(), n};
}

}  // namespace sublink
