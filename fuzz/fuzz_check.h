// What every fuzz target uses to state an invariant: a violated one stops
// the run with a trap, which libFuzzer reports as a finding with the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sublink::fuzz {

/// Traps when `condition` is false: the API broke a promise for this input.
inline void check(bool condition) {
  if (!condition) __builtin_trap();
}

/// The input as text (messages, configuration, requests).
inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// The input as bytes.
inline std::span<const uint8_t> as_bytes(const uint8_t* data, size_t size) { return {data, size}; }

/// True when the two byte ranges are equal.
inline bool same_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace sublink::fuzz
