// A record file in the documented format (hal/linux/file_storage.h), built
// by hand, for tests that plant or compare files.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "hal/crc32.h"
#include "hal/storage.h"

namespace sublink::test {

inline std::vector<uint8_t> record_file(RecordId id, uint32_t sequence, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> f(24);
  auto put = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) f[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  put(0, 0x53464C53);
  f[4] = 1;
  f[5] = 0;
  f[6] = static_cast<uint8_t>(id);
  f[7] = 0;
  put(8, sequence);
  put(12, static_cast<uint32_t>(payload.size()));
  put(16, crc32(payload));
  put(20, crc32(std::span<const uint8_t>(f.data(), 20)));
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

}  // namespace sublink::test
