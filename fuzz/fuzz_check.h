// What every fuzz target uses to state an invariant: a violated one stops
// the run with a trap, which libFuzzer reports as a finding with the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string_view>
#include <vector>

#include "hal/crc32.h"

namespace sublink::fuzz {

/// Traps when `condition` is false: the API broke a promise for this input.
/// The file and line of the broken check go to stderr first (the trap's
/// stack has no line once the check is inlined).
inline void check(bool condition, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  if (condition) return;
  std::fprintf(stderr, "invariant broken at %s:%d\n", file, line);
  __builtin_trap();
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

/// The record a record target decodes (the framing of
/// firmware/events/record_codec.h: magic, version, body length, body,
/// CRC-32 of all before it). The first input byte says what the target
/// seals so that mutations get past the framing to the fields: bit 0 sets
/// the CRC, bit 1 the body length. The rest of the input is the record.
inline std::vector<uint8_t> sealed_record(const uint8_t* data, size_t size) {
  if (size == 0) return {};
  std::vector<uint8_t> record(data + 1, data + size);
  const size_t n = record.size();
  if ((data[0] & 2) && n >= 14) {
    const auto body = static_cast<uint32_t>(n - 14);
    for (size_t i = 0; i < 4; ++i) record[6 + i] = static_cast<uint8_t>(body >> (8 * i));
  }
  if ((data[0] & 1) && n >= 4) {
    const uint32_t crc = crc32(std::span<const uint8_t>(record.data(), n - 4));
    for (size_t i = 0; i < 4; ++i) record[n - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
  }
  return record;
}

}  // namespace sublink::fuzz
