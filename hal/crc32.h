// CRC-32 (IEEE 802.3, the zlib/PNG polynomial) for detecting torn and
// bit-flipped records. Not a security check: it catches accidents, not an
// attacker who can write the medium.
#pragma once

#include <cstdint>
#include <span>

namespace sublink {

/// CRC-32 of `data`, continuing from `crc` (the result of a previous call
/// over the preceding bytes, or 0 to start), so long records can be checked
/// in chunks: crc32(b, crc32(a)) == crc32(a ++ b).
uint32_t crc32(std::span<const uint8_t> data, uint32_t crc = 0);

}  // namespace sublink
